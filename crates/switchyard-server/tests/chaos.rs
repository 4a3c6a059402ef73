//! Chaos (issue 4): 3 deployments in a group plus a fallback group of 2, every mock
//! failing at random (seeded) 30 % of the time with 500s, 429s, timeouts (a delay past
//! the deployment's timeout) and connection drops, and 2,000 requests (a quarter of
//! them streamed) at concurrency 32 through the proxy. Checks:
//! - no request takes longer than its deadline (`x-switchyard-timeout`) plus a margin;
//! - every request either succeeds (a whole answer) or gets a classified, OpenAI-shaped
//!   error whose message names the deployments it tried (those of `x-switchyard-route`);
//!   a stream cut after its first event ends with an OpenAI-shaped error event;
//! - every success is an ok reply a mock sent in full, each at most once (answers carry
//!   the mock's name and call serial in their id), so successes <= the mocks' full 200s;
//! - at the end nothing is in flight: not at any mock, not in the router's counters.
//!
//! Set `CHAOS_SEED` to replay another run (the outcome of each mock's n-th call depends
//! only on the seed). Figures are printed (`--nocapture`).
//!
//! LiteLLM 1.106 facts behind the expectations: see the `reliability_*.rs` files (retries
//! pick again in the group without waiting while another healthy deployment exists; a 429
//! cools a deployment of a multi-deployment group; fallbacks run after the retries; a
//! Timeout and a connection error are retried like a 5xx).

#[path = "reliability_support.rs"]
mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use support::*;
use switchyard_testkit::{MockUpstream, Reply};

const REQUESTS: usize = 2000;
const CONCURRENCY: usize = 32;
/// The per-request deadline sent in `x-switchyard-timeout`.
const DEADLINE: Duration = Duration::from_secs(2);
/// Scheduling slack on a busy 2-core machine.
const MARGIN: Duration = Duration::from_millis(500);
const GROUPS: [&str; 2] = ["chaos", "backup"];

/// 70 % fine, 30 % failing in every way a real upstream does.
fn chaos(seed: u64) -> Reply {
    Reply::random(
        seed,
        vec![
            (70, Reply::ok()),
            (9, Reply::error(500, "chaos: internal error")),
            (8, Reply::error(429, "chaos: rate limited")),
            // Past the deployments' 0.2 s (stream_)timeout.
            (7, Reply::ok().delay(Duration::from_millis(600))),
            // Connection closed before any answer (for a stream: 200, then cut before the first event).
            (4, Reply::ok().drop_after(0)),
            // No answer for a plain call; for a stream: cut after two events (committed).
            (2, Reply::ok().drop_after(2)),
        ],
    )
}

#[derive(Debug)]
enum Outcome {
    /// A whole answer; the id of the upstream answer it carries.
    Success { id: String },
    /// A stream committed at its first event, then cut: ended by an error event.
    StreamError,
    /// An HTTP error.
    Error { status: u16, kind: String },
}

#[derive(Debug)]
struct Done {
    outcome: Outcome,
    latency: Duration,
    /// The attempts listed in `x-switchyard-route`.
    route: Vec<RouteItem>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The answer id of a stream's first chunk.
fn stream_id(text: &str) -> Option<String> {
    sse_payloads(text)
        .iter()
        .filter_map(|p| serde_json::from_str::<Value>(p).ok())
        .find_map(|v| v["id"].as_str().map(str::to_owned))
}

/// Checks one answer and classifies it; panics with the details when it breaks a rule.
fn classify(i: usize, stream: bool, answer: &Answer) -> Outcome {
    let ctx = || {
        format!(
            "request {i} (stream: {stream}): {} {}",
            answer.status, answer.text
        )
    };
    if answer.status == 200 {
        if !stream {
            let id = answer.body["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no id: {}", ctx()));
            assert_eq!(answer.body["object"], "chat.completion", "{}", ctx());
            return Outcome::Success { id: id.to_owned() };
        }
        let events = sse_payloads(&answer.text);
        let last = events
            .last()
            .unwrap_or_else(|| panic!("an empty stream: {}", ctx()));
        if last == "[DONE]" {
            let id = stream_id(&answer.text).unwrap_or_else(|| panic!("no id: {}", ctx()));
            assert!(!stream_content(&answer.text).is_empty(), "{}", ctx());
            return Outcome::Success { id };
        }
        let error: Value = serde_json::from_str(last).unwrap_or_else(|_| {
            panic!(
                "a stream neither ends with [DONE] nor an error event: {}",
                ctx()
            )
        });
        assert!(error["error"]["message"].is_string(), "{}", ctx());
        assert!(error["error"]["type"].is_string(), "{}", ctx());
        assert!(
            events.len() >= 2,
            "committed means an event came first: {}",
            ctx()
        );
        return Outcome::StreamError;
    }
    assert!(
        [408, 429, 500, 502, 503].contains(&answer.status),
        "an unexpected status: {}",
        ctx()
    );
    assert_openai_error(answer);
    let message = answer.message();
    let route = answer.route();
    if route.is_empty() {
        assert!(
            GROUPS.iter().any(|g| message.contains(g)),
            "no attempt listed: the message names the group: {}",
            ctx()
        );
    }
    for attempt in &route {
        assert!(
            message.contains(&attempt.deployment),
            "the message names attempt {attempt}: {}",
            ctx()
        );
        assert_ne!(
            attempt.outcome,
            "ok",
            "an error after an ok attempt: {}",
            ctx()
        );
    }
    if answer.body["error"]["type"] == "all_deployments_in_cooldown" {
        assert_eq!(answer.status, 429, "{}", ctx());
        let retry_after: u64 = answer
            .header("retry-after")
            .parse()
            .unwrap_or_else(|_| panic!("all in cooldown without a Retry-After: {}", ctx()));
        assert!(
            retry_after <= 1,
            "the soonest expiry of a 0.5 s cooldown: {}",
            ctx()
        );
    }
    Outcome::Error {
        status: answer.status,
        kind: answer.body["error"]["type"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    }
}

/// What one chaos run produced.
#[derive(Debug)]
struct Figures {
    successes: usize,
    errors: usize,
}

/// Runs [`REQUESTS`] requests at [`CONCURRENCY`] against a fresh proxy over fresh chaotic
/// mocks, checks every invariant, prints the figures.
async fn run(label: &str, seed: u64, settings: &str) -> Figures {
    let names = ["c1", "c2", "c3", "f1", "f2"];
    let mut mocks = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mock = MockUpstream::start_named(name).await;
        mock.set_default(chaos(seed.wrapping_add(i as u64)));
        mocks.push(mock);
    }
    let limits = "timeout: 0.2, stream_timeout: 0.2";
    let yaml = config(
        &[
            dep("chaos", "c1", &mocks[0], limits),
            dep("chaos", "c2", &mocks[1], limits),
            dep("chaos", "c3", &mocks[2], limits),
            dep("backup", "f1", &mocks[3], limits),
            dep("backup", "f2", &mocks[4], limits),
        ],
        &format!(
            "router_settings:\n  num_retries: 2\n  fallbacks: [{{chaos: [backup]}}]\n{settings}"
        ),
    );
    let proxy = start(&yaml).await;
    let deadline = DEADLINE.as_secs_f64().to_string();

    let started = Instant::now();
    let results: Vec<Done> = futures::stream::iter(0..REQUESTS)
        .map(|i| {
            let proxy = &proxy;
            let deadline = deadline.as_str();
            async move {
                let stream = i % 4 == 0;
                let body = if stream {
                    hello_stream("chaos")
                } else {
                    hello("chaos")
                };
                let answer = chat_with(proxy, body, &[("x-switchyard-timeout", deadline)]).await;
                assert!(
                    answer.elapsed <= DEADLINE + MARGIN,
                    "request {i} took {:?}, past its {DEADLINE:?} deadline: {} {}",
                    answer.elapsed,
                    answer.status,
                    answer.text
                );
                Done {
                    outcome: classify(i, stream, &answer),
                    latency: answer.elapsed,
                    route: answer.route(),
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let wall = started.elapsed();

    // Nothing left in flight anywhere.
    for (name, mock) in names.iter().zip(&mocks) {
        assert!(
            mock.wait_until(Duration::from_secs(5), |m| m.in_flight() == 0)
                .await,
            "{label}: {name} still has {} calls in flight",
            mock.in_flight()
        );
    }
    assert_router_in_flight_returns_to_zero(&proxy, &GROUPS).await;

    // Every success is a full ok reply of some mock, used once.
    let mut completed_ok: HashMap<String, HashSet<u64>> = HashMap::new();
    let mut full_200s = 0;
    for (name, mock) in names.iter().zip(&mocks) {
        let set: HashSet<u64> = mock
            .completions()
            .iter()
            .filter(|c| c.status == 200)
            .map(|c| c.serial)
            .collect();
        full_200s += set.len();
        completed_ok.insert((*name).to_owned(), set);
    }
    let mut seen = HashSet::new();
    let mut successes = 0;
    let mut stream_errors = 0;
    let mut errors: BTreeMap<(u16, String), usize> = BTreeMap::new();
    for done in &results {
        match &done.outcome {
            Outcome::Success { id } => {
                successes += 1;
                let rest = id
                    .strip_prefix("chatcmpl-mock-")
                    .unwrap_or_else(|| panic!("not a mock answer: {id}"));
                let (name, serial) = rest.rsplit_once('-').expect("name-serial");
                let serial: u64 = serial.parse().expect("a serial");
                assert!(
                    completed_ok.get(name).is_some_and(|s| s.contains(&serial)),
                    "{label}: success {id} is not a 200 that mock {name} sent in full"
                );
                assert!(
                    seen.insert(id.clone()),
                    "{label}: one upstream answer served twice: {id}"
                );
            }
            Outcome::StreamError => stream_errors += 1,
            Outcome::Error { status, kind } => {
                *errors.entry((*status, kind.clone())).or_default() += 1;
            }
        }
    }
    assert_eq!(results.len(), REQUESTS);
    assert!(successes <= full_200s);
    // The proxy's account of its attempts agrees with the mocks' logs.
    let attempts: usize = results.iter().map(|d| d.route.len()).sum();
    let count = |outcome: &str| -> usize {
        results
            .iter()
            .flat_map(|d| &d.route)
            .filter(|r| r.outcome == outcome)
            .count()
    };
    let (ok_attempts, timed_out) = (count("ok"), count("408"));
    assert_eq!(
        ok_attempts,
        successes + stream_errors,
        "{label}: one ok attempt per success and per committed stream"
    );

    let mut latencies: Vec<Duration> = results.iter().map(|d| d.latency).collect();
    latencies.sort();
    let calls: usize = mocks.iter().map(MockUpstream::call_count).sum();
    assert!(
        attempts >= calls,
        "{label}: every upstream call is an attempt in some route header ({attempts} < {calls})"
    );
    let per_mock: Vec<String> = names
        .iter()
        .zip(&mocks)
        .map(|(n, m)| {
            format!(
                "{n}: {} calls, {} full 200s, {} abandoned",
                m.call_count(),
                m.completed_with_status(200),
                m.cancelled()
            )
        })
        .collect();
    let error_count: usize = errors.values().sum();
    println!(
        "chaos {label} (seed {seed:#x}): {REQUESTS} requests at concurrency {CONCURRENCY} in {wall:.2?}\n  \
         successes: {successes} ({:.1} %), stream errors after commit: {stream_errors}, \
         errors: {error_count} {errors:?}\n  latency p50 {:.1?}, p99 {:.1?}, max {:.1?}\n  \
         upstream calls: {calls}, attempts in route headers: {attempts} ({timed_out} timed out); \
         full 200s: {full_200s}, not delivered: {}\n  {}",
        successes as f64 * 100.0 / REQUESTS as f64,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default(),
        full_200s - successes,
        per_mock.join("\n  "),
    );

    // A full 200 that no client got must be an attempt the proxy gave up on (its
    // timeout fired as the answer arrived, likelier on a busy machine): anything else
    // means the proxy dropped a good answer.
    assert!(
        full_200s - successes <= timed_out,
        "{label}: {} full 200s were not delivered, {timed_out} attempts timed out",
        full_200s - successes
    );
    Figures {
        successes,
        errors: error_count + stream_errors,
    }
}

fn seed() -> u64 {
    std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_C4A0)
}

/// Retries and fallbacks alone (cooldowns off): a request fails only when all six of
/// its attempts fail (0.3^6) or its stream is cut after the first event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_retries_and_fallbacks() {
    let figures = run("without cooldowns", seed(), "  disable_cooldowns: true\n").await;
    assert!(
        figures.successes * 100 >= REQUESTS * 95,
        "only {} of {REQUESTS} succeeded",
        figures.successes
    );
}

/// With cooldowns (0.5 s; every 429 cools its deployment at once): fast-failing
/// requests meet groups whose deployments all cool, and get the all-in-cooldown 429
/// with a `Retry-After`; the invariants hold all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_with_cooldowns() {
    let figures = run("with cooldowns", seed() ^ 0xC001, "  cooldown_time: 0.5\n").await;
    assert!(figures.successes > 0 && figures.errors > 0, "{figures:?}");
}
