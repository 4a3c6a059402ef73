//! Tests of the hooks the reliability tests lean on: `max_in_flight`,
//! `first_chunk_delay`, `start_named` ids and the completion log.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use crate::{MockUpstream, Reply};

/// One client per process: building one loads the TLS roots, which is slow.
fn client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| reqwest::Client::builder().no_proxy().build().unwrap())
        .clone()
}

fn chat(stream: bool) -> Value {
    json!({ "model": "m", "messages": [{ "role": "user", "content": "hi" }], "stream": stream })
}

#[tokio::test]
async fn max_in_flight_is_the_peak_and_can_be_reset() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::ok().delay(Duration::from_millis(200)));
    assert_eq!(mock.max_in_flight(), 0);
    let url = format!("{}/chat/completions", mock.url());
    let calls = (0..3).map(|_| {
        let url = url.clone();
        async move { client().post(url).json(&chat(false)).send().await.unwrap() }
    });
    for resp in futures::future::join_all(calls).await {
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(mock.max_in_flight(), 3);
    assert!(
        mock.wait_until(Duration::from_secs(5), |m| m.in_flight() == 0)
            .await
    );
    mock.reset_max_in_flight();
    assert_eq!(mock.max_in_flight(), 0);
    let resp = client().post(&url).json(&chat(false)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(mock.max_in_flight(), 1);
}

#[tokio::test]
async fn first_chunk_delay_holds_the_first_event_not_the_headers() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::chat_stream(&["a", "b"]).first_chunk_delay(Duration::from_millis(300)));
    let started = Instant::now();
    let resp = client()
        .post(format!("{}/chat/completions", mock.url()))
        .json(&chat(true))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "headers come at once: {:?}",
        started.elapsed()
    );
    let mut body = resp.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert!(first.starts_with(b"data: "));
    let mut rest = Vec::new();
    while let Some(chunk) = body.next().await {
        rest.extend_from_slice(&chunk.unwrap());
    }
    assert!(
        String::from_utf8(rest)
            .unwrap()
            .ends_with("data: [DONE]\n\n")
    );
}

#[tokio::test]
async fn a_named_mock_puts_its_name_and_the_serial_in_ids_and_logs_completions() {
    let mock = MockUpstream::start_named("m7").await;
    let url = format!("{}/chat/completions", mock.url());
    let plain: Value = client()
        .post(&url)
        .json(&chat(false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plain["id"], "chatcmpl-mock-m7-1");
    let text = client()
        .post(&url)
        .json(&chat(true))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(r#""id":"chatcmpl-mock-m7-2""#), "{text}");
    let completion: Value = client()
        .post(format!("{}/completions", mock.url()))
        .json(&json!({"model": "m", "prompt": "x"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(completion["id"], "cmpl-mock-m7-3");
    let statuses: Vec<(u64, u16)> = mock
        .completions()
        .iter()
        .map(|c| (c.serial, c.status))
        .collect();
    assert_eq!(statuses, vec![(1, 200), (2, 200), (3, 200)]);

    // An unnamed mock keeps the plain ids.
    let unnamed = MockUpstream::start().await;
    let body: Value = client()
        .post(format!("{}/chat/completions", unnamed.url()))
        .json(&chat(false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["id"], "chatcmpl-mock-1");
}

#[tokio::test]
async fn a_stream_cut_by_the_script_or_dropped_by_the_client_is_not_a_completion() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::chat_stream(&["a", "b", "c"]).drop_after(2));
    mock.push(Reply::chat_stream(&["a", "b", "c"]).chunk_delay(Duration::from_millis(200)));
    mock.push(Reply::error(503, "busy"));
    let url = format!("{}/chat/completions", mock.url());
    let cut = client().post(&url).json(&chat(true)).send().await.unwrap();
    assert!(cut.text().await.is_err(), "the body ends in an error");
    let slow = client().post(&url).json(&chat(true)).send().await.unwrap();
    let mut body = slow.bytes_stream();
    let _ = body.next().await.unwrap().unwrap();
    drop(body);
    let busy = client().post(&url).json(&chat(false)).send().await.unwrap();
    assert_eq!(busy.status(), 503);
    let _ = busy.bytes().await.unwrap();
    assert!(
        mock.wait_until(Duration::from_secs(5), |m| m.in_flight() == 0
            && m.cancelled() == 1)
            .await
    );
    let statuses: Vec<(u64, u16)> = mock
        .completions()
        .iter()
        .map(|c| (c.serial, c.status))
        .collect();
    assert_eq!(statuses, vec![(3, 503)], "only the 503 was sent in full");
    assert_eq!(mock.completed_with_status(503), 1);
    assert_eq!(mock.completed_with_status(200), 0);
}
