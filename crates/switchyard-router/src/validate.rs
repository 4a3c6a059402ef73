//! The checks LiteLLM's proxy makes on a request before routing it
//! (`raise_if_required_body_param_missing` in its `route_llm_request.py`), with
//! its wording, so a malformed request is refused here rather than sent on.

use std::sync::Arc;

use switchyard_providers::Endpoint;
use switchyard_types::RequestBody;

use crate::deployment::Deployment;
use crate::error::RouterError;

/// The route as LiteLLM names it in its messages.
pub(crate) fn litellm_route(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::ChatCompletions => "/chat/completions",
        Endpoint::Completions => "/completions",
        Endpoint::Embeddings => "/embeddings",
        Endpoint::ImageGenerations => "/image/generations",
    }
}

/// Chat needs `messages` and embeddings `input`, not missing nor null
/// (checked before the model is even looked at, as LiteLLM does).
pub(crate) fn require_inputs(endpoint: Endpoint, body: &RequestBody) -> Result<(), RouterError> {
    let required = match endpoint {
        Endpoint::ChatCompletions => "messages",
        Endpoint::Embeddings => "input",
        Endpoint::Completions | Endpoint::ImageGenerations => return Ok(()),
    };
    match body.get(required) {
        Some(raw) if raw != "null" => Ok(()),
        _ => Err(missing(endpoint, required)),
    }
}

/// Text completions and images need a `prompt`: in the request, or from a
/// deployment of the group that sets one.
pub(crate) fn require_prompt(
    endpoint: Endpoint,
    body: &RequestBody,
    deployments: &[Arc<Deployment>],
) -> Result<(), RouterError> {
    if !matches!(endpoint, Endpoint::Completions | Endpoint::ImageGenerations)
        || body.contains("prompt")
        || deployments.iter().any(|d| {
            d.defaults
                .iter()
                .any(|(k, v)| k == "prompt" && v.get() != "null")
        })
    {
        return Ok(());
    }
    Err(missing(endpoint, "prompt"))
}

/// LiteLLM refuses its `mock_testing_*` parameters unless the config allows
/// them: a request asking for a faked failure must not pass as a success.
pub(crate) fn allow_mock_testing(body: &RequestBody, allowed: bool) -> Result<(), RouterError> {
    if allowed {
        return Ok(());
    }
    let present: Vec<&str> = crate::retry::MOCK_TESTING_PARAMS
        .into_iter()
        .filter(|name| body.contains(name))
        .collect();
    if present.is_empty() {
        return Ok(());
    }
    Err(RouterError::BadRequest {
        message: format!(
            "Mock testing request params are disabled on this proxy: {}. An admin can enable them by setting `general_settings.dangerously_allow_mock_testing_request_params: true` in config.yaml. This setting cannot be changed from the Admin UI or the API.",
            present.join(", ")
        ),
        param: None,
    })
}

/// Fields the mock provider reads as seconds (`mock_delay`): out of range is
/// refused here with a 400 naming the field, before any deployment is tried.
/// (`timeout`, `request_timeout` and `stream_timeout` are read, and checked, by
/// [`RequestTimeouts::read`](crate::timeouts::RequestTimeouts::read).)
pub(crate) fn require_seconds_in_range(body: &RequestBody) -> Result<(), RouterError> {
    crate::request::body_seconds(body, "mock_delay").map(|_| ())
}

fn missing(endpoint: Endpoint, param: &str) -> RouterError {
    RouterError::BadRequest {
        message: format!(
            "{}: Missing required parameter: '{param}'.",
            litellm_route(endpoint)
        ),
        param: Some(param.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> RequestBody {
        RequestBody::from_slice(json.as_bytes()).unwrap()
    }

    #[test]
    fn required_inputs_follow_litellm() {
        let chat = Endpoint::ChatCompletions;
        assert!(require_inputs(chat, &body(r#"{"model":"m","messages":[]}"#)).is_ok());
        for json in [r#"{"model":"m"}"#, r#"{"model":"m","messages":null}"#] {
            let err = require_inputs(chat, &body(json)).unwrap_err();
            assert_eq!(
                err.to_string(),
                "/chat/completions: Missing required parameter: 'messages'."
            );
        }
        let err = require_inputs(Endpoint::Embeddings, &body(r#"{"model":"m"}"#)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/embeddings: Missing required parameter: 'input'."
        );
        assert!(require_inputs(Endpoint::Completions, &body(r#"{"model":"m"}"#)).is_ok());

        let err =
            require_prompt(Endpoint::ImageGenerations, &body(r#"{"model":"m"}"#), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/image/generations: Missing required parameter: 'prompt'."
        );
        assert!(
            require_prompt(
                Endpoint::Completions,
                &body(r#"{"model":"m","prompt":null}"#),
                &[]
            )
            .is_ok(),
            "present, even as null, is enough for a prompt"
        );
    }
}
