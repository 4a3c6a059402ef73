//! Cooldowns: taking a failing deployment out of rotation for a while.
//!
//! The rules are LiteLLM 1.106's (`litellm/router_utils/cooldown_handlers.py`:
//! `_should_run_cooldown_logic`, `_is_cooldown_required`, `_should_cooldown_deployment`,
//! `should_cooldown_based_on_allowed_fails_policy`; `Router.deployment_callback_on_failure`
//! for the length), with the differences marked *fix* or *deviation* below.
//!
//! **Which failures may cool at all** (`_is_cooldown_required`): 401, 402, 404, 408, 429 and
//! 5xx; never the other 4xx (400, 403, 409, 422, context-window and content-policy errors) and
//! never connection errors (LiteLLM skips any `APIConnectionError`). A deployment-level
//! `allowed_fails_policy` entry naming a class opts that class in, 400 included.
//!
//! **Without `allowed_fails` or `allowed_fails_policy`** (LiteLLM's default rules), a failure
//! cools its deployment when:
//! - it is a 429 and the group has other deployments;
//! - it is a 401, 402 or 404 (any status `litellm.should_retry` rejects), whatever the group
//!   size, except a 402 on a group's only deployment;
//! - the window's failure ratio is over 50 % with at least 5 requests, in a group with other
//!   deployments;
//! - every request of the window failed and there were at least 1,000 of them (the one
//!   ratio rule that applies to a single-deployment group).
//!
//! So a lone deployment is never cooled by 408/429/5xx under normal traffic.
//!
//! **With `allowed_fails` or `allowed_fails_policy`** (router-wide, or per deployment in
//! `model_info`, which then replaces the router's for that deployment): a failure cools its
//! deployment when the failures counted in the window exceed the allowance (`fails >
//! allowed`). The allowance is the policy's entry for the error class, else `allowed_fails`,
//! else LiteLLM's default of 3 (`litellm.allowed_fails`). A per-deployment generic
//! `model_info.allowed_fails` does not apply to a group's only deployment. When a
//! deployment's own policy does not name the class (and it has no `allowed_fails`), the
//! router's rules apply.
//!
//! **Length**: the deployment's `cooldown_time` (`model_info`, else `litellm_params`), else the
//! upstream's `Retry-After`, else the router's `cooldown_time` (default 5 s). A length of zero,
//! from any of the three, means no cooldown. Cooling a deployment that is already cooling
//! keeps the later deadline (*fix*: LiteLLM overwrites it, possibly shortening it).
//!
//! **Window**: counters live in the [`StateStore`]'s per-minute windows and a decision reads
//! the current and the previous UTC minute together, so it sees at least the last 60 s (and
//! at most 120 s) and a burst is never split at a minute boundary. LiteLLM's counters are
//! keys with a 60 s TTL refreshed at every increment, which likewise outlive a fixed minute.
//! Keys are hash-tagged by deployment (`{id}:fails`, `{id}:successes`,
//! `{id}:allowed_fails[:Class][:forgiven]`) so a Redis Cluster keeps a deployment's keys on
//! one shard. When an allowance is exceeded, the failures that exceeded it are marked
//! forgiven, so a deployment comes back from its cooldown with its full allowance again (as in
//! LiteLLM, whose allowance counter expires with the cooldown).
//!
//! **Fail-open**: a store error never fails a request. It is logged and treated as "no
//! cooldown".
//!
//! Differences from LiteLLM:
//! - *fix*: `allowed_fails` is honoured at any value. LiteLLM ignores a router
//!   `allowed_fails` equal to `litellm.allowed_fails` (3 by default), and so also
//!   `litellm_settings.allowed_fails`.
//! - *fix*: cooling an already cooling deployment keeps the later deadline.
//! - *deviation*: a router-level `allowed_fails_policy` counts each class on its own counter
//!   (as LiteLLM does for deployment-level policies); LiteLLM's router-level policy compares
//!   one shared failure count with the class's allowance.
//! - *deviation*: the allowance window is the minute window above. LiteLLM's allowance
//!   counter has a TTL of `cooldown_time`, refreshed at every failure.
//! - *deviation*: a router `cooldown_time` of 0 disables cooldowns. LiteLLM's
//!   `cooldown_time or 5` turns 0 into 5 s.
//! - *deviation*: when a deployment's own policy does not name the class, the router's rules
//!   apply (the intent stated in LiteLLM's docstring). LiteLLM's code instead counts it against
//!   the router's `allowed_fails` (3 by default).

mod policy;
mod rules;

use std::sync::Arc;
use std::time::Duration;

use switchyard_providers::ProviderError;

pub use policy::{AllowedFailsPolicy, DeploymentCooldownConfig};
use rules::{Counter, Plan};

use crate::config::Config;
use crate::state::{StateError, StateStore, current_minute};

/// LiteLLM's `DEFAULT_COOLDOWN_TIME_SECONDS`.
pub const DEFAULT_COOLDOWN_TIME: Duration = Duration::from_secs(5);

/// LiteLLM's `litellm.allowed_fails`: the allowance for a class a router-level policy does not
/// name when `allowed_fails` is not set.
pub const DEFAULT_ALLOWED_FAILS: u32 = 3;

/// `DEFAULT_FAILURE_THRESHOLD_PERCENT`: the ratio must be strictly above this.
const FAILURE_RATIO: f64 = 0.5;
/// `DEFAULT_FAILURE_THRESHOLD_MINIMUM_REQUESTS`.
const RATIO_MIN_REQUESTS: u64 = 5;
/// `SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD`: requests needed to cool on a 100 % ratio.
const ALL_FAILED_MIN_REQUESTS: u64 = 1000;

/// Router-wide cooldown settings, from the config.
#[derive(Debug, Clone, PartialEq)]
pub struct CooldownSettings {
    /// `router_settings.cooldown_time`, else `litellm_settings.cooldown_time`, else 5 s.
    pub cooldown_time: Duration,
    /// `router_settings.disable_cooldowns`.
    pub disabled: bool,
    /// `router_settings.allowed_fails`, else `litellm_settings.allowed_fails`.
    pub allowed_fails: Option<u32>,
    /// `router_settings.allowed_fails_policy` (`None` when absent or empty).
    pub allowed_fails_policy: Option<AllowedFailsPolicy>,
}

impl Default for CooldownSettings {
    /// LiteLLM's defaults: 5 s, enabled, no allowance (the default rules apply).
    fn default() -> Self {
        Self {
            cooldown_time: DEFAULT_COOLDOWN_TIME,
            disabled: false,
            allowed_fails: None,
            allowed_fails_policy: None,
        }
    }
}

impl CooldownSettings {
    /// Reads `router_settings` (and the `litellm_settings` fallbacks).
    pub fn from_config(config: &Config) -> Self {
        let rs = &config.router_settings;
        let ls = &config.litellm_settings;
        let policy = AllowedFailsPolicy::from_map(&rs.allowed_fails_policy);
        Self {
            cooldown_time: rs
                .cooldown_time
                .or(ls.cooldown_time)
                .unwrap_or(DEFAULT_COOLDOWN_TIME),
            disabled: rs.disable_cooldowns.unwrap_or(false),
            allowed_fails: rs.allowed_fails.or(ls.allowed_fails),
            allowed_fails_policy: (!policy.is_empty()).then_some(policy),
        }
    }

    /// Whether LiteLLM's default (failure-ratio) rules can apply: no router-wide allowance.
    fn ratio_rules(&self) -> bool {
        self.allowed_fails.is_none() && self.allowed_fails_policy.is_none()
    }
}

/// Counts outcomes per deployment and puts failing deployments in cooldown, in a
/// [`StateStore`] (so several instances sharing a store share cooldowns).
#[derive(Debug, Clone)]
pub struct Cooldowns {
    settings: CooldownSettings,
    store: Arc<dyn StateStore>,
}

impl Cooldowns {
    /// Cooldowns with these settings, kept in `store`.
    pub fn new(settings: CooldownSettings, store: Arc<dyn StateStore>) -> Self {
        Self { settings, store }
    }

    /// The settings in force.
    pub fn settings(&self) -> &CooldownSettings {
        &self.settings
    }

    /// How long a cooldown caused by `error` lasts: the deployment's `cooldown_time`, else
    /// the upstream's `Retry-After`, else the router's `cooldown_time`. Zero: no cooldown.
    pub fn cooldown_length(
        &self,
        deployment: &DeploymentCooldownConfig,
        error: &ProviderError,
    ) -> Duration {
        deployment
            .cooldown_time
            .or(error.retry_after)
            .unwrap_or(self.settings.cooldown_time)
    }

    /// Counts a successful call (for the failure-ratio rule).
    pub async fn record_success(&self, deployment_id: &str) {
        self.record_success_at(deployment_id, &success_key(deployment_id))
            .await;
    }

    /// [`record_success`](Self::record_success) with the counter key built once per
    /// deployment ([`success_key`]).
    pub(crate) async fn record_success_at(&self, deployment_id: &str, success_key: &str) {
        if self.settings.disabled || !self.settings.ratio_rules() {
            return;
        }
        if let Err(e) = self
            .store
            .incr_window(success_key, current_minute(), 1)
            .await
        {
            store_error(deployment_id, &e);
        }
    }

    /// Counts a failed call and decides whether to cool the deployment; when it does, writes
    /// the cooldown to the store and returns its length (the store keeps the later deadline
    /// if the deployment was already cooling). `group_size` is the number of deployments in
    /// the model group.
    pub async fn record_failure(
        &self,
        deployment_id: &str,
        deployment: &DeploymentCooldownConfig,
        error: &ProviderError,
        group_size: usize,
    ) -> Option<Duration> {
        if self.settings.disabled {
            return None;
        }
        let window = current_minute();
        // Every failure counts toward the ratio, whatever its class (as in LiteLLM, which
        // counts before deciding).
        let fails_now = if self.settings.ratio_rules() {
            let fails = key(deployment_id, "fails");
            match self.store.incr_window(&fails, window, 1).await {
                Ok(n) => Some(n),
                Err(e) => {
                    store_error(deployment_id, &e);
                    None
                }
            }
        } else {
            None
        };

        let length = self.cooldown_length(deployment, error);
        if length.is_zero() {
            return None;
        }
        let cool = match rules::plan(&self.settings, deployment, error, group_size) {
            Plan::Skip => false,
            Plan::Cool => true,
            Plan::Ratio { single } => {
                let fails_now = fails_now?;
                self.ratio_too_high(deployment_id, window, fails_now, single)
                    .await
                    .map_err(|e| store_error(deployment_id, &e))
                    .ok()?
            }
            Plan::Allowance { allowed, counter } => self
                .over_allowance(deployment_id, window, allowed, counter)
                .await
                .map_err(|e| store_error(deployment_id, &e))
                .ok()?,
        };
        if !cool {
            return None;
        }
        if let Err(e) = self.store.set_cooldown(deployment_id, length).await {
            store_error(deployment_id, &e);
            return None;
        }
        tracing::info!(
            deployment = deployment_id,
            class = error.kind.litellm_name(),
            status = rules::status(error),
            seconds = length.as_secs_f64(),
            "deployment cooling down"
        );
        Some(length)
    }

    /// LiteLLM's ratio rules over the current and previous minute. `fails_now` already
    /// includes this failure.
    async fn ratio_too_high(
        &self,
        deployment_id: &str,
        window: u64,
        fails_now: u64,
        single: bool,
    ) -> Result<bool, StateError> {
        let successes = success_key(deployment_id);
        let fails = key(deployment_id, "fails");
        let current = self.store.get_windows(&[&successes], window).await?;
        let previous = self
            .store
            .get_windows(&[&successes, &fails], window.saturating_sub(1))
            .await?;
        let fails = fails_now + previous.get(1).copied().unwrap_or(0);
        let successes =
            current.first().copied().unwrap_or(0) + previous.first().copied().unwrap_or(0);
        let total = fails + successes;
        if total == 0 {
            return Ok(false);
        }
        let ratio = fails as f64 / total as f64;
        Ok((successes == 0 && total >= ALL_FAILED_MIN_REQUESTS)
            || (!single && ratio > FAILURE_RATIO && total >= RATIO_MIN_REQUESTS))
    }

    /// Counts this failure against an allowance; true when the unforgiven failures of the
    /// window exceed it, in which case they are forgiven (the cooldown is their penalty).
    async fn over_allowance(
        &self,
        deployment_id: &str,
        window: u64,
        allowed: u32,
        counter: Counter,
    ) -> Result<bool, StateError> {
        let fails = match counter {
            Counter::Generic => key(deployment_id, "allowed_fails"),
            Counter::Class(class) => key(deployment_id, &format!("allowed_fails:{class}")),
        };
        let forgiven = format!("{fails}:forgiven");
        let previous_window = window.saturating_sub(1);
        let current = self.store.incr_window(&fails, window, 1).await?;
        let current_forgiven = self.store.get_windows(&[&forgiven], window).await?;
        let previous = self
            .store
            .get_windows(&[&fails, &forgiven], previous_window)
            .await?;
        let at = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
        let open_current = current.saturating_sub(at(&current_forgiven, 0));
        let open_previous = at(&previous, 0).saturating_sub(at(&previous, 1));
        if open_current + open_previous <= u64::from(allowed) {
            return Ok(false);
        }
        // Forgive per window, so each window's count and forgiveness expire together.
        for (window, n) in [(window, open_current), (previous_window, open_previous)] {
            if n > 0
                && let Err(e) = self
                    .store
                    .incr_window(&forgiven, window, i64::try_from(n).unwrap_or(i64::MAX))
                    .await
            {
                store_error(deployment_id, &e);
            }
        }
        Ok(true)
    }
}

/// A counter key, hash-tagged by deployment: `{id}:suffix`.
/// The store key counting a deployment's successes this minute.
pub(crate) fn success_key(deployment_id: &str) -> String {
    key(deployment_id, "successes")
}

fn key(deployment_id: &str, suffix: &str) -> String {
    format!("{{{deployment_id}}}:{suffix}")
}

fn store_error(deployment_id: &str, e: &StateError) {
    tracing::warn!(
        deployment = deployment_id,
        error = %e,
        "cooldown state unavailable; treating the deployment as not cooling"
    );
}
