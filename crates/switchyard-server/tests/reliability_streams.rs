//! Streams commit at their first token (issues 4 and 14): before it, a failure is
//! retried or falls back like any call, and events without output (a role-only delta)
//! are held back; after it, the stream ends with an error event and nothing is retried.
//!
//! LiteLLM 1.106 facts and issue rules these tests rely on:
//! - `async_function_with_retries` / `async_function_with_fallbacks` (`litellm/router.py`)
//!   wrap streaming calls like any other: an error raised before the stream is handed
//!   back (a non-2xx status, a connection error) is retried in the group, then falls back.
//! - LiteLLM 1.106 also has mid-stream fallbacks (`MidStreamFallbackControls` in
//!   `router_utils/fallback_event_handlers.py`); Switchyard does not: DESIGN.md's
//!   invariant "No retry or fallback after the first streamed byte", issue 4's "after it,
//!   the stream ends with an error event and is never retried".
//! - Issue 4: the commit point is not the response headers, so a 200 whose body ends
//!   before any event is still retried (*fix* of `stream_timeout` / commit semantics).
//!   Issue 14 moves it to the first event that carries output, so an upstream that sends
//!   its role chunk and stalls is abandoned at `stream_timeout` (*fix*).
//! - `_time_to_sleep_before_retry`: no backoff while another healthy deployment exists.

#[path = "reliability_support.rs"]
mod support;

use std::time::Duration;

use serde_json::Value;
use support::*;
use switchyard_testkit::{MockUpstream, Reply};

/// gpt-a: two deployments on `a`; gpt-b: one on `b`; gpt-a falls back to gpt-b.
fn two_groups(a: &MockUpstream, b: &MockUpstream, settings: &str) -> String {
    config(
        &[
            dep("gpt-a", "a1", a, ""),
            dep("gpt-a", "a2", a, ""),
            dep("gpt-b", "b1", b, ""),
        ],
        &format!("router_settings:\n  fallbacks: [{{gpt-a: [gpt-b]}}]\n{settings}"),
    )
}

fn assert_whole_stream(answer: &Answer, content: &str) {
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(
        answer
            .header("content-type")
            .starts_with("text/event-stream"),
        "{:?}",
        answer.headers
    );
    assert_eq!(stream_content(&answer.text), content, "{}", answer.text);
    assert!(answer.text.ends_with("data: [DONE]\n\n"), "{}", answer.text);
}

#[tokio::test]
async fn an_error_status_before_the_first_event_is_retried() {
    let a = MockUpstream::start().await;
    a.push(Reply::error(500, "boom"));
    a.set_default(Reply::chat_stream(&["after", " retry"]));
    let b = MockUpstream::start().await;
    let proxy = start(&two_groups(&a, &b, "")).await;

    let answer = chat(&proxy, hello_stream("gpt-a")).await;

    assert_whole_stream(&answer, "after retry");
    assert_eq!((a.call_count(), b.call_count()), (2, 0));
    assert_eq!(answer.header("x-litellm-attempted-retries"), "1");
}

#[tokio::test]
async fn a_connection_dropped_before_the_first_event_is_retried() {
    let a = MockUpstream::start().await;
    // 200 and SSE headers, then the connection closes before any event.
    a.push(Reply::chat_stream(&["never"]).drop_after(0));
    a.set_default(Reply::chat_stream(&["after", " retry"]));
    let b = MockUpstream::start().await;
    let proxy = start(&two_groups(&a, &b, "")).await;

    let answer = chat(&proxy, hello_stream("gpt-a")).await;

    assert_whole_stream(&answer, "after retry");
    assert_eq!((a.call_count(), b.call_count()), (2, 0));
}

#[tokio::test]
async fn an_error_before_the_first_event_falls_back() {
    let a = MockUpstream::start().await;
    a.set_default(Reply::error(429, "Rate limit reached"));
    let b = MockUpstream::start().await;
    b.set_default(Reply::chat_stream(&["from", " b"]));
    let proxy = start(&two_groups(&a, &b, "  num_retries: 0\n")).await;

    let answer = chat(&proxy, hello_stream("gpt-a")).await;

    assert_whole_stream(&answer, "from b");
    assert_eq!((a.call_count(), b.call_count()), (1, 1));
    assert_eq!(answer.header("x-litellm-attempted-fallbacks"), "1");
}

#[tokio::test]
async fn a_drop_after_the_first_event_ends_the_stream_with_an_error_event_and_no_retry() {
    let a = MockUpstream::start().await;
    a.push(Reply::chat_stream(&["a", "b", "c", "d"]).drop_after(2));
    let b = MockUpstream::start().await;
    let proxy = start(&two_groups(&a, &b, "")).await;

    let answer = chat(&proxy, hello_stream("gpt-a")).await;

    assert_eq!(answer.status, 200, "committed at the first event");
    let events = sse_payloads(&answer.text);
    assert_eq!(
        events.len(),
        3,
        "two upstream events, then one error event: {}",
        answer.text
    );
    let last: Value = serde_json::from_str(&events[2]).expect("the error event is JSON");
    assert!(last["error"]["message"].is_string(), "{last}");
    assert!(last["error"]["type"].is_string(), "{last}");
    assert!(!answer.text.contains("[DONE]"));
    assert_eq!(
        (a.call_count(), b.call_count()),
        (1, 0),
        "no retry, no fallback after the first event"
    );
    assert_router_in_flight_returns_to_zero(&proxy, &["gpt-a", "gpt-b"]).await;
}

#[tokio::test]
async fn a_stream_that_fails_everywhere_before_its_first_event_is_an_http_error() {
    let a = MockUpstream::start().await;
    a.set_default(Reply::error(503, "overloaded"));
    let b = MockUpstream::start().await;
    b.set_default(Reply::error(503, "overloaded"));
    let proxy = start(&two_groups(&a, &b, "  num_retries: 1\n")).await;

    let answer = chat(&proxy, hello_stream("gpt-a")).await;

    assert_eq!(answer.status, 503, "{}", answer.text);
    assert_openai_error(&answer);
    assert_eq!((a.call_count(), b.call_count()), (2, 2));
    assert_eq!(answer.route().len(), 4);
}

/// The payloads of a stream's chunks that name a role.
fn role_chunks(text: &str) -> usize {
    sse_payloads(text)
        .iter()
        .filter_map(|p| serde_json::from_str::<Value>(p).ok())
        .filter(|chunk| chunk["choices"][0]["delta"]["role"].is_string())
        .count()
}

#[tokio::test]
async fn a_role_chunk_then_a_stall_is_abandoned_at_stream_timeout_and_retried_cleanly() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::chat_stream(&["lost"]).stall_after(1));
    mock.set_default(Reply::chat_stream(&["Hello", " world"]));
    let proxy = start(&config(
        &[dep("gpt", "a1", &mock, "stream_timeout: 0.5")],
        "router_settings:\n  num_retries: 1\n  retry_after: 0\n",
    ))
    .await;

    let answer = chat(&proxy, hello_stream("gpt")).await;

    assert_whole_stream(&answer, "Hello world");
    assert_eq!(
        role_chunks(&answer.text),
        1,
        "the stalled attempt's role chunk was held back, not sent: {}",
        answer.text
    );
    assert_eq!(mock.call_count(), 2);
    assert!(
        answer.elapsed >= Duration::from_millis(450),
        "abandoned at stream_timeout: {:?}",
        answer.elapsed
    );
    assert_eq!(answer.header("x-litellm-attempted-retries"), "1");
    wait_until("the stalled call is cancelled", || mock.cancelled() == 1).await;
    assert_router_in_flight_returns_to_zero(&proxy, &["gpt"]).await;
}

#[tokio::test]
async fn a_role_chunk_then_a_stall_falls_back_when_retries_are_spent() {
    let a = MockUpstream::start().await;
    a.set_default(Reply::chat_stream(&["lost"]).stall_after(1));
    let b = MockUpstream::start().await;
    b.set_default(Reply::chat_stream(&["from", " b"]));
    let proxy = start(&config(
        &[
            dep("gpt-a", "a1", &a, "stream_timeout: 0.4"),
            dep("gpt-b", "b1", &b, ""),
        ],
        "router_settings:\n  num_retries: 0\n  fallbacks: [{gpt-a: [gpt-b]}]\n",
    ))
    .await;

    let answer = chat(&proxy, hello_stream("gpt-a")).await;

    assert_whole_stream(&answer, "from b");
    assert_eq!(role_chunks(&answer.text), 1, "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (1, 1));
    let route = answer.route_strings();
    assert!(route[0].ends_with(":408"), "{route:?}");
}

#[tokio::test]
async fn events_without_output_wait_for_the_first_token_and_then_go_out_together() {
    // The role chunk, then the content after 0.3 s: inside stream_timeout, so one
    // attempt, and the client still gets every event in order.
    let mock = MockUpstream::start().await;
    mock.set_default(
        Reply::chat_stream(&["late", " token"]).chunk_delay(Duration::from_millis(300)),
    );
    let proxy = start(&config(&[dep("gpt", "a1", &mock, "stream_timeout: 2")], "")).await;

    let answer = chat(&proxy, hello_stream("gpt")).await;

    assert_whole_stream(&answer, "late token");
    assert_eq!(role_chunks(&answer.text), 1);
    assert_eq!(mock.call_count(), 1);
}

#[tokio::test]
async fn a_stream_that_ends_without_any_token_is_answered_as_it_is() {
    // A role chunk and a finish chunk, no content: nothing to wait for once [DONE] comes.
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::sse(vec![
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#.to_owned(),
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#.to_owned(),
    ]));
    let proxy = start(&config(&[dep("gpt", "a1", &mock, "")], "")).await;

    let answer = chat(&proxy, hello_stream("gpt")).await;

    assert_whole_stream(&answer, "");
    assert_eq!(sse_payloads(&answer.text).len(), 3, "{}", answer.text);
    assert_eq!(mock.call_count(), 1);
}

#[tokio::test]
async fn a_drop_after_the_role_chunk_is_retried_not_cut() {
    // Before issue 14 this was committed at the role chunk and cut with an error event.
    let a = MockUpstream::start().await;
    a.push(Reply::chat_stream(&["a", "b"]).drop_after(1));
    let b = MockUpstream::start().await;
    let proxy = start(&two_groups(&a, &b, "  num_retries: 1\n")).await;

    let answer = chat(&proxy, hello_stream("gpt-a")).await;

    assert_whole_stream(&answer, "Hello from mock");
    assert_eq!(role_chunks(&answer.text), 1, "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (2, 0));
}
