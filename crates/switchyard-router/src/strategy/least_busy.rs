//! LiteLLM's `least-busy`: the deployment with the fewest requests in flight.
//!
//! LiteLLM (`router_strategy/least_busy.py`, `_get_available_deployments`)
//! keeps the first deployment with the strictly lowest count, so equal counts
//! always go to the same deployment. *Fix:* ties are broken uniformly at
//! random, so idle deployments share the load.

use rand::Rng;

use super::CandidateSnapshot;
use super::ties::pick_among;

/// Picks a candidate with the fewest `in_flight`, uniformly among ties;
/// `None` only when `candidates` is empty.
pub fn least_busy<R: Rng + ?Sized>(candidates: &[CandidateSnapshot], rng: &mut R) -> Option<usize> {
    let fewest = candidates.iter().map(|c| c.in_flight).min()?;
    pick_among(candidates, rng, |c| c.in_flight == fewest)
}
