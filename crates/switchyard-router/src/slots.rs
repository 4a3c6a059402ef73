//! `max_parallel_requests`: a per-deployment cap on concurrent calls.
//!
//! Slots are process-local, as LiteLLM's semaphores are: they bound what this
//! instance sends to a deployment. A request that finds every candidate full
//! waits for a released slot (woken by a `Notify`, no polling) until its deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustc_hash::FxHashMap as HashMap;
use tokio::sync::Notify;

/// The slot table of one router: only deployments with a limit have a slot
/// (an unlimited one is never full, and its calls need no bookkeeping).
#[derive(Debug, Default)]
pub(crate) struct Slots {
    by_deployment: HashMap<String, Arc<Slot>>,
}

#[derive(Debug)]
struct Slot {
    limit: usize,
    used: AtomicUsize,
    /// Shared by every slot: a release anywhere wakes waiters, who re-check their candidates.
    released: Arc<Notify>,
}

/// One held slot, released on drop.
#[derive(Debug)]
pub(crate) struct SlotPermit {
    slot: Option<Arc<Slot>>,
}

impl Drop for SlotPermit {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.used.fetch_sub(1, Ordering::AcqRel);
            slot.released.notify_waiters();
        }
    }
}

impl Slots {
    /// A table from `(deployment id, limit)` pairs; `None` is unlimited.
    pub(crate) fn new<'a>(limits: impl IntoIterator<Item = (&'a str, Option<u32>)>) -> Self {
        let released = Arc::new(Notify::new());
        let by_deployment = limits
            .into_iter()
            .filter_map(|(id, limit)| {
                let slot = Slot {
                    limit: limit? as usize,
                    used: AtomicUsize::new(0),
                    released: Arc::clone(&released),
                };
                Some((id.to_owned(), Arc::new(slot)))
            })
            .collect();
        Self { by_deployment }
    }

    /// Whether a call to `id` would have to wait.
    pub(crate) fn is_full(&self, id: &str) -> bool {
        // No lookup (no hashing of the id) when no deployment has a limit.
        !self.by_deployment.is_empty()
            && self
                .by_deployment
                .get(id)
                .is_some_and(|s| s.used.load(Ordering::Acquire) >= s.limit)
    }

    /// Takes a slot on `id` if one is free.
    pub(crate) fn try_acquire(&self, id: &str) -> Option<SlotPermit> {
        let unlimited = SlotPermit { slot: None };
        if self.by_deployment.is_empty() {
            return Some(unlimited);
        }
        let Some(slot) = self.by_deployment.get(id) else {
            return Some(unlimited);
        };
        let limit = slot.limit;
        slot.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used < limit).then_some(used + 1)
            })
            .ok()
            .map(|_| SlotPermit {
                slot: Some(Arc::clone(slot)),
            })
    }

    /// Slots in use on `id`.
    #[cfg(test)]
    pub(crate) fn in_use(&self, id: &str) -> usize {
        self.by_deployment
            .get(id)
            .map_or(0, |s| s.used.load(Ordering::Acquire))
    }

    /// Resolves after some slot is released. Create it *before* checking for a
    /// free slot, so a release between the check and the wait is not missed.
    pub(crate) fn released(&self) -> Option<Arc<Notify>> {
        self.by_deployment
            .values()
            .next()
            .map(|s| Arc::clone(&s.released))
    }
}

/// The effective limit: explicit, else `rpm`, else `tpm / 1000 * 6`, else the
/// router default, else unlimited (LiteLLM's `calculate_max_parallel_requests`).
pub(crate) fn max_parallel_requests(
    explicit: Option<u32>,
    rpm: Option<u64>,
    tpm: Option<u64>,
    default: Option<u32>,
) -> Option<u32> {
    explicit
        .or_else(|| rpm.map(|r| r.min(u32::MAX as u64) as u32))
        .or_else(|| tpm.map(|t| ((t / 1000) * 6).clamp(1, u32::MAX as u64) as u32))
        .or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_litellm_precedence() {
        assert_eq!(
            max_parallel_requests(Some(3), Some(100), Some(10_000), Some(9)),
            Some(3)
        );
        assert_eq!(
            max_parallel_requests(None, Some(100), Some(10_000), Some(9)),
            Some(100)
        );
        assert_eq!(
            max_parallel_requests(None, None, Some(10_000), Some(9)),
            Some(60)
        );
        assert_eq!(max_parallel_requests(None, None, None, Some(9)), Some(9));
        assert_eq!(max_parallel_requests(None, None, None, None), None);
    }

    #[tokio::test]
    async fn a_full_slot_wakes_its_waiter_on_release() {
        let slots = Arc::new(Slots::new([("a", Some(1)), ("b", None)]));
        let first = slots.try_acquire("a").unwrap();
        assert!(slots.is_full("a"));
        assert!(slots.try_acquire("a").is_none());
        assert!(!slots.is_full("b"));
        let _unlimited = (
            slots.try_acquire("b").unwrap(),
            slots.try_acquire("b").unwrap(),
        );
        // An unlimited deployment is never full and keeps no count.
        assert_eq!(slots.in_use("b"), 0);
        assert!(!slots.is_full("b"));

        let notify = slots.released().unwrap();
        let waiter = {
            let slots = Arc::clone(&slots);
            tokio::spawn(async move {
                loop {
                    let released = notify.notified();
                    if let Some(p) = slots.try_acquire("a") {
                        return p;
                    }
                    released.await;
                }
            })
        };
        tokio::task::yield_now().await;
        drop(first);
        let second = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(slots.in_use("a"), 1);
        drop(second);
        assert_eq!(slots.in_use("a"), 0);
    }

    #[test]
    fn without_any_limit_there_is_no_table_and_no_waiting() {
        let slots = Slots::new([("a", None), ("b", None)]);
        assert!(slots.released().is_none());
        let _p = slots.try_acquire("a").unwrap();
        assert!(!slots.is_full("a"));
    }
}
