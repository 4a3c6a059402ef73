//! Routing strategies as pure functions: table and property tests over
//! candidate snapshots, with seeded RNGs throughout.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use serde_json::{Map, Value, json};
use switchyard_router::strategy::{
    CandidateSnapshot, CustomStrategy, LatencyArgs, RequestSnapshot, RoutingStrategy,
    STRATEGY_NAMES, fits_limits, known_args, latency_average,
};

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn no_args() -> Map<String, Value> {
    Map::new()
}

fn args(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn req(tokens: u64) -> RequestSnapshot {
    RequestSnapshot { tokens }
}

fn latency(buffer: f64) -> RoutingStrategy {
    RoutingStrategy::LatencyBased {
        lowest_latency_buffer: buffer,
    }
}

/// How often each candidate is picked over `n` decisions.
fn counts(
    strategy: &RoutingStrategy,
    cands: &[CandidateSnapshot],
    n: usize,
    seed: u64,
) -> Vec<usize> {
    let mut r = rng(seed);
    let mut counts = vec![0; cands.len()];
    for _ in 0..n {
        counts[strategy.pick(cands, &req(10), &mut r).unwrap()] += 1;
    }
    counts
}

/// Every strategy that is not custom, with a non-trivial latency buffer.
fn builtins() -> Vec<RoutingStrategy> {
    vec![
        RoutingStrategy::SimpleShuffle,
        RoutingStrategy::LeastBusy,
        RoutingStrategy::UsageBased,
        RoutingStrategy::UsageBasedV2,
        latency(0.5),
        RoutingStrategy::CostBased,
    ]
}

// ---------------------------------------------------------------- config

#[test]
fn from_config_reads_litellm_names() {
    let table = [
        (None, "simple-shuffle"),
        (Some("simple-shuffle"), "simple-shuffle"),
        (Some("least-busy"), "least-busy"),
        (Some("usage-based-routing"), "usage-based-routing"),
        (Some("usage-based-routing-v2"), "usage-based-routing-v2"),
        (Some("latency-based-routing"), "latency-based-routing"),
        (Some("cost-based-routing"), "cost-based-routing"),
        // Valid in LiteLLM, not implemented here: simple-shuffle, the caller warns.
        (Some("provider-budget-routing"), "simple-shuffle"),
        (Some("lar1"), "simple-shuffle"),
    ];
    for (name, expected) in table {
        let strategy = RoutingStrategy::from_config(name, &no_args()).unwrap();
        assert_eq!(strategy.name(), expected, "{name:?}");
    }
    for name in STRATEGY_NAMES {
        assert!(RoutingStrategy::from_config(Some(name), &no_args()).is_ok());
    }
}

#[test]
fn from_config_rejects_unknown_names() {
    for name in ["round-robin", "Least-Busy", "least_busy", ""] {
        let err = RoutingStrategy::from_config(Some(name), &no_args()).unwrap_err();
        assert!(err.contains("unknown routing strategy"), "{err}");
        assert!(err.contains("least-busy"), "lists the valid names: {err}");
    }
}

#[test]
fn latency_args_default_to_litellms() {
    let defaults = LatencyArgs::from_args(&no_args()).unwrap();
    assert_eq!(defaults, LatencyArgs::default());
    assert_eq!(defaults.lowest_latency_buffer, 0.0);
    assert_eq!(defaults.max_latency_list_size, 10);
    assert_eq!(defaults.ttl.as_secs(), 3600);
    match RoutingStrategy::from_config(Some("latency-based-routing"), &no_args()).unwrap() {
        RoutingStrategy::LatencyBased {
            lowest_latency_buffer,
        } => assert_eq!(lowest_latency_buffer, 0.0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn latency_args_are_read_and_validated() {
    let read = LatencyArgs::from_args(&args(json!({
        "lowest_latency_buffer": 0.5, "ttl": 30, "max_latency_list_size": 3, "unrelated": true
    })))
    .unwrap();
    assert_eq!(read.lowest_latency_buffer, 0.5);
    assert_eq!(read.ttl.as_secs(), 30);
    assert_eq!(read.max_latency_list_size, 3);
    // pydantic's lax mode takes numeric strings.
    let from_string = LatencyArgs::from_args(&args(json!({"lowest_latency_buffer": "0.25"})));
    assert_eq!(from_string.unwrap().lowest_latency_buffer, 0.25);
    match RoutingStrategy::from_config(
        Some("latency-based-routing"),
        &args(json!({"lowest_latency_buffer": 1})),
    )
    .unwrap()
    {
        RoutingStrategy::LatencyBased {
            lowest_latency_buffer,
        } => assert_eq!(lowest_latency_buffer, 1.0),
        other => panic!("{other:?}"),
    }
    for bad in [
        json!({"lowest_latency_buffer": "fast"}),
        json!({"lowest_latency_buffer": -0.1}),
        json!({"lowest_latency_buffer": [1]}),
        json!({"ttl": -1}),
        json!({"ttl": 1e20}),
        json!({"ttl": "31536001"}),
        json!({"ttl": null}),
        json!({"max_latency_list_size": 0}),
        json!({"max_latency_list_size": 2.5}),
    ] {
        let err = RoutingStrategy::from_config(Some("latency-based-routing"), &args(bad.clone()));
        assert!(err.is_err(), "{bad} should be rejected");
        assert!(err.unwrap_err().contains("routing_strategy_args."));
    }
    // Usage-based reads `ttl` too; other strategies ignore args like pydantic does.
    assert!(
        RoutingStrategy::from_config(Some("usage-based-routing-v2"), &args(json!({"ttl": "x"})))
            .is_err()
    );
    assert!(RoutingStrategy::from_config(Some("least-busy"), &args(json!({"ttl": "x"}))).is_ok());
    assert_eq!(known_args("usage-based-routing"), ["ttl"]);
    assert_eq!(known_args("latency-based-routing").len(), 3);
    assert!(known_args("least-busy").is_empty());
}

// ---------------------------------------------------------------- all strategies

#[test]
fn empty_candidates_give_no_pick() {
    for strategy in builtins() {
        assert_eq!(
            strategy.pick(&[], &req(1), &mut rng(0)),
            None,
            "{strategy:?}"
        );
    }
}

#[test]
fn a_single_candidate_is_picked_by_every_strategy() {
    let one = [CandidateSnapshot {
        in_flight: 3,
        tpm_used: 100,
        latency: Some(2.0),
        cost_per_token: Some(1e-6),
        ..Default::default()
    }];
    for strategy in builtins() {
        assert_eq!(
            strategy.pick(&one, &req(1), &mut rng(0)),
            Some(0),
            "{strategy:?}"
        );
    }
}

#[test]
fn same_seed_same_choices() {
    let cands: Vec<CandidateSnapshot> = (0..8)
        .map(|i| CandidateSnapshot {
            weight: Some(1.0),
            in_flight: i % 2,
            tpm_used: (i % 3) * 10,
            latency: Some(0.5 + (i % 2) as f64 * 0.1),
            cost_per_token: Some(1.0 + (i % 2) as f64),
            ..Default::default()
        })
        .collect();
    for strategy in builtins() {
        assert_eq!(
            counts(&strategy, &cands, 200, 9),
            counts(&strategy, &cands, 200, 9)
        );
    }
}

// ---------------------------------------------------------------- least-busy

#[test]
fn least_busy_spreads_ties_and_never_picks_a_busier_one() {
    let cands: Vec<CandidateSnapshot> = [2, 0, 5, 0, 0]
        .iter()
        .map(|&in_flight| CandidateSnapshot {
            in_flight,
            ..Default::default()
        })
        .collect();
    let c = counts(&RoutingStrategy::LeastBusy, &cands, 9_000, 1);
    assert_eq!((c[0], c[2]), (0, 0));
    // LiteLLM would send all of them to index 1 (fix: random among ties).
    for i in [1, 3, 4] {
        let share = c[i] as f64 / 9_000.0;
        assert!((share - 1.0 / 3.0).abs() < 0.03, "{c:?}");
    }
}

proptest! {
    #[test]
    fn least_busy_picks_a_minimum(
        in_flight in prop::collection::vec(0u64..6, 1..40),
        seed in any::<u64>(),
    ) {
        let cands: Vec<CandidateSnapshot> = in_flight
            .iter()
            .map(|&in_flight| CandidateSnapshot { in_flight, ..Default::default() })
            .collect();
        let i = RoutingStrategy::LeastBusy.pick(&cands, &req(1), &mut rng(seed)).unwrap();
        prop_assert!(cands.iter().all(|c| c.in_flight >= cands[i].in_flight));
    }
}

// ---------------------------------------------------------------- usage-based

fn usage(tpm_used: u64, tpm: Option<u64>, rpm_used: u64, rpm: Option<u64>) -> CandidateSnapshot {
    CandidateSnapshot {
        tpm,
        rpm,
        tpm_used,
        rpm_used,
        ..Default::default()
    }
}

#[test]
fn usage_based_prefers_the_lowest_tpm_that_fits() {
    // (candidates, request tokens, the indices it may pick or None for no pick)
    type Case<'a> = (&'a [CandidateSnapshot], u64, Option<&'a [usize]>);
    let table: &[Case] = &[
        // Lowest tpm_used wins, limits or not.
        (
            &[
                usage(500, None, 0, None),
                usage(100, None, 0, None),
                usage(300, None, 0, None),
            ],
            10,
            Some(&[1]),
        ),
        // The lowest would go over its tpm with this request: the next one.
        (
            &[
                usage(950, Some(1_000), 0, None),
                usage(990, Some(10_000), 0, None),
            ],
            100,
            Some(&[1]),
        ),
        // Exactly reaching the tpm limit is allowed (LiteLLM: skip only when `>`).
        (&[usage(900, Some(1_000), 0, None)], 100, Some(&[0])),
        // rpm: the tenth request of `rpm: 10` is allowed (fix: LiteLLM stops at nine)...
        (&[usage(0, None, 9, Some(10))], 1, Some(&[0])),
        // ...the eleventh is not.
        (
            &[usage(0, None, 10, Some(10)), usage(50, None, 3, Some(10))],
            1,
            Some(&[1]),
        ),
        // Ties among the lowest: any of them.
        (
            &[
                usage(7, None, 0, None),
                usage(9, None, 0, None),
                usage(7, None, 0, None),
            ],
            1,
            Some(&[0, 2]),
        ),
        // Nothing fits: no pick, the caller answers "no deployment available".
        (
            &[usage(999, Some(1_000), 0, None), usage(0, None, 5, Some(5))],
            2,
            None,
        ),
    ];
    for strategy in [RoutingStrategy::UsageBased, RoutingStrategy::UsageBasedV2] {
        for (case, (cands, tokens, expected)) in table.iter().enumerate() {
            let mut seen = Vec::new();
            let mut r = rng(case as u64);
            for _ in 0..200 {
                let pick = strategy.pick(cands, &req(*tokens), &mut r);
                match expected {
                    None => assert_eq!(pick, None, "case {case}"),
                    Some(allowed) => {
                        let i = pick.unwrap();
                        assert!(allowed.contains(&i), "case {case}: picked {i}");
                        if !seen.contains(&i) {
                            seen.push(i);
                        }
                    }
                }
            }
            if let Some(allowed) = expected {
                assert_eq!(seen.len(), allowed.len(), "case {case}: ties are spread");
            }
        }
    }
}

/// One minute of traffic: each pick reserves the request's tokens and one
/// request on the chosen deployment.
fn simulate_minute(
    strategy: &RoutingStrategy,
    mut cands: Vec<CandidateSnapshot>,
    requests: usize,
    seed: u64,
) -> (Vec<CandidateSnapshot>, usize) {
    let mut r = rng(seed);
    let mut served = 0;
    for _ in 0..requests {
        let request = req(r.random_range(1..=400));
        match strategy.pick(&cands, &request, &mut r) {
            Some(i) => {
                assert!(fits_limits(&cands[i], &request), "picked over its limit");
                cands[i].tpm_used += request.tokens;
                cands[i].rpm_used += 1;
                served += 1;
            }
            None => assert!(
                cands.iter().all(|c| !fits_limits(c, &request)),
                "no pick although a candidate fits"
            ),
        }
        for c in &cands {
            assert!(c.tpm.is_none_or(|tpm| c.tpm_used <= tpm));
            assert!(c.rpm.is_none_or(|rpm| c.rpm_used <= rpm));
        }
    }
    (cands, served)
}

#[test]
fn usage_based_never_exceeds_a_limit_over_1000_requests() {
    let cands = vec![
        usage(0, Some(40_000), 0, Some(120)),
        usage(0, Some(20_000), 0, None),
        usage(0, None, 0, Some(60)),
        usage(5_000, Some(30_000), 10, Some(200)),
    ];
    for strategy in [RoutingStrategy::UsageBased, RoutingStrategy::UsageBasedV2] {
        let (after, served) = simulate_minute(&strategy, cands.clone(), 1_000, 42);
        // Every deployment has a limit and the traffic outgrows all of them:
        // each ends the minute at its rpm, or within one request of its tpm.
        assert!(served < 1_000, "limits were reached ({served} served)");
        for c in &after {
            let at_rpm = c.rpm.is_some_and(|rpm| c.rpm_used == rpm);
            let at_tpm = c.tpm.is_some_and(|tpm| c.tpm_used + 400 > tpm);
            assert!(at_rpm || at_tpm, "capacity left unused: {c:?}");
        }
    }
}

#[test]
fn usage_based_balances_tokens_when_unlimited() {
    let cands = vec![usage(0, None, 0, None); 4];
    let (after, served) = simulate_minute(&RoutingStrategy::UsageBasedV2, cands, 1_000, 3);
    assert_eq!(served, 1_000);
    let max = after.iter().map(|c| c.tpm_used).max().unwrap();
    let min = after.iter().map(|c| c.tpm_used).min().unwrap();
    assert!(max - min <= 400, "always the lowest: spread {min}..{max}");
}

fn arb_usage() -> impl Strategy<Value = CandidateSnapshot> {
    (
        0u64..5_000,
        prop::option::of(0u64..6_000),
        0u64..20,
        prop::option::of(0u64..20),
    )
        .prop_map(|(tpm_used, tpm, rpm_used, rpm)| usage(tpm_used, tpm, rpm_used, rpm))
}

proptest! {
    #[test]
    fn usage_based_picks_the_lowest_tpm_among_those_that_fit(
        cands in prop::collection::vec(arb_usage(), 1..30),
        tokens in 0u64..2_000,
        seed in any::<u64>(),
    ) {
        let request = req(tokens);
        let fitting: Vec<&CandidateSnapshot> =
            cands.iter().filter(|c| fits_limits(c, &request)).collect();
        match RoutingStrategy::UsageBased.pick(&cands, &request, &mut rng(seed)) {
            None => prop_assert!(fitting.is_empty()),
            Some(i) => {
                prop_assert!(fits_limits(&cands[i], &request));
                prop_assert!(fitting.iter().all(|c| c.tpm_used >= cands[i].tpm_used));
            }
        }
    }

    #[test]
    fn usage_based_simulation_holds_limits(
        cands in prop::collection::vec(arb_usage(), 1..8),
        seed in any::<u64>(),
    ) {
        // Start within limits, as the usage counters would be.
        let cands: Vec<CandidateSnapshot> = cands
            .into_iter()
            .map(|mut c| {
                c.tpm_used = c.tpm.map_or(c.tpm_used, |t| c.tpm_used.min(t));
                c.rpm_used = c.rpm.map_or(c.rpm_used, |r| c.rpm_used.min(r));
                c
            })
            .collect();
        simulate_minute(&RoutingStrategy::UsageBasedV2, cands, 200, seed);
    }
}

// ---------------------------------------------------------------- latency-based

fn lat(latency: Option<f64>) -> CandidateSnapshot {
    CandidateSnapshot {
        latency,
        ..Default::default()
    }
}

#[test]
fn latency_average_is_the_mean_of_real_samples() {
    assert_eq!(latency_average(&[]), None);
    assert_eq!(latency_average(&[0.5]), Some(0.5));
    assert_eq!(latency_average(&[1.0, 2.0, 3.0]), Some(2.0));
    assert_eq!(latency_average(&[1.0, f64::NAN, 3.0, -1.0]), Some(2.0));
    assert_eq!(latency_average(&[f64::INFINITY]), None);
}

#[test]
fn latency_prefers_untried_deployments() {
    let cands = [lat(Some(0.2)), lat(None), lat(Some(0.1)), lat(None)];
    let c = counts(&latency(0.0), &cands, 2_000, 5);
    assert_eq!((c[0], c[2]), (0, 0), "{c:?}");
    assert!(c[1] > 800 && c[3] > 800, "random among the untried: {c:?}");
    // A large buffer does not let tried ones compete with untried ones (0 × buffer = 0).
    let c = counts(&latency(100.0), &cands, 500, 6);
    assert_eq!((c[0], c[2]), (0, 0), "{c:?}");
}

#[test]
fn latency_stays_within_the_buffer() {
    let cands = [
        lat(Some(1.0)),
        lat(Some(1.2)),
        lat(Some(1.5)),
        lat(Some(1.51)),
        lat(Some(3.0)),
    ];
    let table: &[(f64, &[usize])] = &[
        (0.0, &[0]),
        (0.1, &[0]),
        (0.2, &[0, 1]),
        (0.5, &[0, 1, 2]),
        (2.0, &[0, 1, 2, 3, 4]),
    ];
    for (buffer, allowed) in table {
        let c = counts(&latency(*buffer), &cands, 3_000, 8);
        for (i, n) in c.iter().enumerate() {
            if allowed.contains(&i) {
                let share = *n as f64 / 3_000.0;
                let expected = 1.0 / allowed.len() as f64;
                assert!((share - expected).abs() < 0.04, "buffer {buffer}: {c:?}");
            } else {
                assert_eq!(*n, 0, "buffer {buffer}: {c:?}");
            }
        }
    }
}

#[test]
fn latency_treats_nan_as_slowest() {
    let cands = [lat(Some(f64::NAN)), lat(Some(5.0))];
    assert_eq!(counts(&latency(0.0), &cands, 100, 1), [0, 100]);
    let all_nan = [lat(Some(f64::NAN)), lat(Some(f64::NAN))];
    let c = counts(&latency(0.0), &all_nan, 1_000, 1);
    assert!(c[0] > 400 && c[1] > 400, "{c:?}");
}

/// Feeds each pick's observed latency back as a sample (last `window` samples
/// kept) and returns which deployment served each request.
fn run_latency(
    strategy: &RoutingStrategy,
    true_latency: &dyn Fn(usize, usize) -> f64,
    deployments: usize,
    requests: usize,
    seed: u64,
) -> Vec<usize> {
    let window = LatencyArgs::default().max_latency_list_size;
    let mut samples: Vec<VecDeque<f64>> = vec![VecDeque::new(); deployments];
    let mut r = rng(seed);
    let mut served = Vec::new();
    for step in 0..requests {
        let cands: Vec<CandidateSnapshot> = samples
            .iter_mut()
            .map(|s| lat(latency_average(s.make_contiguous())))
            .collect();
        let i = strategy.pick(&cands, &req(10), &mut r).unwrap();
        // ±10 % noise around the deployment's true latency.
        let observed = true_latency(i, step) * r.random_range(0.9..1.1);
        if samples[i].len() == window {
            samples[i].pop_front();
        }
        samples[i].push_back(observed);
        served.push(i);
    }
    served
}

#[test]
fn latency_shifts_traffic_to_the_faster_deployment() {
    // Deployment 0 answers in ~1 s, deployment 1 in ~0.2 s.
    let served = run_latency(&latency(0.0), &|i, _| [1.0, 0.2][i], 2, 200, 11);
    assert_eq!(
        served[..2].iter().filter(|&&i| i == 0).count(),
        1,
        "each tried once"
    );
    assert!(served[2..].iter().all(|&i| i == 1), "{served:?}");

    // Deployment 0 is the fast one until request 100, then slows to 2 s: once its
    // recent average passes deployment 1's, traffic moves within a window.
    let served = run_latency(
        &latency(0.1),
        &|i, step| match i {
            0 if step < 100 => 0.2,
            0 => 2.0,
            _ => 0.6,
        },
        2,
        300,
        12,
    );
    assert!(served[10..100].iter().filter(|&&i| i == 0).count() >= 85);
    let first_moved = served[100..].iter().position(|&i| i == 1).unwrap();
    assert!(first_moved <= 10, "moved after {first_moved} requests");
    assert!(served[120..].iter().all(|&i| i == 1));
}

proptest! {
    #[test]
    fn latency_pick_is_within_the_buffer_of_the_best(
        latencies in prop::collection::vec(prop::option::of(0.001f64..10.0), 1..30),
        buffer in 0.0f64..2.0,
        seed in any::<u64>(),
    ) {
        let cands: Vec<CandidateSnapshot> = latencies.iter().map(|l| lat(*l)).collect();
        let i = latency(buffer).pick(&cands, &req(1), &mut rng(seed)).unwrap();
        if latencies.iter().any(Option::is_none) {
            prop_assert_eq!(latencies[i], None);
        } else {
            let best = latencies.iter().flatten().fold(f64::INFINITY, |a, &b| a.min(b));
            prop_assert!(latencies[i].unwrap() <= best * (1.0 + buffer) + 1e-12);
        }
    }
}

// ---------------------------------------------------------------- cost-based

fn cost(cost_per_token: Option<f64>) -> CandidateSnapshot {
    CandidateSnapshot {
        cost_per_token,
        ..Default::default()
    }
}

#[test]
fn cost_picks_the_cheapest_unknown_last_ties_spread() {
    let cands = [
        cost(Some(3e-5)),
        cost(None),
        cost(Some(1.5e-6)),
        cost(Some(1.5e-6)),
        cost(Some(-1.0)),
    ];
    let c = counts(&RoutingStrategy::CostBased, &cands, 2_000, 2);
    assert_eq!((c[0], c[1], c[4]), (0, 0, 0), "{c:?}");
    assert!(c[2] > 800 && c[3] > 800, "{c:?}");
    // Unknown cost ranks after every known one (LiteLLM: $5 + $5 per token).
    let c = counts(
        &RoutingStrategy::CostBased,
        &[cost(None), cost(Some(9.0))],
        100,
        2,
    );
    assert_eq!(c, [0, 100]);
    // All unknown: any of them.
    let c = counts(
        &RoutingStrategy::CostBased,
        &[cost(None), cost(None)],
        1_000,
        2,
    );
    assert!(c[0] > 400 && c[1] > 400, "{c:?}");
}

proptest! {
    #[test]
    fn cost_pick_is_always_the_cheapest(
        costs in prop::collection::vec(prop::option::of(0.0f64..1e-4), 1..40),
        seed in any::<u64>(),
    ) {
        let cands: Vec<CandidateSnapshot> = costs.iter().map(|c| cost(*c)).collect();
        let i = RoutingStrategy::CostBased.pick(&cands, &req(1), &mut rng(seed)).unwrap();
        let rank = |c: Option<f64>| c.unwrap_or(f64::INFINITY);
        prop_assert!(costs.iter().all(|c| rank(*c) >= rank(costs[i])));
    }
}

// ---------------------------------------------------------------- simple-shuffle

#[test]
fn simple_shuffle_follows_weights_through_pick() {
    let cands = [
        CandidateSnapshot {
            weight: Some(3.0),
            ..Default::default()
        },
        CandidateSnapshot {
            weight: Some(1.0),
            ..Default::default()
        },
    ];
    let c = counts(&RoutingStrategy::SimpleShuffle, &cands, 8_000, 4);
    assert!((c[0] as f64 / 8_000.0 - 0.75).abs() < 0.03, "{c:?}");
}

// ---------------------------------------------------------------- custom

/// Always the deployment with the highest weight; records what it was given.
#[derive(Debug, Default)]
struct HighestWeight {
    seen: Mutex<Vec<(usize, u64)>>,
}

impl CustomStrategy for HighestWeight {
    fn pick(
        &self,
        candidates: &[CandidateSnapshot],
        request: &RequestSnapshot,
        rng: &mut dyn RngCore,
    ) -> Option<usize> {
        self.seen
            .lock()
            .unwrap()
            .push((candidates.len(), request.tokens));
        let _ = rng.next_u64(); // the injected RNG is usable
        (0..candidates.len()).max_by(|&a, &b| {
            let w = |i: usize| candidates[i].weight.unwrap_or(0.0);
            w(a).total_cmp(&w(b))
        })
    }
}

#[test]
fn custom_strategy_is_delegated_to() {
    let custom = Arc::new(HighestWeight::default());
    let strategy = RoutingStrategy::Custom(custom.clone());
    assert_eq!(strategy.name(), "custom");
    let cands: Vec<CandidateSnapshot> = [1.0, 5.0, 2.0]
        .iter()
        .map(|&w| CandidateSnapshot {
            weight: Some(w),
            ..Default::default()
        })
        .collect();
    for seed in 0..20 {
        assert_eq!(strategy.pick(&cands, &req(77), &mut rng(seed)), Some(1));
    }
    // Through an unsized RNG too.
    let mut boxed: Box<dyn RngCore> = Box::new(rng(1));
    assert_eq!(strategy.pick(&cands, &req(77), &mut *boxed), Some(1));
    assert_eq!(custom.seen.lock().unwrap()[0], (3, 77));
    assert_eq!(custom.seen.lock().unwrap().len(), 21);
    // Empty input never reaches the custom strategy.
    assert_eq!(strategy.pick(&[], &req(1), &mut rng(0)), None);
    assert_eq!(custom.seen.lock().unwrap().len(), 21);
}

#[derive(Debug)]
struct OutOfRange;

/// A custom strategy names itself for `x-switchyard-route`.
#[derive(Debug)]
struct Named;

impl CustomStrategy for Named {
    fn pick(
        &self,
        _: &[CandidateSnapshot],
        _: &RequestSnapshot,
        _: &mut dyn RngCore,
    ) -> Option<usize> {
        Some(0)
    }

    fn name(&self) -> &str {
        "pin-first"
    }
}

#[test]
fn a_custom_strategy_may_name_itself() {
    assert_eq!(RoutingStrategy::Custom(Arc::new(Named)).name(), "pin-first");
}

impl CustomStrategy for OutOfRange {
    fn pick(
        &self,
        c: &[CandidateSnapshot],
        _: &RequestSnapshot,
        _: &mut dyn RngCore,
    ) -> Option<usize> {
        Some(c.len())
    }
}

#[test]
fn a_custom_index_out_of_range_is_no_pick() {
    let strategy = RoutingStrategy::Custom(Arc::new(OutOfRange));
    assert_eq!(strategy.pick(&[lat(None)], &req(1), &mut rng(0)), None);
}
