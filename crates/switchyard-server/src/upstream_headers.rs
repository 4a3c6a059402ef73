//! The upstream's response headers on the answer, as LiteLLM passes them
//! (`process_response_headers`): OpenAI's rate-limit headers as they are
//! (client-side throttlers read `x-ratelimit-remaining-*`), every upstream
//! header again with an `llm_provider-` prefix (but for the ones that only
//! framed the upstream's own connection), and the upstream's request id as
//! `request-id`.

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

/// How the upstream framed its answer on its own connection: nothing a
/// client can use, so not passed on (LiteLLM passes these too).
const FRAMING: [&str; 4] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// Adds `upstream`'s headers to the answer's `headers`.
pub(crate) fn pass_on(upstream: &HeaderMap, headers: &mut HeaderMap) {
    if upstream.is_empty() {
        return;
    }
    let mut request_id = None;
    for (name, value) in upstream {
        let name_str = name.as_str();
        if RATE_LIMIT_HEADERS.contains(&name_str) {
            headers.append(name.clone(), value.clone());
        }
        if matches!(name_str, "request-id" | "x-request-id") && !value.is_empty() {
            // `request-id` first, as LiteLLM looks them up.
            if request_id.is_none() || name_str == "request-id" {
                request_id = Some(value);
            }
        }
        if FRAMING.contains(&name_str) {
            continue;
        }
        if let Some(prefixed) = prefixed(name_str) {
            headers.append(prefixed, value.clone());
        }
    }
    if let Some(id) = request_id {
        headers.insert(REQUEST_ID, id.clone());
    }
}

/// `llm_provider-<name>`: the names most upstreams send are written out once
/// (building and checking a new header name costs more than the rest of
/// passing the header on).
fn prefixed(name: &str) -> Option<HeaderName> {
    macro_rules! known {
        ($($name:literal),* $(,)?) => {
            match name {
                $($name => return Some(HeaderName::from_static(concat!("llm_provider-", $name))),)*
                _ => {}
            }
        };
    }
    known!(
        "content-type",
        "date",
        "server",
        "x-request-id",
        "request-id",
        "openai-organization",
        "openai-processing-ms",
        "openai-project",
        "openai-version",
        "strict-transport-security",
        "x-ratelimit-limit-requests",
        "x-ratelimit-limit-tokens",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
        "x-envoy-upstream-service-time",
        "cf-cache-status",
        "cf-ray",
        "alt-svc",
        "set-cookie",
        "access-control-expose-headers",
        "apim-request-id",
        "azureml-model-session",
        "x-ms-region",
        "x-ms-rai-invoked",
        "x-ms-deployment-name",
        "x-content-type-options",
    );
    let mut prefixed = String::with_capacity(13 + name.len());
    prefixed.push_str("llm_provider-");
    prefixed.push_str(name);
    HeaderName::from_bytes(prefixed.as_bytes()).ok()
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

    #[test]
    fn prefixed_names_written_out_match_the_built_ones() {
        for name in [
            "content-type",
            "x-ratelimit-reset-tokens",
            "x-ms-region",
            "some-other",
        ] {
            assert_eq!(
                prefixed(name).unwrap().as_str(),
                format!("llm_provider-{name}")
            );
        }
    }
}
