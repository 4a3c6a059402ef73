//! The one place errors become an HTTP status and an OpenAI-shaped body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use switchyard_router::{RouterError, Unavailable};
use switchyard_types::ErrorBody;

use crate::answer::{Answer, HeaderLines};

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// A 400 about the request itself.
    pub fn bad_request(message: impl Into<String>, param: Option<&str>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            message,
            "invalid_request_error",
            param.map(str::to_owned),
        )
    }

    /// A 401: missing or wrong proxy key. `param` is the string `"None"`, as
    /// LiteLLM's auth errors carry it.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            message,
            "auth_error",
            Some("None".to_owned()),
        )
    }

    /// A 404 for a path the proxy does not serve.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("Route not found: {path}"),
            "invalid_request_error",
            None,
        )
    }

    /// A 404 for a model `/v1/models/{model}` does not know.
    pub fn model_not_found(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            message,
            "invalid_request_error",
            None,
        )
    }

    /// A 405 for a path served with another method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
            "invalid_request_error",
            None,
        )
    }

    /// Any other status, about the request itself.
    pub(crate) fn with_status(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, message, "invalid_request_error", None)
    }

    /// A 413 for a body over the cap.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body is larger than the {limit}-byte limit"),
            "invalid_request_error",
            None,
        )
    }

    fn new(
        status: StatusCode,
        message: impl Into<String>,
        kind: &str,
        param: Option<String>,
    ) -> Self {
        let code = Some(status.as_u16().to_string());
        Self {
            status,
            body: ErrorBody::new(message, kind, param, code),
            retry_after_secs: None,
        }
    }

    /// The status that will be sent.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body that will be sent.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }
}

impl From<RouterError> for ApiError {
    fn from(err: RouterError) -> Self {
        let message = err.to_string();
        match &err {
            RouterError::BadRequest { param, .. } => Self::bad_request(message, param.as_deref()),
            RouterError::UnknownModel { .. } => Self::bad_request(message, None),
            RouterError::NoDeploymentAvailable {
                retry_after,
                reason,
                ..
            } => {
                let kind = match reason {
                    Unavailable::Cooldown => "all_deployments_in_cooldown",
                    Unavailable::ParallelLimit
                    | Unavailable::RateLimited
                    | Unavailable::QueueFull => "throttling_error",
                };
                let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, message, kind, None);
                e.retry_after_secs = retry_after.map(|d| d.as_secs_f64().ceil() as u64);
                e
            }
            RouterError::Upstream { .. } => {
                let last = err
                    .deciding_error()
                    .expect("an upstream error has attempts");
                let status = StatusCode::from_u16(last.http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut e = Self::new(status, message, last.kind.openai_type(), None);
                e.retry_after_secs = last.retry_after.map(|d| d.as_secs_f64().ceil() as u64);
                e
            }
        }
    }
}

impl ApiError {
    /// The error as the server's answer.
    pub(crate) fn into_answer(self) -> Answer {
        let body = serde_json::to_vec(&self.body).expect("an error body serialises");
        let mut lines = HeaderLines::with_capacity(128);
        lines.push("content-type", b"application/json");
        if let Some(secs) = self.retry_after_secs {
            lines.push("retry-after", itoa::Buffer::new().format(secs).as_bytes());
        }
        Answer::full(self.status, lines, Bytes::from(body))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body).expect("an error body serialises");
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
