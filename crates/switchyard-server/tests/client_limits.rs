//! The front door against clients that misbehave (issue 13): every wait on a
//! client is timed, the connection count is capped with idle connections
//! making room first, the key is checked before any body, framing is strict,
//! refusals are answered so the client can read them. Raw sockets on
//! 127.0.0.1, short limits set through `ServerOptions` (the CLI flags' values).

use std::time::{Duration, Instant};

use switchyard_server::ServerOptions;
use switchyard_testkit::{MockUpstream, ProxyHarness, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const KEY: &str = "sk-limits-1234";

fn yaml(mock: &MockUpstream, extra: &str) -> String {
    format!(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params: {{model: openai/gpt-4o, api_base: {}, api_key: k{extra}}}\ngeneral_settings:\n  master_key: {KEY}\n",
        mock.url()
    )
}

fn short(options: impl FnOnce(&mut ServerOptions)) -> ServerOptions {
    let mut o = ServerOptions {
        head_timeout: Duration::from_secs(5),
        keepalive_timeout: Duration::from_secs(5),
        body_timeout: Duration::from_secs(5),
        send_timeout: Duration::from_secs(5),
        max_connections: None,
        drain_timeout: Duration::from_secs(5),
    };
    options(&mut o);
    o
}

async fn proxy(options: ServerOptions) -> (MockUpstream, ProxyHarness) {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start_with_options(&yaml(&mock, ""), options)
        .await
        .unwrap();
    (mock, proxy)
}

const CHAT: &str = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#;

fn chat_request(connection: &str) -> String {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{connection}\r\n{CHAT}",
        CHAT.len()
    )
}

/// Reads until the server closes the connection (or `limit` passes): what
/// arrived, and when the end came.
async fn read_to_close(socket: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, socket.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => raw.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "the connection was still open after {limit:?}; read so far: {}",
                String::from_utf8_lossy(&raw)
            ),
        }
    }
    (
        String::from_utf8_lossy(&raw).into_owned(),
        started.elapsed(),
    )
}

/// Reads one answer with a content-length (the head and its body).
async fn read_answer(socket: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(
            n > 0,
            "closed before a whole answer: {}",
            String::from_utf8_lossy(&raw)
        );
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.trim().parse::<usize>().unwrap());
            if raw.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

fn status(answer: &str) -> &str {
    answer.get(9..12).unwrap_or(answer)
}

#[tokio::test]
async fn a_slow_head_is_answered_408_and_closed_at_the_head_timeout() {
    let (_mock, proxy) = proxy(short(|o| o.head_timeout = Duration::from_secs(1))).await;
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    let started = Instant::now();
    // One byte every 100 ms: the head never completes in time.
    let trickle = async {
        for byte in b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n".iter() {
            if socket.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(1500), trickle).await;
    let (answer, _) = read_to_close(&mut socket, Duration::from_secs(5)).await;
    let closed_after = started.elapsed();
    assert_eq!(status(&answer), "408", "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(
        closed_after >= Duration::from_millis(900) && closed_after < Duration::from_secs(4),
        "{closed_after:?}"
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_closes_at_the_head_timeout() {
    let (_mock, proxy) = proxy(short(|o| o.head_timeout = Duration::from_millis(500))).await;
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    let (answer, after) = read_to_close(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(answer, "", "nothing is said to a client that said nothing");
    assert!(after >= Duration::from_millis(400), "{after:?}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_closes_at_its_timeout() {
    let (_mock, proxy) = proxy(short(|o| o.keepalive_timeout = Duration::from_millis(600))).await;
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    socket.write_all(chat_request("").as_bytes()).await.unwrap();
    let answer = read_answer(&mut socket).await;
    assert_eq!(status(&answer), "200", "{answer}");
    let (rest, after) = read_to_close(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(rest, "");
    assert!(
        after >= Duration::from_millis(500) && after < Duration::from_secs(3),
        "{after:?}"
    );
}

#[tokio::test]
async fn a_stalled_body_ends_the_connection_with_408() {
    let (mock, proxy) = proxy(short(|o| o.body_timeout = Duration::from_millis(700))).await;
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Length: {}\r\n\r\n",
        CHAT.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&CHAT.as_bytes()[..10]).await.unwrap();
    let (answer, after) = read_to_close(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(status(&answer), "408", "{answer}");
    assert!(answer.contains("\"error\""), "{answer}");
    assert!(after >= Duration::from_millis(600), "{after:?}");
    assert_eq!(mock.call_count(), 0, "nothing was sent upstream");
}

#[tokio::test]
async fn a_client_that_reads_nothing_is_dropped_and_its_upstream_call_cancelled() {
    let mock = MockUpstream::start().await;
    // A stream far larger than the socket buffers between proxy and client.
    let piece = "x".repeat(64 * 1024);
    let pieces: Vec<&str> = std::iter::repeat_n(piece.as_str(), 200).collect();
    mock.push(Reply::chat_stream(&pieces));
    mock.set_default(Reply::ok());
    let options = short(|o| o.send_timeout = Duration::from_millis(800));
    let proxy =
        ProxyHarness::start_with_options(&yaml(&mock, ", max_parallel_requests: 1"), options)
            .await
            .unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut reader = socket.connect(proxy.addr()).await.unwrap();
    let stream_body = CHAT.replace("}]}", "}],\"stream\":true}");
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Length: {}\r\n\r\n{stream_body}",
        stream_body.len()
    );
    reader.write_all(request.as_bytes()).await.unwrap();
    // Never read. The proxy gives up on this client, which frees the
    // deployment's one slot for the next request.
    let started = Instant::now();
    let next = proxy
        .client()
        .post(proxy.url_for("/v1/chat/completions"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(CHAT)
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // The stalled client's connection is gone: what it can still read ends.
    let mut sink = vec![0u8; 1 << 20];
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match reader.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stalled client's connection was closed");
    assert_eq!(
        mock.cancelled(),
        1,
        "the stalled stream's upstream call was cancelled"
    );
}

#[tokio::test]
async fn at_the_connection_limit_idle_connections_make_room_for_a_new_client() {
    let (_mock, proxy) = proxy(short(|o| {
        o.max_connections = Some(3);
        o.head_timeout = Duration::from_secs(30);
        o.keepalive_timeout = Duration::from_secs(30);
    }))
    .await;
    // Three connections that each answered a request, now idle.
    let mut idle = Vec::new();
    for _ in 0..3 {
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        socket.write_all(chat_request("").as_bytes()).await.unwrap();
        assert_eq!(status(&read_answer(&mut socket).await), "200");
        idle.push(socket);
    }
    let started = Instant::now();
    let probe = proxy
        .client()
        .get(proxy.url_for("/health/liveliness"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The longest idle connection was the one closed.
    let (rest, _) = read_to_close(&mut idle[0], Duration::from_secs(2)).await;
    assert_eq!(rest, "");
}

#[tokio::test]
async fn slow_heads_at_the_limit_hold_a_new_client_no_longer_than_the_head_timeout() {
    let head_timeout = Duration::from_millis(1500);
    let (_mock, proxy) = proxy(short(|o| {
        o.max_connections = Some(3);
        o.head_timeout = head_timeout;
    }))
    .await;
    let mut slow = Vec::new();
    for _ in 0..3 {
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        socket
            .write_all(b"GET /v1/models HTTP/1.1\r\nHo")
            .await
            .unwrap();
        slow.push(socket);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let probe = proxy
        .client()
        .get(proxy.url_for("/health/liveliness"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    let waited = started.elapsed();
    assert!(waited < head_timeout + Duration::from_secs(1), "{waited:?}");
    for mut socket in slow {
        let (answer, _) = read_to_close(&mut socket, Duration::from_secs(3)).await;
        assert_eq!(status(&answer), "408", "{answer}");
    }
}

#[tokio::test]
async fn a_request_without_the_key_is_refused_from_its_head_on_every_route() {
    let (mock, proxy) = proxy(short(|_| {})).await;
    for (method, path) in [
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/embeddings"),
        ("POST", "/chat/completions"),
        ("GET", "/v1/models"),
        ("POST", "/v1/models"),
        ("POST", "/v1/no-such-route"),
        ("PUT", "/openai/deployments/gpt-4o/chat/completions"),
    ] {
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        // The head alone, announcing a large body and waiting to be asked for it.
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 30000000\r\nExpect: 100-continue\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let (answer, _) = read_to_close(&mut socket, Duration::from_secs(5)).await;
        assert!(
            answer.starts_with("HTTP/1.1 401 "),
            "{method} {path}: {answer}"
        );
        assert!(
            !answer.contains("100 Continue"),
            "{method} {path}: {answer}"
        );
        assert!(answer.contains("No api key passed in"), "{answer}");
    }
    assert_eq!(mock.call_count(), 0);
    // A wrong key is refused the same way.
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    let head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Length: 5000000\r\n\r\n";
    socket.write_all(head.as_bytes()).await.unwrap();
    let (answer, _) = read_to_close(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(status(&answer), "401", "{answer}");
}

#[tokio::test]
async fn routes_that_take_no_body_refuse_a_large_one_and_skip_a_small_one() {
    let (_mock, proxy) = proxy(short(|_| {})).await;
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    let head = format!(
        "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Length: 1000000\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let (answer, _) = read_to_close(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(status(&answer), "413", "{answer}");
    // A small body is read and dropped, and the connection kept.
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    let small = format!(
        "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Length: 5\r\n\r\nhello"
    );
    socket.write_all(small.as_bytes()).await.unwrap();
    assert_eq!(status(&read_answer(&mut socket).await), "200");
    socket.write_all(chat_request("").as_bytes()).await.unwrap();
    assert_eq!(status(&read_answer(&mut socket).await), "200");
}

#[tokio::test]
async fn framing_that_nginx_and_hyper_refuse_is_refused() {
    let (mock, proxy) = proxy(short(|_| {})).await;
    let auth = format!("Authorization: Bearer {KEY}\r\n");
    let post = |headers: &str, body: &str| {
        format!("POST /v1/chat/completions HTTP/1.1\r\n{auth}{headers}\r\n{body}")
    };
    let chunked = "Host: x\r\nTransfer-Encoding: chunked\r\n";
    let big_trailer = format!("0\r\nx-t: {}\r\n", "v".repeat(4000)).repeat(5) + "\r\n";
    let cases: Vec<(String, &str)> = vec![
        (post(chunked, "+3f\r\n"), "400"),
        (post(chunked, "  3f  \r\n"), "400"),
        (post(chunked, "3f\r\r\n"), "400"),
        (post(chunked, "3f\n"), "400"),
        (
            post(chunked, &format!("{:x}\n{CHAT}\r\n0\r\n\r\n", CHAT.len())),
            "400",
        ),
        (
            post(
                chunked,
                &format!("{:x}\r\n{CHAT}\r\n0\r\n{big_trailer}", CHAT.len()),
            ),
            "400",
        ),
        (
            post("Host: x\r\nTransfer-Encoding: gzip, chunked\r\n", ""),
            "501",
        ),
        (
            post("Host: x\r\nTransfer-Encoding: identity, chunked\r\n", ""),
            "501",
        ),
        (
            post("Host: x\r\nTransfer-Encoding: chunked, chunked\r\n", ""),
            "501",
        ),
        (
            post(
                "Host: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                "",
            ),
            "400",
        ),
        (post("Content-Length: 2\r\n", "{}"), "400"),
        (
            post("Host: a\r\nHost: b\r\nContent-Length: 2\r\n", "{}"),
            "400",
        ),
        (
            format!(
                "GET /v1/models HTTP/1.1\r\nHost: x\r\n{}\r\n\r\n",
                "x-big: y\r\n".repeat(8000)
            ),
            "431",
        ),
    ];
    for (request, expected) in cases {
        let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
        socket.write_all(request.as_bytes()).await.unwrap();
        let (answer, _) = read_to_close(&mut socket, Duration::from_secs(5)).await;
        assert_eq!(status(&answer), expected, "{request:.200}\n---\n{answer}");
        assert!(answer.contains("connection: close"), "{answer}");
    }
    assert_eq!(mock.call_count(), 0);
    // Exactly chunked, with extensions and a trailer, is served.
    let body = format!("{:x};ext=1\r\n{CHAT}\r\n0\r\nx-t: 1\r\n\r\n", CHAT.len());
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    socket
        .write_all(post(chunked, &body).as_bytes())
        .await
        .unwrap();
    assert_eq!(status(&read_answer(&mut socket).await), "200");
}

#[tokio::test]
async fn a_413_is_readable_while_the_client_is_still_sending() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start_with_options(&yaml(&mock, ""), short(|_| {}))
        .await
        .unwrap();
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    let total = switchyard_server::DEFAULT_MAX_BODY_BYTES + 1;
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Length: {total}\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    // Keep sending a while; errors once the proxy shuts its side are expected.
    let piece = vec![b'a'; 256 * 1024];
    for _ in 0..8 {
        if socket.write_all(&piece).await.is_err() {
            break;
        }
    }
    let (answer, _) = read_to_close(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(status(&answer), "413", "{answer}");
    assert!(answer.contains("\"error\""), "{answer}");
}

#[tokio::test]
async fn head_answers_carry_the_length_a_get_would() {
    let (_mock, proxy) = proxy(short(|_| {})).await;
    let mut socket = TcpStream::connect(proxy.addr()).await.unwrap();
    let get = format!("GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\r\n");
    socket.write_all(get.as_bytes()).await.unwrap();
    let got = read_answer(&mut socket).await;
    let length = |answer: &str| {
        answer
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .map(|v| v.trim().parse::<usize>().unwrap())
    };
    let get_length = length(&got).unwrap();
    assert!(get_length > 2, "{got}");
    socket
        .write_all(get.replacen("GET", "HEAD", 1).as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0u8; 16384];
    let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(
        head.ends_with("\r\n\r\n"),
        "no body after a HEAD's head: {head}"
    );
    assert_eq!(length(&head), Some(get_length), "{head}");
}
