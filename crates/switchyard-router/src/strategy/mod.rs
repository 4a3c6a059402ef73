//! Routing strategies: pure functions over a snapshot of eligible candidates.
//!
//! Eligibility (cooldowns, rpm/tpm limits, parallel limits, pre-call checks)
//! is decided before a strategy runs; a strategy only chooses among what it is
//! given, reads nothing but the snapshot, and does no IO. All the state a
//! snapshot carries was read from the `StateStore` beforehand.
//!
//! [`RoutingStrategy::pick`] is the one entry point; each strategy lives in
//! its own module with the LiteLLM rules it mirrors and the bugs it fixes.

mod config;
mod cost_based;
mod latency_based;
mod least_busy;
mod simple_shuffle;
mod ties;
mod usage_based;

use std::fmt;
use std::sync::Arc;

use rand::{Rng, RngCore};

pub use config::{LatencyArgs, STRATEGY_NAMES, known_args};
pub use cost_based::cost_based;
pub use latency_based::{TIMEOUT_PENALTY_SECS, latency_average, latency_based};
pub use least_busy::least_busy;
pub use simple_shuffle::{ShuffleWeights, simple_shuffle};
pub use usage_based::{fits_limits, usage_based};

/// What a strategy may read about one candidate deployment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CandidateSnapshot {
    /// `litellm_params.weight`.
    pub weight: Option<f64>,
    /// `rpm` limit.
    pub rpm: Option<u64>,
    /// `tpm` limit.
    pub tpm: Option<u64>,
    /// Requests in flight on this deployment now.
    pub in_flight: u64,
    /// Requests counted in the current UTC minute.
    pub rpm_used: u64,
    /// Tokens counted (reserved or reconciled) in the current UTC minute.
    pub tpm_used: u64,
    /// Average of the recent latency samples (seconds, or seconds per
    /// completion token when usage was known); `None` when never measured.
    pub latency: Option<f64>,
    /// `input_cost_per_token + output_cost_per_token` in USD; `None` when unknown.
    pub cost_per_token: Option<f64>,
}

/// What a strategy may read about the request being routed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestSnapshot {
    /// Estimated tokens this request will use: input tokens plus `max_tokens` when given.
    pub tokens: u64,
}

/// A user-supplied strategy (LiteLLM's `CustomRoutingStrategyBase`).
pub trait CustomStrategy: Send + Sync + fmt::Debug {
    /// Returns the index of the chosen candidate (`None` only for an empty slice).
    fn pick(
        &self,
        candidates: &[CandidateSnapshot],
        request: &RequestSnapshot,
        rng: &mut dyn RngCore,
    ) -> Option<usize>;

    /// The name shown in `x-switchyard-route` (`custom` unless overridden).
    fn name(&self) -> &str {
        "custom"
    }
}

/// `router_settings.routing_strategy`, with LiteLLM's names.
#[derive(Debug, Clone, Default)]
pub enum RoutingStrategy {
    /// `simple-shuffle`: weighted random.
    #[default]
    SimpleShuffle,
    /// `least-busy`: fewest in-flight requests.
    LeastBusy,
    /// `usage-based-routing`: lowest current tpm among deployments under their limits.
    UsageBased,
    /// `usage-based-routing-v2`: same choice, LiteLLM's Redis-friendly variant.
    UsageBasedV2,
    /// `latency-based-routing`: lowest recent latency, random within a buffer.
    LatencyBased {
        /// `routing_strategy_args.lowest_latency_buffer`: pick at random among
        /// candidates within `(1 + buffer) ×` the best latency.
        lowest_latency_buffer: f64,
    },
    /// `cost-based-routing`: cheapest per token.
    CostBased,
    /// A strategy supplied through the library.
    Custom(Arc<dyn CustomStrategy>),
}

impl RoutingStrategy {
    /// LiteLLM's name of the strategy (`router_settings.routing_strategy`), or
    /// the custom strategy's own name.
    pub fn name(&self) -> &str {
        match self {
            RoutingStrategy::SimpleShuffle => "simple-shuffle",
            RoutingStrategy::LeastBusy => "least-busy",
            RoutingStrategy::UsageBased => "usage-based-routing",
            RoutingStrategy::UsageBasedV2 => "usage-based-routing-v2",
            RoutingStrategy::LatencyBased { .. } => "latency-based-routing",
            RoutingStrategy::CostBased => "cost-based-routing",
            RoutingStrategy::Custom(custom) => custom.name(),
        }
    }

    /// Picks one of `candidates` (already filtered for eligibility: cooldowns,
    /// rpm/tpm and parallel limits, pre-call checks) for `request`.
    ///
    /// `None` when `candidates` is empty, and for the usage-based strategies
    /// also when the request fits no candidate's tpm/rpm this minute (the
    /// caller answers "no deployment available", as LiteLLM does). A custom
    /// strategy's `None`, or an index out of range, is `None` too.
    pub fn pick<R: Rng + ?Sized>(
        &self,
        candidates: &[CandidateSnapshot],
        request: &RequestSnapshot,
        rng: &mut R,
    ) -> Option<usize> {
        if candidates.is_empty() {
            return None;
        }
        match self {
            RoutingStrategy::SimpleShuffle => simple_shuffle(candidates, rng).map(|(i, _)| i),
            RoutingStrategy::LeastBusy => least_busy(candidates, rng),
            RoutingStrategy::UsageBased | RoutingStrategy::UsageBasedV2 => {
                usage_based(candidates, request, rng)
            }
            RoutingStrategy::LatencyBased {
                lowest_latency_buffer,
            } => latency_based(candidates, *lowest_latency_buffer, rng),
            RoutingStrategy::CostBased => cost_based(candidates, rng),
            RoutingStrategy::Custom(custom) => custom
                .pick(candidates, request, &mut DynRng(rng))
                .filter(|&i| i < candidates.len()),
        }
    }
}

/// Lends a possibly unsized `Rng` to a custom strategy as `&mut dyn RngCore`.
struct DynRng<'a, R: ?Sized>(&'a mut R);

impl<R: RngCore + ?Sized> RngCore for DynRng<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
}
