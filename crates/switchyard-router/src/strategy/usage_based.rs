//! LiteLLM's `usage-based-routing` and `usage-based-routing-v2`: the deployment
//! with the lowest tokens used this minute, among those this request still fits.
//!
//! Mirrors `_common_checks_available_deployment` in
//! `router_strategy/lowest_tpm_rpm_v2.py` (and `get_available_deployments` in
//! `lowest_tpm_rpm.py`):
//! - a deployment is skipped when `tpm_used + request tokens > tpm`;
//! - a deployment is skipped when one more request would exceed its `rpm`.
//!   *Fix:* LiteLLM writes `rpm_used + 1 >= rpm`, which stops one request short
//!   of the limit (and in v2 never fires, because it looks the usage up under
//!   the wrong key); here a deployment with `rpm: 10` takes its tenth request;
//! - among the rest, the lowest `tpm_used` wins; ties are broken uniformly at
//!   random (v2 does so; v1 keeps the first: *fix* for v1);
//! - when every candidate is skipped there is no pick. LiteLLM then raises
//!   "No deployments available" (a 429 with `retry-after: 60` in v2); the
//!   caller treats `None` as "no deployment available" the same way.

use rand::Rng;

use super::ties::pick_among;
use super::{CandidateSnapshot, RequestSnapshot};

/// Whether `request` fits under the candidate's `tpm` and `rpm` limits this minute.
pub fn fits_limits(candidate: &CandidateSnapshot, request: &RequestSnapshot) -> bool {
    let tpm_ok = candidate
        .tpm
        .is_none_or(|tpm| candidate.tpm_used.saturating_add(request.tokens) <= tpm);
    let rpm_ok = candidate.rpm.is_none_or(|rpm| candidate.rpm_used < rpm);
    tpm_ok && rpm_ok
}

/// Picks the candidate with the lowest `tpm_used` among those the request fits
/// (uniformly among ties); `None` when it fits none (or `candidates` is empty).
pub fn usage_based<R: Rng + ?Sized>(
    candidates: &[CandidateSnapshot],
    request: &RequestSnapshot,
    rng: &mut R,
) -> Option<usize> {
    let lowest = candidates
        .iter()
        .filter(|c| fits_limits(c, request))
        .map(|c| c.tpm_used)
        .min()?;
    pick_among(candidates, rng, |c| {
        c.tpm_used == lowest && fits_limits(c, request)
    })
}
