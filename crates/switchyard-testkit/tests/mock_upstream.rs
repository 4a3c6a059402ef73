//! The mock upstream, driven by a real HTTP client over loopback.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use switchyard_testkit::{MockUpstream, Reply};

const WAIT: Duration = Duration::from_secs(5);

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn post(url: &str, body: Value) -> reqwest::Response {
    client().post(url).json(&body).send().await.unwrap()
}

fn chat(stream: bool) -> Value {
    json!({ "model": "gpt-4o-mini", "messages": [{ "role": "user", "content": "hi" }], "stream": stream })
}

/// The `data:` payloads of an SSE body, `[DONE]` included.
fn sse_payloads(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.strip_prefix("data: ")
                .expect("every event is a data line")
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn default_reply_is_a_chat_completion_echoing_the_model() {
    let mock = MockUpstream::start().await;
    let response = post(&format!("{}/chat/completions", mock.url()), chat(false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello from mock");
    assert_eq!(body["usage"]["total_tokens"], 13);
    assert_eq!(mock.call_count(), 1);
    assert_eq!(mock.in_flight(), 0);
    assert_eq!(mock.cancelled(), 0);
}

#[tokio::test]
async fn default_reply_fits_each_endpoint() {
    let mock = MockUpstream::start().await;
    let text: Value = post(
        &format!("{}/completions", mock.url()),
        json!({ "model": "m", "prompt": "x" }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(text["object"], "text_completion");
    assert_eq!(text["choices"][0]["text"], "Hello from mock");

    let emb: Value = post(
        &format!("{}/embeddings", mock.url()),
        json!({ "model": "e", "input": ["a", "b"] }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(emb["object"], "list");
    assert_eq!(emb["data"].as_array().unwrap().len(), 2);
    assert_eq!(emb["data"][1]["index"], 1);

    let img: Value = post(
        &format!("{}/images/generations", mock.base_url()),
        json!({ "model": "dall-e-3", "prompt": "cat", "n": 2 }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(img["data"].as_array().unwrap().len(), 2);
    assert!(img["data"][0]["url"].is_string());

    let paths: Vec<String> = mock.calls().into_iter().map(|c| c.path).collect();
    assert_eq!(
        paths,
        ["/v1/completions", "/v1/embeddings", "/images/generations"]
    );
}

#[tokio::test]
async fn scripted_replies_come_in_order_then_the_default() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::error(429, "slow down").header("Retry-After", "7"));
    mock.push(Reply::json(201, json!({ "custom": true })));
    mock.set_default(Reply::error(503, "down"));
    let url = format!("{}/chat/completions", mock.url());

    let first = post(&url, chat(false)).await;
    assert_eq!(first.status(), 429);
    assert_eq!(first.headers()["retry-after"], "7");
    let error: Value = first.json().await.unwrap();
    assert_eq!(error["error"]["message"], "slow down");
    assert_eq!(error["error"]["type"], "rate_limit_error");
    assert!(error["error"].as_object().unwrap().contains_key("param"));

    let second = post(&url, chat(false)).await;
    assert_eq!(second.status(), 201);
    assert_eq!(
        second.json::<Value>().await.unwrap(),
        json!({ "custom": true })
    );

    for _ in 0..2 {
        assert_eq!(post(&url, chat(false)).await.status(), 503);
    }
    assert_eq!(mock.call_count(), 4);
}

#[tokio::test]
async fn records_requests_as_received() {
    let mock = MockUpstream::start().await;
    let raw = r#"{"model":"gpt-4o","messages":[],"unknown_field":{"x":1}}"#;
    client()
        .post(format!("{}/chat/completions", mock.url()))
        .header("authorization", "Bearer sk-test")
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    let calls = mock.calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.method, "POST");
    assert_eq!(call.path, "/v1/chat/completions");
    assert_eq!(call.query, None);
    assert_eq!(call.body, raw.as_bytes());
    assert_eq!(call.header("Authorization"), Some("Bearer sk-test"));
    assert_eq!(call.json()["unknown_field"]["x"], 1);
}

#[tokio::test]
async fn records_azure_paths_and_query() {
    let mock = MockUpstream::start().await;
    let url = format!(
        "{}/openai/deployments/my-gpt4/chat/completions?api-version=2024-06-01",
        mock.base_url()
    );
    let response = client()
        .post(url)
        .header("api-key", "azure-key")
        .json(&json!({ "messages": [] }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    // Without a model in the body, the deployment name is echoed.
    assert_eq!(body["model"], "my-gpt4");
    let call = &mock.calls()[0];
    assert_eq!(call.path, "/openai/deployments/my-gpt4/chat/completions");
    assert_eq!(call.query.as_deref(), Some("api-version=2024-06-01"));
    assert_eq!(call.azure_deployment(), Some("my-gpt4"));
    assert_eq!(call.header("api-key"), Some("azure-key"));

    let emb = format!(
        "{}/openai/deployments/emb/embeddings?api-version=2024-06-01",
        mock.base_url()
    );
    assert_eq!(post(&emb, json!({ "input": "x" })).await.status(), 200);
    assert_eq!(mock.calls()[1].azure_deployment(), Some("emb"));
}

#[tokio::test]
async fn unknown_paths_are_not_found() {
    let mock = MockUpstream::start().await;
    let response = post(&format!("{}/nope", mock.url()), json!({})).await;
    assert_eq!(response.status(), 404);
    assert_eq!(mock.call_count(), 0);
}

#[tokio::test]
async fn delay_holds_the_response_headers_and_counts_in_flight() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::ok().delay(Duration::from_millis(300)));
    let url = format!("{}/chat/completions", mock.url());
    let start = Instant::now();
    let pending = tokio::spawn(async move { post(&url, chat(false)).await.status() });
    assert!(mock.wait_until(WAIT, |m| m.in_flight() == 1).await);
    assert_eq!(pending.await.unwrap(), 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert!(mock.wait_until(WAIT, |m| m.in_flight() == 0).await);
    assert_eq!(mock.cancelled(), 0);
}

#[tokio::test]
async fn default_stream_is_chat_chunks_then_done() {
    let mock = MockUpstream::start().await;
    let body = json!({ "model": "gpt-4o", "messages": [], "stream": true, "stream_options": { "include_usage": true } });
    let response = post(&format!("{}/chat/completions", mock.url()), body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let payloads = sse_payloads(&response.text().await.unwrap());
    assert_eq!(payloads.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = payloads[..payloads.len() - 1]
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk" && c["model"] == "gpt-4o")
    );
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello from mock");
    let finish = chunks
        .iter()
        .find(|c| c["choices"][0]["finish_reason"] == "stop");
    assert!(finish.is_some());
    assert_eq!(chunks.last().unwrap()["usage"]["completion_tokens"], 3);
    assert!(mock.wait_until(WAIT, |m| m.in_flight() == 0).await);
    assert_eq!(mock.cancelled(), 0);
}

#[tokio::test]
async fn raw_sse_events_are_framed_as_given() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::sse(vec!["{\"a\":1}".into(), "{\"b\":2}".into()]));
    let response = post(&format!("{}/chat/completions", mock.url()), chat(true)).await;
    assert_eq!(
        response.text().await.unwrap(),
        "data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n"
    );
}

#[tokio::test]
async fn chat_stream_carries_the_pieces_with_chunk_delay() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::chat_stream(&["a", "b", "c"]).chunk_delay(Duration::from_millis(50)));
    let start = Instant::now();
    let response = post(&format!("{}/chat/completions", mock.url()), chat(true)).await;
    let payloads = sse_payloads(&response.text().await.unwrap());
    // role, 3 pieces, finish, [DONE]: five gaps of 50 ms.
    assert_eq!(payloads.len(), 6);
    assert!(start.elapsed() >= Duration::from_millis(250));
    let text: String = payloads[..5]
        .iter()
        .map(|p| serde_json::from_str::<Value>(p).unwrap())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "abc");
}

#[tokio::test]
async fn drop_after_cuts_a_stream_without_done() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::sse((0..5).map(|i| format!("{{\"n\":{i}}}")).collect()).drop_after(2));
    let response = post(&format!("{}/chat/completions", mock.url()), chat(true)).await;
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut received = Vec::new();
    let mut failed = false;
    while let Some(item) = stream.next().await {
        match item {
            Ok(bytes) => received.extend_from_slice(&bytes),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "a cut stream ends with an error, not a clean end");
    assert_eq!(
        String::from_utf8(received).unwrap(),
        "data: {\"n\":0}\n\ndata: {\"n\":1}\n\n"
    );
    assert!(mock.wait_until(WAIT, |m| m.in_flight() == 0).await);
    assert_eq!(mock.cancelled(), 0, "a scripted cut is not a cancellation");
}

#[tokio::test]
async fn drop_after_on_a_plain_reply_closes_without_a_response() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::ok().drop_after(0));
    let result = client()
        .post(format!("{}/chat/completions", mock.url()))
        .json(&chat(false))
        .send()
        .await;
    assert!(result.is_err(), "no response expected, got {result:?}");
    assert!(mock.wait_until(WAIT, |m| m.in_flight() == 0).await);
    assert_eq!(mock.cancelled(), 0);
    // The next call is served normally.
    assert_eq!(
        post(&format!("{}/chat/completions", mock.url()), chat(false))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_client_dropping_a_stream_midway_is_counted() {
    let mock = MockUpstream::start().await;
    let pieces: Vec<String> = (0..100).map(|i| format!("w{i} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    mock.push(Reply::chat_stream(&pieces).chunk_delay(Duration::from_millis(20)));
    let response = post(&format!("{}/chat/completions", mock.url()), chat(true)).await;
    let mut stream = response.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    assert_eq!(mock.in_flight(), 1);
    drop(stream);
    assert!(
        mock.wait_until(WAIT, |m| m.cancelled() == 1).await,
        "cancelled = {}",
        mock.cancelled()
    );
    assert!(mock.wait_until(WAIT, |m| m.in_flight() == 0).await);
}

#[tokio::test]
async fn hang_stays_in_flight_until_the_client_gives_up() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::ok().hang());
    let result = client()
        .post(format!("{}/chat/completions", mock.url()))
        .timeout(Duration::from_millis(200))
        .json(&chat(false))
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
    assert!(
        mock.wait_until(WAIT, |m| m.cancelled() == 1 && m.in_flight() == 0)
            .await
    );
}

#[tokio::test]
async fn a_client_timeout_during_delay_is_a_cancellation() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::ok().delay(Duration::from_secs(30)));
    let result = client()
        .post(format!("{}/chat/completions", mock.url()))
        .timeout(Duration::from_millis(100))
        .json(&chat(false))
        .send()
        .await;
    assert!(result.is_err());
    assert!(
        mock.wait_until(WAIT, |m| m.cancelled() == 1 && m.in_flight() == 0)
            .await
    );
}

#[tokio::test]
async fn dropping_the_mock_stops_it() {
    let mock = MockUpstream::start().await;
    let url = format!("{}/chat/completions", mock.url());
    assert_eq!(post(&url, chat(false)).await.status(), 200);
    mock.shutdown().await;
    let result = client().post(&url).json(&chat(false)).send().await;
    assert!(result.is_err());
}

#[tokio::test]
async fn serves_many_concurrent_calls() {
    let mock = MockUpstream::start().await;
    let url = format!("{}/chat/completions", mock.url());
    let client = client();
    let calls = (0..50).map(|_| {
        let client = client.clone();
        let url = url.clone();
        async move {
            client
                .post(&url)
                .json(&chat(true))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    });
    let bodies = futures::future::join_all(calls).await;
    assert!(bodies.iter().all(|b| b.ends_with("data: [DONE]\n\n")));
    assert_eq!(mock.call_count(), 50);
    assert!(mock.wait_until(WAIT, |m| m.in_flight() == 0).await);
    assert_eq!(mock.cancelled(), 0);
}
