//! Routing strategies: pure functions over a snapshot of eligible candidates.
//!
//! Eligibility (cooldowns, limits, pre-call checks) is decided before a
//! strategy runs; a strategy only orders what it is given and does no IO.

mod simple_shuffle;

pub use simple_shuffle::{ShuffleWeights, simple_shuffle};

/// What a strategy may read about one candidate deployment.
#[derive(Debug, Clone, Copy, Default)]
pub struct CandidateSnapshot {
    /// `litellm_params.weight`.
    pub weight: Option<f64>,
    /// `rpm` limit.
    pub rpm: Option<u64>,
    /// `tpm` limit.
    pub tpm: Option<u64>,
}
