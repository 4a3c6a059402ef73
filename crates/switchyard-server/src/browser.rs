//! What LiteLLM's proxy answers browsers with, so a web front end that calls
//! it directly keeps working: security headers on every answer, CORS for
//! any origin (Starlette's `CORSMiddleware` as LiteLLM sets it up: every
//! origin, method and header), and the answer to a CORS preflight, which
//! needs no key.

use axum::http::StatusCode;
use bytes::Bytes;

use crate::answer::{Answer, HeaderLines};

/// On every answer.
pub(crate) const SECURITY_LINES: &[u8] = b"x-frame-options: DENY\r\ncontent-security-policy: frame-ancestors 'none'\r\nx-content-type-options: nosniff\r\nvary: Origin\r\n";

/// On answers to a request with an `Origin`: any page may read them, and
/// these headers (the ones LiteLLM lets a page read).
const CORS_LINES: &[u8] = b"access-control-allow-origin: *\r\naccess-control-expose-headers: x-litellm-semantic-filter, x-litellm-semantic-filter-tools, x-litellm-adaptive-router-model, x-litellm-applied-guardrails, x-litellm-guardrail-scan-id, x-litellm-guardrail-scan-metadata, x-litellm-cache-key\r\n";

/// The answer to a CORS preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`), or `None` for any other request.
pub(crate) fn preflight<'h>(
    method: &str,
    header: impl Fn(&str) -> Option<&'h [u8]>,
) -> Option<Answer> {
    if method != "OPTIONS"
        || header("origin").is_none()
        || header("access-control-request-method").is_none()
    {
        return None;
    }
    let mut lines = HeaderLines::with_capacity(512);
    lines.push("content-type", b"text/plain; charset=utf-8");
    lines.push("access-control-allow-origin", b"*");
    lines.push(
        "access-control-allow-methods",
        b"DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, QUERY",
    );
    lines.push("access-control-max-age", b"600");
    // Every header is allowed: the ones asked for are granted as asked.
    if let Some(asked) = header("access-control-request-headers") {
        lines.push("access-control-allow-headers", asked);
    }
    lines.extend(&SECURITY_LINES[..SECURITY_LINES.len() - b"vary: Origin\r\n".len()]);
    lines.push(
        "vary",
        b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network",
    );
    Some(Answer::full(
        StatusCode::OK,
        lines,
        Bytes::from_static(b"OK"),
    ))
}

/// Adds what every answer carries and, for a request that came with an
/// `Origin`, the CORS headers.
pub(crate) fn finish(lines: &mut HeaderLines, from_browser: bool) {
    lines.extend(SECURITY_LINES);
    if from_browser {
        lines.extend(CORS_LINES);
    }
}
