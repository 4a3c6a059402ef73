//! Choosing the deployment for one attempt: drop what is cooling down or
//! already tried tier by tier, keep the lowest `order` among the rest, skip
//! full deployments, and let the strategy pick. When every candidate is full,
//! wait for a released slot until the deadline.

use std::sync::Arc;

use tokio::time::Instant;
use tracing::debug;

use crate::deployment::Deployment;
use crate::error::{RouterError, Unavailable};
use crate::router::{CallGuard, Inner};
use crate::strategy::{CandidateSnapshot, simple_shuffle};

/// The deployment chosen for an attempt, with its slot already held.
pub(crate) struct Picked {
    pub(crate) deployment: Arc<Deployment>,
    pub(crate) guard: CallGuard,
}

impl Inner {
    /// Picks a deployment of `group` outside `spent_tiers`.
    pub(crate) async fn pick(
        &self,
        group: &str,
        deployments: &[Arc<Deployment>],
        spent_tiers: &[Option<u32>],
        deadline: Option<Instant>,
    ) -> Result<Picked, RouterError> {
        let wait_until = deadline.unwrap_or_else(|| Instant::now() + self.default_wait());
        loop {
            // Registered before the check, so a release between check and wait still wakes us.
            let released = self.slots.released();
            let released = released.as_ref().map(|n| n.notified());
            let healthy = self.healthy(deployments, spent_tiers).await;
            if healthy.live.is_empty() {
                return Err(RouterError::NoDeploymentAvailable {
                    model_group: group.to_owned(),
                    reason: Unavailable::Cooldown,
                    retry_after: healthy.soonest_recovery,
                });
            }
            let free: Vec<&Arc<Deployment>> = healthy
                .live
                .iter()
                .copied()
                .filter(|d| !self.slots.is_full(&d.id))
                .collect();
            if let Some(tier) = lowest_order(&free) {
                let candidates: Vec<&Arc<Deployment>> =
                    free.into_iter().filter(|d| d.order == tier).collect();
                let snapshots: Vec<CandidateSnapshot> =
                    candidates.iter().map(|d| d.snapshot).collect();
                let (index, weights) = {
                    let mut rng = self.rng();
                    simple_shuffle(&snapshots, &mut *rng).expect("candidates is not empty")
                };
                let chosen = candidates[index];
                debug!(model_group = group, candidates = candidates.len(), order = ?tier, ?weights, deployment_id = %chosen.id, "simple-shuffle");
                if let Some(permit) = self.slots.try_acquire(&chosen.id) {
                    let guard = CallGuard::acquire(&self.store, &chosen.id, permit).await;
                    return Ok(Picked {
                        deployment: Arc::clone(chosen),
                        guard,
                    });
                }
                // Another request took the last slot since the check: look again.
                continue;
            }
            debug!(
                model_group = group,
                "every candidate is at max_parallel_requests; waiting for a slot"
            );
            let Some(released) = released else {
                unreachable!("a full deployment has a slot table entry");
            };
            if tokio::time::timeout_at(wait_until, released).await.is_err() {
                return Err(RouterError::NoDeploymentAvailable {
                    model_group: group.to_owned(),
                    reason: Unavailable::ParallelLimit,
                    retry_after: None,
                });
            }
        }
    }

    /// Whether a deployment other than `failed` could take a retry right now.
    pub(crate) async fn has_other_healthy(
        &self,
        deployments: &[Arc<Deployment>],
        failed: &Deployment,
        spent_tiers: &[Option<u32>],
    ) -> bool {
        self.healthy(deployments, spent_tiers)
            .await
            .live
            .iter()
            .any(|d| d.id != failed.id)
    }

    async fn healthy<'a>(
        &self,
        deployments: &'a [Arc<Deployment>],
        spent_tiers: &[Option<u32>],
    ) -> Healthy<'a> {
        let open: Vec<&Arc<Deployment>> = deployments
            .iter()
            .filter(|d| !spent_tiers.contains(&d.order))
            .collect();
        let ids: Vec<&str> = open.iter().map(|d| d.id.as_str()).collect();
        let cooling = match self.store.cooldowns(&ids).await {
            Ok(c) => c,
            Err(e) => {
                // Fail open: a store that cannot answer must not stop traffic.
                tracing::warn!(error = %e, "cannot read cooldowns; treating every deployment as healthy");
                vec![None; ids.len()]
            }
        };
        let soonest_recovery = cooling.iter().flatten().min().copied();
        let live = open
            .into_iter()
            .zip(&cooling)
            .filter(|(_, c)| c.is_none())
            .map(|(d, _)| d)
            .collect();
        Healthy {
            live,
            soonest_recovery,
        }
    }

    fn default_wait(&self) -> std::time::Duration {
        self.request_timeout
    }
}

struct Healthy<'a> {
    live: Vec<&'a Arc<Deployment>>,
    soonest_recovery: Option<std::time::Duration>,
}

/// The lowest `order` present; deployments without one come after every ordered one.
fn lowest_order(deployments: &[&Arc<Deployment>]) -> Option<Option<u32>> {
    deployments
        .iter()
        .map(|d| d.order)
        .min_by_key(|o| o.unwrap_or(u32::MAX))
}
