//! Entry points for the fuzz targets and the property tests (`fuzz/`,
//! `tests/fuzz_*.rs`): the crate-private HTTP/1 request parsing run on a byte
//! slice, its outcome returned as plain data. Not an API: hidden from the
//! docs, and nothing here decides anything the real code does not.

use bytes::BytesMut;
use switchyard_providers::client::ChunkedState;
use switchyard_providers::fuzzing::cuts;

use crate::http1::body::{BodyError, take_chunks};
use crate::http1::head::{BodyLength, RequestHead};
use crate::http1::write;

/// What the request-head parser made of some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadOutcome {
    /// The head is not complete yet.
    Partial,
    /// Refused: the status it is answered with, and why.
    Refused {
        /// 400, 431 or 501.
        status: u16,
        /// The reason logged.
        reason: &'static str,
    },
    /// A complete head.
    Accepted(HeadSummary),
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadSummary {
    /// Bytes of the head, blank line included.
    pub head_len: usize,
    /// The method, as sent.
    pub method: String,
    /// The request target, as sent.
    pub target: String,
    /// The path the server routes on.
    pub path: String,
    /// HTTP/1.1 (else 1.0).
    pub http11: bool,
    /// Every header line, as sent.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Where the body ends.
    pub body: BodyKind,
    /// The connection stays open after this exchange.
    pub keep_alive: bool,
    /// `Expect: 100-continue`.
    pub expect_continue: bool,
}

/// How a request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked.
    Chunked,
}

/// Runs the server's request-head parser on `input`.
pub fn request_head(input: &[u8]) -> HeadOutcome {
    let mut buf = BytesMut::from(input);
    match RequestHead::take(&mut buf) {
        Ok(None) => HeadOutcome::Partial,
        Err(e) => HeadOutcome::Refused {
            status: e.status().as_u16(),
            reason: e.reason(),
        },
        Ok(Some(head)) => HeadOutcome::Accepted(HeadSummary {
            head_len: input.len() - buf.len(),
            method: head.method().to_owned(),
            target: head.target().to_owned(),
            path: head.path().to_owned(),
            http11: head.http11,
            headers: head
                .headers()
                .map(|(n, v)| (n.to_vec(), v.to_vec()))
                .collect(),
            body: match head.body {
                BodyLength::Known(n) => BodyKind::Length(n),
                BodyLength::Chunked => BodyKind::Chunked,
            },
            keep_alive: head.keep_alive,
            expect_continue: head.expect_continue,
        }),
    }
}

/// What the server's chunked body reader made of some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyOutcome {
    /// The body ended; `rest` bytes followed it (the next request).
    Complete {
        /// The decoded body.
        body: Vec<u8>,
        /// Bytes left after the body.
        rest: usize,
    },
    /// The input ended inside the body (the server would wait for more).
    Incomplete {
        /// What was decoded so far.
        body: Vec<u8>,
    },
    /// Refused: 413 over the cap, 400 for broken chunks.
    Refused {
        /// 413 or 400.
        status: u16,
        /// The reason logged.
        reason: &'static str,
    },
}

/// Runs the server's chunked body reader (`take_chunks`, what the connection
/// runs after each read) over `input` delivered in pieces cut at `splits`
/// (offsets, any order, out-of-range ones ignored), under `cap`.
pub fn chunked_body(input: &[u8], splits: &[usize], cap: usize) -> BodyOutcome {
    let mut state = ChunkedState::Size;
    let mut buf = BytesMut::new();
    let mut body = BytesMut::new();
    let mut from = 0;
    for to in cuts(input.len(), splits) {
        buf.extend_from_slice(&input[from..to]);
        from = to;
        match take_chunks(&mut state, &mut buf, &mut body, cap) {
            Ok(true) => {
                return BodyOutcome::Complete {
                    body: body.to_vec(),
                    rest: buf.len() + (input.len() - from),
                };
            }
            Ok(false) => {}
            Err(e) => {
                return BodyOutcome::Refused {
                    status: match e {
                        BodyError::TooLarge => 413,
                        BodyError::Malformed => 400,
                        BodyError::TimedOut => 408,
                        BodyError::Gone => 0,
                    },
                    reason: e.reason(),
                };
            }
        }
    }
    BodyOutcome::Incomplete {
        body: body.to_vec(),
    }
}

/// What the server makes of one request's bytes: its head, then its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestOutcome {
    /// The head is not complete.
    Partial,
    /// The head was refused.
    HeadRefused {
        /// 400, 431 or 501.
        status: u16,
        /// Why.
        reason: &'static str,
    },
    /// The head was read; what became of the body.
    Read {
        /// The head.
        head: HeadSummary,
        /// The body.
        body: BodyOutcome,
    },
}

/// Reads one request from `input` as the connection does: the head, then the
/// body it announces under `cap` (a `Content-Length` body is the next that
/// many bytes, 413 above the cap as in `body::read`; a chunked one goes
/// through [`chunked_body`] in one piece).
pub fn request(input: &[u8], cap: usize) -> RequestOutcome {
    let head = match request_head(input) {
        HeadOutcome::Partial => return RequestOutcome::Partial,
        HeadOutcome::Refused { status, reason } => {
            return RequestOutcome::HeadRefused { status, reason };
        }
        HeadOutcome::Accepted(head) => head,
    };
    let rest = &input[head.head_len..];
    let body = match head.body {
        BodyKind::Length(n) if n > cap as u64 => BodyOutcome::Refused {
            status: 413,
            reason: BodyError::TooLarge.reason(),
        },
        BodyKind::Length(n) if n as usize > rest.len() => BodyOutcome::Incomplete {
            body: rest.to_vec(),
        },
        BodyKind::Length(n) => BodyOutcome::Complete {
            body: rest[..n as usize].to_vec(),
            rest: rest.len() - n as usize,
        },
        BodyKind::Chunked => chunked_body(rest, &[], cap),
    };
    RequestOutcome::Read { head, body }
}

/// A chunked body as the server writes it: one chunk per piece (empty pieces
/// write nothing), then the last chunk.
pub fn encode_chunked<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in pieces {
        write::chunk(&mut out, piece);
    }
    out.extend_from_slice(write::LAST_CHUNK);
    out
}
