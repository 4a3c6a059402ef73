//! Timeouts through the proxy (issues 4 and 14): per attempt as LiteLLM resolves them,
//! to the first streamed token, and Switchyard's own deadline for the whole request.
//!
//! LiteLLM 1.106 facts these tests rely on (`litellm/router.py` `_get_timeout`,
//! `_get_stream_timeout`, `_get_non_stream_timeout`; `Router.__init__`):
//! - Every timeout is per attempt. A stream takes the request's `stream_timeout`, the
//!   deployment's, the router's (then `litellm_settings.request_timeout` when the router
//!   sets `timeout` too); without one, and for every other call, the request's `timeout`
//!   (or `request_timeout`), the deployment's `timeout` (or `request_timeout`), then
//!   `litellm_settings.request_timeout`, the router's `timeout`, LiteLLM's 6000 s. The
//!   table is unit-tested in `switchyard-router/src/timeouts.rs`. A timed-out attempt is a
//!   `litellm.Timeout`, status 408, which `should_retry` accepts.
//! - `stream_timeout` in LiteLLM is the HTTP client's timeout for streaming calls; issues 4
//!   and 14 mark a *fix*: it bounds the time to the first token (after which the stream is
//!   committed), and an attempt that times out before it may still retry or fall back.
//!   After it, it is httpx's read timeout (issue 13): each silence between events is
//!   bounded by it (by `timeout` when no `stream_timeout` is set), a longer one ends the
//!   stream with an error event and nothing is retried.
//! - `_time_to_sleep_before_retry`: no backoff while another healthy deployment exists.
//! - Beyond LiteLLM: a whole-request deadline, only from the `x-switchyard-timeout` header
//!   or `switchyard_settings.request_deadline` (names LiteLLM does not read, so a LiteLLM
//!   config keeps its meaning), bounds all attempts, backoffs and fallback hops together,
//!   and a committed stream; each attempt's timeout is clipped to what is left. When it
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
async fn stream_timeout_bounds_each_silence_not_the_whole_stream() {
    let a = MockUpstream::start().await;
    // First event at once, then 0.15 s between events (< stream_timeout), ~0.6 s in all
    // (> stream_timeout).
    a.set_default(
        Reply::chat_stream(&["one", " two", " three"]).chunk_delay(Duration::from_millis(150)),
    );
    let b = MockUpstream::start().await;
    let proxy = stream_setup(&a, &b).await;

    let answer = chat(&proxy, hello_stream("gpt-a")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(stream_content(&answer.text), "one two three");
    assert!(answer.text.ends_with("data: [DONE]\n\n"), "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (1, 0));
    assert!(
        answer.elapsed >= Duration::from_millis(600),
        "{:?}",
        answer.elapsed
    );
}

/// A `chat.completion.chunk` carrying `content`.
fn content_event(content: &str) -> String {
    json!({
        "id": "chatcmpl-stall", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]
    })
    .to_string()
}

/// One content event at once, then silence for 10 s before the next.
fn one_event_then_silence() -> Reply {
    Reply::sse(vec![content_event("first"), content_event(" late")])
        .chunk_delay(Duration::from_secs(10))
}

/// The answer is a committed stream: `first`, then one timeout error event, no `[DONE]`.
/// Returns the error event's `error` object.
fn assert_cut_with_a_timeout_event(answer: &Answer) -> serde_json::Value {
    assert_eq!(
        answer.status, 200,
        "committed at the first event: {}",
        answer.text
    );
    let events = sse_payloads(&answer.text);
    assert_eq!(
        events.len(),
        2,
        "one event, then the error event: {}",
        answer.text
    );
    assert_eq!(stream_content(&answer.text), "first");
    assert!(!answer.text.contains("[DONE]"), "{}", answer.text);
    let last: serde_json::Value =
        serde_json::from_str(&events[1]).expect("the error event is JSON");
    let error = last["error"].clone();
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("litellm.Timeout: ")),
        "{last}"
    );
    assert_eq!(error["code"], "408", "a timeout, as any attempt's: {last}");
    assert!(error["type"].is_string(), "{last}");
    error
}

/// One deployment with `max_parallel_requests: 1` (plus `extra`) and router `settings`:
/// a second request is served only once the first one's slot is back.
async fn one_slot(mock: &MockUpstream, extra: &str, settings: &str) -> ProxyHarness {
    let extra = if extra.is_empty() {
        "max_parallel_requests: 1".to_owned()
    } else {
        format!("max_parallel_requests: 1, {extra}")
    };
    start(&config(&[dep("gpt", "a1", mock, &extra)], settings)).await
}

/// The next request gets the slot at once (it would wait, then 429, if the cut stream
/// still held it), and every in-flight count is back to zero.
async fn assert_the_slot_is_back(proxy: &ProxyHarness, mock: &MockUpstream) {
    let next = chat_with(proxy, hello_stream("gpt"), &[("x-switchyard-timeout", "2")]).await;
    assert_eq!(next.status, 200, "the slot was released: {}", next.text);
    assert_eq!(stream_content(&next.text), "fine");
    assert!(next.text.ends_with("data: [DONE]\n\n"), "{}", next.text);
    assert_eq!(mock.call_count(), 2, "nothing was retried");
    assert_router_in_flight_returns_to_zero(proxy, &["gpt"]).await;
}

#[tokio::test]
async fn a_silence_after_the_first_event_longer_than_stream_timeout_ends_the_stream() {
    let mock = MockUpstream::start().await;
    mock.push(one_event_then_silence());
    mock.set_default(Reply::chat_stream(&["fine"]));
    let proxy = one_slot(&mock, "stream_timeout: 0.4", "").await;

    let answer = chat(&proxy, hello_stream("gpt")).await;

    let error = assert_cut_with_a_timeout_event(&answer);
    assert!(
        error["message"].as_str().unwrap().contains("400ms"),
        "names the bound: {error}"
    );
    assert!(
        answer.elapsed >= Duration::from_millis(400) && answer.elapsed < Duration::from_secs(2),
        "cut at about stream_timeout, not at the upstream's 10 s: {:?}",
        answer.elapsed
    );
    wait_until("the upstream call is abandoned", || mock.cancelled() == 1).await;
    assert_the_slot_is_back(&proxy, &mock).await;
}

#[tokio::test]
async fn without_stream_timeout_the_attempt_timeout_bounds_the_silence() {
    for (extra, settings) in [
        ("timeout: 0.4", ""),
        ("", "router_settings:\n  stream_timeout: 0.4\n"),
        ("", "litellm_settings:\n  request_timeout: 0.4\n"),
    ] {
        let mock = MockUpstream::start().await;
        mock.push(one_event_then_silence());
        mock.set_default(Reply::chat_stream(&["fine"]));
        let proxy = one_slot(&mock, extra, settings).await;

        let answer = chat(&proxy, hello_stream("gpt")).await;

        assert_cut_with_a_timeout_event(&answer);
        assert!(
            answer.elapsed >= Duration::from_millis(400) && answer.elapsed < Duration::from_secs(2),
            "{extra}{settings}: {:?}",
            answer.elapsed
        );
        assert_the_slot_is_back(&proxy, &mock).await;
    }
}

#[tokio::test]
async fn the_x_switchyard_timeout_header_bounds_a_committed_stream() {
    let mock = MockUpstream::start().await;
    mock.push(one_event_then_silence());
    mock.set_default(Reply::chat_stream(&["fine"]));
    // No timeout in the config: LiteLLM's default of 6000 s per attempt.
    let proxy = one_slot(&mock, "", "").await;

    let answer = chat_with(
        &proxy,
        hello_stream("gpt"),
        &[("x-switchyard-timeout", "0.6")],
    )
    .await;

    let error = assert_cut_with_a_timeout_event(&answer);
    assert!(
        error["message"].as_str().unwrap().contains("deadline"),
        "{error}"
    );
    assert!(
        answer.elapsed >= Duration::from_millis(600) && answer.elapsed < Duration::from_secs(2),
        "cut at the deadline: {:?}",
        answer.elapsed
    );
    wait_until("the upstream call is abandoned", || mock.cancelled() == 1).await;
    assert_the_slot_is_back(&proxy, &mock).await;
}

#[tokio::test]
async fn the_deadline_cuts_a_committed_stream_whose_events_keep_coming() {
    let mock = MockUpstream::start().await;
    // An event every 0.2 s for 4 s: no silence is long, the whole is.
    let pieces: Vec<String> = (0..20).map(|i| format!("w{i} ")).collect();
    let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
    mock.push(Reply::chat_stream(&refs).chunk_delay(Duration::from_millis(200)));
    mock.set_default(Reply::chat_stream(&["fine"]));
    let proxy = one_slot(&mock, "stream_timeout: 0.5", "").await;

    let answer = chat_with(
        &proxy,
        hello_stream("gpt"),
        &[("x-switchyard-timeout", "1")],
    )
    .await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(!answer.text.contains("[DONE]"), "{}", answer.text);
    let events = sse_payloads(&answer.text);
    let last: serde_json::Value =
        serde_json::from_str(events.last().unwrap()).expect("the error event is JSON");
    assert_eq!(last["error"]["code"], "408", "{last}");
    assert!(
        stream_content(&answer.text).starts_with("w0 w1 "),
        "{}",
        answer.text
    );
    assert!(
        answer.elapsed >= Duration::from_secs(1) && answer.elapsed < Duration::from_millis(2500),
        "{:?}",
        answer.elapsed
    );
    assert_the_slot_is_back(&proxy, &mock).await;
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
async fn switchyard_settings_request_deadline_is_one_deadline_for_the_whole_request() {
    let (a, b, proxy) = slow_failures("switchyard_settings:\n  request_deadline: 1\n").await;
    let answer = chat(&proxy, hello("gpt-a")).await;
    assert_cut_at_one_second(&answer, &a, &b);
}

/// The same six slow failures with a per-attempt bound of 0.3 s: every attempt runs and
/// times out on its own, none is cut by a deadline over the whole request.
fn assert_every_attempt_timed_out_alone(answer: &Answer, a: &MockUpstream, b: &MockUpstream) {
    assert_eq!(answer.status, 408, "{}", answer.text);
    assert_eq!(
        (a.call_count(), b.call_count()),
        (3, 3),
        "a per-attempt timeout is no deadline: the fallback still runs"
    );
    let route = answer.route_strings();
    assert_eq!(route.len(), 6, "{route:?}");
    assert!(route.iter().all(|r| r.ends_with(":408")), "{route:?}");
    assert!(
        answer.elapsed >= Duration::from_millis(1700),
        "six attempts of 0.3 s: {:?}",
        answer.elapsed
    );
}

#[tokio::test]
async fn the_timeout_body_field_is_per_attempt_as_in_litellm() {
    let (a, b, proxy) = slow_failures("").await;
    let mut body = hello("gpt-a");
    body["timeout"] = json!(0.3);
    let answer = chat(&proxy, body).await;
    assert_every_attempt_timed_out_alone(&answer, &a, &b);
    for call in a.calls() {
        assert!(
            call.json().get("timeout").is_none(),
            "a router field, not sent upstream"
        );
    }
}

#[tokio::test]
async fn the_router_timeout_is_per_attempt_as_in_litellm() {
    let (a, b, proxy) = slow_failures("  timeout: 0.3\n").await;
    let answer = chat(&proxy, hello("gpt-a")).await;
    assert_every_attempt_timed_out_alone(&answer, &a, &b);
}

#[tokio::test]
async fn a_deployment_gets_its_longer_timeout_under_a_shorter_router_timeout() {
    // LiteLLM's own example: `timeout: 3` on the deployment, `timeout: 1` on the router.
    let slow = MockUpstream::start().await;
    slow.set_default(Reply::ok().delay(Duration::from_millis(1800)));
    let proxy = start(&config(
        &[dep("gpt", "a1", &slow, "timeout: 3")],
        "router_settings:\n  num_retries: 0\n  timeout: 1\n",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(
        answer.status, 200,
        "the deployment's 3 s apply: {}",
        answer.text
    );
    assert_eq!(slow.call_count(), 1);
}

#[tokio::test]
async fn a_request_timeout_wins_over_the_deployments_for_each_attempt() {
    let slow = MockUpstream::start().await;
    // The first attempt fails after 1.2 s, the retry answers after 1.2 s: 2.4 s in all,
    // each attempt well inside the request's 2 s and far past the deployment's 0.5 s.
    slow.push(Reply::error(500, "boom").delay(Duration::from_millis(1200)));
    slow.set_default(Reply::ok().delay(Duration::from_millis(1200)));
    let proxy = start(&config(
        &[dep("gpt", "a1", &slow, "timeout: 0.5")],
        "router_settings:\n  num_retries: 1\n  retry_after: 0\n",
    ))
    .await;
    let mut body = hello("gpt");
    body["timeout"] = json!(2);

    let answer = chat(&proxy, body).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        slow.call_count(),
        2,
        "the request's 2 s per attempt, not in all"
    );
    assert!(
        answer.elapsed >= Duration::from_millis(2300),
        "{:?}",
        answer.elapsed
    );
}

#[tokio::test]
async fn a_fallback_after_a_stream_timeout_gets_its_own_time() {
    // gpt-a sends its role chunk and stalls; its 1 s `stream_timeout` passes, and the
    // router `timeout: 1` is per attempt, so the fallback still has its whole own bound.
    let a = MockUpstream::start().await;
    a.set_default(Reply::chat_stream(&["never"]).stall_after(1));
    let b = MockUpstream::start().await;
    b.set_default(
        Reply::chat_stream(&["from", " b"]).first_chunk_delay(Duration::from_millis(600)),
    );
    let proxy = start(&config(
        &[
            dep("gpt-a", "a1", &a, "stream_timeout: 1"),
            dep("gpt-b", "b1", &b, "stream_timeout: 3"),
        ],
        "router_settings:\n  num_retries: 0\n  timeout: 1\n  fallbacks: [{gpt-a: [gpt-b]}]\n",
    ))
    .await;

    let answer = chat(&proxy, hello_stream("gpt-a")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(stream_content(&answer.text), "from b", "{}", answer.text);
    assert!(!answer.text.contains("never"), "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (1, 1));
    assert_eq!(answer.header("x-litellm-attempted-fallbacks"), "1");
    wait_until("the stalled call is cancelled", || a.cancelled() == 1).await;
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
        "two attempts of the deployments' 0.3 s, not the router's 3 s"
    );
    assert!(
        answer.elapsed < Duration::from_millis(1500),
        "{:?}",
        answer.elapsed
    );
}

#[tokio::test]
async fn a_request_service_tier_picks_the_deployments_timeout_for_that_tier() {
    // LiteLLM's `timeout_by_service_tier`: a flex request may wait longer.
    let slow = MockUpstream::start().await;
    slow.set_default(Reply::ok().delay(Duration::from_millis(900)));
    let proxy = start(&config(
        &[dep(
            "gpt",
            "a1",
            &slow,
            "timeout: 0.3, timeout_by_service_tier: {flex: 3}",
        )],
        "router_settings:\n  num_retries: 0\n",
    ))
    .await;

    let mut flex = hello("gpt");
    flex["service_tier"] = json!("flex");
    let answer = chat(&proxy, flex).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let call = slow.calls().pop().unwrap().json();
    assert_eq!(call["service_tier"], "flex", "the tier goes upstream");
    assert!(call.get("timeout_by_service_tier").is_none(), "{call}");

    let answer = chat(&proxy, hello("gpt")).await;
    assert_eq!(
        answer.status, 408,
        "no tier: the deployment's 0.3 s: {}",
        answer.text
    );
}
