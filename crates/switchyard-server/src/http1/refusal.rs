//! One log line per refused request or connection (a bad head, framing, a
//! size, a timeout), with the peer and the reason; rate-limited, so a flood
//! of bad requests cannot fill the disk.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Lines written per second at most; the rest are counted and the count is
/// reported with the next line written.
const LINES_PER_SECOND: u64 = 20;

/// A budget of log lines per wall-clock second.
#[derive(Debug)]
pub(crate) struct LogBudget {
    /// The second the count is for, and the count, packed: second << 20 | count.
    window: AtomicU64,
    /// Lines dropped since a line was last written.
    dropped: AtomicU64,
}

/// What the budget says of one more line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Write it, saying that this many lines were dropped before it.
    Write { dropped: u64 },
    /// Drop it.
    Drop,
}

impl LogBudget {
    pub(crate) const fn new() -> Self {
        Self {
            window: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// Charges one line at wall-clock second `now`.
    pub(crate) fn charge(&self, now: u64) -> Verdict {
        let mut seen = self.window.load(Ordering::Relaxed);
        loop {
            let (second, count) = (seen >> 20, seen & 0xF_FFFF);
            let next = if second == now {
                if count >= LINES_PER_SECOND {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    return Verdict::Drop;
                }
                seen + 1
            } else {
                (now << 20) | 1
            };
            match self.window.compare_exchange_weak(
                seen,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    return Verdict::Write {
                        dropped: self.dropped.swap(0, Ordering::Relaxed),
                    };
                }
                Err(current) => seen = current,
            }
        }
    }
}

fn now_second() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

static REFUSALS: LogBudget = LogBudget::new();
static ACCEPT_ERRORS: LogBudget = LogBudget::new();

/// Logs that a request (or a connection) from `peer` was refused, and why.
pub(crate) fn log(peer: SocketAddr, reason: &str) {
    if let Verdict::Write { dropped } = REFUSALS.charge(now_second()) {
        tracing::warn!(peer = %peer, dropped_since_last = dropped, "refused: {reason}");
    }
}

/// Logs a failed `accept`, at the same bounded rate.
pub(crate) fn log_accept_error(error: &std::io::Error) {
    if let Verdict::Write { dropped } = ACCEPT_ERRORS.charge(now_second()) {
        tracing::warn!(error = %error, dropped_since_last = dropped, "accepting a connection failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writes_a_bounded_number_of_lines_then_reports_the_dropped() {
        let budget = LogBudget::new();
        for _ in 0..LINES_PER_SECOND {
            assert!(matches!(budget.charge(100), Verdict::Write { .. }));
        }
        for _ in 0..500 {
            assert_eq!(budget.charge(100), Verdict::Drop);
        }
        assert_eq!(budget.charge(101), Verdict::Write { dropped: 500 });
        assert_eq!(budget.charge(101), Verdict::Write { dropped: 0 });
    }
}
