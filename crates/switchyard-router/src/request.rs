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
) -> RequestBody {
    let mut out = body.clone();
    out.set("model", &deployment.upstream_model);
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
