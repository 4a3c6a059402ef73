//! The proxy's HTTP/1.1 server on a raw socket: keep-alive, pipelining,
//! HTTP/1.0, `Expect: 100-continue`, HEAD, and the refusals of heads that
//! are too large or frame their body ambiguously (request smuggling).

use std::time::Duration;

use switchyard_testkit::{MockUpstream, ProxyHarness};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn proxy() -> (MockUpstream, ProxyHarness) {
    let mock = MockUpstream::start().await;
    let yaml = format!(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params: {{model: openai/gpt-4o, api_base: {}, api_key: k}}\n",
        mock.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    (mock, proxy)
}

const CHAT: &str = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#;

fn post(extra_headers: &str) -> String {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra_headers}Content-Length: {}\r\n\r\n{CHAT}",
        CHAT.len()
    )
}

/// Reads until `count` complete responses (by content-length) arrived, or
/// the connection closed.
async fn read_responses(socket: &mut TcpStream, count: usize) -> Vec<String> {
    let mut raw = Vec::new();
    let mut responses = Vec::new();
    let mut buf = [0u8; 65536];
    while responses.len() < count {
        let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf))
            .await
            .expect("the server answered in time")
            .unwrap();
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        loop {
            let text = String::from_utf8_lossy(&raw).into_owned();
            let Some(end) = text.find("\r\n\r\n") else {
                break;
            };
            let head = &text[..end];
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.trim().parse::<usize>().unwrap());
            if raw.len() < end + 4 + length {
                break;
            }
            responses.push(text[..end + 4 + length].to_owned());
            raw.drain(..end + 4 + length);
        }
    }
    responses
}

#[tokio::test]
async fn keep_alive_and_pipelined_requests_are_answered_in_order() {
    let (mock, proxy) = proxy().await;
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    socket.write_all(post("").as_bytes()).await.unwrap();
    let first = read_responses(&mut socket, 1).await;
    assert!(first[0].starts_with("HTTP/1.1 200 OK\r\n"), "{}", first[0]);
    // Two requests in one write: two answers, in order, on the same connection.
    let two = format!("{}{}", post(""), post(""));
    socket.write_all(two.as_bytes()).await.unwrap();
    let next = read_responses(&mut socket, 2).await;
    assert_eq!(next.len(), 2);
    for response in &next {
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.contains("\"chat.completion\""), "{response}");
    }
    assert_eq!(mock.call_count(), 3);
}

#[tokio::test]
async fn http_1_0_gets_an_answer_and_the_connection_closes() {
    let (_mock, proxy) = proxy().await;
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    let request = post("").replacen("HTTP/1.1", "HTTP/1.0", 1);
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut all = String::new();
    socket.read_to_string(&mut all).await.unwrap();
    assert!(all.starts_with("HTTP/1.1 200 OK\r\n"), "{all}");
    assert!(all.contains("connection: close\r\n"), "{all}");
    assert!(all.contains("\"chat.completion\""), "{all}");
}

#[tokio::test]
async fn expect_100_continue_is_answered_before_the_body_is_sent() {
    let (_mock, proxy) = proxy().await;
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    let request = post("Expect: 100-continue\r\n");
    let (head, body) = request.split_at(request.find("\r\n\r\n").unwrap() + 4);
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf))
        .await
        .expect("a 100 Continue before the body")
        .unwrap();
    assert_eq!(&buf[..n], b"HTTP/1.1 100 Continue\r\n\r\n");
    socket.write_all(body.as_bytes()).await.unwrap();
    let response = read_responses(&mut socket, 1).await;
    assert!(
        response[0].starts_with("HTTP/1.1 200 OK\r\n"),
        "{}",
        response[0]
    );
}

#[tokio::test]
async fn head_requests_get_the_head_only() {
    let (_mock, proxy) = proxy().await;
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    socket
        .write_all(b"HEAD /health/liveliness HTTP/1.1\r\nHost: x\r\n\r\nGET /health/liveliness HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&raw).contains("I'm alive") {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0);
        raw.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&raw);
    // The HEAD answer says how long the body would be, and sends none: the
    // next bytes are the GET's answer.
    let second = text.match_indices("HTTP/1.1 200 OK").count();
    assert_eq!(second, 2, "{text}");
    assert_eq!(text.matches("I'm alive").count(), 1, "{text}");
}

#[tokio::test]
async fn malformed_oversized_and_ambiguous_heads_are_refused_and_closed() {
    let (mock, proxy) = proxy().await;
    let huge = format!(
        "GET /v1/models HTTP/1.1\r\nx-big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let cases: [(&str, String); 4] = [
        ("400", "NOT-HTTP\r\n\r\n".to_owned()),
        ("431", huge),
        (
            "400",
            format!(
                "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{CHAT}",
                CHAT.len()
            ),
        ),
        (
            "400",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
                .to_owned(),
        ),
    ];
    for (status, request) in cases {
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        let _ = socket.write_all(request.as_bytes()).await;
        let mut all = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut all)).await;
        let all = String::from_utf8_lossy(&all);
        assert!(
            all.starts_with(&format!("HTTP/1.1 {status} ")),
            "{status}: {all}"
        );
        assert!(all.contains("connection: close"), "{all}");
        assert!(all.contains("\"error\""), "OpenAI-shaped: {all}");
    }
    assert_eq!(mock.call_count(), 0);
}
