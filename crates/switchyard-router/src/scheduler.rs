//! The priority queue: a request with a `priority` that finds no deployment
//! able to take it (all cooling, at their rpm/tpm, or full) waits in its
//! group's queue instead of failing, until its deadline.
//!
//! Lower numbers are served first and `0` is the highest priority (*fix*:
//! LiteLLM treats 0 as "no priority"); equal priorities are first come, first
//! served. Only the head of a group's queue tries to pick; it is woken by a
//! released slot, by a change of head, or by a timer set to when capacity
//! returns (the soonest cooldown expiry, or the turn of the rpm/tpm minute).
//! Nothing polls.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchyard_types::seconds;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::deployment::Deployment;
use crate::error::{RouterError, Unavailable};
use crate::retry::CallPlan;
use crate::router::Inner;
use crate::select::{PickError, Picked};

/// How many requests may wait in one group's queue before new ones get a 429.
pub(crate) const DEFAULT_MAX_QUEUE_DEPTH: usize = 1024;

/// Per-group queues of waiting requests.
#[derive(Debug)]
pub(crate) struct Scheduler {
    queues: Mutex<HashMap<String, Queue>>,
    /// Notified whenever a request leaves a queue, so the new head looks again.
    turn: Notify,
    max_depth: usize,
}

#[derive(Debug, Default)]
struct Queue {
    waiting: BTreeSet<(u32, u64)>,
    next_seq: u64,
}

/// A place in a queue, given up on drop.
struct Ticket<'a> {
    scheduler: &'a Scheduler,
    group: String,
    key: (u32, u64),
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut queues = self.scheduler.lock();
        if let Some(q) = queues.get_mut(&self.group) {
            q.waiting.remove(&self.key);
            if q.waiting.is_empty() {
                queues.remove(&self.group);
            }
        }
        drop(queues);
        self.scheduler.turn.notify_waiters();
    }
}

impl Scheduler {
    pub(crate) fn new(max_depth: usize) -> Self {
        Self {
            queues: Mutex::new(HashMap::new()),
            turn: Notify::new(),
            max_depth,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Queue>> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enqueue(&self, group: &str, priority: u32) -> Option<Ticket<'_>> {
        let mut queues = self.lock();
        let q = queues.entry(group.to_owned()).or_default();
        if q.waiting.len() >= self.max_depth {
            return None;
        }
        let key = (priority, q.next_seq);
        q.next_seq += 1;
        q.waiting.insert(key);
        Some(Ticket {
            scheduler: self,
            group: group.to_owned(),
            key,
        })
    }

    fn is_head(&self, ticket: &Ticket<'_>) -> bool {
        self.lock()
            .get(&ticket.group)
            .and_then(|q| q.waiting.first())
            == Some(&ticket.key)
    }

    /// Requests waiting in `group`'s queue.
    #[cfg(test)]
    pub(crate) fn depth(&self, group: &str) -> usize {
        self.lock().get(group).map_or(0, |q| q.waiting.len())
    }
}

impl Inner {
    /// Picks a deployment in priority order, waiting in the group's queue while none can take the call.
    pub(crate) async fn pick_in_turn(
        &self,
        group: &str,
        deployments: &[Arc<Deployment>],
        spent_tiers: &[Option<u32>],
        plan: &CallPlan<'_>,
        priority: u32,
    ) -> Result<Picked, PickError> {
        let Some(ticket) = self.scheduler.enqueue(group, priority) else {
            return Err(PickError::Unavailable(RouterError::NoDeploymentAvailable {
                model_group: group.to_owned(),
                reason: Unavailable::QueueFull,
                retry_after: Some(Duration::from_secs(1)),
            }));
        };
        let deadline = plan
            .deadline
            // Clamped to a year (the config's value is already): the sum cannot overflow.
            .unwrap_or_else(|| Instant::now() + seconds::clamp(self.timeouts.queue_wait()));
        loop {
            // Registered before looking, so no wake-up between the look and the wait is lost.
            let turn = self.scheduler.turn.notified();
            let released = self.slots.released();
            let released = async {
                match released {
                    Some(n) => n.notified().await,
                    None => std::future::pending().await,
                }
            };
            let mut wake_at = deadline;
            if self.scheduler.is_head(&ticket) {
                match self.pick_now(group, deployments, spent_tiers, plan).await {
                    Ok(picked) => return Ok(picked),
                    Err(PickError::Unavailable(RouterError::NoDeploymentAvailable {
                        reason,
                        retry_after,
                        ..
                    })) if reason != Unavailable::QueueFull => {
                        tracing::debug!(
                            model_group = group,
                            priority,
                            ?reason,
                            "queued: no deployment can take the call yet"
                        );
                        if let Some(after) = retry_after {
                            // A cooldown's or a rate window's remaining time, clamped anyway.
                            wake_at = wake_at.min(Instant::now() + seconds::clamp(after));
                        }
                        if Instant::now() >= deadline {
                            return Err(PickError::Unavailable(
                                RouterError::NoDeploymentAvailable {
                                    model_group: group.to_owned(),
                                    reason,
                                    retry_after,
                                },
                            ));
                        }
                    }
                    Err(other) => return Err(other),
                }
            }
            tokio::select! {
                _ = turn => {}
                _ = released => {}
                _ = tokio::time::sleep_until(wake_at) => {}
            }
            if Instant::now() >= deadline && !self.scheduler.is_head(&ticket) {
                return Err(PickError::Unavailable(RouterError::NoDeploymentAvailable {
                    model_group: group.to_owned(),
                    reason: Unavailable::QueueFull,
                    retry_after: None,
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_numbers_first_then_arrival_order() {
        let s = Scheduler::new(10);
        let a = s.enqueue("g", 5).unwrap();
        let b = s.enqueue("g", 5).unwrap();
        assert!(s.is_head(&a));
        let c = s.enqueue("g", 0).unwrap();
        assert!(s.is_head(&c), "priority 0 is the highest");
        drop(c);
        assert!(s.is_head(&a));
        drop(a);
        assert!(s.is_head(&b));
        assert_eq!(s.depth("g"), 1);
        drop(b);
        assert_eq!(s.depth("g"), 0);
    }

    #[test]
    fn depth_is_bounded() {
        let s = Scheduler::new(2);
        let _a = s.enqueue("g", 1).unwrap();
        let _b = s.enqueue("g", 1).unwrap();
        assert!(s.enqueue("g", 0).is_none());
        assert!(s.enqueue("other", 0).is_some());
    }
}
