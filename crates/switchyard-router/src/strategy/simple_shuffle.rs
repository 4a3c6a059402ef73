//! LiteLLM's `simple-shuffle`: a weighted random pick.
//!
//! Weights come from `weight`, else `rpm`, else `tpm`: the first of those
//! metrics that any candidate sets is used for all of them, and a candidate
//! that does not set it gets weight 0. With none set the pick is uniform.

use rand::Rng;

use super::CandidateSnapshot;

/// Which metric a shuffle weighted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShuffleWeights {
    /// `weight`.
    Weight,
    /// `rpm`.
    Rpm,
    /// `tpm`.
    Tpm,
    /// No metric set: uniform.
    Uniform,
}

/// Reads one weighting metric off a candidate.
type Metric = fn(&CandidateSnapshot) -> Option<f64>;

/// Picks one candidate index; `None` only when `candidates` is empty.
pub fn simple_shuffle<R: Rng + ?Sized>(
    candidates: &[CandidateSnapshot],
    rng: &mut R,
) -> Option<(usize, ShuffleWeights)> {
    if candidates.is_empty() {
        return None;
    }
    let metrics: [(ShuffleWeights, Metric); 3] = [
        (ShuffleWeights::Weight, |c| c.weight),
        (ShuffleWeights::Rpm, |c| c.rpm.map(|v| v as f64)),
        (ShuffleWeights::Tpm, |c| c.tpm.map(|v| v as f64)),
    ];
    for (kind, metric) in metrics {
        if !candidates.iter().any(|c| metric(c).is_some()) {
            continue;
        }
        let weight_of = |c: &CandidateSnapshot| {
            metric(c)
                .filter(|w| w.is_finite() && *w > 0.0)
                .unwrap_or(0.0)
        };
        let total: f64 = candidates.iter().map(weight_of).sum();
        if total <= 0.0 {
            // Every weight is zero: LiteLLM would divide by zero; spread evenly instead.
            break;
        }
        let mut point = rng.random::<f64>() * total;
        let mut last_positive = 0;
        for (i, c) in candidates.iter().enumerate() {
            let w = weight_of(c);
            if w <= 0.0 {
                continue;
            }
            last_positive = i;
            if point < w {
                return Some((i, kind));
            }
            point -= w;
        }
        // Floating-point rounding can leave `point` a hair above the last weight.
        return Some((last_positive, kind));
    }
    Some((
        rng.random_range(0..candidates.len()),
        ShuffleWeights::Uniform,
    ))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn weights(ws: &[Option<f64>]) -> Vec<CandidateSnapshot> {
        ws.iter()
            .map(|w| CandidateSnapshot {
                weight: *w,
                ..Default::default()
            })
            .collect()
    }

    fn counts(cands: &[CandidateSnapshot], n: usize, seed: u64) -> Vec<usize> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut counts = vec![0; cands.len()];
        for _ in 0..n {
            counts[simple_shuffle(cands, &mut rng).unwrap().0] += 1;
        }
        counts
    }

    /// Asserts each share is within `tolerance` (absolute) of its expected share.
    /// With n = 20,000 the standard deviation of a share is at most 0.0036,
    /// so 0.02 is more than five standard deviations.
    fn assert_shares(counts: &[usize], expected: &[f64], tolerance: f64) {
        let n: usize = counts.iter().sum();
        for (c, e) in counts.iter().zip(expected) {
            let share = *c as f64 / n as f64;
            assert!(
                (share - e).abs() < tolerance,
                "share {share} expected {e} (counts {counts:?})"
            );
        }
    }

    #[test]
    fn weights_split_traffic_proportionally() {
        let cands = weights(&[Some(9.0), Some(1.0)]);
        assert_shares(&counts(&cands, 20_000, 7), &[0.9, 0.1], 0.02);
    }

    #[test]
    fn candidates_without_the_metric_get_nothing() {
        let cands = weights(&[Some(2.0), None, Some(2.0)]);
        let c = counts(&cands, 5_000, 1);
        assert_eq!(c[1], 0);
        assert_shares(&c, &[0.5, 0.0, 0.5], 0.03);
    }

    #[test]
    fn rpm_is_used_when_no_weight_is_set_and_tpm_after_it() {
        let cands = vec![
            CandidateSnapshot {
                rpm: Some(300),
                tpm: Some(1),
                ..Default::default()
            },
            CandidateSnapshot {
                rpm: Some(100),
                tpm: Some(1_000_000),
                ..Default::default()
            },
        ];
        let mut rng = StdRng::seed_from_u64(3);
        assert_eq!(
            simple_shuffle(&cands, &mut rng).unwrap().1,
            ShuffleWeights::Rpm
        );
        assert_shares(&counts(&cands, 20_000, 3), &[0.75, 0.25], 0.02);

        let tpm_only = vec![
            CandidateSnapshot {
                tpm: Some(100),
                ..Default::default()
            },
            CandidateSnapshot {
                tpm: Some(300),
                ..Default::default()
            },
        ];
        assert_shares(&counts(&tpm_only, 20_000, 4), &[0.25, 0.75], 0.02);
    }

    #[test]
    fn weight_wins_over_rpm() {
        let cands = vec![
            CandidateSnapshot {
                weight: Some(1.0),
                rpm: Some(1000),
                ..Default::default()
            },
            CandidateSnapshot {
                weight: Some(3.0),
                rpm: Some(1),
                ..Default::default()
            },
        ];
        assert_shares(&counts(&cands, 20_000, 5), &[0.25, 0.75], 0.02);
    }

    #[test]
    fn uniform_without_metrics_or_with_all_zero_weights() {
        let none = weights(&[None, None, None, None]);
        assert_shares(&counts(&none, 20_000, 11), &[0.25; 4], 0.02);
        let zeros = weights(&[Some(0.0), Some(0.0)]);
        assert_shares(&counts(&zeros, 20_000, 12), &[0.5, 0.5], 0.02);
    }

    #[test]
    fn same_seed_same_sequence() {
        let cands = weights(&[Some(1.0), Some(1.0), Some(1.0)]);
        assert_eq!(counts(&cands, 100, 42), counts(&cands, 100, 42));
        assert!(simple_shuffle(&[], &mut StdRng::seed_from_u64(0)).is_none());
    }
}
