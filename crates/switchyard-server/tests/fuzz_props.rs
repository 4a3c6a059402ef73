//! The fuzz targets' properties as a proptest pass inside `cargo test`: the
//! parsers never panic on arbitrary bytes, chunked encode/decode round-trips
//! at any cut, a request head written from random valid parts reads back the
//! same, and the SSE decoder yields the same events however its input is cut.

#[path = "../../../fuzz/src/lib.rs"]
mod checks;

use proptest::collection::vec;
use proptest::prelude::*;
use switchyard_providers::fuzzing::{self as client, ChunkedEnd};
use switchyard_server::fuzzing::{self as server, BodyKind, BodyOutcome, RequestOutcome};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bytes that look like HTTP more often than uniform bytes do.
fn http_ish() -> impl Strategy<Value = Vec<u8>> {
    let atom = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b" ".to_vec()),
        Just(b"GET / HTTP/1.1\r\n".to_vec()),
        Just(b"POST /v1/chat/completions HTTP/1.1\r\n".to_vec()),
        Just(b"HTTP/1.1 200 OK\r\n".to_vec()),
        Just(b"Host: a\r\n".to_vec()),
        Just(b"Content-Length: 3\r\n".to_vec()),
        Just(b"Transfer-Encoding: chunked\r\n".to_vec()),
        Just(b"3\r\nabc\r\n".to_vec()),
        Just(b"0\r\n\r\n".to_vec()),
        Just(b"data: x\n\n".to_vec()),
        Just(b"data: [DONE]\n\n".to_vec()),
        Just(b";ext=1".to_vec()),
        Just(br#"{"choices":[{"delta":{"content":"#.to_vec()),
        Just(br#""",\"text\":"x"}}]}"#.to_vec()),
        Just(b"http://a-b.c1.2:80/v1".to_vec()),
    ];
    vec(atom, 0..24).prop_map(|atoms| atoms.concat())
}

proptest! {
    #![proptest_config(config())]

    /// Every target's checks hold on arbitrary input (no panic, no broken
    /// invariant): the same checks the fuzz targets run.
    #[test]
    fn no_target_panics_on_arbitrary_bytes(data in prop_oneof![vec(any::<u8>(), 0..300), http_ish()]) {
        checks::request_head(&data);
        checks::chunked(&data);
        checks::request_body(&data);
        checks::response_head(&data);
        checks::sse_decoder(&data);
        checks::config_loader(&data);
        checks::stream_commit(&data);
        checks::base_url(&data);
    }

    /// What the server's encoder writes, the shared decoder and the server's
    /// body reader read back whole, however the encoded bytes are cut.
    #[test]
    fn chunked_round_trips_at_any_cut(
        pieces in vec(vec(any::<u8>(), 0..80), 0..8),
        cuts in vec(any::<usize>(), 0..12),
        next in vec(any::<u8>(), 0..8),
    ) {
        let body = pieces.concat();
        let mut encoded = server::encode_chunked(pieces.iter().map(Vec::as_slice));
        let cuts: Vec<usize> = cuts.iter().map(|c| c % (encoded.len() + 1)).collect();
        let decoded = client::decode_chunked(&encoded, &cuts);
        prop_assert_eq!(&decoded.body, &body);
        prop_assert_eq!(decoded.end, ChunkedEnd::Done { rest: 0 });
        // Whatever follows the body (a pipelined request) is left alone.
        encoded.extend_from_slice(&next);
        let read = server::chunked_body(&encoded, &cuts, body.len());
        prop_assert_eq!(read, BodyOutcome::Complete { body: body.clone(), rest: next.len() });
        if !body.is_empty() {
            let read = server::chunked_body(&encoded, &cuts, body.len() - 1);
            prop_assert!(matches!(read, BodyOutcome::Refused { status: 413, .. }), "{:?}", read);
        }
    }

    /// A request written from random valid parts reads back as the same
    /// method, target, header lines and body, by length or chunked.
    #[test]
    fn a_written_request_reads_back_the_same(
        method in "[A-Z]{1,8}",
        target in "/[A-Za-z0-9._~/%-]{0,30}(\\?[A-Za-z0-9=&]{0,10})?",
        headers in vec(("x-[a-z0-9-]{1,12}", "[!-~]([ -~]{0,20}[!-~])?"), 0..8),
        host_at in any::<prop::sample::Index>(),
        body in vec(any::<u8>(), 0..200),
        chunk_sizes in vec(1usize..64, 1..6),
        chunked in any::<bool>(),
        http10 in any::<bool>(),
    ) {
        let chunked = chunked && !http10;
        let mut lines: Vec<(String, String)> = headers;
        if !http10 {
            lines.insert(host_at.index(lines.len() + 1), ("Host".into(), "example.com:4000".into()));
        }
        let mut wire = format!(
            "{method} {target} HTTP/1.{}\r\n",
            if http10 { 0 } else { 1 }
        ).into_bytes();
        for (name, value) in &lines {
            wire.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        if chunked {
            wire.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            let mut rest = body.as_slice();
            let mut pieces = Vec::new();
            for size in chunk_sizes.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, tail) = rest.split_at((*size).min(rest.len()));
                pieces.push(piece);
                rest = tail;
            }
            wire.extend_from_slice(&server::encode_chunked(pieces));
        } else {
            wire.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            wire.extend_from_slice(&body);
        }
        let RequestOutcome::Read { head, body: read } = server::request(&wire, 1 << 20) else {
            panic!("not read: {}", String::from_utf8_lossy(&wire));
        };
        prop_assert_eq!(&head.method, &method);
        prop_assert_eq!(&head.target, &target);
        prop_assert_eq!(head.http11, !http10);
        let sent: Vec<(Vec<u8>, Vec<u8>)> = lines
            .iter()
            .map(|(n, v)| (n.clone().into_bytes(), v.clone().into_bytes()))
            .collect();
        prop_assert_eq!(&head.headers[..sent.len()], &sent[..]);
        prop_assert_eq!(head.headers.len(), sent.len() + 1);
        let expected_kind = if chunked { BodyKind::Chunked } else { BodyKind::Length(body.len() as u64) };
        prop_assert_eq!(head.body, expected_kind);
        prop_assert_eq!(read, BodyOutcome::Complete { body, rest: 0 });
    }

    /// The SSE decoder yields the same events, each exactly as written, and
    /// `forward` the same bytes, however the stream is cut.
    #[test]
    fn sse_events_do_not_depend_on_the_cuts(
        events in vec(
            (vec(prop_oneof![
                "data: [ -~]{0,30}",
                "data:\\[DONE\\]",
                "event: [a-z]{1,8}",
                "id: [0-9]{1,4}",
                ": [ -~]{0,12}",
            ], 1..4), prop_oneof![Just("\n"), Just("\r\n"), Just("\r")]),
            1..8,
        ),
        cuts in vec(any::<usize>(), 0..10),
    ) {
        let written: Vec<Vec<u8>> = events
            .iter()
            .enumerate()
            .map(|(i, (lines, eol))| {
                // A stream that ends in a bare CR waits for the byte after it.
                let eol = if i + 1 == events.len() { "\n" } else { eol };
                let mut event = String::new();
                for line in lines {
                    event.push_str(line);
                    event.push_str(eol);
                }
                event.push_str(eol);
                event.into_bytes()
            })
            .collect();
        let stream = written.concat();
        let cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        let whole = client::sse_events(&stream, &[], 1 << 20);
        let cut = client::sse_events(&stream, &cuts, 1 << 20);
        prop_assert_eq!(&whole.events, &written);
        prop_assert_eq!(whole.tail.as_ref(), None);
        prop_assert_eq!(&cut, &whole);
        let forwarded = client::sse_forward(&stream, &cuts, 1 << 20);
        let until_done = whole.first_done.unwrap_or(written.len());
        prop_assert_eq!(forwarded.forwarded, written[..until_done].concat());
        prop_assert_eq!(forwarded.done, whole.first_done.is_some());
    }
}
