//! Turning a client's request body into one upstream attempt's body.

use std::time::Duration;

use switchyard_types::RequestBody;

use crate::deployment::Deployment;

/// Request fields that steer the router (LiteLLM consumes them) and must not
/// reach an upstream.
const ROUTER_ONLY_FIELDS: &[&str] = &[
    "mock_response",
    "mock_delay",
    "mock_timeout",
    "timeout",
    "stream_timeout",
    "num_retries",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "disable_fallbacks",
    "max_fallbacks",
    "metadata",
    "litellm_metadata",
    "tags",
    "priority",
    "caching",
    "cache",
    "ttl",
    "allowed_model_region",
    "api_key",
    "api_base",
    "api_version",
    "model_list",
    "proxy_server_request",
];

/// Whether this attempt is answered by the mock provider.
pub(crate) fn wants_mock(body: &RequestBody, deployment: &Deployment) -> bool {
    deployment.mock_response.is_some() || body.contains("mock_response")
}

/// Builds the body sent for one attempt on `deployment`.
///
/// The client's fields win over the deployment's defaults, and the router's
/// defaults come last. Mock attempts keep the mock fields the mock provider reads.
pub(crate) fn upstream_body(
    body: &RequestBody,
    deployment: &Deployment,
    router_defaults: &[(String, Box<serde_json::value::RawValue>)],
    mock: bool,
    upstream_model: &str,
) -> RequestBody {
    let mut out = body.clone();
    out.set("model", upstream_model);
    for (k, v) in deployment.defaults.iter().chain(router_defaults) {
        out.set_default_raw(k, v);
    }
    if mock {
        if let Some(mock_response) = &deployment.mock_response {
            out.set_default_raw("mock_response", mock_response);
        }
    } else {
        for field in ROUTER_ONLY_FIELDS {
            out.remove(field);
        }
    }
    out
}

/// The request's own `timeout` field, in seconds.
pub(crate) fn request_timeout(body: &RequestBody) -> Option<Duration> {
    body.get_f64("timeout")
        .or_else(|| body.get_str("timeout").and_then(|s| s.trim().parse().ok()))
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
}

/// What routing reads from a request beyond its model, computed once per call.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestFacts {
    /// Estimated tokens: input plus `max_tokens` (0 when nothing reads it).
    pub(crate) tokens: u64,
    /// Input tokens, for the context-window pre-call check.
    pub(crate) input_tokens: Option<u64>,
    /// Input tokens whenever tokens are counted (0 otherwise): a stream without
    /// reported usage is settled as these plus its counted completion.
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
        let (tokens, input_tokens) = if inner.needs_tokens() {
            let input = crate::tokens::estimate_request_tokens(endpoint, model, body)
                .saturating_sub(max_output_tokens(body));
            (input + max_output_tokens(body), Some(input))
        } else {
            (0, None)
        };
        Self {
            tokens,
            prompt_tokens: input_tokens.unwrap_or(0),
            input_tokens: input_tokens.filter(|_| inner.pre_call_checks),
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
    pub(crate) fn upstream_model(&self, deployment: &Deployment) -> String {
        match &self.wildcard_match {
            Some(matched) => crate::wildcard::substitute(&deployment.upstream_model, matched),
            None => deployment.upstream_model.clone(),
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
