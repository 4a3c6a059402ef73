//! The upstream's response headers on the answer, as LiteLLM passes them
//! (`process_response_headers`): OpenAI's rate-limit headers as they are
//! (client-side throttlers read `x-ratelimit-remaining-*`), every upstream
//! header again with an `llm_provider-` prefix (but for the ones that only
//! framed the upstream's own connection), and the upstream's request id as
//! `request-id`.

use axum::http::HeaderMap;

use crate::answer::HeaderLines;

/// Passed on under their own names (LiteLLM's `OPENAI_RESPONSE_HEADERS`).
const RATE_LIMIT_HEADERS: [&str; 6] = [
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
];

/// How the upstream framed its answer on its own connection: nothing a
/// client can use, so not passed on (LiteLLM passes these too).
const FRAMING: [&str; 4] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// Adds `upstream`'s headers to the answer's `lines`.
pub(crate) fn pass_on(upstream: &HeaderMap, lines: &mut HeaderLines) {
    let mut request_id = None;
    for (name, value) in upstream {
        let name = name.as_str();
        if RATE_LIMIT_HEADERS.contains(&name) {
            lines.push(name, value.as_bytes());
        }
        if matches!(name, "request-id" | "x-request-id") && !value.is_empty() {
            // `request-id` first, as LiteLLM looks them up.
            if request_id.is_none() || name == "request-id" {
                request_id = Some(value);
            }
        }
        if !FRAMING.contains(&name) {
            lines.extend(b"llm_provider-");
            lines.push(name, value.as_bytes());
        }
    }
    if let Some(id) = request_id {
        lines.push("request-id", id.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn rate_limits_stay_as_they_are_and_everything_is_prefixed() {
        let mut upstream = HeaderMap::new();
        upstream.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from_static("9"),
        );
        upstream.insert("x-request-id", HeaderValue::from_static("req_1"));
        upstream.insert("openai-processing-ms", HeaderValue::from_static("7"));
        upstream.insert("content-length", HeaderValue::from_static("12"));
        let mut lines = HeaderLines::default();
        pass_on(&upstream, &mut lines);
        let got: Vec<(String, String)> = lines
            .iter()
            .map(|(n, v)| {
                (
                    String::from_utf8(n.to_vec()).unwrap(),
                    String::from_utf8(v.to_vec()).unwrap(),
                )
            })
            .collect();
        let has = |n: &str, v: &str| got.iter().any(|(gn, gv)| gn == n && gv == v);
        assert!(has("x-ratelimit-remaining-requests", "9"));
        assert!(has("llm_provider-x-ratelimit-remaining-requests", "9"));
        assert!(has("llm_provider-x-request-id", "req_1"));
        assert!(has("llm_provider-openai-processing-ms", "7"));
        assert!(has("request-id", "req_1"));
        assert!(!got.iter().any(|(n, _)| n == "openai-processing-ms"));
        assert!(!got.iter().any(|(n, _)| n.contains("content-length")));
    }
}
