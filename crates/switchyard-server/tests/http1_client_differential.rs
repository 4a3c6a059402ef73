//! Differential test of the upstream client's side: Switchyard's
//! response-head parser and chunked decoder against hyper's HTTP/1 client
//! (`hyper::client::conn::http1`), on valid upstream answers mutated by a
//! seeded RNG. Both read the answer to a `GET`; they must agree on whether
//! it is read whole (head and body to their end) and, when both read it, on
//! its status and body. Differences by design are on the allow-list below
//! and in `docs/http1-differences.md`; any other fails the test.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use switchyard_providers::fuzzing::{self as client, ChunkedEnd, ResponseFraming};
use switchyard_providers::fuzzing::{ResponseHeadOutcome, ResponseHeadSummary};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Read { status: u16, body: Vec<u8> },
    NotRead,
}

/// Switchyard's client on `input`: heads of informational answers skipped
/// as `exchange.rs` skips them, then the body by the head's framing.
fn ours(input: &[u8]) -> (Seen, Option<ResponseHeadSummary>, Option<&'static str>) {
    let mut at = 0;
    let head = loop {
        match client::response_head(&input[at..]) {
            ResponseHeadOutcome::Accepted(head)
                if (100..200).contains(&head.status) && head.status != 101 =>
            {
                at += head.head_len;
            }
            ResponseHeadOutcome::Accepted(head) => break head,
            ResponseHeadOutcome::Refused(why) => return (Seen::NotRead, None, Some(why)),
            ResponseHeadOutcome::Partial => return (Seen::NotRead, None, None),
        }
    };
    let rest = &input[at + head.head_len..];
    let body = match head.framing {
        ResponseFraming::Length(n) if n as usize <= rest.len() => Some(rest[..n as usize].to_vec()),
        ResponseFraming::Length(_) => None,
        ResponseFraming::Close => Some(rest.to_vec()),
        ResponseFraming::Chunked => {
            let decoded = client::decode_chunked(rest, &[]);
            matches!(decoded.end, ChunkedEnd::Done { .. }).then_some(decoded.body)
        }
    };
    let seen = match body {
        Some(body) => Seen::Read {
            status: head.status,
            body,
        },
        None => Seen::NotRead,
    };
    (seen, Some(head), None)
}

/// hyper's client sends a `GET` and reads `input` as the answer (then the
/// end of the connection).
async fn hyper_client(input: &[u8]) -> Seen {
    let (io, mut upstream) = tokio::io::duplex(1 << 20);
    let Ok((mut send, conn)) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await else {
        return Seen::NotRead;
    };
    let driver = tokio::spawn(conn);
    let upstream_side = async {
        // The request head, then the answer.
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            match upstream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let _ = upstream.write_all(input).await;
        let _ = upstream.shutdown().await;
        let mut sink = Vec::new();
        let _ = upstream.read_to_end(&mut sink).await;
    };
    let exchange = async {
        let request = hyper::Request::get("/v1/models")
            .header("host", "upstream")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = send.send_request(request).await.ok()?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.ok()?.to_bytes();
        Some(Seen::Read {
            status,
            body: body.to_vec(),
        })
    };
    let (seen, ()) = tokio::join!(
        async {
            tokio::time::timeout(Duration::from_secs(5), exchange)
                .await
                .ok()
                .flatten()
        },
        async {
            let _ = tokio::time::timeout(Duration::from_secs(5), upstream_side).await;
        }
    );
    driver.abort();
    seen.unwrap_or(Seen::NotRead)
}

fn lines(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    input
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

fn has_header(input: &[u8], name_colon: &[u8]) -> bool {
    lines(input).any(|line| {
        line.len() >= name_colon.len() && line[..name_colon.len()].eq_ignore_ascii_case(name_colon)
    })
}

/// The status of the first head (an interim `1xx` one, say).
fn first_status(input: &[u8]) -> Option<u16> {
    let line = lines(input).next()?;
    std::str::from_utf8(line.get(9..12)?).ok()?.parse().ok()
}

/// Why the two differ, when that is by design (see
/// `docs/http1-differences.md`); `None` for any other difference.
fn allowed(
    seen: &Seen,
    head: Option<&ResponseHeadSummary>,
    refused: Option<&str>,
    theirs: &Seen,
    input: &[u8],
) -> Option<&'static str> {
    match (seen, theirs) {
        // hyper reads `Content-Length: 5, 5` as 5; Switchyard takes digits only.
        (Seen::NotRead, Seen::Read { .. })
            if refused == Some("invalid content-length")
                && lines(input).any(|l| {
                    l.len() > 15
                        && l[..15].eq_ignore_ascii_case(b"content-length:")
                        && l[15..].contains(&b',')
                }) =>
        {
            Some("cl-list")
        }
        // hyper skips every Content-Length line once it has seen chunked.
        (Seen::NotRead, Seen::Read { .. })
            if matches!(
                refused,
                Some("invalid content-length" | "conflicting content-length headers")
            ) && has_header(input, b"transfer-encoding:") =>
        {
            Some("te+cl")
        }
        // A transfer coding that does not end in chunked: Switchyard reads
        // the body until the connection closes (RFC 9112 §6.3 rule 4 for a
        // response), hyper refuses the answer.
        (Seen::Read { .. }, Seen::NotRead)
            if head.is_some_and(|h| h.framing == ResponseFraming::Close)
                && has_header(input, b"transfer-encoding:") =>
        {
            Some("te-not-chunked-until-close")
        }
        // Both lengths, a chunked one hyper does not read as chunked (its
        // value holds a byte outside visible ASCII, so hyper goes by the
        // Content-Length): Switchyard goes by the transfer coding, as RFC 9112
        // §6.3 (rule 3) says, and never pools the connection.
        (Seen::NotRead, Seen::Read { .. })
            if head.is_some_and(|h| h.framing == ResponseFraming::Chunked && !h.keep_alive)
                && has_header(input, b"transfer-encoding:")
                && has_header(input, b"content-length:") =>
        {
            Some("te+cl")
        }
        // Transfer-Encoding in an HTTP/1.0 answer: faulty framing (RFC 9112
        // §6.1); hyper refuses the answer, Switchyard reads it by its chunks
        // once and closes the connection.
        (Seen::Read { .. }, Seen::NotRead)
            if input.starts_with(b"HTTP/1.0")
                && head.is_some_and(|h| !h.keep_alive)
                && has_header(input, b"transfer-encoding:") =>
        {
            Some("te-http10")
        }
        // An invalid or conflicting Content-Length on an answer without a
        // body (1xx, 204, 304): hyper ignores the header there, Switchyard
        // refuses it as on any other answer.
        (Seen::NotRead, Seen::Read { status, .. })
            if matches!(
                refused,
                Some("invalid content-length" | "conflicting content-length headers")
            ) && [Some(*status), first_status(input)]
                .into_iter()
                .flatten()
                .any(|s| s < 200 || s == 204 || s == 304) =>
        {
            Some("cl-invalid-bodiless")
        }
        // hyper reads trailer lines ended by a bare LF.
        (Seen::NotRead, Seen::Read { .. })
            if head.is_some_and(|h| h.framing == ResponseFraming::Chunked) =>
        {
            let body = &input[head.map_or(0, |h| h.head_len)..];
            (0..body.len())
                .any(|i| body[i] == b'\n' && (i == 0 || body[i - 1] != b'\r'))
                .then_some("trailer-bare-lf")
        }
        _ => None,
    }
}

const VALID: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\nDate: Mon, 07 Dec 2026 20:00:00 GMT\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\nopenai-processing-ms: 412\r\nx-request-id: req_abc\r\n\r\n1a\r\n{\"id\":\"chatcmpl-1\",\"x\":[]}\r\n3;ext=1\r\nabc\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n11\r\ndata: {\"a\":\"b\"}\n\n\r\ne\r\ndata: [DONE]\n\n\r\n0\r\nx-trailer: 1\r\n\r\n",
    b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nretry-after: 20\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
    b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"until\":\"close\"}",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 3\r\n\r\nabc",
    b"HTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 502 Bad Gateway\r\nServer: nginx\r\nContent-Length: 13\r\nConnection: close\r\n\r\n<html></html>",
];

const SNIPPETS: &[&[u8]] = &[
    b"\r",
    b"\n",
    b"\r\n",
    b" ",
    b"\t",
    b"+",
    b"-",
    b",",
    b";",
    b":",
    b"0",
    b"a",
    b"\0",
    b"\xff",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip, chunked\r\n",
    b"Transfer-Encoding: gzip\r\n",
    b"Content-Length: 3\r\n",
    b"Content-Length: 3, 3\r\n",
    b"Content-Length: +3\r\n",
    b"Connection: close\r\n",
    b"3\r\nabc\r\n",
    b"0\r\n\r\n",
    b" ;x=y",
    b"x-a: b\r\n",
    b"HTTP/1.0",
];

#[test]
fn response_parsing_agrees_with_hyper_or_differs_by_design() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut allowed_seen = std::collections::BTreeMap::<&str, usize>::new();
    let mut failures = Vec::new();
    let (mut both_read, mut both_not) = (0, 0);
    let mut inputs = switchyard_testkit::DiffCases::new(VALID, SNIPPETS, 0x00c1_1e47);
    // Every valid input as it is, then mutated ones, for a bounded time.
    for (input, valid) in inputs.by_ref() {
        let (seen, head, refused) = ours(&input);
        let theirs = runtime.block_on(hyper_client(&input));
        if valid {
            assert!(
                matches!(seen, Seen::Read { .. }) && seen == theirs,
                "a valid answer: {:?}: {seen:?} / hyper {theirs:?}",
                String::from_utf8_lossy(&input)
            );
        }
        if seen == theirs {
            match seen {
                Seen::Read { .. } => both_read += 1,
                Seen::NotRead => both_not += 1,
            }
            continue;
        }
        match allowed(&seen, head.as_ref(), refused, &theirs, &input) {
            Some(why) => *allowed_seen.entry(why).or_default() += 1,
            None => failures.push(format!(
                "{:?}\n  ours: {seen:?} {head:?} {refused:?}\n  hyper: {theirs:?}",
                String::from_utf8_lossy(&input)
            )),
        }
    }
    let cases = inputs.handed_out();
    eprintln!(
        "{cases} cases: {both_read} read by both, {both_not} by neither, allowed differences {allowed_seen:?}"
    );
    assert!(cases > 300, "too few cases ran: {cases}");
    assert!(both_read > 50 && both_not > 50);
    assert!(
        failures.is_empty(),
        "{} unexpected differences, e.g.:\n{}",
        failures.len(),
        failures[..failures.len().min(8)].join("\n")
    );
}
