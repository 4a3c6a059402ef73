//! Upstream failure → [`ProviderError`], following LiteLLM's exception mapping
//! (`litellm/litellm_core_utils/exception_mapping_utils.py`, the OpenAI branch):
//! the status decides the class, except that a few body phrases refine a 400
//! into context-window or content-policy errors and a "rate limit" phrase
//! wins over the status.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use crate::UpstreamHeaders;
use serde::Deserialize;
use switchyard_types::seconds;

use crate::{ErrorKind, ProviderError};

/// How much of a non-JSON error body ends up in the message.
const MESSAGE_MAX_CHARS: usize = 500;

/// Phrases that mean the prompt did not fit (lower-case). LiteLLM's
/// `is_error_str_context_window_exceeded` list plus OpenAI's error code and
/// the wordings of the common OpenAI-compatible servers.
const CONTEXT_WINDOW_PHRASES: &[&str] = &[
    "context_length_exceeded",
    "maximum context length",
    "exceed context limit",
    "model's maximum context limit",
    "is longer than the model's context length",
    "input tokens exceed the configured limit",
    "`inputs` tokens + `max_new_tokens` must be",
    "exceeds the available context size",
    "exceeds the maximum number of tokens allowed",
    "context window",
    "prompt is too long",
    "too many tokens",
    "string too long. expected a string with maximum length",
];

/// Phrases that mean a safety system refused the request (lower-case).
/// LiteLLM's `is_azure_content_policy_violation_error` list and the OpenAI
/// branch's checks.
const CONTENT_POLICY_PHRASES: &[&str] = &[
    "content_filter",
    "content_policy_violation",
    "content management policy",
    "responsibleaipolicyviolation",
    "your task failed as a result of our safety system",
    "request was rejected as a result of our safety system",
    "request was rejected as a result of the safety system",
    "the model produced invalid content",
];

/// Classifies a non-2xx upstream answer.
///
/// `body` is the (already size-capped) response body. The message is the
/// upstream's `error.message` when the body is OpenAI-shaped, else the body
/// text truncated to 500 characters; request headers never reach it.
pub fn classify(
    provider: &'static str,
    status: u16,
    headers: &UpstreamHeaders,
    body: &[u8],
) -> ProviderError {
    let parsed = ParsedError::from_body(body);
    let message = parsed.message.clone().unwrap_or_else(|| body_excerpt(body));
    let kind = kind_for(status, &parsed, body);
    ProviderError {
        kind,
        status: Some(status),
        retry_after: retry_after(headers),
        provider,
        message,
    }
}

/// Classifies an error object that arrived inside a 2xx stream
/// (`data: {"error": {...}}`) before any content. The status comes from the
/// object's `code` or `status` when it is an HTTP status, else 500.
pub fn classify_stream_error(provider: &'static str, data: &[u8]) -> ProviderError {
    let parsed = ParsedError::from_body(data);
    let status = parsed.status_hint.unwrap_or(500);
    let mut err = classify(provider, status, &UpstreamHeaders::new(), data);
    // The HTTP exchange itself succeeded: report the class, not a made-up status.
    if parsed.status_hint.is_none() {
        err.status = None;
    }
    err
}

/// Whether an SSE `data` payload is an error object rather than a chunk.
pub fn is_error_payload(data: &[u8]) -> bool {
    mentions_error(data)
        && serde_json::from_slice::<ErrorEnvelope>(data).is_ok_and(|e| e.error.is_some())
}

/// Whether the bytes hold `"error"` at all: the cheap pre-check of
/// [`is_error_payload`] (chunks never mention it at the top level, and most do not
/// contain the word at all).
pub(crate) fn mentions_error(data: &[u8]) -> bool {
    static ERROR_KEY: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"\"error\""));
    ERROR_KEY.find(data).is_some()
}

/// A failure below HTTP: no answer arrived, or its body broke off.
#[derive(Debug)]
pub enum TransportError {
    /// The request could not be sent or no response head arrived.
    Send(crate::client::SendError),
    /// The response body could not be read to its end.
    Body(crate::client::BodyError),
}

impl From<crate::client::SendError> for TransportError {
    fn from(err: crate::client::SendError) -> Self {
        TransportError::Send(err)
    }
}

impl From<crate::client::BodyError> for TransportError {
    fn from(err: crate::client::BodyError) -> Self {
        TransportError::Body(err)
    }
}

impl TransportError {
    fn is_timeout(&self) -> bool {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(match self {
            TransportError::Send(e) => e,
            TransportError::Body(e) => e,
        });
        while let Some(err) = source {
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::TimedOut
            {
                return true;
            }
            source = err.source();
        }
        false
    }
}

/// Maps a transport error (no HTTP answer, or a broken body).
pub fn classify_transport(provider: &'static str, err: &TransportError) -> ProviderError {
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::ApiConnection
    };
    ProviderError::new(kind, provider, transport_message(err))
}

/// The error and its causes, without the URL (it may carry a query string we
/// do not want in logs) and never any header.
pub(crate) fn transport_message(err: &TransportError) -> String {
    let (mut msg, first): (String, &(dyn std::error::Error + 'static)) = match err {
        TransportError::Send(e) if e.is_connect() => ("connection failed".to_owned(), e),
        TransportError::Send(e) => ("error sending the request".to_owned(), e),
        TransportError::Body(e) => ("error reading the upstream response".to_owned(), e),
    };
    let mut source = Some(first);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !msg.ends_with(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = cause.source();
    }
    msg
}

fn kind_for(status: u16, parsed: &ParsedError, body: &[u8]) -> ErrorKind {
    let text = String::from_utf8_lossy(body).to_lowercase();
    let has = |phrases: &[&str]| phrases.iter().any(|p| text.contains(p));

    let says_rate_limit = text.contains("rate limit") || text.contains("rate_limit");
    if status == 429 || (matches!(status, 400 | 403) && says_rate_limit) {
        return ErrorKind::RateLimit;
    }
    if (400..500).contains(&status) && status != 401 && status != 404 {
        if has(CONTEXT_WINDOW_PHRASES) && !text.contains("string_above_max_length") {
            return ErrorKind::ContextWindowExceeded;
        }
        if has(CONTENT_POLICY_PHRASES)
            || (text.contains("invalid prompt") && text.contains("violating our usage policy"))
        {
            return ErrorKind::ContentPolicyViolation;
        }
        if parsed.code.as_deref() == Some("model_not_found") {
            return ErrorKind::NotFound;
        }
        // OpenAI answers 400 "Request too large for gpt-4 ... on tokens per min".
        if text.contains("request too large") && text.contains("per min") {
            return ErrorKind::RateLimit;
        }
    }
    match status {
        400 | 413 => ErrorKind::BadRequest,
        401 => ErrorKind::Authentication,
        402 => ErrorKind::PaymentRequired,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        408 => ErrorKind::Timeout,
        409 => ErrorKind::Conflict,
        422 => ErrorKind::UnprocessableEntity,
        503 => ErrorKind::ServiceUnavailable,
        // LiteLLM raises `Timeout` for a gateway timeout.
        504 => ErrorKind::Timeout,
        500..=599 => ErrorKind::InternalServer,
        // 529 and friends are covered above; any other 4xx is the caller's fault.
        400..=499 => ErrorKind::BadRequest,
        // A non-error status handed to us (1xx/3xx): the upstream misbehaved.
        _ => ErrorKind::InvalidResponse,
    }
}

/// `Retry-After` (delta-seconds, possibly fractional, or an HTTP date), or
/// `retry-after-ms` which OpenAI and Azure send and which is more precise.
///
/// An upstream's number is clamped, never refused: anything past
/// [`seconds::MAX`] (a year; `1e30`, `inf`, a date far ahead) is that maximum.
/// A negative number, NaN or an unreadable value is no value; a date in the
/// past is zero.
pub fn retry_after(headers: &UpstreamHeaders) -> Option<Duration> {
    let header = |name: &str| headers.get_str(name);
    if let Some(ms) = header("retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(seconds::clamped_from_millis)
    {
        return Some(ms);
    }
    let value = header("retry-after")?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return seconds::clamped_from_secs(secs);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(seconds::clamp(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    ))
}

fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    match text.char_indices().nth(MESSAGE_MAX_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// What the gateway reads from an error body. Shapes seen in the wild:
/// `{"error": {"message", "type", "code"}}` (OpenAI, Azure, vLLM),
/// `{"error": "text"}`, `{"message": "..."}`, `{"detail": "..."}`.
#[derive(Default)]
struct ParsedError {
    message: Option<String>,
    code: Option<String>,
    status_hint: Option<u16>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<serde_json::Value>,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

impl ParsedError {
    fn from_body(body: &[u8]) -> Self {
        let Ok(env) = serde_json::from_slice::<ErrorEnvelope>(body) else {
            return Self::default();
        };
        let mut out = Self::default();
        match env.error {
            Some(serde_json::Value::Object(obj)) => {
                out.message = obj
                    .get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_owned);
                let code = obj.get("code");
                out.code = code.and_then(|c| c.as_str()).map(str::to_owned);
                out.status_hint = [code, obj.get("status")]
                    .into_iter()
                    .flatten()
                    .find_map(http_status_of);
            }
            Some(serde_json::Value::String(s)) => out.message = Some(s),
            _ => {}
        }
        if out.message.is_none() {
            out.message = [env.message, env.detail]
                .into_iter()
                .flatten()
                .find_map(|v| v.as_str().map(str::to_owned));
        }
        out
    }
}

fn http_status_of(v: &serde_json::Value) -> Option<u16> {
    let n = match v {
        serde_json::Value::Number(n) => n.as_u64()?,
        serde_json::Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    (400..600).contains(&n).then_some(n as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_body_to_kind() {
        use ErrorKind::*;
        let cases: &[(u16, &str, ErrorKind)] = &[
            (
                400,
                r#"{"error":{"message":"bad temperature","type":"invalid_request_error","code":null}}"#,
                BadRequest,
            ),
            (
                400,
                r#"{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
                ContextWindowExceeded,
            ),
            (
                400,
                r#"{"error":{"message":"x","code":"context_length_exceeded"}}"#,
                ContextWindowExceeded,
            ),
            (
                400,
                r#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens","type":"BadRequestError","code":400}"#,
                ContextWindowExceeded,
            ),
            (
                400,
                r#"{"error":{"message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#,
                ContextWindowExceeded,
            ),
            (
                413,
                r#"{"error":{"message":"Input has too many tokens"}}"#,
                ContextWindowExceeded,
            ),
            (
                400,
                r#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","code":"content_filter","innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#,
                ContentPolicyViolation,
            ),
            (
                400,
                r#"{"error":{"message":"Your request was rejected as a result of our safety system.","code":"content_policy_violation"}}"#,
                ContentPolicyViolation,
            ),
            (
                400,
                r#"{"error":{"message":"Invalid 'user': string too long.","code":"string_above_max_length"}}"#,
                BadRequest,
            ),
            (
                400,
                r#"{"error":{"message":"Request too large for gpt-4 on tokens per min (TPM): Limit 10000","code":"rate_limit_exceeded"}}"#,
                RateLimit,
            ),
            (
                401,
                r#"{"error":{"message":"Incorrect API key provided"}}"#,
                Authentication,
            ),
            (
                402,
                r#"{"error":{"message":"Insufficient credits"}}"#,
                PaymentRequired,
            ),
            (
                403,
                r#"{"error":{"message":"forbidden"}}"#,
                PermissionDenied,
            ),
            (
                404,
                r#"{"error":{"message":"The model `x` does not exist","code":"model_not_found"}}"#,
                NotFound,
            ),
            (
                400,
                r#"{"error":{"message":"The model `x` does not exist","code":"model_not_found"}}"#,
                NotFound,
            ),
            (408, "", Timeout),
            (409, "conflict", Conflict),
            (
                422,
                r#"{"detail":[{"msg":"field required"}]}"#,
                UnprocessableEntity,
            ),
            (418, "teapot", BadRequest),
            (
                429,
                r#"{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}"#,
                RateLimit,
            ),
            (
                429,
                r#"{"error":{"message":"You exceeded your current quota","code":"insufficient_quota"}}"#,
                RateLimit,
            ),
            (
                500,
                r#"{"error":{"message":"The server had an error processing your request."}}"#,
                InternalServer,
            ),
            (502, "<html>bad gateway</html>", InternalServer),
            (
                503,
                r#"{"error":{"message":"overloaded"}}"#,
                ServiceUnavailable,
            ),
            (504, "gateway timeout", Timeout),
            (529, r#"{"error":{"message":"Overloaded"}}"#, InternalServer),
            // A 500 that mentions the prompt length is still a server error.
            (
                500,
                r#"{"error":{"message":"maximum context length bug"}}"#,
                InternalServer,
            ),
        ];
        for (status, body, kind) in cases {
            let err = classify("openai", *status, &UpstreamHeaders::new(), body.as_bytes());
            assert_eq!(err.kind, *kind, "{status} {body}");
            assert_eq!(err.status, Some(*status));
            assert_eq!(err.provider, "openai");
        }
    }

    #[test]
    fn message_is_upstream_message_or_truncated_body() {
        let err = classify(
            "openai",
            400,
            &UpstreamHeaders::new(),
            br#"{"error":{"message":"bad temperature"}}"#,
        );
        assert_eq!(err.message, "bad temperature");
        let err = classify(
            "openai",
            400,
            &UpstreamHeaders::new(),
            br#"{"error":"plain string"}"#,
        );
        assert_eq!(err.message, "plain string");
        let err = classify(
            "openai",
            422,
            &UpstreamHeaders::new(),
            br#"{"detail":"Not Found"}"#,
        );
        assert_eq!(err.message, "Not Found");
        let long = "x".repeat(2000);
        let err = classify("openai", 502, &UpstreamHeaders::new(), long.as_bytes());
        assert_eq!(err.message.len(), MESSAGE_MAX_CHARS + 3);
        let err = classify("openai", 502, &UpstreamHeaders::new(), b"");
        assert_eq!(err.message, "(empty body)");
    }

    #[test]
    fn retry_after_forms() {
        let h = |pairs: &[(&'static str, &str)]| {
            UpstreamHeaders::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_bytes())))
        };
        assert_eq!(
            retry_after(&h(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&h(&[("retry-after", "1.5")])),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&h(&[("retry-after-ms", "250")])),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(&h(&[("retry-after", "20"), ("retry-after-ms", "250")])),
            Some(Duration::from_millis(250))
        );
        assert_eq!(retry_after(&h(&[("retry-after", "-3")])), None);
        assert_eq!(retry_after(&h(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&h(&[])), None);
        let in_a_minute = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(61));
        let got = retry_after(&h(&[("retry-after", &in_a_minute)])).unwrap();
        assert!(
            got > Duration::from_secs(55) && got <= Duration::from_secs(61),
            "{got:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
        assert_eq!(
            retry_after(&h(&[("retry-after", &past)])),
            Some(Duration::ZERO)
        );

        let err = classify("azure", 429, &h(&[("retry-after", "3")]), b"{}");
        assert_eq!(err.retry_after, Some(Duration::from_secs(3)));
    }

    #[test]
    fn huge_retry_after_values_are_clamped_to_a_year() {
        let h = |pairs: &[(&'static str, &str)]| {
            UpstreamHeaders::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_bytes())))
        };
        for pairs in [
            &[("retry-after", "1e30")][..],
            &[("retry-after", "inf")],
            &[("retry-after", "18446744073709551616")],
            &[("retry-after-ms", "1e30")],
            &[("retry-after-ms", "inf"), ("retry-after", "2")],
            &[("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")],
        ] {
            assert_eq!(retry_after(&h(pairs)), Some(seconds::MAX), "{pairs:?}");
        }
        assert_eq!(retry_after(&h(&[("retry-after", "NaN")])), None);
        // A NaN in the precise header leaves the other one to be read.
        assert_eq!(
            retry_after(&h(&[("retry-after-ms", "NaN"), ("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        let err = classify("openai", 429, &h(&[("retry-after", "1e30")]), b"{}");
        assert_eq!(err.retry_after, Some(seconds::MAX));
    }

    #[test]
    fn stream_error_objects() {
        assert!(is_error_payload(br#"{"error":{"message":"boom"}}"#));
        assert!(!is_error_payload(
            br#"{"id":"x","choices":[{"delta":{"content":"\"error\""}}]}"#
        ));
        assert!(!is_error_payload(b"[DONE]"));

        let err =
            classify_stream_error("openai", br#"{"error":{"message":"slow down","code":429}}"#);
        assert_eq!((err.kind, err.status), (ErrorKind::RateLimit, Some(429)));
        let err = classify_stream_error(
            "openai",
            br#"{"error":{"message":"maximum context length is 10"}}"#,
        );
        assert_eq!((err.kind, err.status), (ErrorKind::InternalServer, None));
        let err = classify_stream_error(
            "openai",
            br#"{"error":{"message":"maximum context length is 10","code":"400"}}"#,
        );
        assert_eq!(err.kind, ErrorKind::ContextWindowExceeded);
    }
}
