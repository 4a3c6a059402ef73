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
    /// No model group (or alias) has this name (LiteLLM's words, then the
    /// names there are).
    #[error(
        "{route}: Invalid model name passed in model={requested}. Call `/v1/models` to view available models for your key. Available models: {}",
        available.join(", ")
    )]
    UnknownModel {
        /// The route as LiteLLM names it (`/chat/completions`).
        route: &'static str,
        /// The name the client sent (`None` when it sent none).
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
        reason: Unavailable,
        /// When one will be again, if known.
        retry_after: Option<Duration>,
    },
    /// Upstream attempts were made and none succeeded.
    #[error("{}", describe_attempts(.attempts))]
    Upstream {
        /// Every failed attempt, oldest first; never empty.
        attempts: Vec<Attempt>,
        /// Fallback hops taken.
        fallbacks: u32,
    },
}

/// Why no deployment of a group could take a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// Every deployment is cooling down after failures.
    Cooldown,
    /// Every deployment is at its `max_parallel_requests` and none freed up before the deadline.
    ParallelLimit,
    /// Every deployment is at its rpm/tpm limit for the current minute.
    RateLimited,
    /// The group's priority queue is full, or the request's deadline passed while it waited in it.
    QueueFull,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unavailable::Cooldown => "All deployments are cooling down after failures.",
            Unavailable::QueueFull => "The priority queue for this model is full or the request's deadline passed while it waited.",
            Unavailable::RateLimited => "All deployments are at their rpm/tpm limit for this minute.",
            Unavailable::ParallelLimit => {
                "All deployments are at their max_parallel_requests and none freed up before the request's deadline."
            }
        })
    }
}

impl RouterError {
    /// The class that decides the HTTP status of an upstream failure.
    pub fn upstream_kind(&self) -> Option<ErrorKind> {
        self.deciding_error().map(|e| e.kind)
    }

    /// The error that decides the answer's status: the last failure of the
    /// request's own model group. As in LiteLLM, when fallbacks fail too the
    /// client gets the original group's error (every attempt is still named).
    pub fn deciding_error(&self) -> Option<&ProviderError> {
        match self {
            RouterError::Upstream { attempts, .. } => {
                let first_group = &attempts.first()?.model_group;
                attempts
                    .iter()
                    .rev()
                    .find(|a| &a.model_group == first_group)
                    .map(|a| &a.error)
            }
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
