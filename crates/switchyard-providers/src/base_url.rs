//! An upstream's base URL (`api_base`), read as Python's httpx reads it (the OpenAI SDK,
//! and so LiteLLM, hands `api_base` to `httpx.URL`): RFC 3986, not the WHATWG URL
//! standard browsers (and the `url` crate) follow.
//!
//! The difference that matters: WHATWG parses a host whose last label looks numeric as an
//! IPv4 address, so `http://nomic-embed-v1.5:8080` (a docker-compose service name) is an
//! "invalid IPv4 address" there; for httpx only a host of exactly four dot-separated runs
//! of digits is an IPv4 address, anything else is a name resolved when connecting.
//!
//! httpx's rules (`httpx/_urlparse.py`, `urlparse` and `encode_host`):
//! - no ASCII control character anywhere;
//! - the scheme is lower-cased (it must be `http` or `https` here);
//! - the authority runs to the first `/`, `?` or `#`; user info ends at its last `@`;
//!   the host runs to the first `:` (or is `[...]`); the rest is the port;
//! - a host of four dot-separated digit runs must be a valid IPv4 address (no leading
//!   zeros, each at most 255); `[...]` must hold a valid IPv6 address; other ASCII hosts
//!   are lower-cased; non-ASCII hosts are IDNA-encoded;
//! - the port is a number; the scheme's default port is dropped;
//! - `.` and `..` path segments are removed; characters outside the path's and query's
//!   safe sets are percent-encoded, `%XX` escapes kept.
//!
//! Stricter than httpx, because the result must be a host a request can reach: the host
//! must not be empty and may hold only RFC 3986 `reg-name` characters (letters, digits,
//! `-._~`, and `!$&'()*+,;=`); httpx would percent-encode a space or a `"` into a name no
//! resolver knows. The port must fit in 16 bits. A fragment (`#`) is refused: a base URL
//! has endpoint paths appended to it. Messages quote the host and the port, never the
//! user info, the path or the query (they can carry credentials).

use std::net::{Ipv4Addr, Ipv6Addr};

/// A base URL in normal form: `scheme://[userinfo@]host[:port][/path][?query]`, without a
/// trailing `/`. An endpoint path appended to it makes a valid [`http::Uri`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    text: String,
    scheme_len: usize,
    host: std::ops::Range<usize>,
    port: Option<u16>,
}

impl BaseUrl {
    /// The whole normalised URL.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        &self.text[..self.scheme_len]
    }

    /// The host as a request connects to it: lower-cased, IDNA-encoded, an IPv6 address
    /// in brackets.
    pub fn host(&self) -> &str {
        &self.text[self.host.clone()]
    }

    /// The URL without its user info (`user:password@`), which can hold credentials: what
    /// may be shown (a response header, a log line).
    pub fn public(&self) -> String {
        let after_scheme = self.scheme_len + "://".len();
        format!(
            "{}{}",
            &self.text[..after_scheme],
            &self.text[self.host.start..]
        )
    }

    /// The port when it is not the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.port
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Reads `input` (surrounding whitespace and trailing `/`s ignored) as an `http://` or
/// `https://` base URL. The error says what is wrong without quoting credentials.
pub fn parse(input: &str) -> Result<BaseUrl, String> {
    let s = input.trim();
    if let Some((at, c)) = s.char_indices().find(|(_, c)| c.is_ascii_control()) {
        return Err(format!(
            "it holds the control character {c:?} at position {at}"
        ));
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err("it is not an absolute URL (expected http://host or https://host)".into());
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err("the scheme must be http or https".into());
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if tail.contains('#') {
        return Err("a base URL cannot have a fragment (`#`)".into());
    }
    let (userinfo, host_port) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let (host, port) = split_host_port(host_port)?;
    let host = encode_host(host)?;
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(parse_port(p)?),
    };
    let default_port = if scheme == "http" { 80 } else { 443 };
    let port = port.filter(|p| *p != default_port);

    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    let mut text = String::with_capacity(s.len() + 8);
    text.push_str(&scheme);
    text.push_str("://");
    if let Some(userinfo) = userinfo {
        quote(userinfo, USERINFO_SAFE, &mut text);
        text.push('@');
    }
    let host_start = text.len();
    text.push_str(&host);
    let host_range = host_start..text.len();
    if let Some(port) = port {
        text.push(':');
        text.push_str(itoa::Buffer::new().format(port));
    }
    quote(&normalize_path(path), PATH_SAFE, &mut text);
    if let Some(query) = query {
        text.push('?');
        quote(query, QUERY_SAFE, &mut text);
    }
    while query.is_none() && text.len() > host_range.end && text.ends_with('/') {
        text.pop();
    }
    if text.parse::<http::Uri>().is_err() {
        // Everything above is percent-encoded or checked; kept as a last guard.
        return Err("it is not a valid URL".into());
    }
    Ok(BaseUrl {
        text,
        scheme_len: scheme.len(),
        host: host_range,
        port,
    })
}

/// Splits `host[:port]` as httpx does: the host runs to the first `:` unless it is `[...]`.
fn split_host_port(host_port: &str) -> Result<(&str, Option<&str>), String> {
    if host_port.starts_with('[') {
        let Some(close) = host_port.find(']') else {
            return Err("the host has a `[` without its `]`".into());
        };
        let (host, rest) = host_port.split_at(close + 1);
        return match rest.strip_prefix(':') {
            Some(port) => Ok((host, Some(port))),
            None if rest.is_empty() => Ok((host, None)),
            None => Err(format!("unexpected text after the host {}", shown(host))),
        };
    }
    Ok(match host_port.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    })
}

fn parse_port(port: &str) -> Result<u16, String> {
    let digits = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    match digits.then(|| port.parse::<u16>().ok()).flatten() {
        Some(p) => Ok(p),
        None => Err(format!(
            "the port {} is not a number from 0 to 65535",
            shown(port)
        )),
    }
}

/// httpx's `encode_host`, plus the `reg-name` check.
fn encode_host(host: &str) -> Result<String, String> {
    if host.is_empty() {
        return Err("it has no host".into());
    }
    if is_ipv4_style(host) {
        return match host.parse::<Ipv4Addr>() {
            Ok(_) => Ok(host.to_owned()),
            Err(_) => Err(format!("invalid IPv4 address {}", shown(host))),
        };
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return match inner.parse::<Ipv6Addr>() {
            Ok(_) => Ok(host.to_ascii_lowercase()),
            Err(_) => Err(format!("invalid IPv6 address {}", shown(host))),
        };
    }
    let name = if host.is_ascii() {
        host.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(host)
            .map_err(|_| format!("invalid international host name {}", shown(host)))?
    };
    if let Some(c) = name.chars().find(|c| !is_reg_name_char(*c)) {
        return Err(format!(
            "the host {} has {c:?}, which a host name cannot hold",
            shown(host)
        ));
    }
    if name.is_empty() {
        return Err("it has no host".into());
    }
    Ok(name)
}

/// `^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$`: what httpx reads as an IPv4 address.
fn is_ipv4_style(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// RFC 3986 `reg-name` = *( unreserved / sub-delims ) (percent-escapes are refused: no
/// resolver reads them).
fn is_reg_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=".contains(c)
}

/// httpx's `normalize_path`: drops `.` and `..` segments.
fn normalize_path(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    if !segments.iter().any(|s| *s == "." || *s == "..") {
        return path.to_owned();
    }
    let mut out: Vec<&str> = Vec::new();
    for s in segments {
        match s {
            "." => {}
            ".." => {
                if !(out.is_empty() || out == [""]) {
                    out.pop();
                }
            }
            _ => out.push(s),
        }
    }
    out.join("/")
}

/// Printable ASCII a path keeps as is (besides letters and digits): WHATWG's path
/// percent-encode set, as httpx's `PATH_SAFE`.
const PATH_SAFE: &str = "!$%&'()*+,-./:;=@[\\]^_|~";
/// httpx's `QUERY_SAFE`.
/// (less the backtick, which `http::Uri` refuses).
const QUERY_SAFE: &str = "!$%&'()*+,-./:;=?@[\\]^_{|}~";
/// RFC 3986 `userinfo`: unreserved, sub-delims and `:`.
const USERINFO_SAFE: &str = "!$&'()*+,-.:;=_~";

/// `text` percent-encoded for a URL path, as httpx encodes one.
pub(crate) fn quote_path(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    quote(text, PATH_SAFE, &mut out);
    out
}

/// `text` percent-encoded for a URL query, as httpx encodes one.
pub(crate) fn quote_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    quote(text, QUERY_SAFE, &mut out);
    out
}

/// httpx's `quote`: `%XX` escapes are kept, every other character outside letters,
/// digits and `safe` is percent-encoded as UTF-8.
fn quote(text: &str, safe: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let mut i = 0;
    for (at, c) in text.char_indices() {
        if at < i {
            continue; // inside an escape already copied
        }
        let escape = c == '%'
            && bytes.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit);
        if escape {
            out.push_str(&text[at..at + 3]);
            i = at + 3;
        } else if c.is_ascii_alphanumeric() || (c != '%' && safe.contains(c)) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push('%');
                out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
                out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
            }
        }
    }
}

/// A host or port for a message: JSON-quoted, cut at 80 characters.
fn shown(s: &str) -> String {
    let cut: String = s.chars().take(80).collect();
    serde_json::Value::String(cut).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        match parse(input) {
            Ok(url) => url.as_str().to_owned(),
            Err(e) => panic!("{input:?}: {e}"),
        }
    }

    fn err(input: &str) -> String {
        match parse(input) {
            Ok(url) => panic!("{input:?} was accepted as {url}"),
            Err(e) => e,
        }
    }

    #[test]
    fn the_public_form_leaves_out_user_info() {
        let url = parse("https://user:s3cret@Proxy.example.com:8443/v1?x=1").unwrap();
        assert_eq!(url.public(), "https://proxy.example.com:8443/v1?x=1");
        assert!(url.as_str().contains("s3cret"));
        assert_eq!(parse("http://h/v1").unwrap().public(), "http://h/v1");
    }

    #[test]
    fn names_whose_last_label_looks_numeric_are_names() {
        let url = parse("http://nomic-embed-v1.5:8080/v1").unwrap();
        assert_eq!(url.as_str(), "http://nomic-embed-v1.5:8080/v1");
        assert_eq!(url.host(), "nomic-embed-v1.5");
        assert_eq!(url.port(), Some(8080));
        assert_eq!(url.scheme(), "http");
        for (input, want) in [
            ("http://ollama-0.1/", "http://ollama-0.1"),
            ("http://1.2.3/v1", "http://1.2.3/v1"),
            ("http://1.2.3.4.5/v1", "http://1.2.3.4.5/v1"),
            ("http://0x7f.1/v1", "http://0x7f.1/v1"),
            ("http://my_service:8000/v1/", "http://my_service:8000/v1"),
            ("http://localhost./v1", "http://localhost./v1"),
            (
                "HTTP://API.Example.COM:443/v1",
                "http://api.example.com:443/v1",
            ),
            (
                "https://API.Example.COM:443/v1",
                "https://api.example.com/v1",
            ),
            ("http://h:80/v1", "http://h/v1"),
            ("http://h:/v1", "http://h/v1"),
            ("  http://h:8000/v1//  ", "http://h:8000/v1"),
            ("http://127.0.0.1:4000", "http://127.0.0.1:4000"),
            ("http://[::1]:4000/v1", "http://[::1]:4000/v1"),
            ("http://[FE80::1]/v1", "http://[fe80::1]/v1"),
            (
                "http://bücher.example/v1",
                "http://xn--bcher-kva.example/v1",
            ),
            ("http://u:p%40ss@h/v1", "http://u:p%40ss@h/v1"),
            ("http://h/a/./b/../c", "http://h/a/c"),
            ("http://h/a b/é", "http://h/a%20b/%C3%A9"),
            (
                "http://h/v1?api-version=1&x=a b",
                "http://h/v1?api-version=1&x=a%20b",
            ),
            ("http://h/100%25", "http://h/100%25"),
        ] {
            assert_eq!(ok(input), want, "{input}");
        }
    }

    #[test]
    fn malformed_urls_are_refused_with_what_is_wrong() {
        for (input, want) in [
            (
                "${OLLAMA_BASE}",
                "it is not an absolute URL (expected http://host or https://host)",
            ),
            (
                "localhost",
                "it is not an absolute URL (expected http://host or https://host)",
            ),
            (
                "",
                "it is not an absolute URL (expected http://host or https://host)",
            ),
            ("ftp://h/v1", "the scheme must be http or https"),
            ("http:///v1", "it has no host"),
            ("http://:8080/v1", "it has no host"),
            (
                "http://${HOST}:8080/v1",
                "the host \"${HOST}\" has '{', which a host name cannot hold",
            ),
            (
                "http://a b/v1",
                "the host \"a b\" has ' ', which a host name cannot hold",
            ),
            ("http://256.1.1.1/v1", "invalid IPv4 address \"256.1.1.1\""),
            ("http://01.1.1.1/v1", "invalid IPv4 address \"01.1.1.1\""),
            ("http://[::1/v1", "the host has a `[` without its `]`"),
            ("http://[::g]/v1", "invalid IPv6 address \"[::g]\""),
            (
                "http://[::1]x/v1",
                "unexpected text after the host \"[::1]\"",
            ),
            (
                "http://h:8x/v1",
                "the port \"8x\" is not a number from 0 to 65535",
            ),
            (
                "http://h:99999/v1",
                "the port \"99999\" is not a number from 0 to 65535",
            ),
            (
                "http://h:1:2/v1",
                "the port \"1:2\" is not a number from 0 to 65535",
            ),
            (
                "http://h/v1#frag",
                "a base URL cannot have a fragment (`#`)",
            ),
            (
                "http://h/v\t1",
                "it holds the control character '\\t' at position 10",
            ),
        ] {
            assert_eq!(err(input), want, "{input}");
        }
    }

    #[test]
    fn messages_never_quote_user_info_path_or_query() {
        for input in [
            "http://user:s3cret@h:99x/v1",
            "http://user:s3cret@a b/v1?key=s3cret",
            "ftp://user:s3cret@h/s3cret",
        ] {
            assert!(!err(input).contains("s3cret"), "{input}");
        }
    }

    #[test]
    fn an_endpoint_appended_makes_a_uri_with_the_same_host() {
        let base = parse("http://nomic-embed-v1.5:8080/v1").unwrap();
        let uri: http::Uri = format!("{base}/embeddings").parse().unwrap();
        assert_eq!(uri.host(), Some("nomic-embed-v1.5"));
        assert_eq!(uri.port_u16(), Some(8080));
        assert_eq!(uri.path(), "/v1/embeddings");
    }

    proptest::proptest! {
        /// Any text: no panic; what is accepted is in normal form (parsing it again gives
        /// it back) and makes a `Uri` with an endpoint appended, with the same host.
        #[test]
        fn any_text_is_read_without_panic(
            input in "(https?://|HTTP://|[a-z]{0,3}:?/{0,2})[a-zA-Z0-9.:@\\[\\]%/?#_~ {}é\t-]{0,40}"
        ) {
            if let Ok(url) = parse(&input) {
                let again = parse(url.as_str()).unwrap();
                proptest::prop_assert_eq!(again.as_str(), url.as_str());
                let uri: http::Uri = format!("{url}/chat/completions").parse().unwrap();
                let host = uri.host().unwrap().to_owned();
                proptest::prop_assert_eq!(host.as_str(), url.host());
            }
        }
    }
}
