//! What the server sends back for one request: a status, header lines
//! already written as they go on the wire, and a body.
//!
//! Why not an `http::Response`: an answer carries some twenty headers, most
//! of them the same for every answer of a deployment, and building a
//! `HeaderMap` for them only for it to be serialised again was a tenth of
//! a proxied request's instructions. Header lines are bytes from the start:
//! the prebuilt ones are copied in one go.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use switchyard_router::Deployment;

use crate::sse::SseOut;

/// Header lines (`name: value\r\n` each), in the order they are sent.
#[derive(Debug, Default, Clone)]
pub(crate) struct HeaderLines(BytesMut);

impl HeaderLines {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Self(BytesMut::with_capacity(bytes))
    }

    /// Adds one header. Names and values come from the proxy itself or were
    /// valid header values where they came from (config, upstream), so they
    /// hold no CR or LF.
    pub(crate) fn push(&mut self, name: impl AsRef<[u8]>, value: &[u8]) {
        debug_assert!(!value.contains(&b'\n') && !value.contains(&b'\r'));
        self.0.extend_from_slice(name.as_ref());
        self.0.extend_from_slice(b": ");
        self.0.extend_from_slice(value);
        self.0.extend_from_slice(b"\r\n");
    }

    /// Adds lines already written.
    pub(crate) fn extend(&mut self, lines: &[u8]) {
        self.0.extend_from_slice(lines);
    }

    /// The lines, as sent.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The lines frozen, for prebuilt blocks.
    pub(crate) fn freeze(self) -> Bytes {
        self.0.freeze()
    }

    /// Each header's name and value.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.0[..].split(|b| *b == b'\n').filter_map(|line| {
            let line = line.strip_suffix(b"\r")?;
            let colon = line.iter().position(|b| *b == b':')?;
            Some((&line[..colon], line[colon + 1..].trim_ascii_start()))
        })
    }
}

/// An answer's body.
pub(crate) enum AnswerBody {
    /// All of it, with its length.
    Full(Bytes),
    /// Server-sent events as they come (chunked on the wire).
    Stream(SseOut),
}

/// One request's answer.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderLines,
    pub(crate) body: AnswerBody,
    /// The deployment that answered, for the request log line.
    pub(crate) route: Option<Arc<Deployment>>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Answer {
    /// A complete answer.
    pub(crate) fn full(status: StatusCode, headers: HeaderLines, body: Bytes) -> Self {
        Self {
            status,
            headers,
            body: AnswerBody::Full(body),
            route: None,
        }
    }

    /// The same answer as an `http::Response`, for callers without a socket
    /// (the tower service).
    pub(crate) fn into_response(self) -> Response {
        let body = match self.body {
            AnswerBody::Full(bytes) => Body::from(bytes),
            AnswerBody::Stream(events) => Body::from_stream(events),
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        for (name, value) in self.headers.iter() {
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
            {
                headers.append(name, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_and_read_back() {
        let mut lines = HeaderLines::default();
        lines.push("content-type", b"application/json");
        lines.extend(b"x-a: 1\r\nx-b: two words\r\n");
        assert_eq!(
            lines.as_bytes(),
            b"content-type: application/json\r\nx-a: 1\r\nx-b: two words\r\n"
        );
        let read: Vec<_> = lines.iter().collect();
        assert_eq!(read[2], (&b"x-b"[..], &b"two words"[..]));
    }
}
