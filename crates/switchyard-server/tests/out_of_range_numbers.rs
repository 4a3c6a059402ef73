//! No panic from any number (issue 13): seconds from a client, a header or an upstream
//! that a `Duration` cannot hold (or that would overflow a deadline) once panicked the
//! connection's task. Now a client's out-of-range value is a 400 naming the field, an
//! upstream's `Retry-After` is clamped to a year, and the process keeps serving.
//! (The config's are errors with their YAML paths: `switchyard-router`'s `config_load`.)

#[path = "reliability_support.rs"]
mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::*;
use switchyard_testkit::{MockUpstream, ProxyHarness, Reply};

const RANGE: &str = "a number of seconds from 0 to 31536000 (365 days)";

async fn one_deployment(mock: &MockUpstream, settings: &str) -> ProxyHarness {
    start(&config(&[dep("gpt", "a1", mock, "")], settings)).await
}

/// A 400 with the OpenAI error shape whose `param` is `field`.
fn assert_refused(answer: &Answer, field: &str) {
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_openai_error(answer);
    assert_eq!(answer.body["error"]["param"], field, "{}", answer.text);
    assert_eq!(
        answer.body["error"]["type"], "invalid_request_error",
        "{}",
        answer.text
    );
    assert!(answer.message().starts_with(field), "{}", answer.text);
}

/// The process still serves: a plain request right after is answered by the upstream.
async fn assert_still_serving(proxy: &ProxyHarness, mock: &MockUpstream, calls_before: usize) {
    let answer = chat(proxy, hello("gpt")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(mock.call_count(), calls_before + 1);
}

#[tokio::test]
async fn an_out_of_range_x_switchyard_timeout_is_a_400_naming_the_header() {
    let mock = MockUpstream::start().await;
    let proxy = one_deployment(&mock, "").await;

    for value in [
        "1e20",
        "31536001",
        "inf",
        "NaN",
        "-1",
        "0",
        "soon",
        "18446744073709551616",
    ] {
        for body in [hello("gpt"), hello_stream("gpt")] {
            let answer = chat_with(&proxy, body, &[("x-switchyard-timeout", value)]).await;
            assert_refused(&answer, "x-switchyard-timeout");
            assert_eq!(
                answer.message(),
                "x-switchyard-timeout must be a positive number of seconds, at most 31536000 (365 days)",
                "{value}"
            );
        }
    }
    assert_eq!(mock.call_count(), 0, "nothing was routed");
    // The largest accepted value is a year, and it works.
    let answer = chat_with(
        &proxy,
        hello("gpt"),
        &[("x-switchyard-timeout", "31536000")],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_still_serving(&proxy, &mock, 1).await;
}

#[tokio::test]
async fn an_out_of_range_timeout_field_is_a_400_naming_it() {
    let mock = MockUpstream::start().await;
    let proxy = one_deployment(&mock, "").await;

    for (value, shown) in [
        (json!(1e19), "1e+19"),
        (json!("1e20"), "\"1e20\""),
        (json!(-1), "-1"),
        (json!(31_536_001), "31536001"),
        (json!(1e308), "1e+308"),
    ] {
        let mut body = hello("gpt");
        body["timeout"] = value;
        let answer = chat(&proxy, body).await;
        assert_refused(&answer, "timeout");
        assert_eq!(
            answer.message(),
            format!("timeout must be {RANGE}, got {shown}"),
            "{}",
            answer.text
        );
    }
    assert_eq!(mock.call_count(), 0, "nothing was routed");
    // 0 leaves it unset, as in LiteLLM; a year is accepted.
    for value in [json!(0), json!(31_536_000)] {
        let mut body = hello("gpt");
        body["timeout"] = value;
        let answer = chat(&proxy, body).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    assert_still_serving(&proxy, &mock, 2).await;
}

#[tokio::test]
async fn an_out_of_range_mock_delay_is_a_400_naming_it() {
    let mock = MockUpstream::start().await;
    let proxy = one_deployment(&mock, "").await;

    for value in [json!(1e20), json!("1e19"), json!(-1)] {
        for stream in [false, true] {
            let body = json!({
                "model": "gpt", "stream": stream, "mock_response": "canned",
                "mock_delay": value, "messages": [{"role": "user", "content": "hi"}]
            });
            let answer = chat(&proxy, body).await;
            assert_refused(&answer, "mock_delay");
            assert!(
                answer
                    .message()
                    .starts_with(&format!("mock_delay must be {RANGE}, got ")),
                "{}",
                answer.text
            );
        }
    }
    // A reasonable delay still works, and the mock answers without the upstream.
    let body = json!({
        "model": "gpt", "mock_response": "canned", "mock_delay": 0.01,
        "messages": [{"role": "user", "content": "hi"}]
    });
    let answer = chat(&proxy, body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["choices"][0]["message"]["content"], "canned");
    assert_still_serving(&proxy, &mock, 0).await;
}

#[tokio::test]
async fn a_huge_retry_after_on_a_429_is_clamped_and_the_retry_succeeds() {
    for header in ["retry-after", "retry-after-ms"] {
        for value in ["1e30", "inf"] {
            let mock = MockUpstream::start().await;
            mock.push(Reply::error(429, "Rate limit reached").header(header, value));
            mock.set_default(Reply::ok());
            let proxy = one_deployment(&mock, "router_settings:\n  num_retries: 1\n").await;

            let answer = chat(&proxy, hello("gpt")).await;

            // An ask past 60 s is not obeyed: the retry comes after the usual backoff.
            assert_eq!(answer.status, 200, "{header}: {value}: {}", answer.text);
            assert_eq!(mock.call_count(), 2, "{header}: {value}");
            assert!(
                answer.elapsed < Duration::from_secs(3),
                "{header}: {value}: {:?}",
                answer.elapsed
            );
            assert_still_serving(&proxy, &mock, 2).await;
        }
    }
}

#[tokio::test]
async fn a_huge_retry_after_reaches_the_client_clamped_to_a_year() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::error(429, "Rate limit reached").header("retry-after-ms", "1e30"));
    mock.set_default(Reply::ok());
    let proxy = one_deployment(&mock, "router_settings:\n  num_retries: 0\n").await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 429, "{}", answer.text);
    assert_openai_error(&answer);
    assert_eq!(answer.header("retry-after"), "31536000");
    assert_still_serving(&proxy, &mock, 1).await;
}

#[tokio::test]
async fn a_huge_retry_after_cools_the_deployment_for_at_most_a_year_and_others_serve() {
    // Two deployments: a 429 cools the one that sent it (its Retry-After is the length,
    // clamped), and the request and the next ones go to the other.
    let a = MockUpstream::start_named("a").await;
    a.set_default(Reply::error(429, "Rate limit reached").header("retry-after", "1e30"));
    let b = MockUpstream::start_named("b").await;
    let proxy = start(&config(
        &[
            dep("gpt", "a1", &a, "order: 1"),
            dep("gpt", "b1", &b, "order: 2"),
        ],
        "",
    ))
    .await;

    let answer = chat(&proxy, hello("gpt")).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!((a.call_count(), b.call_count()), (1, 1));
    for _ in 0..3 {
        let answer = chat(&proxy, hello("gpt")).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    assert_eq!(
        (a.call_count(), b.call_count()),
        (1, 4),
        "a1 is cooling down"
    );
    let body: Value = answer.body;
    assert!(
        body["id"].as_str().is_some_and(|id| id.contains("-b-")),
        "{body}"
    );
}
