//! HTTP/1.1 response framing (RFC 9112 §6): where a response body ends.
//!
//! Pure functions over the bytes read so far, so every rule is tested
//! without a socket. The connection code in `exchange.rs` feeds them.

use bytes::{Buf, Bytes, BytesMut};

/// Response heads larger than this are refused (hyper's default is ~400 KB
/// for the whole read buffer; a head is never near this in practice).
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Header lines kept per response head.
const MAX_HEADERS: usize = 100;

/// How a response body is delimited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Exactly this many bytes remain.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked(ChunkedState),
    /// Until the peer closes the connection (no length, not chunked).
    Close,
}

/// What the response head says.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub(crate) status: u16,
    /// Bytes of the head, blank line included.
    pub(crate) len: usize,
    pub(crate) framing: Framing,
    /// The connection may carry another request once this body is read.
    pub(crate) keep_alive: bool,
    /// Every header line: name and value ranges within the head.
    pub(crate) lines: Vec<[u32; 4]>,
}

/// A response head that is not valid HTTP/1.1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid response from the upstream: {0}")]
pub struct ProtocolError(pub(crate) &'static str);

/// Parses a complete response head at the start of `buf`; `Ok(None)` when
/// more bytes are needed. Informational (1xx) heads are reported like any
/// other: the caller skips them.
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<Head>, ProtocolError> {
    // Left uninitialised: the parser writes only the lines it finds.
    let mut headers = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let len = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut headers,
    ) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
            return Err(ProtocolError("response head too large"));
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ProtocolError("too many response headers"));
        }
        Err(_) => return Err(ProtocolError("malformed response head")),
    };
    let status = response.code.unwrap_or(0);
    let mut said = FramingHeaders::new(response.version == Some(1));
    let mut lines = Vec::with_capacity(response.headers.len());
    for header in response.headers.iter() {
        lines.push(line_span(buf, header.name, header.value));
        said.read(header.name, header.value)
            .map_err(ProtocolError)?;
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Length(0)
    } else if said.transfer_encoding {
        // A transfer coding wins over Content-Length (RFC 9112 §6.3).
        if said.chunked {
            Framing::Chunked(ChunkedState::Size)
        } else {
            Framing::Close
        }
    } else if let Some(n) = said.content_length {
        Framing::Length(n)
    } else {
        Framing::Close
    };
    let keep_alive = said.keep_alive && framing != Framing::Close;
    Ok(Some(Head {
        status,
        len,
        framing,
        keep_alive,
        lines,
    }))
}

/// What the framing headers of one HTTP/1.x head say, read line by line: the
/// rules the client's response heads and the server's request heads share
/// (RFC 9112 §6, §9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramingHeaders {
    /// `Content-Length`, every one of them agreeing.
    pub content_length: Option<u64>,
    /// A `Transfer-Encoding` was sent.
    pub transfer_encoding: bool,
    /// The last `Transfer-Encoding` ends with `chunked`.
    pub chunked: bool,
    /// The connection may carry another exchange: HTTP/1.1's default, as
    /// `Connection` changes it.
    pub keep_alive: bool,
    http11: bool,
}

impl FramingHeaders {
    /// Nothing read yet, on an HTTP/1.1 (else 1.0) connection.
    pub fn new(http11: bool) -> Self {
        Self {
            content_length: None,
            transfer_encoding: false,
            chunked: false,
            keep_alive: http11,
            http11,
        }
    }

    /// Reads one header line: `Ok(false)` when it is not a framing header,
    /// `Err` (the reason) for an invalid or conflicting `Content-Length`.
    pub fn read(&mut self, name: &str, value: &[u8]) -> Result<bool, &'static str> {
        if name.eq_ignore_ascii_case("content-length") {
            let parsed = content_length_value(value).ok_or("invalid content-length")?;
            if self.content_length.is_some_and(|seen| seen != parsed) {
                return Err("conflicting content-length headers");
            }
            self.content_length = Some(parsed);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            self.transfer_encoding = true;
            self.chunked = ends_chunked(value);
        } else if name.eq_ignore_ascii_case("connection") {
            match connection_keep_alive(value) {
                Some(false) => self.keep_alive = false,
                // Only an HTTP/1.0 connection needs asking to stay open.
                Some(true) if !self.http11 => self.keep_alive = true,
                _ => {}
            }
        } else {
            return Ok(false);
        }
        Ok(true)
    }
}

/// A header line of the head in `buf` as ranges into it: name start, name
/// end, value start, value end (`name` and `value` are slices of `buf`).
pub fn line_span(buf: &[u8], name: &str, value: &[u8]) -> [u32; 4] {
    let offset = |s: &[u8]| (s.as_ptr() as usize - buf.as_ptr() as usize) as u32;
    let (name_start, value_start) = (offset(name.as_bytes()), offset(value));
    [
        name_start,
        name_start + name.len() as u32,
        value_start,
        value_start + value.len() as u32,
    ]
}

/// A `Content-Length` value: decimal digits only (RFC 9110 §8.6), else `None`.
pub fn content_length_value(value: &[u8]) -> Option<u64> {
    let digits = value.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Whether a `Transfer-Encoding` value makes the body chunked: only its last
/// coding says (RFC 9112 §6.1).
pub fn ends_chunked(value: &[u8]) -> bool {
    value
        .rsplit(|b| *b == b',')
        .next()
        .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"))
}

/// What a `Connection` value says of keeping the connection: `Some(false)`
/// for `close` (which wins), `Some(true)` for `keep-alive`, else `None`.
pub fn connection_keep_alive(value: &[u8]) -> Option<bool> {
    let mut said = None;
    for token in value.split(|b| *b == b',') {
        let token = token.trim_ascii();
        if token.eq_ignore_ascii_case(b"close") {
            return Some(false);
        } else if token.eq_ignore_ascii_case(b"keep-alive") {
            said = Some(true);
        }
    }
    said
}

/// Where a chunked decoder is between reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkedState {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last (zero) chunk: trailer lines until a blank line.
    Trailers,
    /// The body is over.
    Done,
}

/// One step of chunked decoding.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// Body bytes.
    Data(Bytes),
    /// More input is needed.
    NeedMore,
    /// The body ended (the terminating chunk and trailers were consumed).
    End,
}

/// Chunk-size lines (with extensions) longer than this are refused.
const MAX_CHUNK_LINE: usize = 4096;

impl ChunkedState {
    /// Consumes what it can from `buf`: at most one data slice per call.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, ProtocolError> {
        loop {
            match self {
                ChunkedState::Done => return Ok(Decoded::End),
                ChunkedState::Size => {
                    let Some(line) = take_line(buf)? else {
                        return Ok(Decoded::NeedMore);
                    };
                    let size = parse_chunk_size(&line)?;
                    *self = if size == 0 {
                        ChunkedState::Trailers
                    } else {
                        ChunkedState::Data(size)
                    };
                }
                ChunkedState::Data(left) => {
                    if buf.is_empty() {
                        return Ok(Decoded::NeedMore);
                    }
                    let n = (*left).min(buf.len() as u64) as usize;
                    let data = buf.split_to(n).freeze();
                    *left -= n as u64;
                    if *left == 0 {
                        *self = ChunkedState::DataEnd;
                    }
                    return Ok(Decoded::Data(data));
                }
                ChunkedState::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(Decoded::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(ProtocolError("chunk data not followed by CRLF"));
                    }
                    buf.advance(2);
                    *self = ChunkedState::Size;
                }
                ChunkedState::Trailers => {
                    let Some(line) = take_line(buf)? else {
                        return Ok(Decoded::NeedMore);
                    };
                    if line.is_empty() {
                        *self = ChunkedState::Done;
                    }
                }
            }
        }
    }
}

/// Takes one CRLF-terminated line (without the CRLF) off the front of `buf`.
fn take_line(buf: &mut BytesMut) -> Result<Option<BytesMut>, ProtocolError> {
    match memchr::memchr(b'\n', buf) {
        Some(end) => {
            let mut line = buf.split_to(end + 1);
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.truncate(end - 1);
            }
            Ok(Some(line))
        }
        None if buf.len() > MAX_CHUNK_LINE => Err(ProtocolError("chunk line too long")),
        None => Ok(None),
    }
}

/// The hexadecimal size of a chunk-size line, extensions ignored.
fn parse_chunk_size(line: &[u8]) -> Result<u64, ProtocolError> {
    let digits = line
        .split(|b| *b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if digits.is_empty() || digits.len() > 15 {
        return Err(ProtocolError("invalid chunk size"));
    }
    let text = std::str::from_utf8(digits).map_err(|_| ProtocolError("invalid chunk size"))?;
    u64::from_str_radix(text, 16).map_err(|_| ProtocolError("invalid chunk size"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        parse_head(text.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn content_length_body_keeps_the_connection() {
        let h = head(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 12\r\n\r\n{}",
        );
        assert_eq!(h.status, 200);
        assert_eq!(h.framing, Framing::Length(12));
        assert!(h.keep_alive);
        let text =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 12\r\n\r\n";
        assert_eq!(h.len, text.len());
        let headers = crate::UpstreamHeaders::from_head(&text.as_bytes()[..h.len], h.lines);
        assert_eq!(headers.get("content-type"), Some(&b"application/json"[..]));
        assert_eq!(headers.get("content-length"), Some(&b"12"[..]));
    }

    #[test]
    fn partial_heads_ask_for_more_and_huge_ones_fail() {
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\ncontent-le")
                .unwrap()
                .is_none()
        );
        let mut big = b"HTTP/1.1 200 OK\r\nx: ".to_vec();
        big.resize(MAX_HEAD_BYTES + 10, b'a');
        assert!(parse_head(&big).is_err());
        assert!(parse_head(b"NOT HTTP\r\n\r\n").is_err());
    }

    #[test]
    fn framing_follows_rfc_9112() {
        // Chunked wins over a content-length.
        let h = head(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 5\r\n\r\n",
        );
        assert_eq!(h.framing, Framing::Chunked(ChunkedState::Size));
        assert!(h.keep_alive);
        // A transfer coding that is not chunked last: read until close.
        let h = head("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n");
        assert_eq!(h.framing, Framing::Close);
        assert!(!h.keep_alive);
        // No length at all: until close.
        let h = head("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(h.framing, Framing::Close);
        assert!(!h.keep_alive);
        // Bodiless statuses.
        for status in ["204 No Content", "304 Not Modified", "100 Continue"] {
            let h = head(&format!("HTTP/1.1 {status}\r\n\r\n"));
            assert_eq!(h.framing, Framing::Length(0), "{status}");
        }
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n")
                .is_err()
        );
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n").is_err());
    }

    #[test]
    fn connection_reuse_follows_version_and_connection_header() {
        assert!(
            !head("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n").keep_alive
        );
        assert!(!head("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n").keep_alive);
        assert!(
            head("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n")
                .keep_alive
        );
        assert!(
            head("HTTP/1.1 200 OK\r\nconnection: keep-alive, upgrade\r\ncontent-length: 0\r\n\r\n")
                .keep_alive
        );
    }

    fn decode_all(input: &[&[u8]]) -> Result<(Vec<u8>, bool), ProtocolError> {
        let mut state = ChunkedState::Size;
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in input {
            buf.extend_from_slice(piece);
            loop {
                match state.decode(&mut buf)? {
                    Decoded::Data(d) => out.extend_from_slice(&d),
                    Decoded::NeedMore => break,
                    Decoded::End => return Ok((out, buf.is_empty())),
                }
            }
        }
        Ok((out, false))
    }

    #[test]
    fn chunked_bodies_decode_across_any_split() {
        let body: &[u8] =
            b"5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-trailer: y\r\n\r\n";
        for split in 0..body.len() {
            let (out, clean) = decode_all(&[&body[..split], &body[split..]]).unwrap();
            assert_eq!(out, b"helloabcdefghijklmnopqrstuvwxyz", "split at {split}");
            assert!(clean);
        }
        // Byte by byte.
        let pieces: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(
            decode_all(&pieces).unwrap().0,
            b"helloabcdefghijklmnopqrstuvwxyz"
        );
    }

    #[test]
    fn chunked_errors_are_protocol_errors() {
        assert!(decode_all(&[b"zz\r\n"]).is_err());
        assert!(decode_all(&[b"3\r\nabcXY"]).is_err());
        assert!(decode_all(&[b"\r\n"]).is_err());
        assert!(decode_all(&[&[b'1'; MAX_CHUNK_LINE + 1]]).is_err());
        // Not finished: no end seen.
        assert_eq!(
            decode_all(&[b"3\r\nabc\r\n"]).unwrap(),
            (b"abc".to_vec(), false)
        );
    }
}
