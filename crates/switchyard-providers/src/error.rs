//! What went wrong upstream, classified once so retries, cooldowns, fallbacks
//! and the HTTP mapping all read the same answer.

use std::time::Duration;

/// The class of an upstream failure (OpenAI's exception classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 400 that is not one of the specialised cases below.
    BadRequest,
    /// 401.
    Authentication,
    /// 402: out of credit.
    PaymentRequired,
    /// 403.
    PermissionDenied,
    /// 404.
    NotFound,
    /// 408 or a deadline that passed.
    Timeout,
    /// 409.
    Conflict,
    /// 422.
    UnprocessableEntity,
    /// 429.
    RateLimit,
    /// 400 whose body says the prompt is longer than the context window.
    ContextWindowExceeded,
    /// 400 from a content filter, or a `content_filter` finish reason.
    ContentPolicyViolation,
    /// 5xx other than 503.
    InternalServer,
    /// 503.
    ServiceUnavailable,
    /// Could not connect, or the connection was reset before a response.
    ApiConnection,
    /// A stream ended early or sent something that is not SSE.
    StreamInterrupted,
    /// A 2xx whose body could not be understood.
    InvalidResponse,
}

impl ErrorKind {
    /// Every class.
    pub const ALL: [ErrorKind; 16] = [
        ErrorKind::BadRequest,
        ErrorKind::Authentication,
        ErrorKind::PaymentRequired,
        ErrorKind::PermissionDenied,
        ErrorKind::NotFound,
        ErrorKind::Timeout,
        ErrorKind::Conflict,
        ErrorKind::UnprocessableEntity,
        ErrorKind::RateLimit,
        ErrorKind::ContextWindowExceeded,
        ErrorKind::ContentPolicyViolation,
        ErrorKind::InternalServer,
        ErrorKind::ServiceUnavailable,
        ErrorKind::ApiConnection,
        ErrorKind::StreamInterrupted,
        ErrorKind::InvalidResponse,
    ];

    /// Retryable by default: 408, 409, 429, >= 500, connection errors.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Timeout
                | ErrorKind::Conflict
                | ErrorKind::RateLimit
                | ErrorKind::InternalServer
                | ErrorKind::ServiceUnavailable
                | ErrorKind::ApiConnection
                | ErrorKind::StreamInterrupted
        )
    }

    /// The HTTP status LiteLLM answers with for this class.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadRequest
            | ErrorKind::ContextWindowExceeded
            | ErrorKind::ContentPolicyViolation => 400,
            ErrorKind::Authentication => 401,
            ErrorKind::PaymentRequired => 402,
            ErrorKind::PermissionDenied => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Timeout => 408,
            ErrorKind::Conflict => 409,
            ErrorKind::UnprocessableEntity => 422,
            ErrorKind::RateLimit => 429,
            ErrorKind::InternalServer
            | ErrorKind::ApiConnection
            | ErrorKind::InvalidResponse
            | ErrorKind::StreamInterrupted => 500,
            ErrorKind::ServiceUnavailable => 503,
        }
    }

    /// The `error.type` LiteLLM's proxy answers with: the type its
    /// exception carries (`throttling_error` for a rate limit,
    /// `internal_server_error` for a 500), else the one its status stands for
    /// (`authentication_error` 401, `permission_error` 403, otherwise
    /// `invalid_request_error` below 500 and `internal_server_error` from 500;
    /// `openai_error_type` in LiteLLM's proxy).
    pub fn openai_type(self) -> &'static str {
        match self {
            ErrorKind::RateLimit => "throttling_error",
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::PermissionDenied => "permission_error",
            ErrorKind::BadRequest
            | ErrorKind::ContextWindowExceeded
            | ErrorKind::ContentPolicyViolation
            | ErrorKind::NotFound
            | ErrorKind::UnprocessableEntity
            | ErrorKind::Conflict
            | ErrorKind::PaymentRequired
            | ErrorKind::Timeout => "invalid_request_error",
            ErrorKind::InternalServer
            | ErrorKind::ServiceUnavailable
            | ErrorKind::ApiConnection
            | ErrorKind::StreamInterrupted
            | ErrorKind::InvalidResponse => "internal_server_error",
        }
    }

    /// LiteLLM's exception class name, used in messages (`litellm.RateLimitError: ...`).
    pub fn litellm_name(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "BadRequestError",
            ErrorKind::Authentication => "AuthenticationError",
            ErrorKind::PaymentRequired => "BadRequestError",
            ErrorKind::PermissionDenied => "PermissionDeniedError",
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Conflict => "ConflictError",
            ErrorKind::UnprocessableEntity => "UnprocessableEntityError",
            ErrorKind::RateLimit => "RateLimitError",
            ErrorKind::ContextWindowExceeded => "ContextWindowExceededError",
            ErrorKind::ContentPolicyViolation => "ContentPolicyViolationError",
            ErrorKind::InternalServer => "InternalServerError",
            ErrorKind::ServiceUnavailable => "ServiceUnavailableError",
            ErrorKind::ApiConnection => "APIConnectionError",
            ErrorKind::StreamInterrupted => "APIConnectionError",
            ErrorKind::InvalidResponse => "APIError",
        }
    }
}

/// A classified upstream failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{provider} {}: {message}", kind.litellm_name())]
pub struct ProviderError {
    /// The class.
    pub kind: ErrorKind,
    /// The upstream HTTP status, when there was a response.
    pub status: Option<u16>,
    /// The upstream's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
    /// Which provider answered (`openai`, `azure`, `mock`...).
    pub provider: &'static str,
    /// What the upstream said, or what failed locally. Never holds a key.
    pub message: String,
}

impl ProviderError {
    /// An error without an upstream response.
    pub fn new(kind: ErrorKind, provider: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            status: None,
            retry_after: None,
            provider,
            message: message.into(),
        }
    }

    /// The status to report: the upstream's when it had one, else the class's.
    pub fn http_status(&self) -> u16 {
        self.status
            .filter(|s| *s >= 400)
            .unwrap_or_else(|| self.kind.http_status())
    }
}

#[cfg(test)]
mod openai_type_tests {
    use super::ErrorKind::{self, RateLimit};

    #[test]
    fn error_types_follow_litellms_exception_types_then_the_status() {
        for kind in ErrorKind::ALL {
            let by_status = match kind.http_status() {
                401 => "authentication_error",
                403 => "permission_error",
                429 => "rate_limit_error",
                s if s < 500 => "invalid_request_error",
                _ => "internal_server_error",
            };
            // RateLimitError carries its own type; every other class goes by its status.
            let want = if kind == RateLimit {
                "throttling_error"
            } else {
                by_status
            };
            assert_eq!(kind.openai_type(), want, "{kind:?}");
        }
    }
}
