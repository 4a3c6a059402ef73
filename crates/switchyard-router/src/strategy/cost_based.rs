//! LiteLLM's `cost-based-routing`: the cheapest deployment per token.
//!
//! Mirrors `async_get_available_deployments` in `router_strategy/lowest_cost.py`:
//! the cost is `input_cost_per_token + output_cost_per_token` (computed by the
//! caller into `cost_per_token`), and a deployment whose price is unknown
//! costs LiteLLM's default of $5 + $5 per token, i.e. more than any real
//! price: here an unknown cost ranks after every known one. LiteLLM sorts and
//! keeps the first of equal costs; *fix:* ties are broken uniformly at random,
//! so identical deployments share the load.

use rand::Rng;

use super::CandidateSnapshot;
use super::ties::pick_among;

/// The cost a candidate is ranked by: unknown or nonsensical counts as the dearest.
fn effective(c: &CandidateSnapshot) -> f64 {
    match c.cost_per_token {
        Some(cost) if cost.is_finite() && cost >= 0.0 => cost,
        _ => f64::INFINITY,
    }
}

/// Picks the cheapest candidate, uniformly among ties; `None` only when
/// `candidates` is empty.
pub fn cost_based<R: Rng + ?Sized>(candidates: &[CandidateSnapshot], rng: &mut R) -> Option<usize> {
    let cheapest = candidates.iter().map(effective).reduce(f64::min)?;
    pick_among(candidates, rng, |c| effective(c) == cheapest)
}
