//! The OpenAI dialect end to end against tiny servers on 127.0.0.1:0.
//!
//! axum serves the plain request/response cases; a hand-written HTTP/1.1
//! server serves the streaming cases, so each test decides exactly which bytes
//! go out in which TCP write and when the connection closes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use futures::StreamExt;
use secrecy::SecretString;
use switchyard_providers::client::{HttpClientOptions, build_http_client};
use switchyard_providers::{
    ByteStream, Endpoint, ErrorKind, ProviderError, ProviderRequest, ProviderResponse,
    ProviderSpec, build_provider,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

// ---------------------------------------------------------------- helpers

/// What the axum server saw.
#[derive(Debug, Clone)]
struct Seen {
    path_and_query: String,
    headers: HeaderMap,
    body: Bytes,
}

/// What the axum server answers.
#[derive(Clone)]
struct Reply {
    status: StatusCode,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static str,
    delay: Duration,
}

impl Reply {
    fn ok(body: &'static str) -> Self {
        Self {
            status: StatusCode::OK,
            headers: vec![],
            body,
            delay: Duration::ZERO,
        }
    }
}

type Log = Arc<Mutex<Vec<Seen>>>;

async fn axum_server(reply: Reply) -> (String, Log) {
    let log: Log = Arc::default();
    let app = axum::Router::new()
        .fallback(handler)
        .with_state((reply, log.clone()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), log)
}

async fn handler(State((reply, log)): State<(Reply, Log)>, req: Request) -> impl IntoResponse {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    log.lock().unwrap().push(Seen {
        path_and_query: parts.uri.path_and_query().unwrap().to_string(),
        headers: parts.headers,
        body,
    });
    tokio::time::sleep(reply.delay).await;
    let mut headers = HeaderMap::new();
    for (k, v) in reply.headers {
        headers.insert(k, v.parse().unwrap());
    }
    (reply.status, headers, reply.body)
}

/// One step of a hand-written streaming response.
enum Step {
    /// Write these bytes as one HTTP chunk (one TCP write).
    Write(&'static [u8]),
    Sleep(Duration),
    /// Close the socket without the terminating chunk.
    Drop,
    /// Wait until the client closes its side, then report it.
    AwaitClientClose(oneshot::Sender<()>),
}

/// Serves one connection: reads the request, answers 200 with a chunked SSE
/// body following `steps`, and ends cleanly unless a step says otherwise.
async fn sse_server(steps: Vec<Step>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        sock.set_nodelay(true).unwrap();
        read_request(&mut sock).await;
        sock.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        )
        .await
        .unwrap();
        for step in steps {
            match step {
                Step::Write(bytes) => {
                    let mut chunk = format!("{:x}\r\n", bytes.len()).into_bytes();
                    chunk.extend_from_slice(bytes);
                    chunk.extend_from_slice(b"\r\n");
                    sock.write_all(&chunk).await.unwrap();
                }
                Step::Sleep(d) => tokio::time::sleep(d).await,
                Step::Drop => return,
                Step::AwaitClientClose(tx) => {
                    let mut buf = [0u8; 1024];
                    while sock.read(&mut buf).await.is_ok_and(|n| n > 0) {}
                    let _ = tx.send(());
                    return;
                }
            }
        }
        let _ = sock.write_all(b"0\r\n\r\n").await;
    });
    format!("http://{addr}")
}

async fn read_request(sock: &mut TcpStream) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    loop {
        let n = sock.read(&mut byte).await.unwrap();
        buf.extend_from_slice(&byte[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while buf.len() < end + 4 + len {
                let n = sock.read(&mut byte).await.unwrap();
                buf.extend_from_slice(&byte[..n]);
            }
            return;
        }
    }
}

fn client() -> switchyard_providers::client::HttpClient {
    build_http_client(&HttpClientOptions::default())
}

fn spec(model: &str, api_base: &str, key: Option<&str>) -> ProviderSpec {
    ProviderSpec {
        model: model.into(),
        api_base: Some(api_base.into()),
        api_key: key.map(SecretString::from),
        api_version: None,
    }
}

fn chat(body: &'static str, stream: bool, timeout: Option<Duration>) -> ProviderRequest {
    ProviderRequest {
        endpoint: Endpoint::ChatCompletions,
        body: Bytes::from_static(body.as_bytes()),
        stream,
        timeout,
    }
}

async fn send(
    model: &str,
    base: &str,
    req: ProviderRequest,
) -> Result<ProviderResponse, ProviderError> {
    let built = build_provider(&spec(model, base, Some("sk-test-key")), &client()).unwrap();
    built.provider.send(req).await
}

fn into_stream(resp: ProviderResponse) -> ByteStream {
    match resp {
        ProviderResponse::Stream(s) => s,
        other => panic!("expected a stream, got {other:?}"),
    }
}

async fn collect(mut stream: ByteStream) -> (Vec<Bytes>, Option<ProviderError>) {
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(bytes) => items.push(bytes),
            Err(e) => {
                assert!(stream.next().await.is_none(), "nothing after an error");
                return (items, Some(e));
            }
        }
    }
    (items, None)
}

const WEIRD_BODY: &str = r#"{"model":"gpt-4o",  "messages":[{"role":"user","content":"hi \u00e9"}],"x_unknown":{"keep":[1,2.50,null]},"temperature":0.7}"#;

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn openai_request_path_headers_and_body_pass_through() {
    let (base, log) = axum_server(Reply::ok(
        r#"{"id":"chatcmpl-1","object":"chat.completion"}"#,
    ))
    .await;
    let resp = send(
        "openai/gpt-4o",
        &format!("{base}/v1"),
        chat(WEIRD_BODY, false, None),
    )
    .await
    .unwrap();
    match resp {
        ProviderResponse::Complete(body) => {
            assert_eq!(
                &body[..],
                br#"{"id":"chatcmpl-1","object":"chat.completion"}"#
            )
        }
        other => panic!("{other:?}"),
    }
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(seen.path_and_query, "/v1/chat/completions");
    assert_eq!(seen.headers["authorization"], "Bearer sk-test-key");
    assert_eq!(seen.headers["content-type"], "application/json");
    assert!(seen.headers.get("api-key").is_none());
    assert_eq!(
        &seen.body[..],
        WEIRD_BODY.as_bytes(),
        "body must pass through byte for byte"
    );
}

#[tokio::test]
async fn endpoints_map_to_paths_and_no_key_means_no_auth_header() {
    let (base, log) = axum_server(Reply::ok("{}")).await;
    let built = build_provider(&spec("hosted_vllm/m", &base, None), &client()).unwrap();
    for endpoint in [
        Endpoint::Completions,
        Endpoint::Embeddings,
        Endpoint::ImageGenerations,
    ] {
        let req = ProviderRequest {
            endpoint,
            body: Bytes::from_static(b"{}"),
            stream: false,
            timeout: None,
        };
        built.provider.send(req).await.unwrap();
    }
    let log = log.lock().unwrap();
    let paths: Vec<_> = log.iter().map(|s| s.path_and_query.as_str()).collect();
    assert_eq!(
        paths,
        ["/completions", "/embeddings", "/images/generations"]
    );
    assert!(log[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn azure_uses_deployment_path_api_version_and_api_key_header() {
    let (base, log) = axum_server(Reply::ok("{}")).await;
    let mut s = spec("azure/my-deployment", &base, Some("azure-key"));
    s.api_version = Some("2024-06-01".into());
    let built = build_provider(&s, &client()).unwrap();
    assert_eq!(built.upstream_model, "my-deployment");
    built
        .provider
        .send(chat(WEIRD_BODY, false, None))
        .await
        .unwrap();

    // Without api_version: LiteLLM's default.
    let built = build_provider(&spec("azure/other", &base, Some("azure-key")), &client()).unwrap();
    built.provider.send(chat("{}", false, None)).await.unwrap();

    let log = log.lock().unwrap();
    assert_eq!(
        log[0].path_and_query,
        "/openai/deployments/my-deployment/chat/completions?api-version=2024-06-01"
    );
    assert_eq!(log[0].headers["api-key"], "azure-key");
    assert!(log[0].headers.get("authorization").is_none());
    assert_eq!(&log[0].body[..], WEIRD_BODY.as_bytes());
    assert_eq!(
        log[1].path_and_query,
        "/openai/deployments/other/chat/completions?api-version=2025-02-01-preview"
    );
}

#[tokio::test]
async fn http_errors_are_classified_with_retry_after() {
    let cases: Vec<(Reply, ErrorKind, Option<Duration>, &str)> = vec![
        (
            Reply {
                status: StatusCode::TOO_MANY_REQUESTS,
                headers: vec![("retry-after", "2")],
                body: r#"{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","code":"rate_limit_exceeded"}}"#,
                delay: Duration::ZERO,
            },
            ErrorKind::RateLimit,
            Some(Duration::from_secs(2)),
            "Rate limit reached for gpt-4o",
        ),
        (
            Reply {
                status: StatusCode::TOO_MANY_REQUESTS,
                headers: vec![("retry-after-ms", "1500")],
                body: "slow down",
                delay: Duration::ZERO,
            },
            ErrorKind::RateLimit,
            Some(Duration::from_millis(1500)),
            "slow down",
        ),
        (
            Reply {
                status: StatusCode::BAD_REQUEST,
                headers: vec![],
                body: r#"{"error":{"message":"This model's maximum context length is 128000 tokens.","code":"context_length_exceeded"}}"#,
                delay: Duration::ZERO,
            },
            ErrorKind::ContextWindowExceeded,
            None,
            "This model's maximum context length is 128000 tokens.",
        ),
        (
            Reply {
                status: StatusCode::UNAUTHORIZED,
                headers: vec![],
                body: r#"{"error":{"message":"Incorrect API key provided"}}"#,
                delay: Duration::ZERO,
            },
            ErrorKind::Authentication,
            None,
            "Incorrect API key provided",
        ),
        (
            Reply {
                status: StatusCode::SERVICE_UNAVAILABLE,
                headers: vec![("retry-after", "1")],
                body: "<html>upstream overloaded</html>",
                delay: Duration::ZERO,
            },
            ErrorKind::ServiceUnavailable,
            Some(Duration::from_secs(1)),
            "<html>upstream overloaded</html>",
        ),
    ];
    for (reply, kind, retry_after, message) in cases {
        let status = reply.status.as_u16();
        let (base, _) = axum_server(reply).await;
        let err = send("openai/gpt-4o", &base, chat("{}", false, None))
            .await
            .unwrap_err();
        assert_eq!(err.kind, kind, "{status}");
        assert_eq!(err.status, Some(status));
        assert_eq!(err.retry_after, retry_after, "{status}");
        assert_eq!(err.message, message);
        assert_eq!(err.provider, "openai");
        assert!(!err.to_string().contains("sk-test-key"));
    }
}

#[tokio::test]
async fn stream_events_split_across_writes_are_reassembled_and_done_is_not_forwarded() {
    let base = sse_server(vec![
        Step::Write(b": keep-alive\n\n"),
        Step::Write(b"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}"),
        Step::Sleep(Duration::from_millis(30)),
        Step::Write(b"\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hel"),
        Step::Sleep(Duration::from_millis(30)),
        Step::Write(b"lo\"}}]}\n"),
        Step::Sleep(Duration::from_millis(30)),
        Step::Write(
            b"\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DO",
        ),
        Step::Sleep(Duration::from_millis(30)),
        Step::Write(b"NE]\n\n"),
    ])
    .await;
    let resp = send(
        "openai/gpt-4o",
        &base,
        chat("{}", true, Some(Duration::from_secs(5))),
    )
    .await
    .unwrap();
    let (items, err) = collect(into_stream(resp)).await;
    assert!(err.is_none(), "{err:?}");
    // The comment and the role chunk wait for the first token, the commit point,
    // and travel with it (and with whatever else the same read brought).
    assert!(
        items[0].starts_with(
            b": keep-alive\n\ndata: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n\
          data: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\n"
        ),
        "{:?}",
        items[0]
    );
    let all = items.concat();
    assert_eq!(
        String::from_utf8(all).unwrap(),
        ": keep-alive\n\n\
         data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n\
         data: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\n\
         data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    );
    // Every item holds whole events only.
    for item in &items {
        assert!(item.ends_with(b"\n\n"), "{item:?}");
    }
}

/// Events that arrive in one network read leave as one item. (Each HTTP
/// chunk is a separate hyper frame that hyper's connection task delivers one
/// at a time, so events in separate chunks come as separate items: gathering
/// them would mean waiting, which the hot path must not do.)
#[tokio::test]
async fn events_of_one_read_leave_in_one_item() {
    let base = sse_server(vec![
        Step::Write(b"data: {\"n\":1}\n\n"),
        Step::Sleep(Duration::from_millis(50)),
        Step::Write(b"data: {\"n\":2}\n\ndata: {\"n\":3}\n\ndata: {\"n\":4}\n\ndata: [DONE]\n\ndata: {\"after\":1}\n\n"),
    ])
    .await;
    let resp = send("openai/gpt-4o", &base, chat("{}", true, None))
        .await
        .unwrap();
    let mut stream = into_stream(resp);
    assert_eq!(
        &stream.next().await.unwrap().unwrap()[..],
        b"data: {\"n\":1}\n\n"
    );
    let rest = stream.next().await.unwrap().unwrap();
    assert_eq!(
        &rest[..],
        b"data: {\"n\":2}\n\ndata: {\"n\":3}\n\ndata: {\"n\":4}\n\n"
    );
    assert!(stream.next().await.is_none(), "nothing after [DONE]");
}

#[tokio::test]
async fn drop_mid_stream_yields_stream_interrupted() {
    let base = sse_server(vec![
        Step::Write(b"data: {\"n\":1}\n\n"),
        Step::Write(b"data: {\"n\":2}\n\ndata: {\"n\""),
        Step::Drop,
    ])
    .await;
    let resp = send("openai/gpt-4o", &base, chat("{}", true, None))
        .await
        .unwrap();
    let (items, err) = collect(into_stream(resp)).await;
    assert_eq!(items.concat(), b"data: {\"n\":1}\n\ndata: {\"n\":2}\n\n");
    assert_eq!(err.unwrap().kind, ErrorKind::StreamInterrupted);
}

#[tokio::test]
async fn clean_close_without_done_is_still_interrupted() {
    let base = sse_server(vec![Step::Write(b"data: {\"n\":1}\n\n")]).await;
    let resp = send("openai/gpt-4o", &base, chat("{}", true, None))
        .await
        .unwrap();
    let (items, err) = collect(into_stream(resp)).await;
    assert_eq!(items.len(), 1);
    assert_eq!(err.unwrap().kind, ErrorKind::StreamInterrupted);
}

#[tokio::test]
async fn an_error_chunk_after_the_role_chunk_and_before_any_token_is_an_error_return() {
    // OpenRouter's mid-stream error: a chunk with an `error` and an empty delta.
    let base = sse_server(vec![
        Step::Write(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"),
        Step::Write(b"data: {\"id\":\"c\",\"error\":{\"code\":502,\"message\":\"Provider disconnected\"},\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\n"),
    ])
    .await;
    let err = send("openrouter/x", &base, chat("{}", true, None))
        .await
        .unwrap_err();
    assert_eq!(err.message, "Provider disconnected", "{err}");
    assert!(err.kind.is_retryable(), "{err}");
}

#[tokio::test]
async fn error_object_before_first_event_is_an_error_return() {
    let base = sse_server(vec![
        Step::Write(b": processing\n\n"),
        Step::Write(b"data: {\"error\":{\"message\":\"Rate limit exceeded\",\"code\":429}}\n\n"),
    ])
    .await;
    let err = send("openrouter/x", &base, chat("{}", true, None))
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::RateLimit, Some(429)));
    assert_eq!(err.message, "Rate limit exceeded");
    assert_eq!(err.provider, "openrouter");
}

#[tokio::test]
async fn stream_timeout_applies_only_before_the_first_event() {
    // Headers arrive, the first event does not.
    let base = sse_server(vec![
        Step::Write(b": waiting\n\n"),
        Step::Sleep(Duration::from_secs(5)),
    ])
    .await;
    let err = send(
        "openai/gpt-4o",
        &base,
        chat("{}", true, Some(Duration::from_millis(200))),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);

    // After the first event, a pause longer than the timeout is fine.
    let base = sse_server(vec![
        Step::Write(b"data: {\"n\":1}\n\n"),
        Step::Sleep(Duration::from_millis(400)),
        Step::Write(b"data: {\"n\":2}\n\ndata: [DONE]\n\n"),
    ])
    .await;
    let resp = send(
        "openai/gpt-4o",
        &base,
        chat("{}", true, Some(Duration::from_millis(200))),
    )
    .await
    .unwrap();
    let (items, err) = collect(into_stream(resp)).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(items.concat(), b"data: {\"n\":1}\n\ndata: {\"n\":2}\n\n");
}

#[tokio::test]
async fn non_stream_timeout() {
    let (base, _) = axum_server(Reply {
        delay: Duration::from_secs(5),
        ..Reply::ok("{}")
    })
    .await;
    let started = std::time::Instant::now();
    let err = send(
        "openai/gpt-4o",
        &base,
        chat("{}", false, Some(Duration::from_millis(200))),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn connection_refused_is_api_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = send(
        "openai/gpt-4o",
        &format!("http://{addr}/v1"),
        chat("{}", false, None),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ApiConnection);
    assert!(err.kind.is_retryable());
    assert!(err.message.contains("connection failed"), "{}", err.message);
}

#[tokio::test]
async fn dropping_the_stream_closes_the_upstream_connection() {
    let (closed_tx, closed_rx) = oneshot::channel();
    let base = sse_server(vec![
        Step::Write(b"data: {\"n\":1}\n\n"),
        Step::AwaitClientClose(closed_tx),
    ])
    .await;
    let resp = send("openai/gpt-4o", &base, chat("{}", true, None))
        .await
        .unwrap();
    let mut stream = into_stream(resp);
    assert!(stream.next().await.unwrap().is_ok());
    drop(stream);
    tokio::time::timeout(Duration::from_secs(2), closed_rx)
        .await
        .expect("upstream connection still open after the stream was dropped")
        .unwrap();
}

#[tokio::test]
async fn stream_request_answered_with_json_error_body() {
    let (base, _) = axum_server(Reply {
        headers: vec![("content-type", "application/json")],
        ..Reply::ok(r#"{"error":{"message":"boom","code":"500"}}"#)
    })
    .await;
    let err = send("openai/gpt-4o", &base, chat("{}", true, None))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.message.as_str()),
        (ErrorKind::InternalServer, "boom")
    );
}

#[tokio::test]
async fn a_role_chunk_then_silence_is_a_timeout_not_a_stream() {
    // The role chunk arrives at once, then nothing: the stream has no token yet, so the
    // attempt's timeout still applies and the caller may try elsewhere.
    let base = sse_server(vec![
        Step::Write(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"),
        Step::Sleep(Duration::from_secs(5)),
    ])
    .await;
    let started = std::time::Instant::now();
    let err = send(
        "openai/gpt-4o",
        &base,
        chat("{}", true, Some(Duration::from_millis(300))),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(err.message.contains("first stream token"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn endless_events_without_output_commit_once_the_hold_is_full() {
    // An upstream that sends empty deltas and never a token cannot make the hold grow
    // without bound: past 64 KiB the stream is committed as it is.
    let empty: &'static [u8] =
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"}}]}\n\n";
    let many: &'static [u8] = Box::leak(empty.repeat(2000).into_boxed_slice());
    let base = sse_server(vec![Step::Write(many), Step::Sleep(Duration::from_secs(5))]).await;
    let resp = send(
        "openai/gpt-4o",
        &base,
        chat("{}", true, Some(Duration::from_secs(3))),
    )
    .await
    .expect("committed once the hold passed its cap, before the timeout");
    let mut stream = into_stream(resp);
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.len() > 64 * 1024, "{}", first.len());
    assert!(first.ends_with(b"\n\n"));
}

#[test]
fn credentials_in_api_base_are_never_shown() {
    let built = build_provider(
        &spec(
            "openai/gpt-4o",
            "https://user:pw-s3cret@llm.example.com/v1",
            Some("sk-test-key"),
        ),
        &client(),
    )
    .unwrap();
    let shown = built.provider.api_base().unwrap();
    assert_eq!(shown, "https://llm.example.com/v1");
    let debug = format!("{:?}", built.provider);
    assert!(
        !debug.contains("pw-s3cret") && !debug.contains("sk-test-key"),
        "{debug}"
    );
}
