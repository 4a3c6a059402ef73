//! The upstream's response headers on the answer, as LiteLLM passes them
//! (`process_response_headers`): OpenAI's rate-limit headers as they are
//! (client-side throttlers read `x-ratelimit-remaining-*`), every upstream
//! header again with an `llm_provider-` prefix, and the upstream's request
//! id as `request-id`.

use axum::http::{HeaderMap, HeaderName};

/// Passed on under their own names (LiteLLM's `OPENAI_RESPONSE_HEADERS`).
const RATE_LIMIT_HEADERS: [&str; 6] = [
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
];

const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");

/// Adds `upstream`'s headers to the answer's `headers`.
pub(crate) fn pass_on(upstream: &HeaderMap, headers: &mut HeaderMap) {
    if upstream.is_empty() {
        return;
    }
    let mut prefixed = String::with_capacity(64);
    for (name, value) in upstream {
        if RATE_LIMIT_HEADERS.contains(&name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
        prefixed.clear();
        prefixed.push_str("llm_provider-");
        prefixed.push_str(name.as_str());
        if let Ok(prefixed) = HeaderName::from_bytes(prefixed.as_bytes()) {
            headers.append(prefixed, value.clone());
        }
    }
    if let Some(id) = ["request-id", "x-request-id"]
        .iter()
        .find_map(|name| upstream.get(*name).filter(|v| !v.is_empty()))
    {
        headers.insert(REQUEST_ID, id.clone());
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
        let mut answer = HeaderMap::new();
        pass_on(&upstream, &mut answer);
        assert_eq!(answer["x-ratelimit-remaining-requests"], "9");
        assert_eq!(answer["llm_provider-x-ratelimit-remaining-requests"], "9");
        assert_eq!(answer["llm_provider-x-request-id"], "req_1");
        assert_eq!(answer["llm_provider-openai-processing-ms"], "7");
        assert_eq!(answer["request-id"], "req_1");
        assert!(!answer.contains_key("openai-processing-ms"));
    }
}
