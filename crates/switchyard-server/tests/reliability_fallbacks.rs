//! Fallbacks through the proxy (issue 4): which groups are tried, in what order,
//! how often, and what the client sees.
//!
//! LiteLLM 1.106 facts these tests rely on (`litellm/router.py`,
//! `litellm/router_utils/fallback_event_handlers.py`, `litellm/constants.py`):
//! - `async_function_with_fallbacks`: the group's retries run first
//!   (`async_function_with_retries`); only when they are exhausted does
//!   `async_function_with_fallbacks_common_utils` look for a fallback. Body fields
//!   `fallbacks`, `context_window_fallbacks`, `content_policy_fallbacks` replace the
//!   router's; `disable_fallbacks: true` re-raises at once.
//! - `async_function_with_fallbacks_common_utils`, in this order: deployments of a higher
//!   `order` of the same group (`{"model": group, "_target_order": o}` entries, skipped for
//!   ContextWindowExceeded / ContentPolicyViolation); a client-side list of group names
//!   (`check_non_standard_fallback_format`); `context_window_fallbacks` for
//!   `ContextWindowExceededError` (when absent: "Defaulting to fallbacks, if available");
//!   `content_policy_fallbacks` for `ContentPolicyViolationError` (same); then the group's
//!   entry in `fallbacks`, else the `"*"` entry.
//! - `Router.__init__`: `default_fallbacks` is appended to `fallbacks` as `{"*": [...]}`;
//!   `max_fallbacks` defaults to `ROUTER_MAX_FALLBACKS` = 5.
//! - `run_async_fallback`: raises when `fallback_depth >= max_fallbacks`; tries the targets
//!   in order, each through `async_function_with_fallbacks` (its own retries and its own
//!   fallbacks, depth + 1); `AttemptedFallbackTargets` skips a target already attempted
//!   in this request (the failed group is recorded first), so loops terminate and each
//!   target is tried at most once. Success sets `x-litellm-attempted-fallbacks` to the
//!   depth, each level on the way out, so the outermost level's count is what the client
//!   sees.
//! - `fallback_lookup_groups` + `get_fallback_model_group_for_lookup_groups`: a fallback
//!   target that fails looks up its own entry first, then the *original* group's, and the
//!   `"*"` entry only when neither has one; so a chain `a: [b, c]` goes on to `c` when `b`
//!   fails, even with `default_fallbacks` set.
//! - No error class is excluded from the generic fallbacks: a plain 400 or a 422 falls back.
//! - `should_retry_this_error`: a ContextWindowExceeded / ContentPolicyViolation error is
//!   not retried when its dedicated fallbacks exist (and a 400 is never retried anyway).
//! - `_should_raise_content_policy_error`: a 200 whose first choice has
//!   `finish_reason: "content_filter"` becomes a ContentPolicyViolationError only when a
//!   content-policy fallback exists for the group; otherwise it is returned unchanged.
//! - After every fallback failed, LiteLLM re-raises the *original* group's exception
//!   (these tests keep all statuses equal so they hold either way).

#[path = "reliability_support.rs"]
mod support;

use serde_json::json;
use support::*;
use switchyard_testkit::{MockUpstream, Reply};

fn failing(status: u16) -> Reply {
    Reply::error(status, "upstream failure")
}

#[tokio::test]
async fn fallbacks_run_after_the_groups_retries_are_exhausted() {
    let a = MockUpstream::start().await;
    a.set_default(failing(500));
    let b = MockUpstream::start_named("b").await;
    let proxy = start(&config(
        &[
            dep("gpt-a", "a1", &a, ""),
            dep("gpt-a", "a2", &a, ""),
            dep("gpt-b", "b1", &b, ""),
        ],
        "router_settings:\n  fallbacks: [{gpt-a: [gpt-b]}]\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt-a")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["id"], "chatcmpl-mock-b-1", "gpt-b's answer");
    assert_eq!(
        a.call_count(),
        3,
        "num_retries (2) + 1 calls to gpt-a first"
    );
    assert_eq!(b.call_count(), 1);
    assert_eq!(
        answer.retries_fallbacks(),
        ("0".to_owned(), "1".to_owned()),
        "no retry in the final group, one fallback hop"
    );
    let route = answer.route();
    assert_eq!(route.len(), 4, "{route:?}");
    assert!(
        route[..3]
            .iter()
            .all(|r| r.group == "gpt-a" && r.outcome == "500"),
        "{route:?}"
    );
    assert_eq!(route[3].to_string(), "gpt-b/b1:ok");
}

#[tokio::test]
async fn each_fallback_target_gets_its_own_retries() {
    let a = MockUpstream::start().await;
    a.set_default(failing(500));
    let b = MockUpstream::start().await;
    b.set_default(failing(500));
    let proxy = start(&config(
        &[
            dep("gpt-a", "a1", &a, ""),
            dep("gpt-a", "a2", &a, ""),
            dep("gpt-b", "b1", &b, ""),
            dep("gpt-b", "b2", &b, ""),
        ],
        "router_settings:\n  fallbacks: [{gpt-a: [gpt-b]}]\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt-a")).await;

    assert_eq!(answer.status, 500, "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (3, 3));
    assert_eq!(answer.retries_fallbacks(), ("2".to_owned(), "1".to_owned()));
    assert_eq!(answer.route().len(), 6);
}

/// gpt-a (one deployment, failing) and gpt-b (fine), with these router settings.
async fn a_fails_then(settings: &str) -> (MockUpstream, MockUpstream, Answer) {
    let a = MockUpstream::start().await;
    a.set_default(failing(500));
    let b = MockUpstream::start().await;
    let proxy = start(&config(
        &[dep("gpt-a", "a1", &a, ""), dep("gpt-b", "b1", &b, "")],
        &format!("router_settings:\n  num_retries: 0\n{settings}"),
    ))
    .await;
    let answer = chat(&proxy, hello("gpt-a")).await;
    (a, b, answer)
}

#[tokio::test]
async fn default_fallbacks_apply_to_every_group() {
    let (a, b, answer) = a_fails_then("  default_fallbacks: [gpt-b]\n").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (1, 1));
}

#[tokio::test]
async fn a_star_entry_in_fallbacks_is_the_default() {
    let (a, b, answer) = a_fails_then("  fallbacks: [{\"*\": [gpt-b]}]\n").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (1, 1));
}

#[tokio::test]
async fn litellm_settings_fallbacks_are_used_too() {
    let (a, b, answer) = a_fails_then("litellm_settings:\n  fallbacks: [{gpt-a: [gpt-b]}]\n").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (1, 1));
}

#[tokio::test]
async fn a_groups_own_fallbacks_win_over_the_default() {
    let a = MockUpstream::start().await;
    a.set_default(failing(500));
    let b = MockUpstream::start().await;
    let c = MockUpstream::start().await;
    let proxy = start(&config(
        &[
            dep("gpt-a", "a1", &a, ""),
            dep("gpt-b", "b1", &b, ""),
            dep("gpt-c", "c1", &c, ""),
        ],
        "router_settings:\n  num_retries: 0\n  fallbacks: [{gpt-a: [gpt-c]}]\n  default_fallbacks: [gpt-b]\n",
    ))
    .await;
    let answer = chat(&proxy, hello("gpt-a")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!((b.call_count(), c.call_count()), (0, 1));
}

const CONTEXT_ERROR: &str = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.";

#[tokio::test]
async fn context_window_fallbacks_take_a_context_length_error_without_retrying() {
    let a = MockUpstream::start().await;
    a.set_default(Reply::json(
        400,
        json!({"error": {"message": CONTEXT_ERROR, "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}),
    ));
    let big = MockUpstream::start_named("big").await;
    let other = MockUpstream::start().await;
    let proxy = start(&config(
        &[
            dep("gpt-a", "a1", &a, ""),
            dep("gpt-a", "a2", &a, ""),
            dep("gpt-big", "big1", &big, ""),
            dep("gpt-b", "b1", &other, ""),
        ],
        "router_settings:\n  num_retries: 3\n  context_window_fallbacks: [{gpt-a: [gpt-big]}]\n  fallbacks: [{gpt-a: [gpt-b]}]\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt-a")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["id"], "chatcmpl-mock-big-1");
    assert_eq!(
        a.call_count(),
        1,
        "no retry when a context-window fallback exists"
    );
    assert_eq!(big.call_count(), 1);
    assert_eq!(
        other.call_count(),
        0,
        "the dedicated fallback comes before `fallbacks`"
    );
    assert_eq!(
        answer.route_strings()[0],
        "gpt-a/".to_owned() + &called_ids(&a)[0] + ":400"
    );
}

#[tokio::test]
async fn a_context_length_error_without_its_own_fallback_uses_the_regular_fallbacks() {
    let a = MockUpstream::start().await;
    a.set_default(Reply::error(400, CONTEXT_ERROR));
    let b = MockUpstream::start().await;
    let proxy = start(&config(
        &[dep("gpt-a", "a1", &a, ""), dep("gpt-b", "b1", &b, "")],
        "router_settings:\n  fallbacks: [{gpt-a: [gpt-b]}]\n",
    ))
    .await;
    let answer = chat(&proxy, hello("gpt-a")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (1, 1));
}

#[tokio::test]
async fn content_policy_fallbacks_take_a_content_filter_400() {
    let a = MockUpstream::start().await;
    a.set_default(Reply::json(
        400,
        json!({"error": {"message": "Your request was rejected as a result of our safety system.", "type": "invalid_request_error", "param": null, "code": "content_policy_violation"}}),
    ));
    let safe = MockUpstream::start_named("safe").await;
    let proxy = start(&config(
        &[
            dep("gpt-a", "a1", &a, ""),
            dep("gpt-a", "a2", &a, ""),
            dep("gpt-safe", "s1", &safe, ""),
        ],
        "router_settings:\n  content_policy_fallbacks: [{gpt-a: [gpt-safe]}]\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt-a")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["id"], "chatcmpl-mock-safe-1");
    assert_eq!((a.call_count(), safe.call_count()), (1, 1));
}

fn content_filtered_200() -> Reply {
    Reply::json(
        200,
        json!({
            "id": "chatcmpl-filtered", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null}, "logprobs": null, "finish_reason": "content_filter"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 0, "total_tokens": 10}
        }),
    )
}

#[tokio::test]
async fn a_200_with_finish_reason_content_filter_falls_back_when_a_content_policy_fallback_exists()
{
    let a = MockUpstream::start().await;
    a.set_default(content_filtered_200());
    let safe = MockUpstream::start_named("safe").await;
    let proxy = start(&config(
        &[
            dep("gpt-a", "a1", &a, ""),
            dep("gpt-a", "a2", &a, ""),
            dep("gpt-plain", "p1", &a, ""),
            dep("gpt-safe", "s1", &safe, ""),
        ],
        "router_settings:\n  content_policy_fallbacks: [{gpt-a: [gpt-safe]}]\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt-a")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.body["id"], "chatcmpl-mock-safe-1",
        "gpt-safe's answer"
    );
    assert_eq!(
        (a.call_count(), safe.call_count()),
        (1, 1),
        "not retried, fallen back"
    );
    assert_eq!(answer.header("x-litellm-attempted-fallbacks"), "1");

    // A group without a content-policy fallback gets the filtered answer as it is.
    let answer = chat(&proxy, hello("gpt-plain")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["id"], "chatcmpl-filtered");
    assert_eq!(answer.body["choices"][0]["finish_reason"], "content_filter");
    assert_eq!((a.call_count(), safe.call_count()), (2, 1));
}

#[tokio::test]
async fn order_2_deployments_are_used_only_when_order_1_fails() {
    let first = MockUpstream::start().await;
    let second = MockUpstream::start_named("second").await;
    let proxy = start(&config(
        &[
            dep("gpt", "o1a", &first, "order: 1"),
            dep("gpt", "o1b", &first, "order: 1"),
            dep("gpt", "o2", &second, "order: 2"),
        ],
        "",
    ))
    .await;

    for _ in 0..10 {
        assert_eq!(chat(&proxy, hello("gpt")).await.status, 200);
    }
    assert_eq!((first.call_count(), second.call_count()), (10, 0));

    first.set_default(failing(500));
    let answer = chat(&proxy, hello("gpt")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["id"], "chatcmpl-mock-second-1");
    assert_eq!(first.call_count(), 13, "order 1 with its retries first");
    assert_eq!(second.call_count(), 1);
    assert_eq!(answer.header("x-litellm-attempted-fallbacks"), "1");
    assert_eq!(answer.route().last().unwrap().to_string(), "gpt/o2:ok");
}

#[tokio::test]
async fn per_request_fallbacks_in_the_body() {
    let a = MockUpstream::start().await;
    a.set_default(failing(500));
    let b = MockUpstream::start().await;
    let proxy = start(&config(
        &[dep("gpt-a", "a1", &a, ""), dep("gpt-b", "b1", &b, "")],
        "router_settings:\n  num_retries: 0\n",
    ))
    .await;

    let mut body = hello("gpt-a");
    body["fallbacks"] = json!(["gpt-b"]);
    let answer = chat(&proxy, body).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (1, 1));
    for call in a.calls().iter().chain(b.calls().iter()) {
        assert!(
            call.json().get("fallbacks").is_none(),
            "a router field, not sent upstream"
        );
    }
}

#[tokio::test]
async fn disable_fallbacks_in_the_body() {
    let a = MockUpstream::start().await;
    a.set_default(failing(500));
    let b = MockUpstream::start().await;
    let proxy = start(&config(
        &[dep("gpt-a", "a1", &a, ""), dep("gpt-b", "b1", &b, "")],
        "router_settings:\n  num_retries: 0\n  fallbacks: [{gpt-a: [gpt-b]}]\n",
    ))
    .await;

    let mut body = hello("gpt-a");
    body["disable_fallbacks"] = json!(true);
    let answer = chat(&proxy, body).await;

    assert_eq!(answer.status, 500, "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (1, 0));
    assert!(a.calls()[0].json().get("disable_fallbacks").is_none());
    assert_eq!(answer.header("x-litellm-attempted-fallbacks"), "0");
}

#[tokio::test]
async fn a_failed_fallback_target_goes_on_with_the_original_chain_before_the_default() {
    let bad = MockUpstream::start().await;
    bad.set_default(failing(503));
    let chain = MockUpstream::start().await;
    chain.set_default(failing(500));
    let c = MockUpstream::start_named("c").await;
    let fallback_default = MockUpstream::start().await;
    let proxy = start(&config(
        &[
            dep("g-chain", "chain1", &chain, ""),
            dep("g-bad", "bad1", &bad, ""),
            dep("g-c", "c1", &c, ""),
            dep("g-default", "def1", &fallback_default, ""),
        ],
        "router_settings:\n  num_retries: 1\n  fallbacks: [{g-chain: [g-bad, g-c]}]\n  default_fallbacks: [g-default]\n",
    ))
    .await;

    let answer = chat(&proxy, hello("g-chain")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["id"], "chatcmpl-mock-c-1", "g-c answers");
    assert_eq!(
        (chain.call_count(), bad.call_count(), c.call_count()),
        (2, 2, 1)
    );
    assert_eq!(
        fallback_default.call_count(),
        0,
        "the default is never reached"
    );
    assert_eq!(
        answer.retries_fallbacks(),
        ("0".to_owned(), "1".to_owned()),
        "LiteLLM reports the outermost hop count"
    );
}

#[tokio::test]
async fn a_plain_400_and_a_422_fall_back_too() {
    for status in [400, 422] {
        let a = MockUpstream::start().await;
        a.set_default(Reply::error(
            status,
            "Invalid value for 'temperature': must be between 0 and 2.",
        ));
        let b = MockUpstream::start_named("b").await;
        let proxy = start(&config(
            &[dep("gpt-a", "a1", &a, ""), dep("gpt-b", "b1", &b, "")],
            "router_settings:\n  num_retries: 1\n  fallbacks: [{gpt-a: [gpt-b]}]\n",
        ))
        .await;

        let answer = chat(&proxy, hello("gpt-a")).await;

        assert_eq!(answer.status, 200, "{status}: {}", answer.text);
        assert_eq!(answer.body["id"], "chatcmpl-mock-b-1");
        assert_eq!(a.call_count(), 1, "{status} is not retried, but falls back");
        assert_eq!(answer.retries_fallbacks(), ("0".to_owned(), "1".to_owned()));
    }
}

/// Groups `g0..g{n-1}` on one failing mock, one deployment each (`d0`...), no retries,
/// and these `fallbacks` and extra settings.
async fn failing_groups(n: usize, fallbacks: &str, settings: &str) -> (MockUpstream, Answer) {
    let mock = MockUpstream::start().await;
    mock.set_default(failing(500));
    let deployments: Vec<String> = (0..n)
        .map(|i| dep(&format!("g{i}"), &format!("d{i}"), &mock, ""))
        .collect();
    let proxy = start(&config(
        &deployments,
        &format!("router_settings:\n  num_retries: 0\n  fallbacks: {fallbacks}\n{settings}"),
    ))
    .await;
    let answer = chat(&proxy, hello("g0")).await;
    (mock, answer)
}

#[tokio::test]
async fn max_fallbacks_bounds_a_chain_of_hops() {
    let (mock, answer) = failing_groups(
        4,
        "[{g0: [g1]}, {g1: [g2]}, {g2: [g3]}]",
        "  max_fallbacks: 2\n",
    )
    .await;
    assert_eq!(answer.status, 500);
    assert_eq!(called_ids(&mock), ["d0", "d1", "d2"], "two hops, then stop");
}

#[tokio::test]
async fn max_fallbacks_defaults_to_5() {
    let (mock, answer) = failing_groups(
        8,
        "[{g0: [g1]}, {g1: [g2]}, {g2: [g3]}, {g3: [g4]}, {g4: [g5]}, {g5: [g6]}, {g6: [g7]}]",
        "",
    )
    .await;
    assert_eq!(answer.status, 500);
    assert_eq!(called_ids(&mock), ["d0", "d1", "d2", "d3", "d4", "d5"]);
}

#[tokio::test]
async fn a_fallback_loop_terminates_with_each_target_tried_once() {
    let (mock, answer) = failing_groups(2, "[{g0: [g1]}, {g1: [g0]}]", "").await;
    assert_eq!(answer.status, 500);
    assert_eq!(called_ids(&mock), ["d0", "d1"]);

    let (mock, answer) =
        failing_groups(3, "[{g0: [g1, g2]}, {g1: [g2, g0]}, {g2: [g1, g0]}]", "").await;
    assert_eq!(answer.status, 500);
    assert_eq!(
        called_ids(&mock),
        ["d0", "d1", "d2"],
        "g2 is not tried twice"
    );
}

#[tokio::test]
async fn the_final_error_names_every_attempt() {
    let a = MockUpstream::start().await;
    a.set_default(failing(500));
    let b = MockUpstream::start().await;
    b.set_default(failing(500));
    let proxy = start(&config(
        &[
            dep("gpt-a", "a1", &a, ""),
            dep("gpt-a", "a2", &a, ""),
            dep("gpt-b", "b1", &b, ""),
            dep("gpt-b", "b2", &b, ""),
        ],
        "router_settings:\n  num_retries: 1\n  fallbacks: [{gpt-a: [gpt-b]}]\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt-a")).await;

    assert_eq!(answer.status, 500, "{}", answer.text);
    assert_openai_error(&answer);
    let message = answer.message();
    let route = answer.route();
    assert_eq!(route.len(), 4, "{route:?}");
    let tried: Vec<String> = called_ids(&a).into_iter().chain(called_ids(&b)).collect();
    assert_eq!(
        route
            .iter()
            .map(|r| r.deployment.clone())
            .collect::<Vec<_>>(),
        tried,
        "the route lists every attempt, oldest first"
    );
    for id in &tried {
        assert!(
            message.contains(id.as_str()),
            "{id} missing from: {message}"
        );
    }
    assert!(message.contains("InternalServerError"), "{message}");
    assert!(message.contains("500"), "{message}");
    assert!(
        message.contains("gpt-a") && message.contains("gpt-b"),
        "{message}"
    );
}

/// LiteLLM's `mock_testing_*` request parameters fake a failure to try a
/// config's fallbacks and retries; they are refused unless
/// `general_settings.dangerously_allow_mock_testing_request_params` is set
/// (`raise_if_mock_testing_params_disallowed`, `_handle_mock_testing_fallbacks`,
/// `_handle_mock_testing_rate_limit_error` in LiteLLM 1.106).
#[tokio::test]
async fn mock_testing_parameters_fake_failures_only_when_the_config_allows_them() {
    let a = MockUpstream::start_named("a").await;
    let b = MockUpstream::start_named("b").await;
    let large = MockUpstream::start_named("large").await;
    let deployments = [
        dep("gpt-a", "a1", &a, ""),
        dep("gpt-b", "b1", &b, ""),
        dep("gpt-large", "l1", &large, ""),
    ];
    let fallbacks = "router_settings:\n  num_retries: 1\n  fallbacks: [{gpt-a: [gpt-b]}]\n  context_window_fallbacks: [{gpt-a: [gpt-large]}]\n";
    let with = |key: &str| {
        let mut body = hello("gpt-a");
        body[key] = json!(true);
        body
    };

    // Not allowed: a 400 naming the parameter, and nothing is called.
    let proxy = start(&config(&deployments, fallbacks)).await;
    let answer = chat(&proxy, with("mock_testing_fallbacks")).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(
        answer.message().starts_with(
            "Mock testing request params are disabled on this proxy: mock_testing_fallbacks."
        ),
        "{}",
        answer.text
    );
    assert_eq!(a.call_count() + b.call_count(), 0);

    let allowed = format!(
        "{fallbacks}general_settings:\n  dangerously_allow_mock_testing_request_params: true\n"
    );
    let proxy = start(&config(&deployments, &allowed)).await;
    // gpt-a "fails" before any call, and its fallback answers.
    let answer = chat(&proxy, with("mock_testing_fallbacks")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["id"], "chatcmpl-mock-b-1");
    assert_eq!(answer.retries_fallbacks(), ("0".to_owned(), "1".to_owned()));
    let answer = chat(&proxy, with("mock_testing_context_fallbacks")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["id"], "chatcmpl-mock-large-1");
    assert_eq!(a.call_count(), 0);
    // A faked rate limit is retried, and the retry is real.
    let answer = chat(&proxy, with("mock_testing_rate_limit_error")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["id"], "chatcmpl-mock-a-1");
    assert_eq!(answer.retries_fallbacks(), ("1".to_owned(), "0".to_owned()));
    // The parameters never reach an upstream.
    for call in a.calls().iter().chain(b.calls().iter()) {
        assert!(call.json().get("mock_testing_rate_limit_error").is_none());
        assert!(call.json().get("mock_testing_fallbacks").is_none());
    }
    // Without a fallback the faked failure is the answer.
    let mut body = hello("gpt-b");
    body["mock_testing_fallbacks"] = json!(true);
    let answer = chat(&proxy, body).await;
    assert_eq!(answer.status, 500, "{}", answer.text);
    assert!(
        answer
            .message()
            .contains("This is a mock exception for model=gpt-b")
    );
}
