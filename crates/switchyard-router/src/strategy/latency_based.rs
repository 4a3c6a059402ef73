//! LiteLLM's `latency-based-routing`: the fastest deployment, at random within
//! a buffer of the best.
//!
//! Mirrors `_get_available_deployments` in `router_strategy/lowest_latency.py`:
//! - a deployment never measured counts as latency 0, so untried deployments
//!   go first (at random among them, as LiteLLM shuffles before choosing);
//! - the candidates whose average latency is at most
//!   `best + lowest_latency_buffer × best` are eligible, and one of them is
//!   picked uniformly at random;
//! - `RoutingArgs` defaults: `lowest_latency_buffer` 0, `max_latency_list_size`
//!   10, `ttl` 1 hour (see [`LatencyArgs`](super::LatencyArgs));
//! - a timeout is recorded as a penalty sample of 1000 s
//!   ([`TIMEOUT_PENALTY_SECS`]).
//!
//! The averaging itself is [`latency_average`]: LiteLLM divides the sum of its
//! float samples by the length of the whole list, so a sample it stored as a
//! `timedelta` (no usage in the response) counts as 0 s; here every sample
//! counts for what it measured. LiteLLM also re-checks tpm/rpm limits here;
//! Switchyard's candidates arrive already filtered for them.

use rand::Rng;

use super::CandidateSnapshot;
use super::ties::pick_among;

/// The latency sample LiteLLM records for a call that timed out (seconds).
pub const TIMEOUT_PENALTY_SECS: f64 = 1000.0;

/// The average of the finite, non-negative `samples`; `None` when there is none.
pub fn latency_average(samples: &[f64]) -> Option<f64> {
    let (sum, n) = samples
        .iter()
        .filter(|s| s.is_finite() && **s >= 0.0)
        .fold((0.0, 0usize), |(sum, n), s| (sum + s, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// The latency a candidate is ranked by: untried counts as 0 (first), a
/// value that is not a number counts as the slowest.
fn effective(c: &CandidateSnapshot) -> f64 {
    match c.latency {
        None => 0.0,
        Some(l) if l.is_nan() => f64::INFINITY,
        Some(l) => l.max(0.0),
    }
}

/// Picks uniformly among the candidates within `lowest_latency_buffer × best`
/// of the best latency; `None` only when `candidates` is empty.
pub fn latency_based<R: Rng + ?Sized>(
    candidates: &[CandidateSnapshot],
    lowest_latency_buffer: f64,
    rng: &mut R,
) -> Option<usize> {
    let best = candidates.iter().map(effective).reduce(f64::min)?;
    let buffer = if lowest_latency_buffer.is_finite() {
        lowest_latency_buffer.max(0.0)
    } else {
        0.0
    };
    // With every candidate at infinity, `buffer × best` would be NaN (0 × ∞).
    let threshold = if best.is_finite() {
        best + buffer * best
    } else {
        f64::INFINITY
    };
    pick_among(candidates, rng, |c| effective(c) <= threshold)
}
