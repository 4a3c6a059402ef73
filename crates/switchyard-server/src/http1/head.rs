//! A request head (RFC 9112 §3–§6): what the server needs to route the
//! request and to find where its body ends, read with httparse. Header
//! values stay in the received bytes, looked up by name when needed: a
//! proxied request reads four or five of them, never enough to pay for a
//! map.

use axum::http::StatusCode;
use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;
use switchyard_providers::client::{FramingHeaders, line_span};

/// Header lines kept per request head (hyper's default is 100 as well).
const MAX_HEADERS: usize = 100;

/// Request heads larger than this are refused with 431.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A parsed request head; every range points into `raw`.
#[derive(Debug)]
pub(crate) struct RequestHead {
    raw: Bytes,
    method: (u32, u32),
    target: (u32, u32),
    headers: SmallVec<[[u32; 4]; 16]>,
    /// HTTP/1.1 (else 1.0).
    pub(crate) http11: bool,
    pub(crate) body: BodyLength,
    /// The client wants the connection kept after this exchange.
    pub(crate) keep_alive: bool,
    /// `Expect: 100-continue`.
    pub(crate) expect_continue: bool,
}

/// Where the request body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyLength {
    /// Exactly this many bytes (0 for no body).
    Known(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// Why a request head is refused; the connection is answered and closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// Not HTTP/1.x, or ambiguous framing (both lengths, conflicting
    /// lengths, a transfer coding other than chunked): 400.
    Malformed(&'static str),
    /// Head over [`MAX_HEAD_BYTES`] or more than [`MAX_HEADERS`] lines: 431.
    TooLarge,
    /// A transfer coding other than exactly `chunked`: 501 (RFC 9112 §6.1).
    NotImplemented,
    /// The head did not arrive within the head timeout: 408.
    TimedOut,
}

impl HeadError {
    /// Why, in a few words (the log line and the error body say it).
    pub(crate) fn reason(self) -> &'static str {
        match self {
            HeadError::Malformed(why) => why,
            HeadError::TooLarge => "request head too large",
            HeadError::NotImplemented => "unsupported transfer-encoding",
            HeadError::TimedOut => "the request head did not arrive in time",
        }
    }

    /// The status the refusal is answered with.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            HeadError::Malformed(_) => StatusCode::BAD_REQUEST,
            HeadError::TooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            HeadError::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            HeadError::TimedOut => StatusCode::REQUEST_TIMEOUT,
        }
    }
}

impl RequestHead {
    /// Parses the head at the start of `buf` and takes it off (without a
    /// copy); `Ok(None)` when more bytes are needed.
    pub(crate) fn take(buf: &mut BytesMut) -> Result<Option<Self>, HeadError> {
        let Some(layout) = Self::parse(buf)? else {
            return Ok(None);
        };
        let (mut head, len) = layout;
        head.raw = buf.split_to(len).freeze();
        Ok(Some(head))
    }

    /// Parses the head at the start of `buf`: the head (its `raw` still
    /// empty) and its length; `Ok(None)` when more bytes are needed.
    fn parse(buf: &[u8]) -> Result<Option<(Self, usize)>, HeadError> {
        // Left uninitialised: the parser writes only the lines it finds.
        let mut lines = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut []);
        let len = match request.parse_with_uninit_headers(buf, &mut lines) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
                return Err(HeadError::TooLarge);
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
            Err(_) => return Err(HeadError::Malformed("malformed request head")),
        };
        if len > MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
        let offset = |s: &[u8]| (s.as_ptr() as usize - buf.as_ptr() as usize) as u32;
        let span = |s: &[u8]| (offset(s), offset(s) + s.len() as u32);
        let method = span(request.method.unwrap_or_default().as_bytes());
        let target = span(request.path.unwrap_or_default().as_bytes());
        if !valid_target(
            request.method.unwrap_or_default(),
            request.path.unwrap_or_default(),
        ) {
            return Err(HeadError::Malformed("invalid request target"));
        }
        let http11 = request.version == Some(1);
        let mut headers = SmallVec::new();
        let mut said = FramingHeaders::new(http11);
        let mut expect_continue = false;
        let mut hosts = 0u32;
        for header in request.headers.iter() {
            let (name, value) = (header.name, header.value);
            headers.push(line_span(buf, name, value));
            if said.read(name, value).map_err(HeadError::Malformed)? {
                continue;
            }
            if name.eq_ignore_ascii_case("host") {
                hosts += 1;
            } else if name.eq_ignore_ascii_case("expect") {
                expect_continue = value.trim_ascii().eq_ignore_ascii_case(b"100-continue");
            }
        }
        // An HTTP/1.1 request names exactly one host (RFC 9112 §3.2).
        if http11 && hosts != 1 {
            return Err(HeadError::Malformed(if hosts == 0 {
                "missing host header"
            } else {
                "more than one host header"
            }));
        }
        let body = Self::body_length(&said, http11)?;
        let head = Self {
            raw: Bytes::new(),
            method,
            target,
            headers,
            http11,
            body,
            keep_alive: said.keep_alive,
            expect_continue,
        };
        Ok(Some((head, len)))
    }

    /// Where the body ends. Request smuggling lives in the gaps between
    /// readings of a head, so a body has exactly one, unambiguous length
    /// (RFC 9112 §6.1, §6.3): one `Transfer-Encoding: chunked` line and no
    /// `Content-Length`, or agreeing `Content-Length`s alone.
    fn body_length(said: &FramingHeaders, http11: bool) -> Result<BodyLength, HeadError> {
        if !said.transfer_encoding() {
            return Ok(BodyLength::Known(said.content_length.unwrap_or(0)));
        }
        if said.content_length.is_some() {
            return Err(HeadError::Malformed(
                "both transfer-encoding and content-length",
            ));
        }
        if said.transfer_encodings > 1 {
            return Err(HeadError::Malformed(
                "more than one transfer-encoding header",
            ));
        }
        if !http11 {
            return Err(HeadError::Malformed(
                "transfer-encoding in an HTTP/1.0 request",
            ));
        }
        if !said.only_chunked {
            return Err(HeadError::NotImplemented);
        }
        Ok(BodyLength::Chunked)
    }

    fn slice(&self, (start, end): (u32, u32)) -> &[u8] {
        &self.raw[start as usize..end as usize]
    }

    /// The method, as sent.
    pub(crate) fn method(&self) -> &str {
        std::str::from_utf8(self.slice(self.method)).unwrap_or_default()
    }

    /// The request target: path and query.
    pub(crate) fn target(&self) -> &str {
        std::str::from_utf8(self.slice(self.target)).unwrap_or_default()
    }

    /// The path, without the query (nor the scheme and host of an
    /// absolute-form target, RFC 9112 §3.2.2).
    pub(crate) fn path(&self) -> &str {
        let mut target = self.target();
        if let Some(rest) = target
            .strip_prefix("http://")
            .or_else(|| target.strip_prefix("https://"))
        {
            target = rest.find('/').map_or("/", |at| &rest[at..]);
        }
        target.split_once('?').map_or(target, |(path, _)| path)
    }

    /// The first value of a header (names compare case-insensitively).
    pub(crate) fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find_map(|&[ns, ne, vs, ve]| {
            self.slice((ns, ne))
                .eq_ignore_ascii_case(name.as_bytes())
                .then(|| self.slice((vs, ve)))
        })
    }

    /// Every header line, as sent.
    pub(crate) fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.headers
            .iter()
            .map(|&[ns, ne, vs, ve]| (self.slice((ns, ne)), self.slice((vs, ve))))
    }
}

/// A request target is origin-form (`/path?query`), absolute-form
/// (`scheme://authority/path`), asterisk-form (`*`) or, for `CONNECT`,
/// authority-form (RFC 9112 §3.2); anything else is 400 (RFC 9112 §3.2:
/// "ought to respond with a 400"), as hyper answers it.
fn valid_target(method: &str, target: &str) -> bool {
    let scheme = target.split_once("://").is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    });
    target.starts_with('/') || target == "*" || scheme || method == "CONNECT"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `text`, and the length of the head when it is complete.
    fn parse(text: &str) -> Result<Option<(RequestHead, usize)>, HeadError> {
        let mut buf = BytesMut::from(text.as_bytes());
        let head = RequestHead::take(&mut buf)?;
        Ok(head.map(|head| (head, text.len() - buf.len())))
    }

    #[test]
    fn a_post_with_a_length_keeps_the_connection() {
        let text = "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer k\r\nContent-Length: 12\r\n\r\n{}";
        let (head, len) = parse(text).unwrap().unwrap();
        assert_eq!(len, text.len() - 2);
        assert_eq!(head.method(), "POST");
        assert_eq!(head.path(), "/v1/chat/completions");
        assert_eq!(head.target(), "/v1/chat/completions?x=1");
        assert_eq!(head.header("authorization"), Some(&b"Bearer k"[..]));
        assert_eq!(head.header("AUTHORIZATION"), Some(&b"Bearer k"[..]));
        assert_eq!(head.header("x-missing"), None);
        assert_eq!(head.body, BodyLength::Known(12));
        assert!(head.keep_alive && head.http11 && !head.expect_continue);
        assert_eq!(head.headers().count(), 3);
        let (head, _) =
            parse("POST http://proxy.example:4000/v1/embeddings?a=b HTTP/1.1\r\nHost: a\r\n\r\n")
                .unwrap()
                .unwrap();
        assert_eq!(head.path(), "/v1/embeddings", "absolute form");
    }

    #[test]
    fn partial_heads_wait_and_oversized_ones_are_refused() {
        assert!(
            parse("POST / HTTP/1.1\r\nHost: a\r\nHost: a")
                .unwrap()
                .is_none()
        );
        let mut big = "GET / HTTP/1.1\r\nx: ".to_owned();
        big.push_str(&"a".repeat(MAX_HEAD_BYTES));
        assert_eq!(parse(&big).unwrap_err(), HeadError::TooLarge);
        let many: String = (0..=MAX_HEADERS).map(|i| format!("h{i}: v\r\n")).collect();
        assert_eq!(
            parse(&format!("GET / HTTP/1.1\r\n{many}\r\n")).unwrap_err(),
            HeadError::TooLarge
        );
        assert!(matches!(
            parse("NOT HTTP\r\n\r\n"),
            Err(HeadError::Malformed(_))
        ));
    }

    #[test]
    fn ambiguous_body_lengths_are_refused() {
        for text in [
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert!(
                matches!(parse(text), Err(HeadError::Malformed(_))),
                "{text}"
            );
        }
        let (head, _) = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.body, BodyLength::Chunked);
        let (head, _) =
            parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n")
                .unwrap()
                .unwrap();
        assert_eq!(head.body, BodyLength::Known(3));
    }

    #[test]
    fn transfer_codings_other_than_chunked_alone_are_refused() {
        let refused =
            |te: &str| parse(&format!("POST / HTTP/1.1\r\nHost: a\r\n{te}\r\n\r\n")).unwrap_err();
        for te in [
            "Transfer-Encoding: gzip",
            "Transfer-Encoding: gzip, chunked",
            "Transfer-Encoding: identity, chunked",
            "Transfer-Encoding: chunked, chunked",
            "Transfer-Encoding: chunked, gzip",
        ] {
            assert_eq!(refused(te), HeadError::NotImplemented, "{te}");
        }
        for te in [
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
            "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked",
        ] {
            assert!(matches!(refused(te), HeadError::Malformed(_)), "{te}");
        }
        let (head, _) = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChunKed\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.body, BodyLength::Chunked);
    }

    #[test]
    fn request_targets_have_one_of_the_four_forms() {
        // Found by the differential test against hyper: a target without
        // its leading slash was served (and routed as a relative path).
        for target in [
            "/",
            "/v1/models?x=1",
            "*",
            "http://a:4000/v1/models",
            "https://a",
        ] {
            let text = format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n");
            assert!(parse(&text).unwrap().is_some(), "{target}");
        }
        assert!(parse("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n").is_ok());
        for target in ["v1/models", "'x?y=1", "a:443", "?x", "://a/", "1http://a/"] {
            let text = format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n");
            assert_eq!(
                parse(&text).unwrap_err(),
                HeadError::Malformed("invalid request target"),
                "{target}"
            );
        }
    }

    #[test]
    fn http11_requests_name_exactly_one_host() {
        assert_eq!(
            parse("GET / HTTP/1.1\r\n\r\n").unwrap_err(),
            HeadError::Malformed("missing host header")
        );
        assert_eq!(
            parse("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n").unwrap_err(),
            HeadError::Malformed("more than one host header")
        );
        // HTTP/1.0 had no Host requirement.
        assert!(parse("GET / HTTP/1.0\r\n\r\n").unwrap().is_some());
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection_header() {
        let keep = |text: &str| parse(text).unwrap().unwrap().0.keep_alive;
        assert!(keep("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(!keep(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        ));
        assert!(!keep("GET / HTTP/1.0\r\n\r\n"));
        assert!(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        let (head, _) = parse(
            "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(head.expect_continue);
    }
}
