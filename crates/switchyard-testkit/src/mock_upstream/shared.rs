//! State shared by the mock's handle and its server task.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::recorded::RecordedCall;
use super::reply::Reply;

/// Locks are held only for a push, a pop or a clone, never across `.await`.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    calls: Mutex<Vec<RecordedCall>>,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) cancelled: AtomicUsize,
    serial: AtomicU64,
    /// Woken on every change, for [`MockUpstream::wait_until`](super::MockUpstream::wait_until).
    pub(crate) changed: Notify,
}

/// A poisoned lock only means another test thread panicked; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn push(&self, reply: Reply) {
        lock(&self.script).push_back(reply);
    }

    pub(crate) fn set_default(&self, reply: Reply) {
        *lock(&self.default) = reply;
    }

    /// The next scripted reply, else a clone of the default.
    pub(crate) fn next_reply(&self) -> Reply {
        if let Some(reply) = lock(&self.script).pop_front() {
            return reply;
        }
        lock(&self.default).clone()
    }

    /// Records a call and returns its serial number (1-based).
    pub(crate) fn record(&self, call: RecordedCall) -> u64 {
        lock(&self.calls).push(call);
        self.changed.notify_waiters();
        self.serial.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn calls(&self) -> Vec<RecordedCall> {
        lock(&self.calls).clone()
    }

    pub(crate) fn call_count(&self) -> usize {
        lock(&self.calls).len()
    }
}

/// How a call ended, as far as the counters care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Still being served: dropping the guard now means the client went away.
    Serving,
    /// Fully sent, or cut short on purpose by the script (`drop_after`).
    Done,
}

/// Counts a call in flight from the handler's start to the end of its response
/// body. It lives in the handler and then in the body, so whichever is dropped
/// early (a client that disconnects) is seen here.
#[derive(Debug)]
pub(crate) struct CallGuard {
    shared: Arc<Shared>,
    outcome: Outcome,
}

impl CallGuard {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        shared.changed.notify_waiters();
        Self {
            shared,
            outcome: Outcome::Serving,
        }
    }

    /// The response was sent in full, or cut on purpose.
    pub(crate) fn done(&mut self) {
        self.outcome = Outcome::Done;
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if self.outcome == Outcome::Serving {
            self.shared.cancelled.fetch_add(1, Ordering::SeqCst);
        }
        self.shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.shared.changed.notify_waiters();
    }
}
