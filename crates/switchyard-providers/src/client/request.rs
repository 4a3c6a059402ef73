//! An upstream request prepared once per deployment URL: everything of the
//! head but `Content-Length` is written when the provider is built, so a
//! request only appends its length and body.

use std::fmt;
use std::sync::Arc;

use http::Uri;
use http::header::{ACCEPT, HeaderName, HeaderValue, PROXY_AUTHORIZATION, USER_AGENT};

use super::pool::OriginPool;

const DEFAULT_USER_AGENT: &str = concat!("switchyard/", env!("CARGO_PKG_VERSION"));

/// A `POST` to one fixed URL with fixed headers. `Debug` never shows the
/// head: it carries the upstream key.
#[derive(Clone)]
pub struct PreparedRequest {
    pub(crate) uri: Uri,
    /// Request line and header lines, each ending in CRLF; no blank line yet.
    pub(crate) head: Arc<[u8]>,
    pub(crate) pool: Arc<OriginPool>,
}

impl fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedRequest")
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

impl PreparedRequest {
    /// The URL requests go to.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// Writes the full head for a body of `len` bytes into `out` (emptied first).
    pub(crate) fn write_head(&self, len: usize, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
        out.extend_from_slice(b"\r\n\r\n");
    }
}

/// Writes the request line and headers. `absolute_form`: the connection goes
/// to an HTTP forward proxy, which needs the whole URL in the request line,
/// and `proxy_auth` (if any) is sent to it.
pub(crate) fn build_head(
    uri: &Uri,
    headers: &[(HeaderName, HeaderValue)],
    absolute_form: bool,
    proxy_auth: Option<&HeaderValue>,
) -> Vec<u8> {
    let mut head = Vec::with_capacity(256);
    head.extend_from_slice(b"POST ");
    if absolute_form {
        head.extend_from_slice(uri.to_string().as_bytes());
    } else {
        let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        head.extend_from_slice(if target.is_empty() { "/" } else { target }.as_bytes());
    }
    head.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    // Never send credentials of the URL as part of the host.
    let host = authority.rsplit('@').next().unwrap_or(authority);
    head.extend_from_slice(host.as_bytes());
    head.extend_from_slice(b"\r\n");
    let mut line = |name: &HeaderName, value: &HeaderValue| {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    };
    for (name, value) in headers {
        line(name, value);
    }
    let given = |wanted: &HeaderName| headers.iter().any(|(name, _)| name == wanted);
    if !given(&USER_AGENT) {
        line(&USER_AGENT, &HeaderValue::from_static(DEFAULT_USER_AGENT));
    }
    if !given(&ACCEPT) {
        line(&ACCEPT, &HeaderValue::from_static("*/*"));
    }
    if let Some(auth) = proxy_auth {
        line(&PROXY_AUTHORIZATION, auth);
    }
    head
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::AUTHORIZATION;

    #[test]
    fn the_head_has_the_request_line_host_and_headers() {
        let uri: Uri = "http://127.0.0.1:8080/v1/chat/completions?api-version=1"
            .parse()
            .unwrap();
        let head = build_head(
            &uri,
            &[(AUTHORIZATION, HeaderValue::from_static("Bearer sk"))],
            false,
            None,
        );
        assert_eq!(
            String::from_utf8(head).unwrap(),
            format!(
                "POST /v1/chat/completions?api-version=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\n\
                 authorization: Bearer sk\r\nuser-agent: {DEFAULT_USER_AGENT}\r\naccept: */*\r\n"
            )
        );
        let head = build_head(
            &uri,
            &[],
            true,
            Some(&HeaderValue::from_static("Basic eA==")),
        );
        let head = String::from_utf8(head).unwrap();
        assert!(head.starts_with(
            "POST http://127.0.0.1:8080/v1/chat/completions?api-version=1 HTTP/1.1\r\n"
        ));
        assert!(head.ends_with("proxy-authorization: Basic eA==\r\n"));
    }
}
