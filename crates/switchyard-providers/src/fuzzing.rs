//! Entry points for the fuzz targets and the property tests (`fuzz/`,
//! `tests/fuzz_*.rs`): the crate-private response-head parser, the chunked
//! decoder, the SSE decoder, a stream's commit-point scan and the base-URL
//! reader run on byte slices, their outcome returned as plain data. Not an API: hidden from the docs, and nothing here decides
//! anything the real code does not.

use bytes::{Bytes, BytesMut};

use crate::client::framing::{self, Framing};
use crate::client::{ChunkedState, Decoded};
use crate::sse::SseDecoder;

/// What the client's response-head parser made of some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseHeadOutcome {
    /// The head is not complete yet.
    Partial,
    /// Refused, and why.
    Refused(&'static str),
    /// A complete head.
    Accepted(ResponseHeadSummary),
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHeadSummary {
    /// The status code.
    pub status: u16,
    /// Bytes of the head, blank line included.
    pub head_len: usize,
    /// How the body is delimited.
    pub framing: ResponseFraming,
    /// The connection may go back to the pool after the body.
    pub keep_alive: bool,
    /// Every header line, as sent.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
}

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFraming {
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked.
    Chunked,
    /// Until the connection closes.
    Close,
}

/// Runs the client's response-head parser on `input`.
pub fn response_head(input: &[u8]) -> ResponseHeadOutcome {
    match framing::parse_head(input) {
        Ok(None) => ResponseHeadOutcome::Partial,
        Err(e) => ResponseHeadOutcome::Refused(e.0),
        Ok(Some(head)) => ResponseHeadOutcome::Accepted(ResponseHeadSummary {
            status: head.status,
            head_len: head.len,
            framing: match head.framing {
                Framing::Length(n) => ResponseFraming::Length(n),
                Framing::Chunked(_) => ResponseFraming::Chunked,
                Framing::Close => ResponseFraming::Close,
            },
            keep_alive: head.keep_alive,
            headers: head
                .lines
                .iter()
                .map(|&[ns, ne, vs, ve]| {
                    let at = |s: u32, e: u32| input[s as usize..e as usize].to_vec();
                    (at(ns, ne), at(vs, ve))
                })
                .collect(),
        }),
    }
}

/// What the chunked decoder made of some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkedOutcome {
    /// Every data byte decoded (up to the end or the error).
    pub body: Vec<u8>,
    /// How decoding stopped.
    pub end: ChunkedEnd,
}

/// How chunked decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkedEnd {
    /// The body ended; this many input bytes followed it.
    Done {
        /// Bytes after the body.
        rest: usize,
    },
    /// The input ended inside the body.
    NeedMore,
    /// Refused, and why.
    Error(&'static str),
}

/// Runs [`ChunkedState::decode`] over `input` delivered in pieces cut at
/// `splits` (offsets, any order, out-of-range ones ignored), calling it
/// after each piece until it asks for more.
pub fn decode_chunked(input: &[u8], splits: &[usize]) -> ChunkedOutcome {
    let mut state = ChunkedState::Size;
    let mut buf = BytesMut::new();
    let mut body = Vec::new();
    let mut from = 0;
    for to in cuts(input.len(), splits) {
        buf.extend_from_slice(&input[from..to]);
        from = to;
        loop {
            match state.decode(&mut buf) {
                Ok(Decoded::Data(data)) => body.extend_from_slice(&data),
                Ok(Decoded::NeedMore) => break,
                Ok(Decoded::End) => {
                    let rest = buf.len() + (input.len() - from);
                    let end = ChunkedEnd::Done { rest };
                    return ChunkedOutcome { body, end };
                }
                Err(e) => {
                    let end = ChunkedEnd::Error(e.0);
                    return ChunkedOutcome { body, end };
                }
            }
        }
    }
    ChunkedOutcome {
        body,
        end: ChunkedEnd::NeedMore,
    }
}

/// What the SSE decoder made of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseOutcome {
    /// Every complete event, as received, in order.
    pub events: Vec<Vec<u8>>,
    /// The index of the first `data: [DONE]` event, if any.
    pub first_done: Option<usize>,
    /// The unterminated tail [`SseDecoder::finish`] returned, if any.
    pub tail: Option<Vec<u8>>,
    /// The error that stopped decoding, if any.
    pub error: Option<String>,
}

/// Runs [`SseDecoder::push`] + [`SseDecoder::next_event`] (until it asks for
/// more) over `input` cut at `splits`, then [`SseDecoder::finish`].
pub fn sse_events(input: &[u8], splits: &[usize], max_event_bytes: usize) -> SseOutcome {
    let mut decoder = SseDecoder::new(max_event_bytes);
    let mut events = Vec::new();
    let mut first_done = None;
    let mut from = 0;
    for to in cuts(input.len(), splits) {
        decoder.push(&input[from..to]);
        from = to;
        loop {
            match decoder.next_event() {
                Ok(Some(event)) => {
                    if first_done.is_none() && event.is_done() {
                        first_done = Some(events.len());
                    }
                    events.push(event.into_raw().to_vec());
                }
                Ok(None) => break,
                Err(e) => {
                    let error = Some(e.to_string());
                    return SseOutcome {
                        events,
                        first_done,
                        tail: None,
                        error,
                    };
                }
            }
        }
    }
    let tail = decoder.finish().map(|event| event.into_raw().to_vec());
    SseOutcome {
        events,
        first_done,
        tail,
        error: None,
    }
}

/// What [`SseDecoder::forward`] handed over from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardOutcome {
    /// Every byte forwarded, in order.
    pub forwarded: Vec<u8>,
    /// Whether `[DONE]` was reached.
    pub done: bool,
    /// The error that stopped forwarding, if any.
    pub error: Option<String>,
}

/// Runs [`SseDecoder::forward`] over `input` cut at `splits`, stopping at
/// `[DONE]` as the proxy does.
pub fn sse_forward(input: &[u8], splits: &[usize], max_event_bytes: usize) -> ForwardOutcome {
    let mut decoder = SseDecoder::new(max_event_bytes);
    let mut forwarded = Vec::new();
    let mut from = 0;
    for to in cuts(input.len(), splits) {
        let piece = Bytes::copy_from_slice(&input[from..to]);
        from = to;
        match decoder.forward(piece) {
            Ok(out) => {
                if let Some(events) = out.events {
                    forwarded.extend_from_slice(&events);
                }
                if out.done {
                    return ForwardOutcome {
                        forwarded,
                        done: true,
                        error: None,
                    };
                }
            }
            Err(e) => {
                return ForwardOutcome {
                    forwarded,
                    done: false,
                    error: Some(e.to_string()),
                };
            }
        }
    }
    ForwardOutcome {
        forwarded,
        done: false,
        error: None,
    }
}

/// The ends of the pieces `len` bytes are cut into at `splits`: sorted,
/// in range, the last one `len`.
pub fn cuts(len: usize, splits: &[usize]) -> Vec<usize> {
    let mut cuts: Vec<usize> = splits.iter().copied().filter(|&at| at < len).collect();
    cuts.push(len);
    cuts.sort_unstable();
    cuts
}

/// What the stream's commit-point scan says of one `data:` payload, and what reading
/// the payload as JSON says (`None` when it is not JSON): whether a choice's `delta`
/// holds a non-empty output field or the choice a non-empty `text`.
pub fn stream_commit(data: &[u8]) -> (bool, Option<bool>) {
    let scanned = crate::openai::output::carries_output(data);
    let parsed = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .map(|chunk| parsed_output(&chunk));
    (scanned, parsed)
}

/// The delta fields that carry output, as the reference parse reads them.
pub const DELTA_OUTPUT_FIELDS: [&str; 7] = [
    "content",
    "tool_calls",
    "function_call",
    "refusal",
    "reasoning_content",
    "reasoning",
    "audio",
];

fn parsed_output(chunk: &serde_json::Value) -> bool {
    use serde_json::Value;
    let non_empty = |v: &Value| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    };
    let Some(choices) = chunk.get("choices").and_then(Value::as_array) else {
        return false;
    };
    choices.iter().any(|choice| {
        let delta = choice.get("delta");
        choice.get("text").is_some_and(non_empty)
            || DELTA_OUTPUT_FIELDS
                .iter()
                .any(|f| delta.and_then(|d| d.get(*f)).is_some_and(non_empty))
    })
}

/// A base URL as the provider reads it, then an endpoint path appended as a request
/// would: the normal form, its host, and whether the whole is a valid `http::Uri`.
pub fn base_url(text: &str) -> Result<(String, String, bool), String> {
    let url = crate::base_url::parse(text)?;
    let uri_ok = format!("{url}/chat/completions")
        .parse::<http::Uri>()
        .is_ok();
    Ok((url.as_str().to_owned(), url.host().to_owned(), uri_ok))
}
