//! What a routed call can fail with. The server maps each variant to HTTP in one place.

use std::time::Duration;

use switchyard_providers::{ErrorKind, ProviderError};

/// One attempt of a routed call, kept for the final error and the route header.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The deployment tried.
    pub deployment_id: String,
    /// The model group it belongs to.
    pub model_group: String,
    /// How it failed.
    pub error: ProviderError,
}

/// Why a routed call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RouterError {
    /// The request itself is malformed (missing `model`, wrong type...).
    #[error("{message}")]
    BadRequest {
        /// What is wrong.
        message: String,
        /// The request field at fault.
        param: Option<String>,
    },
    /// No model group (or alias) has this name.
    #[error(
        "Invalid model name passed in model={requested}. Call `/v1/models` to view available models for your key. Available models: {}",
        available.join(", ")
    )]
    UnknownModel {
        /// The name the client sent.
        requested: String,
        /// The names it could have sent.
        available: Vec<String>,
    },
    /// Every deployment of the group is excluded (cooling down, at a limit).
    #[error("No deployments available for selected model={model_group}. {reason}")]
    NoDeploymentAvailable {
        /// The group.
        model_group: String,
        /// Why none is available.
        reason: String,
        /// When one will be again, if known.
        retry_after: Option<Duration>,
    },
    /// Upstream attempts were made and the last one failed.
    #[error("{}", describe_attempts(.attempts))]
    Upstream {
        /// Every attempt, oldest first; never empty.
        attempts: Vec<Attempt>,
    },
}

impl RouterError {
    /// The class that decides the HTTP status of an upstream failure.
    pub fn upstream_kind(&self) -> Option<ErrorKind> {
        match self {
            RouterError::Upstream { attempts } => attempts.last().map(|a| a.error.kind),
            _ => None,
        }
    }

    /// The last upstream error, if any.
    pub fn last_upstream_error(&self) -> Option<&ProviderError> {
        match self {
            RouterError::Upstream { attempts } => attempts.last().map(|a| &a.error),
            _ => None,
        }
    }
}

fn describe_attempts(attempts: &[Attempt]) -> String {
    let Some(last) = attempts.last() else {
        return "no attempt was made".to_owned();
    };
    let mut out = format!(
        "litellm.{}: {}",
        last.error.kind.litellm_name(),
        last.error.message
    );
    out.push_str(" Attempts: ");
    for (i, a) in attempts.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(&format!(
            "{} (group {}): {} {}",
            a.deployment_id,
            a.model_group,
            a.error.kind.litellm_name(),
            a.error.http_status()
        ));
    }
    out
}
