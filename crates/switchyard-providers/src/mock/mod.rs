//! The `mock_response` provider: answers without any network.
//!
//! LiteLLM's `mock_response` (in `litellm_params` or in the request body)
//! makes `completion()` answer locally (`litellm/main.py`, `mock_completion`
//! and `_handle_mock_potential_exceptions`). The router sends such requests
//! here with the body as the client (or the deployment) wrote it; this
//! provider reads:
//!
//! - `mock_response`: the answer text (default `"This is a mock request"`);
//!   a JSON object is returned as the whole response; for embeddings a list of
//!   floats is the vector; for images a string is the URL. These strings raise
//!   an error instead, as in LiteLLM: `"litellm.RateLimitError"`,
//!   `"litellm.ContextWindowExceededError"`, `"litellm.InternalServerError"`,
//!   anything starting with `"Exception: content_filter_policy"` (a 400
//!   content-policy error), and `"Exception: mock_streaming_error"` (a 529 that
//!   LiteLLM raises mid-stream: a stream gets one chunk, then the error).
//! - `mock_delay`: seconds to wait before answering (simulated latency).
//! - `mock_timeout: true`: wait for the request's `timeout` then fail with a
//!   timeout (nothing happens without a timeout, as in LiteLLM).
//! - `mock_tool_calls`: tool calls put on the chat message.
//! - `model`, `n`, `stream`, `stream_options.include_usage`, `input`.
//!
//! Usage is LiteLLM's fixed mock count: 10 prompt and 20 completion tokens.

mod build;

use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;
use switchyard_types::seconds;

use crate::{
    Answered, Endpoint, ErrorKind, Provider, ProviderError, ProviderRequest, ProviderResponse,
};

const NAME: &str = "mock";

/// LiteLLM's default answer when `mock_response` is missing or null.
pub const DEFAULT_MOCK_RESPONSE: &str = "This is a mock request";

/// Answers from the request body alone. Stateless: one value serves every
/// deployment.
#[derive(Debug, Clone, Copy, Default)]
pub struct MockProvider;

/// The body fields the mock reads; everything else is ignored.
#[derive(Debug, Default, Deserialize)]
struct MockParams {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    mock_response: Option<Value>,
    #[serde(default)]
    mock_delay: Option<Value>,
    #[serde(default)]
    mock_timeout: Option<bool>,
    #[serde(default)]
    mock_tool_calls: Option<Vec<Value>>,
    #[serde(default)]
    timeout: Option<Value>,
    #[serde(default)]
    n: Option<u32>,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    stream_options: Option<Value>,
}

impl MockParams {
    fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// What `mock_response` asks for when it names an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MockError {
    /// Fails before answering.
    Immediate(ErrorKind, u16, &'static str),
    /// LiteLLM's `mock_streaming_error`: a stream breaks after its first chunk.
    MidStream,
}

const MID_STREAM_MESSAGE: &str = "This is a mock error raised mid-stream";

fn mock_error(mock_response: &str) -> Option<MockError> {
    use ErrorKind::*;
    Some(match mock_response {
        "litellm.RateLimitError" => {
            MockError::Immediate(RateLimit, 429, "this is a mock rate limit error")
        }
        "litellm.ContextWindowExceededError" => MockError::Immediate(
            ContextWindowExceeded,
            400,
            "this is a mock context window exceeded error",
        ),
        "litellm.InternalServerError" => {
            MockError::Immediate(InternalServer, 500, "this is a mock internal server error")
        }
        s if s.starts_with("Exception: content_filter_policy") => {
            MockError::Immediate(ContentPolicyViolation, 400, "")
        }
        s if s.starts_with("Exception: mock_streaming_error") => MockError::MidStream,
        _ => return None,
    })
}

fn error(kind: ErrorKind, status: u16, message: impl Into<String>) -> ProviderError {
    ProviderError {
        kind,
        status: Some(status),
        retry_after: None,
        provider: NAME,
        message: message.into(),
    }
}

/// Seconds as LiteLLM accepts them: a number or a numeric string (anything
/// else is not read). A number out of [`seconds::RANGE`] is a 400 naming
/// `field` (the router refuses a client's before calling; this covers a
/// deployment's defaults and direct callers).
fn read_seconds(value: Option<&Value>, field: &str) -> Result<Option<Duration>, ProviderError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let secs = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let Some(secs) = secs else {
        return Ok(None);
    };
    match seconds::duration_from_secs(secs) {
        Some(d) => Ok(Some(d)),
        None => Err(error(
            ErrorKind::BadRequest,
            400,
            format!("{field} must be {}, got {value}", seconds::RANGE),
        )),
    }
}

impl MockProvider {
    async fn answer(&self, request: ProviderRequest) -> Result<ProviderResponse, ProviderError> {
        let params: MockParams = serde_json::from_slice(&request.body).map_err(|e| {
            error(
                ErrorKind::BadRequest,
                400,
                format!("invalid JSON body: {e}"),
            )
        })?;
        let attempt_timeout = match request.timeout {
            Some(timeout) => Some(timeout),
            None => read_seconds(params.timeout.as_ref(), "timeout")?,
        };
        let mock_delay = read_seconds(params.mock_delay.as_ref(), "mock_delay")?;

        if params.mock_timeout == Some(true)
            && let Some(after) = attempt_timeout
        {
            tokio::time::sleep(after).await;
            return Err(error(
                ErrorKind::Timeout,
                408,
                "This is a mock timeout error",
            ));
        }

        let text = params.mock_response.as_ref().and_then(Value::as_str);
        let mock_err = text.and_then(mock_error);
        if let Some(MockError::Immediate(kind, status, message)) = mock_err {
            // LiteLLM raises these before the delay; content-policy echoes the string.
            let message = if message.is_empty() {
                text.unwrap_or_default()
            } else {
                message
            };
            return Err(error(kind, status, message));
        }

        if let Some(delay) = mock_delay {
            match request.timeout {
                Some(after) if delay > after => {
                    tokio::time::sleep(after).await;
                    let message =
                        format!("mock_delay of {delay:?} exceeds the timeout of {after:?}");
                    return Err(error(ErrorKind::Timeout, 408, message));
                }
                _ => tokio::time::sleep(delay).await,
            }
        }

        let mid_stream = mock_err == Some(MockError::MidStream);
        let stream = request.stream && request.endpoint.can_stream();
        if mid_stream && !stream {
            return Err(error(ErrorKind::InternalServer, 529, MID_STREAM_MESSAGE));
        }
        let model = params.model.clone().unwrap_or_default();
        let response = match request.endpoint {
            Endpoint::ChatCompletions if stream => {
                let events = build::chat_stream(&model, &params);
                return Ok(ProviderResponse::Stream(build::into_stream(
                    events, mid_stream,
                )));
            }
            Endpoint::Completions if stream => {
                let events = build::text_stream(&model, &params);
                return Ok(ProviderResponse::Stream(build::into_stream(
                    events, mid_stream,
                )));
            }
            Endpoint::ChatCompletions => build::chat(&model, &params),
            Endpoint::Completions => build::text(&model, &params),
            Endpoint::Embeddings => build::embeddings(&model, &params),
            Endpoint::ImageGenerations => build::images(&params),
        };
        Ok(ProviderResponse::Complete(response))
    }
}

impl Provider for MockProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn api_base(&self) -> Option<&str> {
        None
    }

    fn call(&self, request: ProviderRequest) -> BoxFuture<'_, Result<Answered, ProviderError>> {
        Box::pin(async move {
            self.answer(request).await.map(|response| Answered {
                response,
                headers: crate::UpstreamHeaders::new(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_strings() {
        assert_eq!(
            mock_error("litellm.RateLimitError"),
            Some(MockError::Immediate(
                ErrorKind::RateLimit,
                429,
                "this is a mock rate limit error"
            ))
        );
        assert!(matches!(
            mock_error("Exception: content_filter_policy blocked"),
            Some(MockError::Immediate(
                ErrorKind::ContentPolicyViolation,
                400,
                _
            ))
        ));
        assert_eq!(
            mock_error("Exception: mock_streaming_error"),
            Some(MockError::MidStream)
        );
        assert_eq!(mock_error("litellm.RateLimitError "), None);
        assert_eq!(mock_error("hello"), None);
    }

    #[test]
    fn seconds_forms() {
        let read = |v: serde_json::Value| read_seconds(Some(&v), "mock_delay");
        assert_eq!(
            read(serde_json::json!(1.5)).unwrap(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            read(serde_json::json!("2")).unwrap(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(read(serde_json::json!(null)).unwrap(), None);
        assert_eq!(read(serde_json::json!("soon")).unwrap(), None);
        assert_eq!(read_seconds(None, "mock_delay").unwrap(), None);
        for out_of_range in [
            serde_json::json!(-1),
            serde_json::json!(1e20),
            serde_json::json!("1e19"),
        ] {
            let err = read(out_of_range.clone()).unwrap_err();
            assert_eq!((err.kind, err.status), (ErrorKind::BadRequest, Some(400)));
            assert!(
                err.message.starts_with("mock_delay must be"),
                "{}",
                err.message
            );
        }
    }
}
