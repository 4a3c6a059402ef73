//! Turning a client's request body into one upstream attempt's body.

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use serde_json::value::RawValue;
use switchyard_types::{RequestBody, seconds};

use crate::deployment::Deployment;
use crate::error::RouterError;

/// Request fields that steer the router (LiteLLM consumes them) and must not
/// reach an upstream. A `match`, not a list scan: it runs for every field of
/// every request.
fn router_only(key: &str) -> bool {
    matches!(
        key,
        "mock_response"
            | "mock_delay"
            | "mock_timeout"
            | "mock_testing_fallbacks"
            | "mock_testing_context_fallbacks"
            | "mock_testing_content_policy_fallbacks"
            | "mock_testing_rate_limit_error"
            | "timeout"
            | "stream_timeout"
            | "request_timeout"
            | "num_retries"
            | "fallbacks"
            | "context_window_fallbacks"
            | "content_policy_fallbacks"
            | "disable_fallbacks"
            | "max_fallbacks"
            | "metadata"
            | "litellm_metadata"
            | "tags"
            | "priority"
            | "caching"
            | "cache"
            | "ttl"
            | "allowed_model_region"
            | "api_key"
            | "api_base"
            | "api_version"
            | "model_list"
            | "proxy_server_request"
    )
}

/// Whether this attempt is answered by the mock provider.
pub(crate) fn wants_mock(body: &RequestBody, deployment: &Deployment) -> bool {
    deployment.mock_response.is_some() || body.contains("mock_response")
}

/// What one attempt changes in the client's body.
pub(crate) struct AttemptBody<'a> {
    /// The model name the upstream knows the deployment by.
    pub(crate) upstream_model: &'a str,
    /// Answered by the mock provider: router-only fields stay (the mock reads them).
    pub(crate) mock: bool,
    /// Ask the upstream for a final usage event (`stream_options.include_usage`).
    pub(crate) ask_usage: bool,
}

/// Writes the JSON body sent for one attempt on `deployment`, straight from the
/// client's fields (no copy of the parsed body).
///
/// The client's fields win over the deployment's defaults, and the router's
/// defaults come last; `model` becomes the upstream's name in place. Router-only
/// fields are dropped unless the mock provider answers.
pub(crate) fn upstream_body(
    body: &RequestBody,
    deployment: &Deployment,
    router_defaults: &[(String, Box<RawValue>)],
    attempt: AttemptBody<'_>,
) -> Bytes {
    let keep = |key: &str| attempt.mock || !router_only(key);
    let mut out = JsonObject::with_capacity(body.json_len_hint() + 64);
    let mut wrote_model = false;
    for (key, value) in body.fields() {
        if key == "model" {
            out.string(key, attempt.upstream_model);
            wrote_model = true;
        } else if keep(key) {
            out.raw(key, value);
        }
    }
    if !wrote_model {
        out.string("model", attempt.upstream_model);
    }
    let from_deployment = deployment.defaults.iter();
    let from_router = router_defaults
        .iter()
        .filter(|(key, _)| !deployment.defaults.iter().any(|(k, _)| k == key));
    for (key, value) in from_deployment.chain(from_router) {
        let replaced = key == "model" || (attempt.ask_usage && key == "stream_options");
        if !replaced && keep(key) && !body.contains(key) {
            out.raw(key, value.get());
        }
    }
    if attempt.mock
        && let Some(mock_response) = &deployment.mock_response
        && !body.contains("mock_response")
    {
        out.raw("mock_response", mock_response.get());
    }
    if attempt.ask_usage {
        out.raw("stream_options", r#"{"include_usage":true}"#);
    }
    out.finish()
}

/// A JSON object written field by field.
struct JsonObject {
    out: Vec<u8>,
}

impl JsonObject {
    fn with_capacity(capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        out.push(b'{');
        Self { out }
    }

    fn key(&mut self, key: &str) {
        if self.out.len() > 1 {
            self.out.push(b',');
        }
        json_string(&mut self.out, key);
        self.out.push(b':');
    }

    fn raw(&mut self, key: &str, json: &str) {
        self.key(key);
        self.out.extend_from_slice(json.as_bytes());
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        json_string(&mut self.out, value);
    }

    fn finish(mut self) -> Bytes {
        self.out.push(b'}');
        // A boxed slice becomes `Bytes` without the bookkeeping allocation a
        // `Vec` with spare capacity needs (the shrink stays in place).
        Bytes::from(self.out.into_boxed_slice())
    }
}

/// Writes `s` as a JSON string. Field names and model names almost never
/// need escaping, and copying them as they are is several times cheaper than
/// the general serialiser.
fn json_string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("writing to a Vec");
    }
}

/// A top-level field holding seconds, written as a number or a numeric string
/// (anything else is not read, as before). A number out of
/// [`seconds::RANGE`] is the client's error, naming the field.
pub(crate) fn body_seconds(body: &RequestBody, key: &str) -> Result<Option<Duration>, RouterError> {
    // One look-up when the field is absent, as it nearly always is.
    let Some(written) = body.get(key) else {
        return Ok(None);
    };
    let Some(secs) = body
        .get_f64(key)
        .or_else(|| body.get_str(key).and_then(|s| s.trim().parse().ok()))
    else {
        return Ok(None);
    };
    match seconds::duration_from_secs(secs) {
        Some(d) => Ok(Some(d)),
        None => {
            let written: String = written.chars().take(40).collect();
            Err(RouterError::BadRequest {
                message: format!("{key} must be {}, got {written}", seconds::RANGE),
                param: Some(key.to_owned()),
            })
        }
    }
}

/// What routing reads from a request beyond its model, computed once per call.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestFacts {
    /// Estimated tokens: input plus `max_tokens` (0 when nothing reads it).
    pub(crate) tokens: u64,
    /// Input tokens whenever tokens are counted (0 otherwise): the context-window
    /// pre-call check reads them, and a stream without reported usage is settled
    /// as these plus its counted completion.
    pub(crate) prompt_tokens: u64,
    /// `allowed_model_region`, for the region pre-call check.
    pub(crate) region: Option<String>,
    /// The request's tags, when tag filtering is on.
    pub(crate) tags: Vec<String>,
    /// For a wildcard group: the part of the model name its `*` matched.
    pub(crate) wildcard_match: Option<String>,
    /// `priority` (else `default_priority`): queue when no deployment can take the call.
    pub(crate) priority: Option<u32>,
}

impl RequestFacts {
    pub(crate) fn read(
        inner: &crate::router::Inner,
        endpoint: switchyard_providers::Endpoint,
        model: &str,
        body: &RequestBody,
        wildcard_match: Option<&str>,
    ) -> Self {
        let (tokens, prompt_tokens) = if inner.needs_tokens() {
            let input = crate::tokens::estimate_request_tokens(endpoint, model, body)
                .saturating_sub(max_output_tokens(body));
            (input + max_output_tokens(body), input)
        } else {
            (0, 0)
        };
        Self {
            tokens,
            prompt_tokens,
            region: if inner.pre_call_checks {
                body.get_str("allowed_model_region")
                    .map(|r| r.trim().to_ascii_lowercase())
            } else {
                None
            },
            tags: if inner.tag_filtering {
                crate::precall::request_tags(body)
            } else {
                Vec::new()
            },
            wildcard_match: wildcard_match.map(str::to_owned),
            priority: body
                .get_f64("priority")
                .filter(|p| *p >= 0.0)
                .map(|p| p as u32)
                .or(inner.default_priority),
        }
    }

    /// The model name sent upstream on `deployment`.
    pub(crate) fn upstream_model<'d>(&self, deployment: &'d Deployment) -> Cow<'d, str> {
        match &self.wildcard_match {
            Some(matched) => Cow::Owned(crate::wildcard::substitute(
                &deployment.upstream_model,
                matched,
            )),
            None => Cow::Borrowed(&deployment.upstream_model),
        }
    }
}

/// `max_tokens` / `max_completion_tokens` of a request, 0 when absent.
fn max_output_tokens(body: &RequestBody) -> u64 {
    body.get_f64("max_completion_tokens")
        .or_else(|| body.get_f64("max_tokens"))
        .filter(|n| *n > 0.0)
        .map_or(0, |n| n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_written_as_serde_json_writes_them() {
        let texts = [
            "model",
            "gpt-4o",
            "é ü \u{7f}",
            "quote\"d",
            "back\\slash",
            "tab\there",
            "nl\n",
            "\u{1}",
            "",
        ];
        for text in texts {
            let mut out = Vec::new();
            json_string(&mut out, text);
            assert_eq!(out, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }
}
