//! Retries through the proxy (issue 4): how many calls each mock gets, how long
//! the proxy waits between them, and what the client sees at the end.
//!
//! LiteLLM 1.106 facts these tests rely on (read in `litellm/router.py`,
//! `litellm/utils.py`, `litellm/constants.py`, `litellm/router_utils/get_retry_from_policy.py`):
//! - `Router.__init__`: `num_retries` = the router's, else `litellm.num_retries`
//!   (`litellm_settings.num_retries`), else `openai.DEFAULT_MAX_RETRIES` = 2.
//! - `async_function_with_retries`: one first call, then up to `num_retries` more, each
//!   `make_call` re-running the routing of the same model group (a retry picks again in
//!   the group; it does not exclude a deployment that failed with a retryable status).
//!   The count is the request's `num_retries`, else the failing deployment's
//!   (`litellm_params.num_retries`, carried on the exception), else the router's.
//! - Same function: `retry_policy` / `model_group_retry_policy` are checked first; when
//!   they give a count for the exception's class it replaces `num_retries` and
//!   `should_retry_this_error` is skipped. `resolve_retry_policy`: the group's policy, when
//!   the group has one, else the router's.
//! - `should_retry_this_error`: no retry for a status `litellm.should_retry` rejects
//!   (retry only 408, 409, 429, >= 500) except 401/403, which are retried only when the
//!   group has more than one deployment; no retry when no healthy deployment is left.
//! - `_deployment_ids_to_skip_on_retry`: a deployment that answered a non-retryable status
//!   (401, 403...) is skipped by the retries of that request.
//! - `_time_to_sleep_before_retry`: 0 when the group has several deployments and a
//!   healthy one is left; otherwise `calculate_retry_after` (utils.py): `Retry-After`
//!   when 0 < value <= 60 s, else `INITIAL_RETRY_DELAY` 0.5 s × 2^retries-so-far, at least
//!   `retry_after`, at most `MAX_RETRY_DELAY` 8 s, plus up to `JITTER` 0.75 s.
//! - LiteLLM also sleeps after the last failed attempt (the loop computes a backoff with
//!   `remaining_retries = 0`); issue 4 marks this a *fix*: no sleep after the last attempt.
//! - `cooldown_handlers._should_cooldown_deployment`: a single-deployment group is never
//!   cooled by a 429 or a failure ratio, so its retries go to the same deployment.

#[path = "reliability_support.rs"]
mod support;

use std::time::Duration;

use serde_json::json;
use support::*;
use switchyard_testkit::{MockUpstream, Reply};

#[tokio::test]
async fn default_num_retries_is_two_with_backoff_on_a_single_deployment() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(500, "upstream exploded"));
    let proxy = start(&config(&[dep("gpt", "a1", &mock, "")], "")).await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 500, "{}", answer.text);
    assert_openai_error(&answer);
    assert_eq!(mock.call_count(), 3, "1 call + the default 2 retries");
    // Backoff before retry 1 and 2: 0.5 s then 1 s (plus jitter), and no sleep after the
    // last attempt (LiteLLM would add 2 s more, reaching >= 3.5 s).
    assert!(
        // The jitter scales each backoff by (0.75, 1]: at least 1.125 s in all.
        answer.elapsed >= Duration::from_millis(1100),
        "backoff 0.5 s + 1 s: {:?}",
        answer.elapsed
    );
    assert!(
        answer.elapsed < Duration::from_millis(3400),
        "no sleep after the last attempt: {:?}",
        answer.elapsed
    );
    assert_eq!(answer.header("x-litellm-attempted-retries"), "2");
    let message = answer.message();
    assert!(
        message.contains("a1")
            && message.contains("InternalServerError")
            && message.contains("500"),
        "the message names the attempts: {message}"
    );
}

#[tokio::test]
async fn a_retry_picks_again_in_the_same_group_without_waiting() {
    let failing = MockUpstream::start().await;
    failing.set_default(Reply::error(500, "boom"));
    let healthy = MockUpstream::start().await;
    // 5 retries: even if a retry picks the failing deployment again, the failure-ratio
    // cooldown (5 failures) sends the 6th attempt to the healthy one.
    let proxy = start(&config(
        &[
            dep("gpt", "a1", &failing, ""),
            dep("gpt", "a2", &healthy, ""),
        ],
        "router_settings:\n  num_retries: 5\n",
    ))
    .await;

    let answer = until_it_hits(&proxy, "gpt", &failing, 40).await;

    assert_eq!(answer.status, 200, "the retry went to a2: {}", answer.text);
    let route = answer.route_strings();
    assert_eq!(
        route.last().map(String::as_str),
        Some("gpt/a2:ok"),
        "{route:?}"
    );
    assert!(
        route[..route.len() - 1].iter().all(|r| r == "gpt/a1:500"),
        "{route:?}"
    );
    assert_eq!(
        answer.header("x-litellm-attempted-retries"),
        (route.len() - 1).to_string()
    );
    assert_eq!(failing.call_count(), route.len() - 1);
    assert!(
        answer.elapsed < Duration::from_millis(450),
        "another healthy deployment: retry at once, {:?}",
        answer.elapsed
    );
}

/// Two deployments sharing one failing mock: retries are immediate and every call is counted.
fn two_failing(mock: &MockUpstream, extra: &str, rest: &str) -> String {
    config(
        &[dep("gpt", "a1", mock, extra), dep("gpt", "a2", mock, extra)],
        rest,
    )
}

#[tokio::test]
async fn the_request_num_retries_overrides_the_router() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(500, "boom"));
    let proxy = start(&two_failing(
        &mock,
        "",
        "router_settings:\n  num_retries: 3\n",
    ))
    .await;

    let mut body = hello("gpt");
    body["num_retries"] = json!(1);
    let answer = chat(&proxy, body).await;

    assert_eq!(answer.status, 500);
    assert_eq!(
        mock.call_count(),
        2,
        "1 call + 1 retry (request), not 3 (router)"
    );
    for call in mock.calls() {
        assert!(
            call.json().get("num_retries").is_none(),
            "num_retries is a router field, not sent upstream"
        );
    }
}

#[tokio::test]
async fn litellm_settings_num_retries_applies_when_the_router_sets_none() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(500, "boom"));
    let proxy = start(&two_failing(
        &mock,
        "",
        "litellm_settings:\n  num_retries: 1\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 500);
    assert_eq!(mock.call_count(), 2);
}

#[tokio::test]
async fn router_settings_num_retries_wins_over_litellm_settings() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(500, "boom"));
    let proxy = start(&two_failing(
        &mock,
        "",
        "router_settings:\n  num_retries: 3\nlitellm_settings:\n  num_retries: 1\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 500);
    assert_eq!(mock.call_count(), 4);
}

#[tokio::test]
async fn a_deployment_num_retries_overrides_the_router() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(500, "boom"));
    let proxy = start(&two_failing(
        &mock,
        "num_retries: 0",
        "router_settings:\n  num_retries: 3\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 500);
    assert_eq!(mock.call_count(), 1, "the deployment says no retry");
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(400, "Invalid value for 'temperature'"));
    let proxy = start(&two_failing(&mock, "", "")).await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_openai_error(&answer);
    assert_eq!(answer.body["error"]["type"], "invalid_request_error");
    assert_eq!(mock.call_count(), 1);
    assert_eq!(answer.header("x-litellm-attempted-retries"), "0");
}

#[tokio::test]
async fn a_401_is_retried_only_when_the_group_has_other_deployments() {
    // One deployment: no retry.
    let single = MockUpstream::start().await;
    single.set_default(Reply::error(401, "Incorrect API key provided"));
    let proxy = start(&config(&[dep("gpt", "a1", &single, "")], "")).await;
    let answer = chat(&proxy, hello("gpt")).await;
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert_eq!(single.call_count(), 1);

    // Two deployments: the retry goes to the other one (the one that answered 401 is
    // cooled and skipped), then nothing healthy is left.
    let pair = MockUpstream::start().await;
    pair.set_default(Reply::error(401, "Incorrect API key provided"));
    let proxy = start(&two_failing(&pair, "", "")).await;
    let answer = chat(&proxy, hello("gpt")).await;
    assert_eq!(answer.status, 401, "{}", answer.text);
    let mut ids = called_ids(&pair);
    ids.sort();
    assert_eq!(ids, ["a1", "a2"], "each deployment tried once");
}

#[tokio::test]
async fn backoff_honours_retry_after_and_does_not_sleep_after_the_last_attempt() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(429, "Rate limit reached").header("retry-after", "1"));
    let proxy = start(&config(
        &[dep("gpt", "a1", &mock, "")],
        "router_settings:\n  num_retries: 1\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 429, "{}", answer.text);
    assert_eq!(mock.call_count(), 2);
    assert!(
        answer.elapsed >= Duration::from_millis(980),
        "waited the upstream's Retry-After: {:?}",
        answer.elapsed
    );
    // LiteLLM sleeps Retry-After again after the last attempt (>= 2 s in all).
    assert!(
        answer.elapsed < Duration::from_millis(1950),
        "no sleep after the last attempt: {:?}",
        answer.elapsed
    );
    assert_eq!(answer.header("retry-after"), "1");
}

#[tokio::test]
async fn without_retries_an_error_comes_back_at_once() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(429, "Rate limit reached").header("retry-after", "5"));
    let proxy = start(&config(
        &[dep("gpt", "a1", &mock, "")],
        "router_settings:\n  num_retries: 0\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 429);
    assert_eq!(mock.call_count(), 1);
    assert!(
        answer.elapsed < Duration::from_millis(500),
        "{:?}",
        answer.elapsed
    );
}

#[tokio::test]
async fn retry_policy_sets_the_count_per_error_class() {
    let limited = MockUpstream::start().await;
    limited.set_default(Reply::error(429, "Rate limit reached"));
    let broken = MockUpstream::start().await;
    broken.set_default(Reply::error(500, "boom"));
    let proxy = start(&config(
        &[
            dep("limited", "l1", &limited, ""),
            dep("broken", "b1", &broken, ""),
            dep("broken", "b2", &broken, ""),
        ],
        "router_settings:\n  num_retries: 2\n  retry_policy:\n    RateLimitErrorRetries: 0\n    InternalServerErrorRetries: 4\n",
    ))
    .await;

    let answer = chat(&proxy, hello("limited")).await;
    assert_eq!(answer.status, 429);
    assert_eq!(limited.call_count(), 1, "RateLimitErrorRetries: 0");

    let answer = chat(&proxy, hello("broken")).await;
    assert_eq!(answer.status, 500);
    assert_eq!(broken.call_count(), 5, "InternalServerErrorRetries: 4");
    assert_eq!(answer.header("x-litellm-attempted-retries"), "4");
}

#[tokio::test]
async fn retry_policy_can_retry_a_class_that_is_not_retried_by_default() {
    // The policy takes precedence over `should_retry_this_error` (LiteLLM skips that check
    // when a policy count applies).
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(400, "Invalid value for 'temperature'"));
    let proxy = start(&two_failing(
        &mock,
        "",
        "router_settings:\n  retry_policy:\n    BadRequestErrorRetries: 1\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 400);
    assert_eq!(mock.call_count(), 2);
}

#[tokio::test]
async fn model_group_retry_policy_overrides_the_router_policy_for_its_group() {
    let a = MockUpstream::start().await;
    a.set_default(Reply::error(500, "boom"));
    let b = MockUpstream::start().await;
    b.set_default(Reply::error(500, "boom"));
    let proxy = start(&config(
        &[
            dep("gpt-a", "a1", &a, ""),
            dep("gpt-a", "a2", &a, ""),
            dep("gpt-b", "b1", &b, ""),
            dep("gpt-b", "b2", &b, ""),
        ],
        "router_settings:\n  retry_policy:\n    InternalServerErrorRetries: 3\n  model_group_retry_policy:\n    gpt-b:\n      InternalServerErrorRetries: 1\n",
    ))
    .await;

    assert_eq!(chat(&proxy, hello("gpt-a")).await.status, 500);
    assert_eq!(chat(&proxy, hello("gpt-b")).await.status, 500);

    assert_eq!(a.call_count(), 4, "router policy: 1 + 3 retries");
    assert_eq!(b.call_count(), 2, "group policy: 1 + 1 retry");
}

/// One group of three deployments on `mock`, no retries but the policy's. (Three, because
/// a deployment that answered a status not worth retrying (a 404, a 403) is skipped by
/// the rest of the request's retries, as LiteLLM's `_deployment_ids_to_skip_on_retry` does.)
async fn policy_proxy(mock: &MockUpstream, settings: &str) -> switchyard_testkit::ProxyHarness {
    start(&config(
        &[
            dep("gpt", "a1", mock, ""),
            dep("gpt", "a2", mock, ""),
            dep("gpt", "a3", mock, ""),
        ],
        &format!("router_settings:\n  num_retries: 0\n  retry_after: 0\n{settings}"),
    ))
    .await
}

#[tokio::test]
async fn a_503_is_not_an_internal_server_error_for_the_retry_policy() {
    // `ServiceUnavailableError` is not an `InternalServerError` (litellm/exceptions.py):
    // a policy that sets only InternalServerErrorRetries leaves 503s at num_retries.
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(503, "overloaded"));
    let proxy = policy_proxy(
        &mock,
        "  retry_policy:\n    InternalServerErrorRetries: 4\n",
    )
    .await;
    assert_eq!(chat(&proxy, hello("gpt")).await.status, 503);
    assert_eq!(mock.call_count(), 1, "num_retries: 0, not the policy's 4");

    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(503, "overloaded"));
    let proxy = policy_proxy(
        &mock,
        "  retry_policy:\n    InternalServerErrorRetries: 4\n    ServiceUnavailableErrorRetries: 3\n",
    )
    .await;
    assert_eq!(chat(&proxy, hello("gpt")).await.status, 503);
    assert_eq!(mock.call_count(), 4, "ServiceUnavailableErrorRetries: 3");
}

#[tokio::test]
async fn a_404_uses_not_found_retries_and_default_retries_covers_the_rest() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(404, "The model `x` does not exist"));
    let proxy = policy_proxy(
        &mock,
        "  retry_policy:\n    NotFoundErrorRetries: 2\n    DefaultRetries: 0\n",
    )
    .await;
    assert_eq!(chat(&proxy, hello("gpt")).await.status, 404);
    assert_eq!(
        mock.call_count(),
        3,
        "NotFoundErrorRetries: 2 (a 404 is never retried by default)"
    );

    // A 403 is a PermissionDeniedError (APIError on the OpenAI dialect), which no field
    // names: DefaultRetries applies.
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(403, "forbidden"));
    let proxy = policy_proxy(
        &mock,
        "  retry_policy:\n    AuthenticationErrorRetries: 5\n    DefaultRetries: 1\n",
    )
    .await;
    assert_eq!(chat(&proxy, hello("gpt")).await.status, 403);
    assert_eq!(
        mock.call_count(),
        2,
        "DefaultRetries: 1, not the 401 class's 5"
    );
}

#[tokio::test]
async fn a_request_asking_for_no_retries_turns_the_policy_off() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(500, "boom"));
    let proxy = policy_proxy(
        &mock,
        "  retry_policy:\n    InternalServerErrorRetries: 3\n",
    )
    .await;
    let mut body = hello("gpt");
    body["num_retries"] = serde_json::json!(0);
    assert_eq!(chat(&proxy, body).await.status, 500);
    assert_eq!(mock.call_count(), 1);
}
