//! What each fuzz target checks, one function per target, over raw bytes.
//!
//! Shared by the cargo-fuzz targets (`fuzz_targets/*.rs`) and by the corpus
//! replay test of the workspace (`crates/switchyard-server/tests/fuzz_corpus.rs`
//! includes this file), so a committed corpus file is checked in `cargo test`
//! exactly as it was while fuzzing. Each check panics on a broken invariant.
//!
//! Input layouts (so seeds stay readable): targets that split their input
//! start with one byte `k` (only its low 3 bits count) and `k` split bytes,
//! each a position scaled to the payload's length; `request_body` puts two
//! bytes of cap (big endian) before that, `sse_decoder` one byte of event cap.

use bytes::Bytes;
use switchyard_providers::fuzzing::{
    self as client, ChunkedEnd, ChunkedOutcome, ResponseFraming, ResponseHeadOutcome,
};
use switchyard_server::fuzzing::{self as server, BodyKind, BodyOutcome, HeadOutcome};

/// The split positions at the start of `data`, and the payload after them.
pub fn take_splits(data: &[u8]) -> (Vec<usize>, &[u8]) {
    let Some((&k, rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let k = usize::from(k & 7).min(rest.len());
    let (raw, payload) = rest.split_at(k);
    let splits = raw
        .iter()
        .map(|&b| usize::from(b) * payload.len() / 255)
        .collect();
    (splits, payload)
}

fn count(headers: &[(Vec<u8>, Vec<u8>)], name: &str) -> usize {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .count()
}

/// `request_head`: the server's request-head parser on raw bytes. An
/// accepted head obeys every framing rule (one Host on HTTP/1.1, one
/// unambiguous body length) and parses the same from its own bytes alone.
pub fn request_head(data: &[u8]) {
    let outcome = server::request_head(data);
    match &outcome {
        HeadOutcome::Partial => assert!(data.len() <= 64 * 1024, "partial past the head cap"),
        HeadOutcome::Refused { status, .. } => {
            assert!([400, 431, 501].contains(status), "{outcome:?}")
        }
        HeadOutcome::Accepted(head) => {
            assert!(head.head_len <= data.len() && head.head_len <= 64 * 1024);
            assert!(data[..head.head_len].ends_with(b"\n"));
            if head.http11 {
                assert_eq!(count(&head.headers, "host"), 1, "{head:?}");
            }
            let te = count(&head.headers, "transfer-encoding");
            match head.body {
                BodyKind::Chunked => {
                    assert!(head.http11 && te == 1, "{head:?}");
                    assert_eq!(count(&head.headers, "content-length"), 0, "{head:?}");
                }
                BodyKind::Length(n) => {
                    assert_eq!(te, 0, "{head:?}");
                    for (name, value) in &head.headers {
                        if name.eq_ignore_ascii_case(b"content-length") {
                            let text = std::str::from_utf8(value.trim_ascii()).unwrap();
                            assert_eq!(text.parse::<u64>().ok(), Some(n), "{head:?}");
                        }
                    }
                }
            }
            let again = server::request_head(&data[..head.head_len]);
            assert_eq!(again, outcome, "the head alone parses differently");
        }
    }
    let _ = server::request(data, 4096);
}

/// The same outcome, up to the reason of an error (which may depend on where
/// the input was cut: a line too long is seen before the trailer cap).
fn same_chunked(a: &ChunkedOutcome, b: &ChunkedOutcome) -> bool {
    a.body == b.body
        && match (&a.end, &b.end) {
            (ChunkedEnd::Error(_), ChunkedEnd::Error(_)) => true,
            (x, y) => x == y,
        }
}

/// `chunked`: the chunked decoder shared by client and server. Decoding does
/// not depend on how the input is cut (one piece, the given cuts, byte by
/// byte); the server's reader agrees with it; and what the server's encoder
/// writes decodes back to the same bytes whatever the cuts.
pub fn chunked(data: &[u8]) {
    let (splits, payload) = take_splits(data);
    let whole = client::decode_chunked(payload, &[]);
    let cut = client::decode_chunked(payload, &splits);
    assert!(
        same_chunked(&whole, &cut),
        "{whole:?} != {cut:?} at {splits:?}"
    );
    if payload.len() <= 2048 {
        let every: Vec<usize> = (1..payload.len()).collect();
        let bytewise = client::decode_chunked(payload, &every);
        assert!(same_chunked(&whole, &bytewise), "{whole:?} != {bytewise:?}");
    }
    let read = server::chunked_body(payload, &splits, usize::MAX);
    match (&whole.end, &read) {
        (ChunkedEnd::Done { rest }, BodyOutcome::Complete { body, rest: r }) => {
            assert_eq!((body, r), (&whole.body, rest));
        }
        (ChunkedEnd::NeedMore, BodyOutcome::Incomplete { body }) => assert_eq!(body, &whole.body),
        (ChunkedEnd::Error(_), BodyOutcome::Refused { status: 400, .. }) => {}
        (a, b) => panic!("decoder {a:?}, server reader {b:?}"),
    }

    // Round trip: the payload cut into pieces, encoded, decoded at the cuts.
    let cuts = client::cuts(payload.len(), &splits);
    let mut from = 0;
    let pieces = cuts.iter().map(|&to| {
        let piece = &payload[from..to];
        from = to;
        piece
    });
    let encoded = server::encode_chunked(pieces);
    let scaled: Vec<usize> = splits
        .iter()
        .map(|&at| at * encoded.len() / payload.len().max(1))
        .collect();
    let back = client::decode_chunked(&encoded, &scaled);
    assert_eq!(back.body, payload, "round trip");
    assert_eq!(back.end, ChunkedEnd::Done { rest: 0 }, "round trip");
}

/// `request_body`: the server's chunked body reader under a cap (it agrees
/// with the decoder: the decoded body, 413 once past the cap, 400 for broken
/// chunks, whatever the cuts), one request read from raw bytes, and the JSON
/// body reader (a parsed body written back parses to the same fields).
pub fn request_body(data: &[u8]) {
    let (cap, data) = match data {
        [hi, lo, rest @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), rest),
        _ => (0, data),
    };
    let (splits, payload) = take_splits(data);
    let decoded = client::decode_chunked(payload, &[]);
    let expected = if decoded.body.len() > cap {
        None
    } else {
        Some(match decoded.end {
            ChunkedEnd::Done { rest } => BodyOutcome::Complete {
                body: decoded.body.clone(),
                rest,
            },
            ChunkedEnd::NeedMore => BodyOutcome::Incomplete {
                body: decoded.body.clone(),
            },
            ChunkedEnd::Error(_) => BodyOutcome::Refused {
                status: 400,
                reason: "malformed chunked request body",
            },
        })
    };
    for cuts in [&[][..], &splits] {
        let read = server::chunked_body(payload, cuts, cap);
        match &expected {
            Some(expected) => assert_eq!(&read, expected, "cap {cap}, cuts {cuts:?}"),
            None => assert!(
                matches!(read, BodyOutcome::Refused { status: 413, .. }),
                "cap {cap}: {read:?}"
            ),
        }
    }

    let _ = server::request(payload, cap);

    if let Ok(body) = switchyard_types::RequestBody::from_bytes(Bytes::copy_from_slice(payload)) {
        let again = switchyard_types::RequestBody::from_bytes(body.to_bytes())
            .expect("a parsed body written back parses");
        assert!(body.fields().eq(again.fields()), "{body:?} != {again:?}");
    }
}

/// `response_head`: the client's response-head parser. An accepted head
/// parses the same from its own bytes; a connection is pooled only with a
/// known end of body; a chunked body after it decodes without a panic.
pub fn response_head(data: &[u8]) {
    let outcome = client::response_head(data);
    match &outcome {
        ResponseHeadOutcome::Partial => assert!(data.len() <= 64 * 1024),
        ResponseHeadOutcome::Refused(_) => {}
        ResponseHeadOutcome::Accepted(head) => {
            assert!(head.head_len <= data.len());
            assert!((100..=999).contains(&head.status), "{head:?}");
            if head.framing == ResponseFraming::Close {
                assert!(!head.keep_alive, "{head:?}");
            }
            if head.keep_alive && count(&head.headers, "transfer-encoding") > 0 {
                assert_eq!(count(&head.headers, "content-length"), 0, "{head:?}");
                assert_eq!(count(&head.headers, "transfer-encoding"), 1, "{head:?}");
            }
            let again = client::response_head(&data[..head.head_len]);
            assert_eq!(again, outcome, "the head alone parses differently");
            if head.framing == ResponseFraming::Chunked {
                let _ = client::decode_chunked(&data[head.head_len..], &[]);
            }
        }
    }
}

/// `sse_decoder`: the same events (and error) whatever the cuts, events that
/// are the input's own bytes in order, and `forward` (what the proxy
/// streams) handing over exactly the events before `[DONE]`.
pub fn sse_decoder(data: &[u8]) {
    let (max, data) = match data.split_first() {
        Some((&m, rest)) if m & 0x80 != 0 => (usize::from(m & 0x7f) + 1, rest),
        Some((_, rest)) => (switchyard_providers::sse::DEFAULT_MAX_EVENT_BYTES, rest),
        None => (1, data),
    };
    let (splits, payload) = take_splits(data);
    let whole = client::sse_events(payload, &[], max);
    let cut = client::sse_events(payload, &splits, max);
    assert_eq!(whole, cut, "cuts {splits:?}");
    let joined = whole.events.concat();
    assert!(payload.starts_with(&joined), "events are not the input");
    if let Some(tail) = &whole.tail {
        assert_eq!([joined.as_slice(), tail].concat(), payload);
    }
    for event in &whole.events {
        assert!(event.len() <= max);
    }

    let forwarded = client::sse_forward(payload, &[], max);
    let forwarded_cut = client::sse_forward(payload, &splits, max);
    // An oversized event fails the whole read it arrived in: the complete
    // events of that read before it are not handed over (the stream ends with
    // an error either way), so only error-free runs must match exactly.
    if forwarded.error.is_some() || forwarded_cut.error.is_some() {
        assert_eq!(forwarded.error, forwarded_cut.error, "cuts {splits:?}");
        assert!(joined.starts_with(&forwarded_cut.forwarded));
    } else {
        assert_eq!(forwarded, forwarded_cut, "cuts {splits:?}");
    }
    match whole.first_done {
        Some(i) => {
            assert!(forwarded.done && forwarded.error.is_none(), "{forwarded:?}");
            assert_eq!(forwarded.forwarded, whole.events[..i].concat());
        }
        None if whole.error.is_none() => {
            assert!(
                !forwarded.done && forwarded.error.is_none(),
                "{forwarded:?}"
            );
            assert_eq!(forwarded.forwarded, joined);
        }
        None => assert!(forwarded.error.is_some(), "{forwarded:?}"),
    }
}

/// `config_loader`: LiteLLM YAML in, a config or a list of errors out, never
/// a panic (variables named with an even length resolve, the others do not).
pub fn config_loader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = |name: &str| name.len().is_multiple_of(2).then(|| format!("v-{name}"));
    match switchyard_router::config::load_str(text, &env) {
        Ok(_) => {}
        Err(e) => assert!(!e.issues.is_empty(), "an error without an issue"),
    }
}

/// `stream_commit`: the scan that finds a stream's first token, on raw bytes. Output a
/// parse of the JSON finds in `choices` is never missed (so never held back past its
/// event). (What the scan makes of JSON that is not a chunk only decides whether an
/// event is held, never whether output reaches the client.)
pub fn stream_commit(data: &[u8]) {
    let (scanned, parsed) = client::stream_commit(data);
    if parsed == Some(true) {
        assert!(scanned, "output the parse sees, the scan missed");
    }
}

/// `base_url`: `api_base` as httpx reads it. An accepted URL is in normal form (reading
/// it again gives it back), holds no whitespace or control byte, has a host, and takes
/// an endpoint path as a valid URI; a refusal never quotes what follows the host.
pub fn base_url(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match client::base_url(text) {
        Ok((url, host, uri_ok)) => {
            assert!(!host.is_empty(), "no host: {url:?}");
            assert!(
                !url.bytes()
                    .any(|b| b.is_ascii_whitespace() || b.is_ascii_control()),
                "{url:?}"
            );
            assert!(uri_ok, "an endpoint path does not make a URI: {url:?}");
            let again = client::base_url(&url).expect("the normal form reads again");
            assert_eq!(again.0, url, "not a normal form");
        }
        Err(message) => assert!(!message.is_empty()),
    }
}
