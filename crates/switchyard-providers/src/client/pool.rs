//! Idle keep-alive connections of one origin.
//!
//! There is no background task: a connection is only looked at when a
//! request wants it (is it still open, has it idled too long?) or when one
//! is handed back (the oldest expired ones are closed then).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::exchange::Conn;

/// The idle connections of one origin (scheme, host, port), newest last.
#[derive(Debug)]
pub(crate) struct OriginPool {
    idle: Mutex<VecDeque<Idle>>,
    max_idle: usize,
    idle_timeout: Duration,
}

#[derive(Debug)]
struct Idle {
    conn: Conn,
    since: Instant,
}

impl OriginPool {
    pub(crate) fn new(max_idle: usize, idle_timeout: Duration) -> Self {
        Self {
            idle: Mutex::new(VecDeque::new()),
            max_idle,
            idle_timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Idle>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The most recently used idle connection that is still open, if any.
    pub(crate) fn checkout(&self) -> Option<Conn> {
        loop {
            let idle = self.lock().pop_back()?;
            if idle.since.elapsed() >= self.idle_timeout {
                // The rest are older still.
                let expired = std::mem::take(&mut *self.lock());
                drop(expired);
                return None;
            }
            let mut conn = idle.conn;
            if still_open(&mut conn) {
                return Some(conn);
            }
        }
    }

    /// Keeps a connection whose last response was read to its end.
    pub(crate) fn checkin(&self, conn: Conn) {
        let now = Instant::now();
        let mut expired = Vec::new();
        {
            let mut idle = self.lock();
            while idle
                .front()
                .is_some_and(|oldest| now.duration_since(oldest.since) >= self.idle_timeout)
            {
                expired.extend(idle.pop_front());
            }
            if idle.len() < self.max_idle {
                idle.push_back(Idle { conn, since: now });
            }
        }
        // Closing sockets happens outside the lock.
        drop(expired);
    }
}

/// Whether an idle connection can take a request: nothing arrived on it
/// while it was idle (a close, a reset, or stray bytes all retire it).
///
/// Costs no system call in the common case: the socket's readiness was
/// cleared by the short read that ended the last response, so the poll
/// answers `Pending` from tokio's bookkeeping alone.
fn still_open(conn: &mut Conn) -> bool {
    let mut cx = Context::from_waker(Waker::noop());
    matches!(conn.poll_idle_read(&mut cx), Poll::Pending)
}
