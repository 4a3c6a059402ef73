//! The upstream client's HTTP/1.1 exchange and connection reuse, against a
//! raw TCP upstream on 127.0.0.1 that answers with scripted bytes and counts
//! the connections it accepted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use secrecy::SecretString;
use switchyard_providers::client::{HttpClientOptions, ProxyRules, build_http_client};
use switchyard_providers::{
    Endpoint, ErrorKind, Provider, ProviderError, ProviderRequest, ProviderResponse, ProviderSpec,
    build_provider,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the upstream does with each request, in order (the last repeats).
#[derive(Clone)]
enum Answer {
    /// Write these bytes and keep the connection for the next request.
    Bytes(&'static str),
    /// Write these bytes and close the connection.
    ThenClose(&'static str),
}

struct Upstream {
    base: String,
    connections: Arc<AtomicUsize>,
    /// Every request as received (head and body).
    requests: mpsc::UnboundedReceiver<String>,
}

async fn upstream(answers: Vec<Answer>) -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let (tx, requests) = mpsc::unbounded_channel();
    let counter = connections.clone();
    let next = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(socket, answers.clone(), next.clone(), tx.clone()));
        }
    });
    Upstream {
        base,
        connections,
        requests,
    }
}

async fn serve(
    mut socket: TcpStream,
    answers: Vec<Answer>,
    next: Arc<AtomicUsize>,
    tx: mpsc::UnboundedSender<String>,
) {
    let mut buf = Vec::new();
    loop {
        // One request: a head with a content-length, then that many bytes.
        let request = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    let request: Vec<u8> = buf.drain(..end + 4 + len).collect();
                    break String::from_utf8(request).unwrap();
                }
            }
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let _ = tx.send(request);
        let i = next.fetch_add(1, Ordering::SeqCst);
        match answers[i.min(answers.len() - 1)].clone() {
            Answer::Bytes(bytes) => {
                if socket.write_all(bytes.as_bytes()).await.is_err() {
                    return;
                }
            }
            Answer::ThenClose(bytes) => {
                let _ = socket.write_all(bytes.as_bytes()).await;
                return;
            }
        }
    }
}

fn provider(base: &str) -> Arc<dyn Provider> {
    let client = build_http_client(&HttpClientOptions {
        proxy: ProxyRules::none(),
        ..HttpClientOptions::default()
    });
    let spec = ProviderSpec {
        model: "openai/gpt-4o".into(),
        api_base: Some(base.into()),
        api_key: Some(SecretString::from("sk-upstream-key")),
        api_version: None,
    };
    build_provider(&spec, &client).unwrap().provider
}

const BODY: &str = r#"{"model":"gpt-4o","messages":[]}"#;

async fn call(provider: &dyn Provider, stream: bool) -> Result<ProviderResponse, ProviderError> {
    provider
        .send(ProviderRequest {
            endpoint: Endpoint::ChatCompletions,
            body: Bytes::from_static(BODY.as_bytes()),
            stream,
            timeout: Some(Duration::from_secs(5)),
        })
        .await
}

async fn complete(provider: &dyn Provider) -> Bytes {
    match call(provider, false).await.unwrap() {
        ProviderResponse::Complete(body) => body,
        other => panic!("expected a complete body, got {other:?}"),
    }
}

async fn streamed(provider: &dyn Provider) -> String {
    let ProviderResponse::Stream(mut events) = call(provider, true).await.unwrap() else {
        panic!("expected a stream");
    };
    let mut out = Vec::new();
    while let Some(chunk) = events.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    String::from_utf8(out).unwrap()
}

const JSON_200: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}";

#[tokio::test]
async fn the_request_carries_host_length_auth_and_the_body_unchanged() {
    let mut up = upstream(vec![Answer::Bytes(JSON_200)]).await;
    let p = provider(&up.base);
    assert_eq!(&complete(&*p).await[..], b"{\"ok\":true}");
    let request = up.requests.recv().await.unwrap();
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("POST /v1/chat/completions HTTP/1.1"));
    let headers: Vec<String> = lines.map(str::to_lowercase).collect();
    let host = up
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/v1");
    for expected in [
        format!("host: {host}"),
        "content-type: application/json".to_owned(),
        "authorization: bearer sk-upstream-key".to_owned(),
        format!("content-length: {}", BODY.len()),
        "accept: */*".to_owned(),
    ] {
        assert!(
            headers.contains(&expected),
            "{expected} missing in {headers:?}"
        );
    }
    assert!(
        headers
            .iter()
            .any(|h| h.starts_with("user-agent: switchyard/"))
    );
    assert_eq!(body, BODY);
}

#[tokio::test]
async fn keep_alive_connections_are_reused() {
    let up = upstream(vec![Answer::Bytes(JSON_200)]).await;
    let p = provider(&up.base);
    for _ in 0..5 {
        assert_eq!(&complete(&*p).await[..], b"{\"ok\":true}");
    }
    assert_eq!(up.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn connection_close_and_close_delimited_bodies_are_not_reused() {
    let up = upstream(vec![
        Answer::Bytes(
            "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
        ),
        Answer::ThenClose("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\"until\":\"close\"}"),
    ])
    .await;
    let p = provider(&up.base);
    assert_eq!(&complete(&*p).await[..], b"{}");
    assert_eq!(&complete(&*p).await[..], b"{\"until\":\"close\"}");
    assert_eq!(&complete(&*p).await[..], b"{\"until\":\"close\"}");
    assert_eq!(up.connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_idle_connection_the_upstream_closed_is_not_used() {
    // Every answer is followed by the upstream closing the socket, without
    // saying so in the head: the next request must open a new connection
    // instead of failing on the dead one.
    let up = upstream(vec![Answer::ThenClose(JSON_200)]).await;
    let p = provider(&up.base);
    for _ in 0..3 {
        assert_eq!(&complete(&*p).await[..], b"{\"ok\":true}");
        // Let the FIN arrive and be noticed.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(up.connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_reused_connection_closed_unanswered_is_an_error_not_a_resend() {
    // The upstream takes the second request on the kept-alive connection and
    // drops it unanswered. It may have acted on it, so the client reports the
    // failure (the router's retry counts it as an attempt) instead of quietly
    // sending it again; the next call opens a fresh connection.
    let up = upstream(vec![
        Answer::Bytes(JSON_200),
        Answer::ThenClose(""),
        Answer::Bytes(JSON_200),
    ])
    .await;
    let p = provider(&up.base);
    assert_eq!(&complete(&*p).await[..], b"{\"ok\":true}");
    let err = call(&*p, false).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ApiConnection, "{err:?}");
    assert_eq!(&complete(&*p).await[..], b"{\"ok\":true}");
    assert_eq!(up.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_new_connection_closed_unanswered_is_an_error_not_a_resend() {
    let up = upstream(vec![Answer::ThenClose(""), Answer::Bytes(JSON_200)]).await;
    let p = provider(&up.base);
    let err = call(&*p, false).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ApiConnection, "{err:?}");
    assert_eq!(up.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn chunked_bodies_and_informational_heads_are_read() {
    let up = upstream(vec![Answer::Bytes(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n6;x=y\r\n:\"b\"}\n\r\n0\r\nx-trailer: 1\r\n\r\n",
    )])
    .await;
    let p = provider(&up.base);
    assert_eq!(&complete(&*p).await[..], b"{\"a\":\"b\"}\n");
    assert_eq!(&complete(&*p).await[..], b"{\"a\":\"b\"}\n");
    assert_eq!(up.connections.load(Ordering::SeqCst), 1);
}

const SSE_CHUNKED: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n\
    f\r\ndata: {\"n\":1}\n\n\r\n\
    f\r\ndata: {\"n\":2}\n\n\r\n\
    e\r\ndata: [DONE]\n\n\r\n\
    0\r\n\r\n";

#[tokio::test]
async fn a_stream_read_to_done_keeps_its_connection() {
    let up = upstream(vec![Answer::Bytes(SSE_CHUNKED)]).await;
    let p = provider(&up.base);
    for _ in 0..3 {
        assert_eq!(
            streamed(&*p).await,
            "data: {\"n\":1}\n\ndata: {\"n\":2}\n\n"
        );
    }
    assert_eq!(up.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn errors_keep_their_status_headers_and_body() {
    let up = upstream(vec![Answer::Bytes(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 7\r\n\
         content-length: 47\r\n\r\n{\"error\":{\"message\":\"Rate limit reached, slow\"}}",
    )])
    .await;
    let p = provider(&up.base);
    let err = call(&*p, false).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimit, "{err:?}");
    assert_eq!(err.status, Some(429));
    assert_eq!(err.retry_after, Some(Duration::from_secs(7)));
    assert!(
        err.message.contains("Rate limit reached"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_body_cut_short_or_garbage_is_a_classified_error() {
    let up = upstream(vec![Answer::ThenClose(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"partial\"",
    )])
    .await;
    let p = provider(&up.base);
    let err = call(&*p, false).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ApiConnection, "{err:?}");
    assert!(
        err.message.contains("closed the connection"),
        "{}",
        err.message
    );

    let up = upstream(vec![Answer::ThenClose("SPDY/3 nonsense\r\n\r\n")]).await;
    let p = provider(&up.base);
    let err = call(&*p, false).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ApiConnection, "{err:?}");
    assert!(err.message.contains("invalid response"), "{}", err.message);

    let up = upstream(vec![Answer::ThenClose("")]).await;
    let p = provider(&up.base);
    let err = call(&*p, false).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ApiConnection, "{err:?}");
    assert!(err.message.contains("before answering"), "{}", err.message);
}

#[tokio::test]
async fn an_ambiguously_framed_answer_is_used_once_and_its_connection_never_pooled() {
    for framing in [
        "transfer-encoding: chunked\r\ncontent-length: 11",
        "content-length: 11\r\ntransfer-encoding: chunked",
        "transfer-encoding: gzip, chunked",
        "transfer-encoding: chunked, chunked",
        "transfer-encoding: chunked\r\ntransfer-encoding: chunked",
    ] {
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{framing}\r\n\r\nb\r\n{{\"ok\":true}}\r\n0\r\n\r\n"
        );
        let up = upstream(vec![Answer::Bytes(answer.leak())]).await;
        let p = provider(&up.base);
        for _ in 0..3 {
            assert_eq!(&complete(&*p).await[..], b"{\"ok\":true}", "{framing}");
        }
        assert_eq!(
            up.connections.load(Ordering::SeqCst),
            3,
            "one connection per answer: {framing}"
        );
    }
}

#[tokio::test]
async fn chunk_lines_that_hyper_refuses_are_protocol_errors() {
    for body in [
        "+b\r\n{\"ok\":true}\r\n0\r\n\r\n",
        "  b  \r\n{\"ok\":true}\r\n0\r\n\r\n",
        "b\r\r\n{\"ok\":true}\r\n0\r\n\r\n",
        "b\n{\"ok\":true}\r\n0\r\n\r\n",
        "b\r\n{\"ok\":true}\n0\r\n\r\n",
    ] {
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{body}"
        );
        let up = upstream(vec![Answer::ThenClose(answer.leak())]).await;
        let p = provider(&up.base);
        let err = call(&*p, false).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::ApiConnection, "{body:?}: {err:?}");
        assert!(
            err.message.contains("invalid response"),
            "{body:?}: {}",
            err.message
        );
    }
}
