//! Where log lines go: stderr, in batches.
//!
//! Why: the proxy logs one INFO line per request by default (as LiteLLM's
//! access log does), and an unbuffered stderr makes each of those lines a
//! `write` system call of its own, several percent of a proxied request's
//! CPU. Lines are gathered instead and written together when enough have
//! piled up, at the latest [`FLUSH_EVERY`] after they were logged, and at
//! once for warnings and errors (with everything before them, so the order
//! holds). Whatever is pending is written before the process exits or
//! reports a panic.

use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard, Once, OnceLock};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// The longest a line waits before it reaches stderr.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Pending bytes that trigger a write without waiting for the timer.
const FLUSH_AT: usize = 32 * 1024;

/// The process's stderr, batched. There is one ([`stderr`]): every writer
/// shares its buffer, so lines keep the order they were logged in.
#[derive(Debug)]
pub(crate) struct BatchedStderr {
    pending: Mutex<Vec<u8>>,
    /// Where a batch goes: stderr, or a test's capture.
    out: fn(&[u8]),
}

impl Default for BatchedStderr {
    fn default() -> Self {
        Self {
            pending: Mutex::default(),
            out: write_stderr,
        }
    }
}

/// A failed write (stderr closed) drops the lines: there is nowhere else to
/// report them, and keeping them would only grow memory.
fn write_stderr(batch: &[u8]) {
    let _ = io::stderr().lock().write_all(batch);
}

/// The shared batched stderr; the first call starts its flush timer thread.
pub(crate) fn stderr() -> &'static BatchedStderr {
    static SINK: OnceLock<BatchedStderr> = OnceLock::new();
    static TIMER: Once = Once::new();
    let sink = SINK.get_or_init(BatchedStderr::default);
    TIMER.call_once(|| {
        // A plain thread, not a task: it must run whatever the runtime is
        // doing (or before and after it), and it only ever sleeps and writes.
        let started = std::thread::Builder::new()
            .name("log-flush".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    sink.flush_pending();
                }
            });
        if started.is_err() {
            // Without the timer, batching could hold lines back indefinitely.
            let _ = UNBATCHED.set(());
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            sink.flush_pending();
            previous(info);
        }));
    });
    sink
}

impl BatchedStderr {
    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes whatever is pending.
    pub(crate) fn flush_pending(&self) {
        let mut pending = self.lock();
        self.write_out(&mut pending);
    }

    fn append(&self, line: &[u8], urgent: bool) {
        let mut pending = self.lock();
        pending.extend_from_slice(line);
        if urgent || pending.len() >= FLUSH_AT {
            self.write_out(&mut pending);
        }
    }

    /// Writes and clears `pending`.
    fn write_out(&self, pending: &mut Vec<u8>) {
        if pending.is_empty() {
            return;
        }
        (self.out)(pending);
        pending.clear();
        // Keep a buffer for the next batch, but not one a burst grew large.
        if pending.capacity() > 4 * FLUSH_AT {
            pending.shrink_to(FLUSH_AT);
        }
    }
}

/// Set when no flush timer could be started: every line is then written at once.
static UNBATCHED: OnceLock<()> = OnceLock::new();

/// One log line's writer: appends to the shared buffer.
#[derive(Debug)]
pub(crate) struct LineWriter {
    sink: &'static BatchedStderr,
    urgent: bool,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink.append(buf, self.urgent);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for &'static BatchedStderr {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter {
            sink: self,
            urgent: UNBATCHED.get().is_some(),
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> LineWriter {
        LineWriter {
            sink: self,
            // Warnings and errors are written at once: someone may be waiting for them.
            urgent: *meta.level() <= Level::WARN || UNBATCHED.get().is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static WRITTEN: Mutex<Vec<u8>> = Mutex::new(Vec::new());

    /// A sink that writes into [`WRITTEN`]; tests using it hold the returned guard.
    fn captured() -> (&'static BatchedStderr, MutexGuard<'static, ()>) {
        static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
        let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        WRITTEN.lock().unwrap().clear();
        let sink = Box::leak(Box::new(BatchedStderr {
            pending: Mutex::default(),
            out: |batch| WRITTEN.lock().unwrap().extend_from_slice(batch),
        }));
        (sink, guard)
    }

    #[test]
    fn lines_wait_for_the_batch_and_warnings_flush_it_in_order() {
        let (sink, _one) = captured();
        LineWriter {
            sink,
            urgent: false,
        }
        .write_all(b"info line\n")
        .unwrap();
        assert_eq!(&*sink.lock(), b"info line\n");
        assert!(WRITTEN.lock().unwrap().is_empty());
        LineWriter { sink, urgent: true }
            .write_all(b"warn line\n")
            .unwrap();
        assert!(
            sink.lock().is_empty(),
            "a warning writes everything pending"
        );
        assert_eq!(&*WRITTEN.lock().unwrap(), b"info line\nwarn line\n");
    }

    #[test]
    fn a_full_batch_is_written_without_waiting() {
        let (sink, _one) = captured();
        let line = vec![b'x'; 1024];
        for _ in 0..(FLUSH_AT / line.len()) - 1 {
            LineWriter {
                sink,
                urgent: false,
            }
            .write_all(&line)
            .unwrap();
        }
        assert_eq!(sink.lock().len(), FLUSH_AT - line.len());
        LineWriter {
            sink,
            urgent: false,
        }
        .write_all(&line)
        .unwrap();
        assert!(sink.lock().is_empty());
        assert_eq!(WRITTEN.lock().unwrap().len(), FLUSH_AT);
    }
}
