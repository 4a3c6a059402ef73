//! Uniform tie-breaking without allocating: count the candidates that tie,
//! draw one index among them, walk to it. Two passes over the slice and one
//! random draw, whatever the number of candidates.

use rand::Rng;

use super::CandidateSnapshot;

/// Picks uniformly among the candidates `is_match` accepts, given that exactly
/// `count` of them do. `None` when `count` is 0.
pub(super) fn pick_matching<R, F>(
    candidates: &[CandidateSnapshot],
    count: usize,
    rng: &mut R,
    is_match: F,
) -> Option<usize>
where
    R: Rng + ?Sized,
    F: Fn(&CandidateSnapshot) -> bool,
{
    let target = match count {
        0 => return None,
        1 => 0,
        n => rng.random_range(0..n),
    };
    candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| is_match(c))
        .nth(target)
        .map(|(i, _)| i)
}

/// Picks uniformly among the candidates `is_match` accepts; `None` when none does.
pub(super) fn pick_among<R, F>(
    candidates: &[CandidateSnapshot],
    rng: &mut R,
    is_match: F,
) -> Option<usize>
where
    R: Rng + ?Sized,
    F: Fn(&CandidateSnapshot) -> bool,
{
    let count = candidates.iter().filter(|c| is_match(c)).count();
    pick_matching(candidates, count, rng, is_match)
}
