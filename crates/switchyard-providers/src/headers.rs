//! An upstream response's headers, kept as received.
//!
//! Every successful answer carries its upstream's headers to the client
//! (LiteLLM's `llm_provider-*`), and a failure reads `Retry-After` from
//! them. An `http::HeaderMap` for that cost an allocation per value plus the
//! map's own, and was walked once to be written out again; this keeps the
//! head's bytes in one buffer and the lines as ranges into it.

use std::fmt;

use bytes::Bytes;

/// The header lines of one upstream response, in the order received, names
/// lowercased (as `http::HeaderMap` and Python's `httpx` present them).
#[derive(Clone, Default)]
pub struct UpstreamHeaders {
    raw: Bytes,
    /// Name start, name end, value start, value end, into `raw`. Boxed, not
    /// inline: the headers move with the answer through several futures.
    lines: Box<[[u32; 4]]>,
}

impl UpstreamHeaders {
    /// No headers (an answer that had no upstream, like `mock_response`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Headers from name/value pairs (tests, and providers that do not
    /// parse an HTTP head themselves).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Self {
        let mut raw = Vec::new();
        let mut lines = Vec::new();
        for (name, value) in pairs {
            let name_start = raw.len() as u32;
            raw.extend(name.bytes().map(|b| b.to_ascii_lowercase()));
            let value_start = raw.len() as u32;
            raw.extend_from_slice(value);
            lines.push([name_start, value_start, value_start, raw.len() as u32]);
        }
        Self {
            raw: raw.into(),
            lines: lines.into_boxed_slice(),
        }
    }

    /// Builds from a received head: `head` is copied once, and `spans`
    /// (name and value ranges into it, from the head parser) are kept.
    pub(crate) fn from_head(head: &[u8], spans: Vec<[u32; 4]>) -> Self {
        let mut raw = head.to_vec();
        for &[name_start, name_end, _, _] in &spans {
            raw[name_start as usize..name_end as usize].make_ascii_lowercase();
        }
        Self {
            raw: raw.into(),
            lines: spans.into_boxed_slice(),
        }
    }

    /// Every line, in the order received: lowercase name (an HTTP token,
    /// so ASCII), value bytes.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.lines.iter().map(|&[ns, ne, vs, ve]| {
            (
                &self.raw[ns as usize..ne as usize],
                &self.raw[vs as usize..ve as usize],
            )
        })
    }

    /// The first value of `name` (any case), if present.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, value)| value)
    }

    /// The first value of `name` as text, trimmed; `None` when absent or not UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    /// How many lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

impl fmt::Debug for UpstreamHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(name, value)| {
                (
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(value),
                )
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_keeps_its_order_and_lowercases_names() {
        let head =
            b"HTTP/1.1 200 OK\r\nContent-Type: a/b\r\nX-Request-ID: r1\r\nx-request-id: r2\r\n\r\n";
        let text = std::str::from_utf8(head).unwrap();
        let span = |s: &str| {
            let start = text.find(s).unwrap() as u32;
            (start, start + s.len() as u32)
        };
        let line = |name: &str, value: &str| {
            let (ns, ne) = span(name);
            let (vs, ve) = span(value);
            [ns, ne, vs, ve]
        };
        let headers = UpstreamHeaders::from_head(
            head,
            vec![
                line("Content-Type", "a/b"),
                line("X-Request-ID", "r1"),
                line("x-request-id", "r2"),
            ],
        );
        let got: Vec<_> = headers.iter().collect();
        assert_eq!(
            got,
            [
                (&b"content-type"[..], &b"a/b"[..]),
                (b"x-request-id", b"r1"),
                (b"x-request-id", b"r2"),
            ]
        );
        assert_eq!(headers.get("X-REQUEST-ID"), Some(&b"r1"[..]));
        assert_eq!(headers.get("retry-after"), None);
        assert_eq!(headers.len(), 3);
    }

    #[test]
    fn pairs_are_lowercased_and_trimmed_on_read() {
        let headers = UpstreamHeaders::from_pairs([("Retry-After", &b" 7 "[..])]);
        assert_eq!(headers.get_str("retry-after"), Some("7"));
        assert!(UpstreamHeaders::new().is_empty());
        assert_eq!(format!("{headers:?}"), r#"{"retry-after": " 7 "}"#);
    }
}
