//! Choosing the deployment for one attempt.
//!
//! In order: pre-call filters (tags, region, context window), cooldowns and
//! spent `order` tiers, rpm/tpm limits, full parallel-request slots; then the
//! lowest `order` among what is left, and the routing strategy picks within
//! it from a snapshot read in one batch from the state store. When every
//! candidate is only full, the call waits for a released slot until its deadline.

use std::sync::Arc;

use switchyard_providers::{ErrorKind, ProviderError};
use tokio::time::Instant;
use tracing::debug;

use crate::deployment::Deployment;
use crate::error::{RouterError, Unavailable};
use crate::precall;
use crate::retry::CallPlan;
use crate::router::{CallGuard, Inner};
use crate::strategy::{CandidateSnapshot, RequestSnapshot, RoutingStrategy, latency_average};
use crate::usage::{self, UsageKeys};

/// The candidates of one routing decision: most groups have a handful of
/// deployments, so these lists live inline (larger ones spill to the heap). Kept
/// small: they are part of the call's future, which is moved into a box per call.
type Few<T> = smallvec::SmallVec<[T; 4]>;

/// The deployment chosen for an attempt, with its slot (and usage) already held.
pub(crate) struct Picked {
    pub(crate) deployment: Arc<Deployment>,
    pub(crate) guard: CallGuard,
    /// Tokens reserved against the deployment's tpm window (0 when not counted).
    pub(crate) reserved_tokens: u64,
}

/// Why no deployment was picked.
pub(crate) enum PickError {
    /// Nothing can serve the group right now.
    Unavailable(RouterError),
    /// A pre-call check failed in a way fallbacks handle (context window too small everywhere).
    Precheck(ProviderError),
}

impl Inner {
    /// Picks a deployment of `group` outside `spent_tiers`, waiting for a
    /// parallel-request slot when every candidate is only full.
    pub(crate) async fn pick(
        &self,
        group: &str,
        deployments: &[Arc<Deployment>],
        spent_tiers: &[Option<u32>],
        plan: &CallPlan<'_>,
    ) -> Result<Picked, PickError> {
        self.pick_with(group, deployments, spent_tiers, plan, true)
            .await
    }

    /// Like [`pick`](Self::pick) but never waits: a full group is `ParallelLimit` at once.
    pub(crate) async fn pick_now(
        &self,
        group: &str,
        deployments: &[Arc<Deployment>],
        spent_tiers: &[Option<u32>],
        plan: &CallPlan<'_>,
    ) -> Result<Picked, PickError> {
        self.pick_with(group, deployments, spent_tiers, plan, false)
            .await
    }

    async fn pick_with(
        &self,
        group: &str,
        deployments: &[Arc<Deployment>],
        spent_tiers: &[Option<u32>],
        plan: &CallPlan<'_>,
        wait_for_slot: bool,
    ) -> Result<Picked, PickError> {
        // Without a deadline, the wait for a slot is bounded from when it starts
        // (read lazily: most picks never wait, and need no clock read for it).
        let mut wait_until = plan.deadline;
        let unavailable = |reason, retry_after| {
            PickError::Unavailable(RouterError::NoDeploymentAvailable {
                model_group: group.to_owned(),
                reason,
                retry_after,
            })
        };
        let allowed = self.pre_call_filter(group, deployments, plan)?;
        loop {
            // Registered before the check, so a release between check and wait still wakes us.
            let released = self.slots.released();
            let released = released.as_ref().map(|n| n.notified());
            let healthy = self.healthy(&allowed, spent_tiers).await;
            if healthy.live.is_empty() {
                return Err(unavailable(Unavailable::Cooldown, healthy.soonest_recovery));
            }
            let (within_limits, usage_of) = self.within_limits(&healthy.live, plan).await;
            if within_limits.is_empty() {
                return Err(unavailable(
                    Unavailable::RateLimited,
                    Some(usage::until_window_turns()),
                ));
            }
            let free: Few<(&Arc<Deployment>, (u64, u64))> = within_limits
                .into_iter()
                .filter(|(d, _)| !self.slots.is_full(&d.id))
                .collect();
            if let Some(tier) = lowest_order(free.iter().map(|(d, _)| *d)) {
                let candidates: Few<(&Arc<Deployment>, (u64, u64))> =
                    free.into_iter().filter(|(d, _)| d.order == tier).collect();
                let snapshots = self.snapshots(&candidates).await;
                let request = RequestSnapshot {
                    tokens: plan.facts.tokens,
                };
                let index = {
                    let mut rng = self.rng();
                    self.strategy.pick(&snapshots, &request, &mut *rng)
                };
                let Some(index) = index else {
                    // The strategy found every candidate over its limits for this request.
                    return Err(unavailable(
                        Unavailable::RateLimited,
                        Some(usage::until_window_turns()),
                    ));
                };
                let chosen = candidates[index].0;
                debug!(model_group = group, candidates = candidates.len(), order = ?tier, strategy = ?self.strategy, deployment_id = %chosen.id, "routing decision");
                let Some(permit) = self.slots.try_acquire(&chosen.id) else {
                    // Another request took the last slot since the check: look again.
                    continue;
                };
                let guard = CallGuard::acquire(&self.store, chosen, permit).await;
                let reserved_tokens = if usage_of {
                    usage::reserve(&*self.store, &chosen.usage_keys, plan.facts.tokens).await;
                    plan.facts.tokens
                } else {
                    0
                };
                return Ok(Picked {
                    deployment: Arc::clone(chosen),
                    guard,
                    reserved_tokens,
                });
            }
            if !wait_for_slot {
                return Err(unavailable(Unavailable::ParallelLimit, None));
            }
            debug!(
                model_group = group,
                "every candidate is at max_parallel_requests; waiting for a slot"
            );
            let Some(released) = released else {
                unreachable!("a full deployment has a slot table entry");
            };
            // `default_wait` is clamped to a year: the sum cannot overflow.
            let until = *wait_until.get_or_insert_with(|| Instant::now() + self.default_wait());
            if tokio::time::timeout_at(until, released).await.is_err() {
                return Err(unavailable(Unavailable::ParallelLimit, None));
            }
        }
    }

    /// Tags, region and context window, as configured.
    fn pre_call_filter<'a>(
        &self,
        group: &str,
        deployments: &'a [Arc<Deployment>],
        plan: &CallPlan<'_>,
    ) -> Result<Few<&'a Arc<Deployment>>, PickError> {
        let mut allowed: Few<&Arc<Deployment>> = deployments.iter().collect();
        if self.tag_filtering {
            let tagged = precall::filter_by_tags(allowed.into_vec(), &plan.facts.tags);
            allowed = Few::from_vec(tagged.map_err(|reason| {
                PickError::Unavailable(RouterError::BadRequest {
                    message: format!(
                        "No deployments available for selected model={group}: {reason}"
                    ),
                    param: Some("tags".into()),
                })
            })?);
        }
        if let Some(region) = &plan.facts.region {
            allowed.retain(|d| precall::in_region(d, region));
            if allowed.is_empty() {
                return Err(PickError::Unavailable(RouterError::BadRequest {
                    message: format!(
                        "No deployments available for selected model={group} in region {region:?}"
                    ),
                    param: Some("allowed_model_region".into()),
                }));
            }
        }
        // Pre-call checks make the router count tokens, so `prompt_tokens` is real here.
        if self.pre_call_checks {
            let tokens = plan.facts.prompt_tokens;
            let before = allowed.len();
            allowed.retain(|d| precall::fits_context_window(d, tokens));
            if allowed.is_empty() && before > 0 {
                return Err(PickError::Precheck(ProviderError::new(
                    ErrorKind::ContextWindowExceeded,
                    "router",
                    format!(
                        "the request's {tokens} input tokens exceed the context window of every deployment of {group}"
                    ),
                )));
            }
        }
        Ok(allowed)
    }

    /// Deployments under their rpm/tpm for this request, with their usage, and
    /// whether usage is being counted at all.
    async fn within_limits<'a>(
        &self,
        live: &[&'a Arc<Deployment>],
        plan: &CallPlan<'_>,
    ) -> (Few<(&'a Arc<Deployment>, (u64, u64))>, bool) {
        let counted = self.counts_usage()
            || live
                .iter()
                .any(|d| d.snapshot.rpm.is_some() || d.snapshot.tpm.is_some());
        if !counted {
            return (live.iter().map(|d| (*d, (0, 0))).collect(), false);
        }
        let keys: Few<&UsageKeys> = live.iter().map(|d| &*d.usage_keys).collect();
        let used = usage::read(&*self.store, &keys).await;
        let tokens = plan.facts.tokens;
        let kept = live
            .iter()
            .zip(used)
            .filter(|(d, (rpm_used, tpm_used))| {
                d.snapshot.rpm.is_none_or(|limit| *rpm_used < limit)
                    && d.snapshot
                        .tpm
                        .is_none_or(|limit| tpm_used + tokens <= limit)
            })
            .map(|(d, u)| (*d, u))
            .collect();
        (kept, true)
    }

    /// Whether the strategy reads usage even without limits.
    fn counts_usage(&self) -> bool {
        matches!(
            self.strategy,
            RoutingStrategy::UsageBased | RoutingStrategy::UsageBasedV2
        )
    }

    /// Snapshots for the strategy, reading only what it needs.
    async fn snapshots(
        &self,
        candidates: &[(&Arc<Deployment>, (u64, u64))],
    ) -> Few<CandidateSnapshot> {
        let mut out: Few<CandidateSnapshot> = candidates
            .iter()
            .map(|(d, (rpm_used, tpm_used))| CandidateSnapshot {
                rpm_used: *rpm_used,
                tpm_used: *tpm_used,
                ..d.snapshot
            })
            .collect();
        let ids = || {
            candidates
                .iter()
                .map(|(d, _)| d.id.as_str())
                .collect::<Few<_>>()
        };
        match &self.strategy {
            RoutingStrategy::LeastBusy | RoutingStrategy::Custom(_) => {
                if let Ok(in_flight) = self.store.in_flight(&ids()).await {
                    out.iter_mut()
                        .zip(in_flight)
                        .for_each(|(s, n)| s.in_flight = n);
                }
            }
            RoutingStrategy::LatencyBased { .. } => {
                if let Ok(samples) = self.store.latencies(&ids()).await {
                    out.iter_mut()
                        .zip(samples)
                        .for_each(|(s, v)| s.latency = latency_average(&v));
                }
            }
            _ => {}
        }
        out
    }

    /// Whether a deployment other than `failed` could take a retry right now.
    pub(crate) async fn has_other_healthy(
        &self,
        deployments: &[Arc<Deployment>],
        failed: &Deployment,
        spent_tiers: &[Option<u32>],
    ) -> bool {
        let all: Few<&Arc<Deployment>> = deployments.iter().collect();
        self.healthy(&all, spent_tiers)
            .await
            .live
            .iter()
            .any(|d| d.id != failed.id)
    }

    async fn healthy<'a>(
        &self,
        deployments: &[&'a Arc<Deployment>],
        spent_tiers: &[Option<u32>],
    ) -> Healthy<'a> {
        let open: Few<&Arc<Deployment>> = deployments
            .iter()
            .copied()
            .filter(|d| !spent_tiers.contains(&d.order))
            .collect();
        let ids: Few<&str> = open.iter().map(|d| d.id.as_str()).collect();
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
        switchyard_types::seconds::clamp(self.timeouts.queue_wait())
    }
}

struct Healthy<'a> {
    live: Few<&'a Arc<Deployment>>,
    soonest_recovery: Option<std::time::Duration>,
}

/// The lowest `order` present; deployments without one come after every ordered one.
fn lowest_order<'a>(deployments: impl Iterator<Item = &'a Arc<Deployment>>) -> Option<Option<u32>> {
    deployments
        .map(|d| d.order)
        .min_by_key(|o| o.unwrap_or(u32::MAX))
}
