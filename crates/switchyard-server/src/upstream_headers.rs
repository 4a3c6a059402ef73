//! The upstream's response headers on the answer, as LiteLLM passes them
//! (`process_response_headers`): OpenAI's rate-limit headers as they are
//! (client-side throttlers read `x-ratelimit-remaining-*`), every upstream
//! header again with an `llm_provider-` prefix (but for the ones that only
//! framed the upstream's own connection), and the upstream's request id as
//! `request-id`.

use switchyard_providers::UpstreamHeaders;

use crate::answer::HeaderLines;

/// Passed on under their own names (LiteLLM's `OPENAI_RESPONSE_HEADERS`).
const RATE_LIMIT_HEADERS: [&[u8]; 6] = [
    b"x-ratelimit-remaining-requests",
    b"x-ratelimit-remaining-tokens",
    b"x-ratelimit-limit-requests",
    b"x-ratelimit-limit-tokens",
    b"x-ratelimit-reset-requests",
    b"x-ratelimit-reset-tokens",
];

/// How the upstream framed its answer on its own connection: nothing a
/// client can use, so not passed on (LiteLLM passes these too).
const FRAMING: [&[u8]; 4] = [
    b"content-length",
    b"transfer-encoding",
    b"connection",
    b"keep-alive",
];

/// Adds `upstream`'s headers to the answer's `lines`.
pub(crate) fn pass_on(upstream: &UpstreamHeaders, lines: &mut HeaderLines) {
    let mut request_id = None;
    for (name, value) in upstream.iter() {
        if RATE_LIMIT_HEADERS.contains(&name) {
            lines.push(name, value);
        }
        if matches!(name, b"request-id" | b"x-request-id") && !value.is_empty() {
            // `request-id` first, as LiteLLM looks them up.
            if request_id.is_none() || name == b"request-id" {
                request_id = Some(value);
            }
        }
        if !FRAMING.contains(&name) {
            lines.extend(b"llm_provider-");
            lines.push(name, value);
        }
    }
    if let Some(id) = request_id {
        lines.push("request-id", id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_stay_as_they_are_and_everything_is_prefixed() {
        let upstream = UpstreamHeaders::from_pairs([
            ("X-RateLimit-Remaining-Requests", &b"9"[..]),
            ("x-request-id", b"req_1"),
            ("openai-processing-ms", b"7"),
            ("Content-Length", b"12"),
        ]);
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
