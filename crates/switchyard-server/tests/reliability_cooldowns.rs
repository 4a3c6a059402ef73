//! Cooldowns seen through the proxy (issue 4): which mock gets traffic while a
//! deployment cools, the all-in-cooldown answer, `allowed_fails`, `disable_cooldowns`.
//!
//! LiteLLM 1.106 facts these tests rely on (`litellm/router_utils/cooldown_handlers.py`,
//! `litellm/router.py`, `litellm/types/router.py`, `litellm/constants.py`):
//! - `Router.__init__`: `cooldown_time` defaults to `DEFAULT_COOLDOWN_TIME_SECONDS` = 5.
//! - `_is_cooldown_required`: 429 and 401, 402, 404, 408 may cool; other 4xx (400, 403)
//!   never do; 5xx may; an `APIConnectionError` never does.
//! - `_should_cooldown_deployment`, without `allowed_fails`/`allowed_fails_policy`: a 429
//!   cools at once unless the group has a single deployment; a failure ratio over
//!   `DEFAULT_FAILURE_THRESHOLD_PERCENT` 0.5 with at least
//!   `DEFAULT_FAILURE_THRESHOLD_MINIMUM_REQUESTS` 5 requests this minute cools (not on a
//!   single-deployment group); a status `should_retry` rejects (401, 404) cools.
//! - `deployment_callback_on_failure`: the failure is counted before the cooldown
//!   decision, so the 5th straight failure is the one that cools. Cooldown length:
//!   deployment `cooldown_time` (model_info or litellm_params) > the response's
//!   `Retry-After` > router `cooldown_time`.
//! - `should_cooldown_based_on_allowed_fails_policy`: cools when the failures counted in
//!   the window exceed `allowed_fails` (`updated_fails > allowed_fails`: with 3, the 4th).
//! - `_is_allowed_fails_set_on_router` treats `allowed_fails` equal to LiteLLM's default
//!   (3) as unset, so `allowed_fails: 3` is silently ignored; issue 4 marks honouring it a *fix*.
//! - `_should_run_cooldown_logic`: nothing cools with `disable_cooldowns`.
//! - `RouterRateLimitError`: when every deployment of the group is cooling, the error
//!   `type` is `all_deployments_in_cooldown` (`RouterErrorTypes`); the proxy answers 429.
//! - `should_retry_this_error`: no retry once no healthy deployment is left.

#[path = "reliability_support.rs"]
mod support;

use std::time::{Duration, Instant};

use support::*;
use switchyard_testkit::{MockUpstream, Reply};

#[tokio::test]
async fn a_429_cools_the_deployment_and_the_other_takes_the_traffic_for_cooldown_time() {
    let limited = MockUpstream::start().await;
    limited.set_default(Reply::error(429, "Rate limit reached"));
    let healthy = MockUpstream::start().await;
    let proxy = start(&config(
        &[
            dep("gpt", "a1", &limited, ""),
            dep("gpt", "a2", &healthy, ""),
        ],
        "router_settings:\n  cooldown_time: 1\n",
    ))
    .await;

    let answer = until_it_hits(&proxy, "gpt", &limited, 50).await;
    let cooled_at = Instant::now();
    assert_eq!(answer.status, 200, "the retry went to a2: {}", answer.text);
    assert_eq!(answer.route_strings(), ["gpt/a1:429", "gpt/a2:ok"]);
    limited.set_default(Reply::ok());

    let mut during = 0;
    while cooled_at.elapsed() < Duration::from_millis(700) {
        let answer = chat(&proxy, hello("gpt")).await;
        assert_eq!(answer.status, 200);
        during += 1;
    }
    assert!(during >= 5, "only {during} requests in the window");
    assert_eq!(
        limited.call_count(),
        1,
        "no traffic to a1 while it cools ({during} requests)"
    );

    tokio::time::sleep(Duration::from_millis(1300).saturating_sub(cooled_at.elapsed())).await;
    for _ in 0..40 {
        assert_eq!(chat(&proxy, hello("gpt")).await.status, 200);
    }
    assert!(
        limited.call_count() > 1,
        "a1 gets traffic again after cooldown_time"
    );
}

#[tokio::test]
async fn when_every_deployment_cools_the_answer_is_429_all_deployments_in_cooldown() {
    let a = MockUpstream::start().await;
    a.set_default(Reply::error(429, "Rate limit reached"));
    let b = MockUpstream::start().await;
    b.set_default(Reply::error(429, "Rate limit reached"));
    let proxy = start(&config(
        &[dep("gpt", "a1", &a, ""), dep("gpt", "a2", &b, "")],
        "router_settings:\n  cooldown_time: 3\n",
    ))
    .await;

    let first = chat(&proxy, hello("gpt")).await;
    assert_eq!(first.status, 429, "{}", first.text);
    assert_eq!(
        (a.call_count(), b.call_count()),
        (1, 1),
        "each 429 cools its deployment; then nothing healthy is left to retry"
    );

    let second = chat(&proxy, hello("gpt")).await;
    assert_eq!(second.status, 429, "{}", second.text);
    assert_openai_error(&second);
    assert_eq!(second.body["error"]["type"], "all_deployments_in_cooldown");
    assert!(
        second.message().contains("gpt"),
        "names the group: {}",
        second.message()
    );
    let retry_after: u64 = second
        .header("retry-after")
        .parse()
        .unwrap_or_else(|_| panic!("a Retry-After in seconds: {:?}", second.headers));
    assert!(
        (1..=3).contains(&retry_after),
        "the soonest expiry, within cooldown_time: {retry_after}"
    );
    assert_eq!(
        (a.call_count(), b.call_count()),
        (1, 1),
        "a cooling deployment gets no traffic"
    );
}

/// Right after `limited` was hit (and cooled), it gets no traffic for ~0.7 s, then,
/// from 1.3 s on, it gets some again: a cooldown of about 1 s.
async fn assert_cools_for_about_a_second(
    proxy: &switchyard_testkit::ProxyHarness,
    limited: &MockUpstream,
) {
    until_it_hits(proxy, "gpt", limited, 50).await;
    let cooled_at = Instant::now();
    limited.set_default(Reply::ok());
    let calls = limited.call_count();
    let mut during = 0;
    while cooled_at.elapsed() < Duration::from_millis(700) {
        chat(proxy, hello("gpt")).await;
        during += 1;
    }
    assert_eq!(
        limited.call_count(),
        calls,
        "cooling: no traffic ({during} requests)"
    );
    tokio::time::sleep(Duration::from_millis(1300).saturating_sub(cooled_at.elapsed())).await;
    for _ in 0..40 {
        chat(proxy, hello("gpt")).await;
    }
    assert!(
        limited.call_count() > calls,
        "traffic again after about 1 s"
    );
}

#[tokio::test]
async fn cooldown_length_is_the_retry_after_over_the_router_cooldown_time() {
    let limited = MockUpstream::start().await;
    limited.set_default(Reply::error(429, "Rate limit reached").header("retry-after", "1"));
    let healthy = MockUpstream::start().await;
    let proxy = start(&config(
        &[
            dep("gpt", "a1", &limited, ""),
            dep("gpt", "a2", &healthy, ""),
        ],
        "router_settings:\n  cooldown_time: 30\n",
    ))
    .await;
    assert_cools_for_about_a_second(&proxy, &limited).await;
}

#[tokio::test]
async fn cooldown_length_is_the_deployment_cooldown_time_over_retry_after() {
    let limited = MockUpstream::start().await;
    limited.set_default(Reply::error(429, "Rate limit reached").header("retry-after", "30"));
    let healthy = MockUpstream::start().await;
    let proxy = start(&config(
        &[
            dep("gpt", "a1", &limited, "cooldown_time: 1"),
            dep("gpt", "a2", &healthy, ""),
        ],
        "router_settings:\n  cooldown_time: 30\n",
    ))
    .await;
    assert_cools_for_about_a_second(&proxy, &limited).await;
}

/// a1 always fails with 500, a2 is fine; one attempt per request. Returns a1's call count
/// after 60 requests (well inside `cooldown_time`).
async fn failures_before_a1_cools(settings: &str) -> usize {
    let failing = MockUpstream::start().await;
    failing.set_default(Reply::error(500, "boom"));
    let healthy = MockUpstream::start().await;
    let proxy = start(&config(
        &[
            dep("gpt", "a1", &failing, ""),
            dep("gpt", "a2", &healthy, ""),
        ],
        &format!("router_settings:\n  num_retries: 0\n  cooldown_time: 30\n{settings}"),
    ))
    .await;
    for _ in 0..60 {
        let answer = chat(&proxy, hello("gpt")).await;
        assert!(
            answer.status == 200 || answer.status == 500,
            "{}",
            answer.text
        );
    }
    failing.call_count()
}

#[tokio::test]
async fn allowed_fails_3_is_honoured() {
    assert_eq!(
        failures_before_a1_cools("  allowed_fails: 3\n").await,
        4,
        "cools when failures exceed allowed_fails: the 4th"
    );
}

#[tokio::test]
async fn allowed_fails_1_cools_at_the_second_failure() {
    assert_eq!(failures_before_a1_cools("  allowed_fails: 1\n").await, 2);
}

#[tokio::test]
async fn without_allowed_fails_a_failure_ratio_over_half_with_5_requests_cools() {
    assert_eq!(
        failures_before_a1_cools("").await,
        5,
        "the 5th straight failure makes 5 requests in the window, all failed"
    );
}

#[tokio::test]
async fn allowed_fails_policy_counts_per_error_class() {
    let failing = MockUpstream::start().await;
    failing.set_default(Reply::error(500, "boom"));
    let healthy = MockUpstream::start().await;
    let proxy = start(&config(
        &[dep("gpt", "a1", &failing, ""), dep("gpt", "a2", &healthy, "")],
        "router_settings:\n  num_retries: 0\n  cooldown_time: 30\n  allowed_fails_policy:\n    InternalServerErrorAllowedFails: 2\n",
    ))
    .await;
    for _ in 0..60 {
        chat(&proxy, hello("gpt")).await;
    }
    assert_eq!(
        failing.call_count(),
        3,
        "InternalServerErrorAllowedFails: 2 → the 3rd cools"
    );
}

#[tokio::test]
async fn disable_cooldowns_keeps_traffic_on_a_failing_deployment() {
    let limited = MockUpstream::start().await;
    limited.set_default(Reply::error(429, "Rate limit reached"));
    let healthy = MockUpstream::start().await;
    let proxy = start(&config(
        &[
            dep("gpt", "a1", &limited, ""),
            dep("gpt", "a2", &healthy, ""),
        ],
        "router_settings:\n  num_retries: 0\n  disable_cooldowns: true\n",
    ))
    .await;
    let mut limited_answers = 0;
    for _ in 0..40 {
        let answer = chat(&proxy, hello("gpt")).await;
        if answer.status == 429 {
            assert_eq!(
                answer.body["error"]["type"], "throttling_error",
                "{}",
                answer.text
            );
            limited_answers += 1;
        }
    }
    assert!(
        limited.call_count() >= 8,
        "a1 keeps its share: {}",
        limited.call_count()
    );
    assert_eq!(limited_answers, limited.call_count());
}

#[tokio::test]
async fn a_429_does_not_cool_a_single_deployment_group() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::error(429, "Rate limit reached"));
    let proxy = start(&config(
        &[dep("gpt", "a1", &mock, "")],
        "router_settings:\n  num_retries: 0\n  cooldown_time: 30\n",
    ))
    .await;
    assert_eq!(chat(&proxy, hello("gpt")).await.status, 429);
    let answer = chat(&proxy, hello("gpt")).await;
    assert_eq!(answer.status, 200, "not cooling: {}", answer.text);
    assert_eq!(mock.call_count(), 2);
}

#[tokio::test]
async fn a_400_never_cools_a_deployment() {
    let bad = MockUpstream::start().await;
    bad.set_default(Reply::error(400, "Invalid value for 'temperature'"));
    let healthy = MockUpstream::start().await;
    let proxy = start(&config(
        &[dep("gpt", "a1", &bad, ""), dep("gpt", "a2", &healthy, "")],
        "router_settings:\n  num_retries: 0\n  cooldown_time: 30\n",
    ))
    .await;
    for _ in 0..40 {
        chat(&proxy, hello("gpt")).await;
    }
    assert!(
        bad.call_count() >= 8,
        "a1 keeps its share: {}",
        bad.call_count()
    );
}

#[tokio::test]
async fn a_401_cools_a_deployment_at_once() {
    let unauthorized = MockUpstream::start().await;
    unauthorized.set_default(Reply::error(401, "Incorrect API key provided"));
    let healthy = MockUpstream::start().await;
    let proxy = start(&config(
        &[
            dep("gpt", "a1", &unauthorized, ""),
            dep("gpt", "a2", &healthy, ""),
        ],
        "router_settings:\n  num_retries: 0\n  cooldown_time: 30\n",
    ))
    .await;
    for _ in 0..40 {
        chat(&proxy, hello("gpt")).await;
    }
    assert_eq!(unauthorized.call_count(), 1);
}
