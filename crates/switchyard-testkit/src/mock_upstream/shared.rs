//! State shared by the mock's handle and its server task.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::recorded::{Completion, RecordedCall};
use super::reply::Reply;

/// Locks are held only for a push, a pop or a clone, never across `.await`.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    calls: Mutex<Vec<RecordedCall>>,
    pub(crate) in_flight: AtomicUsize,
    /// The highest `in_flight` seen since the start (or the last reset).
    pub(crate) max_in_flight: AtomicUsize,
    pub(crate) cancelled: AtomicUsize,
    /// Responses sent in full, in the order they ended.
    completions: Mutex<Vec<Completion>>,
    /// Set by `start_named`: put in response ids (`chatcmpl-mock-{name}-{serial}`).
    pub(crate) name: Option<String>,
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

    /// The next scripted reply, else a clone of the default; a random reply is
    /// resolved for the call with this serial.
    pub(crate) fn next_reply(&self, serial: u64) -> Reply {
        let next = lock(&self.script).pop_front();
        next.unwrap_or_else(|| lock(&self.default).clone())
            .resolve(serial)
    }

    pub(crate) fn completions(&self) -> Vec<Completion> {
        lock(&self.completions).clone()
    }

    pub(crate) fn with_name(name: &str) -> Self {
        Self {
            name: Some(name.to_owned()),
            ..Self::default()
        }
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
    /// Fully sent (counted as a [`Completion`]).
    Done,
    /// Cut short on purpose by the script (`drop_after`), or never answered.
    Cut,
}

/// Counts a call in flight from the handler's start to the end of its response
/// body. It lives in the handler and then in the body, so whichever is dropped
/// early (a client that disconnects) is seen here.
#[derive(Debug)]
pub(crate) struct CallGuard {
    shared: Arc<Shared>,
    outcome: Outcome,
    /// Serial and status of the response, once known.
    response: Option<(u64, u16)>,
}

impl CallGuard {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        shared.changed.notify_waiters();
        Self {
            shared,
            outcome: Outcome::Serving,
            response: None,
        }
    }

    /// The call with this serial is answered with this status.
    pub(crate) fn responding(&mut self, serial: u64, status: u16) {
        self.response = Some((serial, status));
    }

    /// The response was sent in full.
    pub(crate) fn done(&mut self) {
        if self.outcome != Outcome::Serving {
            return;
        }
        self.outcome = Outcome::Done;
        if let Some((serial, status)) = self.response {
            lock(&self.shared.completions).push(Completion { serial, status });
        }
    }

    /// The response was cut on purpose, or never sent (not a cancellation).
    pub(crate) fn cut(&mut self) {
        if self.outcome == Outcome::Serving {
            self.outcome = Outcome::Cut;
        }
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
