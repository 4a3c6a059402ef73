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
    // Three digits, the first not 0 (RFC 9110 §15: 100-599, and 600-999 in
    // private use, which hyper and `http::StatusCode` take too).
    if !(100..=999).contains(&status) {
        return Err(ProtocolError("invalid status code"));
    }
    let mut said = FramingHeaders::new(response.version == Some(1));
    let mut lines = Vec::with_capacity(response.headers.len());
    for header in response.headers.iter() {
        lines.push(line_span(buf, header.name, header.value));
        said.read(header.name, header.value)
            .map_err(ProtocolError)?;
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Length(0)
    } else if said.transfer_encoding() {
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
    // An ambiguously framed answer is read once, its connection then closed:
    // whatever the upstream meant to follow it cannot be trusted.
    let keep_alive = said.keep_alive && framing != Framing::Close && !said.ambiguous();
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
    /// How many `Transfer-Encoding` lines were sent (saturating).
    pub transfer_encodings: u8,
    /// The last `Transfer-Encoding` ends with `chunked`.
    pub chunked: bool,
    /// Every `Transfer-Encoding` sent is exactly `chunked`, one coding.
    pub only_chunked: bool,
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
            transfer_encodings: 0,
            chunked: false,
            only_chunked: true,
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
            self.transfer_encodings = self.transfer_encodings.saturating_add(1);
            self.chunked = ends_chunked(value);
            self.only_chunked &= value.trim_ascii().eq_ignore_ascii_case(b"chunked");
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

    /// A `Transfer-Encoding` was sent.
    pub fn transfer_encoding(&self) -> bool {
        self.transfer_encodings > 0
    }

    /// The body's end could be read two ways: a transfer coding beside a
    /// `Content-Length`, several `Transfer-Encoding` lines, codings other
    /// than `chunked` alone, or any in an HTTP/1.0 message (RFC 9112 §6.1:
    /// its framing is faulty). A server refuses such a request; a client uses
    /// such a response once and never pools its connection (RFC 9112 §6.3).
    pub fn ambiguous(&self) -> bool {
        self.transfer_encoding()
            && (self.content_length.is_some()
                || self.transfer_encodings > 1
                || !self.only_chunked
                || !self.http11)
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
    /// After the last (zero) chunk: trailer lines until a blank line, this
    /// many trailer bytes read so far.
    Trailers(usize),
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

/// Trailer sections larger than this are refused (hyper's limit too).
pub const MAX_TRAILER_BYTES: usize = 16 * 1024;

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
                        ChunkedState::Trailers(0)
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
                    let crlf = &buf[..buf.len().min(2)];
                    if crlf != &b"\r\n"[..crlf.len()] {
                        return Err(ProtocolError("chunk data not followed by CRLF"));
                    }
                    if crlf.len() < 2 {
                        return Ok(Decoded::NeedMore);
                    }
                    buf.advance(2);
                    *self = ChunkedState::Size;
                }
                ChunkedState::Trailers(seen) => {
                    let line = take_line(buf);
                    let read = match &line {
                        Ok(Some(line)) => line.len() + 2,
                        _ => buf.len(),
                    };
                    *seen += read;
                    if *seen > MAX_TRAILER_BYTES {
                        return Err(ProtocolError("trailer section too large"));
                    }
                    match line? {
                        None => {
                            // Counted again whole with its end: only the line's
                            // own bytes are charged.
                            *seen -= read;
                            return Ok(Decoded::NeedMore);
                        }
                        Some(line) if line.is_empty() => *self = ChunkedState::Done,
                        Some(line) if !is_field_line(&line) => {
                            return Err(ProtocolError("malformed trailer line"));
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
}

/// Takes one CRLF-terminated line (without the CRLF) off the front of `buf`.
/// A line ending in a bare LF, or holding a CR anywhere else, is refused
/// (RFC 9112 §7.1: chunk lines end in CRLF; hyper refuses them too).
fn take_line(buf: &mut BytesMut) -> Result<Option<BytesMut>, ProtocolError> {
    // A line of up to MAX_CHUNK_LINE bytes has its CR within the window,
    // whichever read it arrives in.
    let window = &buf[..buf.len().min(MAX_CHUNK_LINE + 1)];
    match memchr::memchr2(b'\r', b'\n', window) {
        Some(end) if buf[end] == b'\n' => Err(ProtocolError("chunk line not ended by CRLF")),
        Some(end) if end + 1 == buf.len() => Ok(None),
        Some(end) if buf[end + 1] == b'\n' => {
            let mut line = buf.split_to(end + 2);
            line.truncate(end);
            Ok(Some(line))
        }
        Some(_) => Err(ProtocolError("chunk line not ended by CRLF")),
        None if buf.len() > MAX_CHUNK_LINE => Err(ProtocolError("chunk line too long")),
        None => Ok(None),
    }
}

/// The size of a chunk-size line (RFC 9112 §7.1): one or more hex digits,
/// then optional blanks and extensions (`;name=value`, ignored). Anything
/// else before the digits or between them and an extension (a sign,
/// leading blanks, `0x`) is refused, as hyper does.
fn parse_chunk_size(line: &[u8]) -> Result<u64, ProtocolError> {
    const INVALID: ProtocolError = ProtocolError("invalid chunk size");
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(INVALID);
    }
    let after = &line[digits..];
    let rest = &after[blanks(after)..];
    if !(rest.is_empty() || rest[0] == b';') {
        return Err(INVALID);
    }
    line[..digits].iter().try_fold(0u64, |size, &digit| {
        let value = (digit as char).to_digit(16).ok_or(INVALID)?;
        size.checked_mul(16)
            .and_then(|s| s.checked_add(u64::from(value)))
            .ok_or(ProtocolError("chunk size too large"))
    })
}

/// A trailer line is a header field line (RFC 9112 §7.1.2, RFC 9110 §5):
/// a token, a colon, then a value of visible bytes, blanks and obs-text (no
/// blanks before the colon, no folding), as hyper reads trailers too.
fn is_field_line(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|b| *b == b':') else {
        return false;
    };
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        && value
            .iter()
            .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80)
}

/// How many spaces and tabs `bytes` starts with.
fn blanks(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count()
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
        // Chunked wins over a content-length, but such an answer is read once
        // and its connection never pooled.
        let h = head(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 5\r\n\r\n",
        );
        assert_eq!(h.framing, Framing::Chunked(ChunkedState::Size));
        assert!(!h.keep_alive);
        let h = head("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n");
        assert_eq!(h.framing, Framing::Chunked(ChunkedState::Size));
        assert!(h.keep_alive, "exactly chunked is not ambiguous");
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
    fn ambiguously_framed_answers_are_never_pooled() {
        for framing in [
            "transfer-encoding: chunked\r\ncontent-length: 3",
            "content-length: 3\r\ntransfer-encoding: chunked",
            "transfer-encoding: gzip, chunked",
            "transfer-encoding: identity, chunked",
            "transfer-encoding: chunked, chunked",
            "transfer-encoding: chunked\r\ntransfer-encoding: chunked",
            "transfer-encoding: gzip\r\ntransfer-encoding: chunked",
        ] {
            let h = head(&format!("HTTP/1.1 200 OK\r\n{framing}\r\n\r\n"));
            assert_eq!(h.framing, Framing::Chunked(ChunkedState::Size), "{framing}");
            assert!(!h.keep_alive, "{framing}");
        }
    }

    #[test]
    fn status_codes_have_three_digits_from_100() {
        // Found by the differential test against hyper's client: `000` and
        // `029` were read as statuses 0 and 29.
        for line in ["HTTP/1.1 000 OK", "HTTP/1.1 029 Hm", "HTTP/1.1 099 X"] {
            let text = format!("{line}\r\ncontent-length: 0\r\n\r\n");
            assert_eq!(
                parse_head(text.as_bytes()).unwrap_err(),
                ProtocolError("invalid status code"),
                "{line}"
            );
        }
        for (line, status) in [("HTTP/1.1 100 Continue", 100), ("HTTP/1.1 599 X", 599)] {
            let h = head(&format!("{line}\r\ncontent-length: 0\r\n\r\n"));
            assert_eq!(h.status, status);
        }
        assert_eq!(head("HTTP/1.1 999 X\r\n\r\n").status, 999);
    }

    #[test]
    fn a_transfer_coding_in_an_http10_answer_is_faulty_framing() {
        // Found by the differential test against hyper's client: such an
        // answer went back to the pool when it asked to be kept alive.
        let h =
            head("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n");
        assert_eq!(h.framing, Framing::Chunked(ChunkedState::Size));
        assert!(!h.keep_alive, "RFC 9112 §6.1: close after it");
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
    fn chunk_lines_follow_rfc_9112_strictly() {
        // Accepted, as hyper accepts them: hex of either case, leading zeros,
        // blanks before an extension or the line end, extensions of any shape.
        for body in [
            &b"3f\r\n"[..],
            b"3F\r\n",
            b"003f\r\n",
            b"3f  \r\n",
            b"3f\t\r\n",
            b"3f;a=b\r\n",
            b"3f ; a = \"b;c\"\r\n",
        ] {
            let mut state = ChunkedState::Size;
            let mut buf = BytesMut::from(body);
            buf.extend_from_slice(&[b'x'; 0x3f]);
            assert_eq!(
                state
                    .decode(&mut buf)
                    .map(|d| matches!(d, Decoded::Data(d) if d.len() == 0x3f)),
                Ok(true),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Refused: a sign, leading blanks, a 0x prefix, no digits, junk after
        // the digits, a bare LF or a stray CR, an overflowing size.
        for body in [
            &b"+3f\r\n"[..],
            b"-3f\r\n",
            b"  3f  \r\n",
            b"0x3f\r\n",
            b";a\r\n",
            b"3g\r\n",
            b"3f x\r\n",
            b"3f\n",
            b"3f\r\r\n",
            b"3f\rx\n",
            b"3f;a\rb\r\n",
            b"10000000000000000\r\n",
        ] {
            let mut state = ChunkedState::Size;
            let mut buf = BytesMut::from(body);
            assert!(
                state.decode(&mut buf).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // The CRLF after data, and trailer lines, must be CRLF too.
        assert!(decode_all(&[b"1\r\na\n"]).is_err());
        assert!(decode_all(&[b"1\r\na\r\n0\r\nx: y\n\r\n"]).is_err());
        assert!(decode_all(&[b"1\r\na\r\n0\r\n\n"]).is_err());
    }

    #[test]
    fn trailer_lines_are_header_fields() {
        // Found by the differential test against hyper: any CRLF line passed
        // as a trailer, where hyper (and RFC 9112 §7.1.2) wants field lines.
        for trailers in [
            &b"x-t: 1\r\n"[..],
            b"x-t:\r\n",
            b"x-t:\tv \xff\r\n",
            b"x-a: 1\r\nx-b: 2\r\n",
        ] {
            let body = [&b"1\r\na\r\n0\r\n"[..], trailers, b"\r\n"].concat();
            assert_eq!(
                decode_all(&[&body]).unwrap(),
                (b"a".to_vec(), true),
                "{}",
                String::from_utf8_lossy(trailers)
            );
        }
        for trailers in [
            &b"0\r\n"[..],
            b"x-t 1\r\n",
            b": 1\r\n",
            b"x-t : 1\r\n",
            b"x;t: 1\r\n",
            b" x-t: 1\r\n",
            b"x-t: 1\r\n folded\r\n",
            b"x-t: a\x00b\r\n",
            b"x-t: a\x7fb\r\n",
        ] {
            let body = [&b"1\r\na\r\n0\r\n"[..], trailers, b"\r\n"].concat();
            assert!(
                decode_all(&[&body]).is_err(),
                "{}",
                String::from_utf8_lossy(trailers)
            );
        }
    }

    #[test]
    fn the_chunk_line_cap_does_not_depend_on_the_reads() {
        // A line one byte over the cap was accepted when its CRLF came in the
        // same read, refused when the read ended before the CR.
        for len in [MAX_CHUNK_LINE - 1, MAX_CHUNK_LINE, MAX_CHUNK_LINE + 1] {
            let body = format!("{}1\r\na\r\n0\r\n\r\n", "0".repeat(len - 1));
            let (line, rest) = body.as_bytes().split_at(len);
            let whole = decode_all(&[body.as_bytes()]);
            let cut = decode_all(&[line, rest]);
            assert_eq!(whole, cut, "a {len}-byte chunk line");
            assert_eq!(
                whole.is_ok(),
                len <= MAX_CHUNK_LINE,
                "a {len}-byte chunk line"
            );
        }
    }

    #[test]
    fn trailers_are_capped() {
        let line = format!("x-t: {}\r\n", "v".repeat(1000));
        let fits = format!("0\r\n{}\r\n", line.repeat(MAX_TRAILER_BYTES / line.len()));
        assert_eq!(decode_all(&[fits.as_bytes()]).unwrap(), (Vec::new(), true));
        let over = format!(
            "0\r\n{}\r\n",
            line.repeat(MAX_TRAILER_BYTES / line.len() + 1)
        );
        assert!(decode_all(&[over.as_bytes()]).is_err());
        // Fed a byte at a time, the same cap holds.
        let pieces: Vec<&[u8]> = over.as_bytes().chunks(1).collect();
        assert!(decode_all(&pieces).is_err());
        let pieces: Vec<&[u8]> = fits.as_bytes().chunks(7).collect();
        assert_eq!(decode_all(&pieces).unwrap(), (Vec::new(), true));
        // One endless trailer line is refused too.
        let endless = format!("0\r\nx: {}", "v".repeat(MAX_TRAILER_BYTES));
        assert!(decode_all(&[endless.as_bytes()]).is_err());
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
