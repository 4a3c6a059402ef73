//! Timeouts through the proxy (issue 4): per attempt, to the first streamed chunk,
//! and one deadline for the whole request.
//!
//! LiteLLM 1.106 facts these tests rely on (`litellm/router.py`, `litellm/utils.py`,
//! `litellm/router_utils/cooldown_handlers.py`):
//! - Per-attempt timeout: the request's `timeout`, else the deployment's `timeout`
//!   (`stream_timeout` for streams), else the router's `timeout`, else
//!   `litellm.request_timeout` (`Router.__init__`: `self.timeout = timeout or
//!   litellm.request_timeout`). A timed-out attempt is a `litellm.Timeout`, status 408,
//!   which `should_retry` accepts (retried, then fallen back like a 5xx).
//! - `stream_timeout` in LiteLLM is the HTTP client's timeout for streaming calls; issue 4
//!   marks a *fix*: it bounds the time to the first chunk (after which the stream is
//!   committed), and an attempt that times out before its first chunk may still retry
//!   or fall back. It does not cut a stream whose later events are slow.
//! - `_time_to_sleep_before_retry`: no backoff while another healthy deployment exists.
//! - Beyond LiteLLM (issue 4): a per-request deadline (router `timeout`, or the
//!   `x-switchyard-timeout` header / `timeout` body field) bounds all attempts, backoffs
//!   and fallback hops together; each attempt's timeout is clipped to what is left. When it
//!   runs out during an attempt, that attempt is a Timeout (408).

#[path = "reliability_support.rs"]
mod support;

use std::time::Duration;

use serde_json::json;
use support::*;
use switchyard_testkit::{MockUpstream, ProxyHarness, Reply};

#[tokio::test]
async fn a_deployment_timeout_bounds_each_attempt_then_the_request_falls_back() {
    let slow = MockUpstream::start().await;
    slow.set_default(Reply::ok().delay(Duration::from_secs(5)));
    let fine = MockUpstream::start_named("fine").await;
    let proxy = start(&config(
        &[
            dep("gpt-a", "a1", &slow, "timeout: 0.3"),
            dep("gpt-a", "a2", &slow, "timeout: 0.3"),
            dep("gpt-b", "b1", &fine, ""),
        ],
        "router_settings:\n  num_retries: 1\n  fallbacks: [{gpt-a: [gpt-b]}]\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt-a")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["id"], "chatcmpl-mock-fine-1");
    assert_eq!((slow.call_count(), fine.call_count()), (2, 1));
    assert!(
        answer.elapsed >= Duration::from_millis(580)
            && answer.elapsed < Duration::from_millis(1500),
        "two 0.3 s attempts, no backoff: {:?}",
        answer.elapsed
    );
    let route = answer.route_strings();
    assert_eq!(route.len(), 3, "{route:?}");
    assert!(
        route[0].ends_with(":408") && route[1].ends_with(":408"),
        "{route:?}"
    );
    wait_until("the slow upstream sees both calls abandoned", || {
        slow.cancelled() == 2
    })
    .await;
}

#[tokio::test]
async fn a_timeout_with_nowhere_to_go_is_a_408() {
    let slow = MockUpstream::start().await;
    slow.set_default(Reply::ok().delay(Duration::from_secs(5)));
    let proxy = start(&config(
        &[
            dep("gpt", "a1", &slow, "timeout: 0.2"),
            dep("gpt", "a2", &slow, "timeout: 0.2"),
        ],
        "",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 408, "{}", answer.text);
    assert_openai_error(&answer);
    assert_eq!(slow.call_count(), 3, "a Timeout is retried");
    assert!(answer.message().contains("Timeout"), "{}", answer.message());
    assert!(
        answer.elapsed < Duration::from_millis(1500),
        "{:?}",
        answer.elapsed
    );
}

/// gpt-a (one deployment on `a`, `stream_timeout: 0.3`, no retries) falling back to gpt-b.
async fn stream_setup(a: &MockUpstream, b: &MockUpstream) -> ProxyHarness {
    start(&config(
        &[
            dep("gpt-a", "a1", a, "stream_timeout: 0.3"),
            dep("gpt-b", "b1", b, ""),
        ],
        "router_settings:\n  num_retries: 0\n  fallbacks: [{gpt-a: [gpt-b]}]\n",
    ))
    .await
}

#[tokio::test]
async fn stream_timeout_bounds_the_wait_for_the_response_headers() {
    let a = MockUpstream::start().await;
    a.set_default(Reply::chat_stream(&["late"]).delay(Duration::from_secs(3)));
    let b = MockUpstream::start().await;
    b.set_default(Reply::chat_stream(&["from", " b"]));
    let proxy = stream_setup(&a, &b).await;

    let answer = chat(&proxy, hello_stream("gpt-a")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(stream_content(&answer.text), "from b");
    assert!(answer.text.ends_with("data: [DONE]\n\n"), "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (1, 1));
    assert!(
        answer.elapsed < Duration::from_millis(1500),
        "{:?}",
        answer.elapsed
    );
}

#[tokio::test]
async fn stream_timeout_bounds_the_time_to_the_first_chunk_not_just_the_headers() {
    let a = MockUpstream::start().await;
    // Headers at once, first event after 3 s.
    a.set_default(Reply::chat_stream(&["late"]).first_chunk_delay(Duration::from_secs(3)));
    let b = MockUpstream::start().await;
    b.set_default(Reply::chat_stream(&["from", " b"]));
    let proxy = stream_setup(&a, &b).await;

    let answer = chat(&proxy, hello_stream("gpt-a")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        stream_content(&answer.text),
        "from b",
        "not committed to a1's stream"
    );
    assert_eq!((a.call_count(), b.call_count()), (1, 1));
    assert!(
        answer.elapsed < Duration::from_millis(1500),
        "{:?}",
        answer.elapsed
    );
    wait_until("a1's stream is abandoned", || a.cancelled() == 1).await;
}

#[tokio::test]
async fn stream_timeout_does_not_cut_a_stream_whose_later_events_are_slow() {
    let a = MockUpstream::start().await;
    // First event at once, then 0.4 s between events (> stream_timeout), 1.6 s in all.
    a.set_default(Reply::chat_stream(&["one", " two"]).chunk_delay(Duration::from_millis(400)));
    let b = MockUpstream::start().await;
    let proxy = stream_setup(&a, &b).await;

    let answer = chat(&proxy, hello_stream("gpt-a")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(stream_content(&answer.text), "one two");
    assert!(answer.text.ends_with("data: [DONE]\n\n"), "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (1, 0));
    assert!(
        answer.elapsed >= Duration::from_millis(1500),
        "{:?}",
        answer.elapsed
    );
}

/// gpt-a: three deployments, gpt-b: two, all answering 500 after 0.4 s; 2 retries per
/// group and a fallback: about 6 × 0.4 s without a deadline.
async fn slow_failures(settings: &str) -> (MockUpstream, MockUpstream, ProxyHarness) {
    let a = MockUpstream::start().await;
    a.set_default(Reply::error(500, "boom").delay(Duration::from_millis(400)));
    let b = MockUpstream::start().await;
    b.set_default(Reply::error(500, "boom").delay(Duration::from_millis(400)));
    let proxy = start(&config(
        &[
            dep("gpt-a", "a1", &a, ""),
            dep("gpt-a", "a2", &a, ""),
            dep("gpt-a", "a3", &a, ""),
            dep("gpt-b", "b1", &b, ""),
            dep("gpt-b", "b2", &b, ""),
        ],
        &format!(
            "router_settings:\n  num_retries: 2\n  fallbacks: [{{gpt-a: [gpt-b]}}]\n{settings}"
        ),
    ))
    .await;
    (a, b, proxy)
}

/// The deadline (1 s) cut the third attempt: 0.4 + 0.4 + 0.2 s, then nothing more.
fn assert_cut_at_one_second(answer: &Answer, a: &MockUpstream, b: &MockUpstream) {
    assert_eq!(
        answer.status, 408,
        "the deadline is a Timeout: {}",
        answer.text
    );
    assert_openai_error(answer);
    assert!(
        answer.elapsed >= Duration::from_millis(900)
            && answer.elapsed < Duration::from_millis(1400),
        "one deadline for attempts, backoffs and fallbacks: {:?}",
        answer.elapsed
    );
    assert_eq!(
        a.call_count(),
        3,
        "two 0.4 s failures, then a third cut short"
    );
    assert_eq!(b.call_count(), 0, "no time left for the fallback");
    let route = answer.route_strings();
    assert_eq!(route.len(), 3, "{route:?}");
    assert!(route[2].ends_with(":408"), "{route:?}");
}

#[tokio::test]
async fn the_x_switchyard_timeout_header_is_one_deadline_for_the_whole_request() {
    let (a, b, proxy) = slow_failures("").await;
    let answer = chat_with(&proxy, hello("gpt-a"), &[("x-switchyard-timeout", "1")]).await;
    assert_cut_at_one_second(&answer, &a, &b);
}

#[tokio::test]
async fn the_timeout_body_field_is_one_deadline_for_the_whole_request() {
    let (a, b, proxy) = slow_failures("").await;
    let mut body = hello("gpt-a");
    body["timeout"] = json!(1);
    let answer = chat(&proxy, body).await;
    assert_cut_at_one_second(&answer, &a, &b);
    for call in a.calls() {
        assert!(
            call.json().get("timeout").is_none(),
            "a router field, not sent upstream"
        );
    }
}

#[tokio::test]
async fn the_router_timeout_is_one_deadline_for_the_whole_request() {
    let (a, b, proxy) = slow_failures("  timeout: 1\n").await;
    let answer = chat(&proxy, hello("gpt-a")).await;
    assert_cut_at_one_second(&answer, &a, &b);
}

#[tokio::test]
async fn without_a_deadline_the_same_request_runs_every_attempt() {
    let (a, b, proxy) = slow_failures("").await;
    let answer = chat(&proxy, hello("gpt-a")).await;
    assert_eq!(answer.status, 500, "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (3, 3));
    assert!(
        answer.elapsed >= Duration::from_millis(2300),
        "{:?}",
        answer.elapsed
    );
}

#[tokio::test]
async fn a_backoff_longer_than_the_deadline_is_not_slept() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::error(429, "Rate limit reached").header("retry-after", "5"));
    let proxy = start(&config(&[dep("gpt", "a1", &mock, "")], "")).await;

    let answer = chat_with(&proxy, hello("gpt"), &[("x-switchyard-timeout", "1")]).await;

    assert!(
        answer.status == 429 || answer.status == 408,
        "the last error, or the deadline: {}",
        answer.text
    );
    assert_openai_error(&answer);
    assert_eq!(mock.call_count(), 1, "no retry fits before the deadline");
    assert!(
        answer.elapsed < Duration::from_millis(1300),
        "{:?}",
        answer.elapsed
    );
}

#[tokio::test]
async fn litellm_settings_request_timeout_bounds_each_attempt() {
    let slow = MockUpstream::start().await;
    slow.set_default(Reply::ok().delay(Duration::from_secs(5)));
    let proxy = start(&config(
        &[dep("gpt", "a1", &slow, ""), dep("gpt", "a2", &slow, "")],
        "router_settings:\n  num_retries: 1\nlitellm_settings:\n  request_timeout: 0.3\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 408, "{}", answer.text);
    assert_eq!(slow.call_count(), 2);
    assert!(
        answer.elapsed >= Duration::from_millis(580)
            && answer.elapsed < Duration::from_millis(1500),
        "{:?}",
        answer.elapsed
    );
}

#[tokio::test]
async fn a_deployment_timeout_wins_over_the_router_timeout_per_attempt() {
    let slow = MockUpstream::start().await;
    slow.set_default(Reply::ok().delay(Duration::from_secs(5)));
    let proxy = start(&config(
        &[
            dep("gpt", "a1", &slow, "timeout: 0.3"),
            dep("gpt", "a2", &slow, "timeout: 0.3"),
        ],
        "router_settings:\n  num_retries: 1\n  timeout: 3\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 408, "{}", answer.text);
    assert_eq!(
        slow.call_count(),
        2,
        "two 0.3 s attempts inside the 3 s deadline"
    );
    assert!(
        answer.elapsed < Duration::from_millis(1500),
        "{:?}",
        answer.elapsed
    );
}
