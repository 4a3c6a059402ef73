//! What LiteLLM's proxy answers browsers with, so a web front end that calls
//! it directly keeps working: security headers on every answer, CORS for
//! any origin (Starlette's `CORSMiddleware` as LiteLLM sets it up: every
//! origin, method and header), and the answer to a CORS preflight, which
//! needs no key.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

/// On every answer.
pub(crate) const SECURITY_HEADERS: [(HeaderName, HeaderValue); 4] = [
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    ),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (header::VARY, HeaderValue::from_static("Origin")),
];

/// The headers LiteLLM lets a page read, on answers to a request with an `Origin`.
const EXPOSED: HeaderValue = HeaderValue::from_static(
    "x-litellm-semantic-filter, x-litellm-semantic-filter-tools, x-litellm-adaptive-router-model, x-litellm-applied-guardrails, x-litellm-guardrail-scan-id, x-litellm-guardrail-scan-metadata, x-litellm-cache-key",
);

/// The answer to a CORS preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`), or `None` for any other request.
pub(crate) fn preflight<B>(request: &http::Request<B>) -> Option<Response> {
    let headers = request.headers();
    if request.method() != Method::OPTIONS
        || !headers.contains_key(header::ORIGIN)
        || !headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return None;
    }
    let mut response = Response::new(Body::from("OK"));
    *response.status_mut() = StatusCode::OK;
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    out.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    out.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, QUERY"),
    );
    out.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    // Every header is allowed: the ones asked for are granted as asked.
    if let Some(asked) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    out.extend(SECURITY_HEADERS);
    out.insert(
        header::VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network",
        ),
    );
    Some(response)
}

/// Adds what every answer carries (when it was not prebuilt with them) and,
/// for a request that came with an `Origin`, the CORS headers.
pub(crate) fn finish(headers: &mut HeaderMap, from_browser: bool) {
    if !headers.contains_key(header::X_FRAME_OPTIONS) {
        headers.extend(SECURITY_HEADERS);
    }
    if from_browser {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED);
    }
}
