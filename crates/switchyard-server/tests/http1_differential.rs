//! Differential test: Switchyard's request-head parser and chunked body
//! reader against hyper's HTTP/1 server, on valid requests mutated by a
//! seeded RNG (flipped bytes, inserted CR/LF/blanks/signs, duplicated
//! header lines, Transfer-Encoding and Content-Length variants, truncation).
//!
//! Both read the same bytes; they must agree on whether the first request is
//! accepted (head and whole body read) and, when both accept, on its method,
//! path and body. The differences Switchyard makes by design are the
//! allow-list below, each one in `docs/http1-differences.md`; any other
//! difference fails the test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use switchyard_server::fuzzing::{self as server, BodyOutcome, RequestOutcome};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What one server made of the first request in some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// Head and whole body read.
    Accepted {
        method: String,
        path: String,
        body: Vec<u8>,
    },
    /// Refused, or never complete.
    NotAccepted,
}

fn ours(input: &[u8]) -> (Seen, RequestOutcome) {
    let outcome = server::request(input, usize::MAX);
    let seen = match &outcome {
        RequestOutcome::Read {
            head,
            body: BodyOutcome::Complete { body, .. },
        } => Seen::Accepted {
            method: head.method.clone(),
            path: head.path.clone(),
            body: body.clone(),
        },
        _ => Seen::NotAccepted,
    };
    (seen, outcome)
}

/// hyper's HTTP/1 server on `input` (then end of input), over an in-memory
/// pipe; the service reads the whole body.
async fn hyper_server(input: &[u8]) -> Seen {
    let (mut client, io) = tokio::io::duplex(1 << 20);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let record = record.clone();
        async move {
            let method = req.method().as_str().to_owned();
            let path = req.uri().path().to_owned();
            let body = req.into_body().collect().await.map(|b| b.to_bytes());
            record.lock().unwrap().push(match body {
                Ok(body) => Seen::Accepted {
                    method,
                    path,
                    body: body.to_vec(),
                },
                Err(_) => Seen::NotAccepted,
            });
            Ok::<_, hyper::Error>(hyper::Response::new(Empty::<Bytes>::new()))
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .half_close(true)
        .serve_connection(TokioIo::new(io), service);
    let feed = async {
        client.write_all(input).await.unwrap();
        client.shutdown().await.unwrap();
        let mut answer = Vec::new();
        let _ = client.read_to_end(&mut answer).await;
    };
    let (_, _) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(5), conn),
        tokio::time::timeout(Duration::from_secs(5), feed)
    );
    let first = seen.lock().unwrap().first().cloned();
    first.unwrap_or(Seen::NotAccepted)
}

/// Why the two differ, when that is by design (each is a section of
/// `docs/http1-differences.md`); `None` for any other difference.
fn allowed(ours: &RequestOutcome, theirs: &Seen, input: &[u8]) -> Option<&'static str> {
    let Seen::Accepted { .. } = theirs else {
        // Only one direction: Switchyard serves a target hyper's `Uri` refuses.
        let served = matches!(
            ours,
            RequestOutcome::Read {
                body: BodyOutcome::Complete { .. },
                ..
            }
        );
        return (served && http::Uri::try_from(raw_target(input)).is_err())
            .then_some("target-bytes");
    };
    match ours {
        // A fragment in the target: hyper drops it, Switchyard routes on the
        // path as sent (no route has a `#`: 404).
        RequestOutcome::Read {
            head,
            body: BodyOutcome::Complete { body, .. },
        } => {
            let Seen::Accepted {
                method,
                path,
                body: their_body,
            } = theirs
            else {
                return None;
            };
            let before_fragment = head.path.split('#').next().unwrap_or_default();
            let same = *method == head.method && their_body == body;
            let dropped = path == before_fragment || (before_fragment.is_empty() && path == "/");
            (head.target.contains('#') && same && dropped).then_some("target-fragment")
        }
        RequestOutcome::HeadRefused {
            status: 400,
            reason,
        } => match *reason {
            "missing host header" | "more than one host header" => Some("host"),
            "both transfer-encoding and content-length" => Some("te+cl"),
            // hyper skips every Content-Length line once it has seen chunked.
            "invalid content-length" | "conflicting content-length headers"
                if has_header(input, b"transfer-encoding:") =>
            {
                Some("te+cl")
            }
            "more than one transfer-encoding header" => Some("te-repeated"),
            "invalid content-length" if content_length_is_a_list(input) => Some("cl-list"),
            "invalid request target" => Some("target-form"),
            _ => None,
        },
        RequestOutcome::HeadRefused { status: 501, .. } => Some("te-not-chunked"),
        RequestOutcome::Read {
            head,
            body: BodyOutcome::Refused { status: 400, .. },
        } if has_bare_lf(&input[head.head_len..]) => Some("trailer-bare-lf"),
        _ => None,
    }
}

/// The request target of the first request line, as sent.
fn raw_target(input: &[u8]) -> &[u8] {
    let line = lines(input).next().unwrap_or_default();
    line.split(|b| *b == b' ').nth(1).unwrap_or_default()
}

fn has_header(input: &[u8], name_colon: &[u8]) -> bool {
    lines(input).any(|line| {
        line.len() >= name_colon.len() && line[..name_colon.len()].eq_ignore_ascii_case(name_colon)
    })
}

/// A LF not preceded by CR (hyper reads trailer lines ended by one).
fn has_bare_lf(bytes: &[u8]) -> bool {
    (0..bytes.len()).any(|i| bytes[i] == b'\n' && (i == 0 || bytes[i - 1] != b'\r'))
}

/// A `Content-Length` value with a comma (`5, 5`), which hyper reads as a
/// list of equal lengths.
fn content_length_is_a_list(input: &[u8]) -> bool {
    lines(input).any(|line| {
        line.len() > 15
            && line[..15].eq_ignore_ascii_case(b"content-length:")
            && line[15..].contains(&b',')
    })
}

fn lines(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    input
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

const VALID: &[&[u8]] = &[
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost:4000\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nAuthorization: Bearer sk-1234\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"model\":\"gpt4\"}",
    b"POST /v1/embeddings HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"in\"\r\n7;ext=1\r\n:\"abc\"}\r\n0\r\n\r\n",
    b"POST /chat/completions HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-trailer: 1\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer k\r\n\r\n",
    b"GET /health/readiness HTTP/1.0\r\n\r\n",
    b"POST /v1/completions HTTP/1.0\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc",
    b"PUT /x?y=1 HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
];

/// Snippets inserted at random places: framing variants and separators.
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
    b"\x7f",
    b"\xff",
    b"Host: b\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip, chunked\r\n",
    b"Transfer-Encoding: chunked, chunked\r\n",
    b"Transfer-Encoding: identity\r\n",
    b"Transfer-Encoding: gzip\r\n",
    b"Transfer-Encoding:  chunked \r\n",
    b"Content-Length: 3\r\n",
    b"Content-Length: 0\r\n",
    b"Content-Length: 3, 3\r\n",
    b"Content-Length: +3\r\n",
    b"Content-Length: 03\r\n",
    b"Content-Length: 99999999999999999999\r\n",
    b"Connection: close\r\n",
    b"3\r\nabc\r\n",
    b"0\r\n\r\n",
    b"ff\r\n",
    b" ;x=y",
    b"x-a: b\r\n",
    b"HTTP/1.0",
];

#[test]
fn request_parsing_agrees_with_hyper_or_differs_by_design() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut allowed_seen = std::collections::BTreeMap::<&str, usize>::new();
    let mut failures = Vec::new();
    let (mut both_accepted, mut both_refused) = (0, 0);
    let mut inputs = switchyard_testkit::DiffCases::new(VALID, SNIPPETS, 0x5717_c4ad);
    // Every valid input as it is, then mutated ones, for a bounded time.
    for (input, valid) in inputs.by_ref() {
        let (seen, outcome) = ours(&input);
        let theirs = runtime.block_on(hyper_server(&input));
        if valid {
            assert!(
                matches!(seen, Seen::Accepted { .. }) && seen == theirs,
                "a valid request: {:?}: {seen:?} / hyper {theirs:?}",
                String::from_utf8_lossy(&input)
            );
        }
        if seen == theirs {
            match seen {
                Seen::Accepted { .. } => both_accepted += 1,
                Seen::NotAccepted => both_refused += 1,
            }
            continue;
        }
        match allowed(&outcome, &theirs, &input) {
            Some(why) => *allowed_seen.entry(why).or_default() += 1,
            None => failures.push(format!(
                "{:?}\n  ours: {outcome:?}\n  hyper: {theirs:?}",
                String::from_utf8_lossy(&input)
            )),
        }
    }
    let cases = inputs.handed_out();
    eprintln!(
        "{cases} cases: {both_accepted} accepted by both, {both_refused} refused by both, allowed differences {allowed_seen:?}"
    );
    assert!(cases > 500, "too few cases ran: {cases}");
    assert!(both_accepted > 50 && both_refused > 50);
    assert!(
        failures.is_empty(),
        "{} unexpected differences, e.g.:\n{}",
        failures.len(),
        failures[..failures.len().min(8)].join("\n")
    );
}
