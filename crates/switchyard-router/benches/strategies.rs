//! One routing decision per strategy over 10 and 1,000 candidates.
//! Targets (issue 5): under 2 µs at 10 candidates, under 50 µs at 1,000.
//!
//! `cargo bench -p switchyard-router --bench strategies` (about 20 s).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use switchyard_router::strategy::{
    CandidateSnapshot, CustomStrategy, RequestSnapshot, RoutingStrategy,
};

/// Candidates as a busy group would show them mid-minute: weights, limits
/// with headroom, a few requests in flight (with ties), usage spread below the
/// limits, measured latencies and known prices.
fn candidates(n: usize, rng: &mut StdRng) -> Vec<CandidateSnapshot> {
    (0..n)
        .map(|_| {
            let tpm = rng.random_range(100_000..2_000_000);
            let rpm = rng.random_range(600..10_000);
            CandidateSnapshot {
                weight: Some(rng.random_range(1..10) as f64),
                rpm: Some(rpm),
                tpm: Some(tpm),
                in_flight: rng.random_range(0..8),
                rpm_used: rng.random_range(0..rpm / 2),
                tpm_used: rng.random_range(0..tpm / 2) / 100 * 100,
                latency: Some(rng.random_range(0.2..2.0)),
                cost_per_token: Some([1.5e-7, 6e-7, 2.5e-6, 1e-5, 3e-5][rng.random_range(0..5)]),
            }
        })
        .collect()
}

/// The example's custom strategy: the deployment with the highest weight.
#[derive(Debug)]
struct HighestWeight;

impl CustomStrategy for HighestWeight {
    fn pick(
        &self,
        candidates: &[CandidateSnapshot],
        _: &RequestSnapshot,
        _: &mut dyn RngCore,
    ) -> Option<usize> {
        (0..candidates.len()).max_by(|&a, &b| {
            let w = |i: usize| candidates[i].weight.unwrap_or(0.0);
            w(a).total_cmp(&w(b))
        })
    }
}

fn bench_strategies(c: &mut Criterion) {
    let strategies = [
        RoutingStrategy::SimpleShuffle,
        RoutingStrategy::LeastBusy,
        RoutingStrategy::UsageBasedV2,
        RoutingStrategy::LatencyBased {
            lowest_latency_buffer: 0.5,
        },
        RoutingStrategy::CostBased,
        RoutingStrategy::Custom(Arc::new(HighestWeight)),
    ];
    let request = RequestSnapshot { tokens: 1_200 };
    let mut group = c.benchmark_group("pick");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1_000))
        .sample_size(30);
    for n in [10, 1_000] {
        let mut rng = StdRng::seed_from_u64(n as u64);
        let cands = candidates(n, &mut rng);
        for strategy in &strategies {
            group.bench_with_input(BenchmarkId::new(strategy.name(), n), &cands, |b, cands| {
                b.iter(|| strategy.pick(black_box(cands), black_box(&request), &mut rng))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_strategies);
criterion_main!(benches);
