//! Stream failures, client disconnects and graceful shutdown.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use switchyard_testkit::{MockUpstream, ProxyHarness, Reply};

fn config(mock: &MockUpstream) -> String {
    format!(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params: {{ model: openai/gpt-4o, api_base: {}, api_key: k }}\nrouter_settings:\n  num_retries: 0\n",
        mock.url()
    )
}

fn stream_body() -> Value {
    json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "hi"}]})
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn an_upstream_drop_mid_stream_ends_the_stream_with_an_error_event() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::chat_stream(&["a", "b", "c", "d"]).drop_after(2));
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();
    let resp = proxy
        .client()
        .post(format!("{}/v1/chat/completions", proxy.url()))
        .json(&stream_body())
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "the stream was committed at its first event"
    );
    let text = resp.text().await.unwrap();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(
        events.len(),
        3,
        "two upstream events then one error event: {text}"
    );
    let last: Value = serde_json::from_str(events[2].strip_prefix("data: ").unwrap()).unwrap();
    assert!(last["error"]["message"].is_string(), "{last}");
    assert!(!text.contains("[DONE]"));
    assert_eq!(
        mock.call_count(),
        1,
        "no retry after the first streamed byte"
    );
}

#[tokio::test]
async fn an_error_before_the_first_event_is_an_ordinary_http_error() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::error(503, "overloaded"));
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();
    let resp = proxy
        .client()
        .post(format!("{}/v1/chat/completions", proxy.url()))
        .json(&stream_body())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "503");
}

#[tokio::test]
async fn a_client_that_disconnects_mid_stream_cancels_the_upstream_request() {
    let mock = MockUpstream::start().await;
    let pieces: Vec<String> = (0..50).map(|i| format!("w{i} ")).collect();
    let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
    mock.push(Reply::chat_stream(&refs).chunk_delay(Duration::from_millis(100)));
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();
    let resp = proxy
        .client()
        .post(format!("{}/v1/chat/completions", proxy.url()))
        .json(&stream_body())
        .send()
        .await
        .unwrap();
    let mut body = resp.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    drop(body);
    wait_until("the upstream sees the cancellation", || {
        mock.cancelled() == 1
    })
    .await;
    wait_until("nothing is in flight upstream", || mock.in_flight() == 0).await;
    let in_flight = proxy
        .state()
        .router()
        .state_store()
        .in_flight(&[proxy.state().router().deployments("gpt-4o")[0].id.as_str()])
        .await
        .unwrap();
    assert_eq!(in_flight, vec![0], "the proxy released its in-flight slot");
}

#[tokio::test]
async fn a_client_that_disconnects_before_the_answer_cancels_the_upstream_request() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::ok().delay(Duration::from_secs(20)));
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();
    let client = proxy.client().clone();
    let url = format!("{}/v1/chat/completions", proxy.url());
    let request = tokio::spawn(async move {
        client
            .post(url)
            .json(&json!({"model": "gpt-4o", "messages": []}))
            .send()
            .await
    });
    wait_until("the upstream gets the call", || mock.in_flight() == 1).await;
    request.abort();
    wait_until("the upstream sees the cancellation", || {
        mock.cancelled() == 1
    })
    .await;
    assert_eq!(mock.in_flight(), 0);
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::ok().delay(Duration::from_millis(500)));
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();
    let client = proxy.client().clone();
    let url = format!("{}/v1/chat/completions", proxy.url());
    let request = tokio::spawn(async move {
        client
            .post(url)
            .json(&json!({"model": "gpt-4o", "messages": []}))
            .send()
            .await
    });
    wait_until("the upstream gets the call", || mock.in_flight() == 1).await;
    let addr = proxy.addr();
    proxy.shutdown().await;
    let resp = request.await.unwrap().unwrap();
    assert_eq!(resp.status(), 200, "the in-flight request completed");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no new connections after shutdown"
    );
}
