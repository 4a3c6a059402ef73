//! `allowed_fails_policy` (router-wide or per deployment) and the per-deployment
//! cooldown settings read from `model_list[]`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};
use switchyard_providers::{ErrorKind, ProviderError};
use switchyard_types::seconds;

use crate::config::DeploymentConfig;

/// Failures allowed per exception class before a deployment cools down
/// (LiteLLM's `AllowedFailsPolicy`, `litellm/types/router.py`). `None`: the
/// class is not in the policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllowedFailsPolicy {
    /// `AuthenticationErrorAllowedFails` (401).
    pub authentication: Option<u32>,
    /// `BadGatewayErrorAllowedFails` (502).
    pub bad_gateway: Option<u32>,
    /// `BadRequestErrorAllowedFails` (400, also context-window, content-policy and 402 errors,
    /// which are `BadRequestError` subclasses in LiteLLM).
    pub bad_request: Option<u32>,
    /// `ContentPolicyViolationErrorAllowedFails`.
    pub content_policy_violation: Option<u32>,
    /// `InternalServerErrorAllowedFails` (5xx but 502 and 503).
    pub internal_server: Option<u32>,
    /// `NotFoundErrorAllowedFails` (404).
    pub not_found: Option<u32>,
    /// `RateLimitErrorAllowedFails` (429).
    pub rate_limit: Option<u32>,
    /// `ServiceUnavailableErrorAllowedFails` (503).
    pub service_unavailable: Option<u32>,
    /// `TimeoutErrorAllowedFails` (408 and timeouts).
    pub timeout: Option<u32>,
}

impl AllowedFailsPolicy {
    /// From LiteLLM's key names (`RateLimitErrorAllowedFails: 3`...). Unknown keys are
    /// ignored here (the config loader warns about them).
    pub fn from_map(map: &BTreeMap<String, u32>) -> Self {
        let mut p = Self::default();
        for (key, n) in map {
            if let Some(slot) = p.slot(key) {
                *slot = Some(*n);
            }
        }
        p
    }

    /// From a JSON map (a deployment's `model_info.allowed_fails_policy`): values may be
    /// numbers or numeric strings; anything else is skipped with a warning.
    pub(crate) fn from_json(map: &Map<String, Value>, deployment_id: &str) -> Self {
        let mut p = Self::default();
        for (key, value) in map {
            let Some(slot) = p.slot(key) else {
                tracing::warn!(
                    deployment = deployment_id,
                    key = key.as_str(),
                    "model_info.allowed_fails_policy: unknown key ignored"
                );
                continue;
            };
            match count(value) {
                Some(n) => *slot = Some(n),
                None if value.is_null() => {}
                None => tracing::warn!(
                    deployment = deployment_id,
                    key = key.as_str(),
                    "model_info.allowed_fails_policy: not a count, ignored"
                ),
            }
        }
        p
    }

    fn slot(&mut self, key: &str) -> Option<&mut Option<u32>> {
        Some(match key {
            "AuthenticationErrorAllowedFails" => &mut self.authentication,
            "BadGatewayErrorAllowedFails" => &mut self.bad_gateway,
            "BadRequestErrorAllowedFails" => &mut self.bad_request,
            "ContentPolicyViolationErrorAllowedFails" => &mut self.content_policy_violation,
            "InternalServerErrorAllowedFails" => &mut self.internal_server,
            "NotFoundErrorAllowedFails" => &mut self.not_found,
            "RateLimitErrorAllowedFails" => &mut self.rate_limit,
            "ServiceUnavailableErrorAllowedFails" => &mut self.service_unavailable,
            "TimeoutErrorAllowedFails" => &mut self.timeout,
            _ => return None,
        })
    }

    /// The allowance for an error class, following LiteLLM's exception hierarchy: a
    /// content-policy violation uses `ContentPolicyViolationErrorAllowedFails`, else
    /// `BadRequestErrorAllowedFails`; context-window and 402 errors use the latter.
    /// Classes LiteLLM's policy has no field for (403, 409, 422, connection errors) get `None`.
    /// For a 502 use [`for_error`](Self::for_error), which sees the status.
    pub fn for_kind(&self, kind: ErrorKind) -> Option<u32> {
        match kind {
            ErrorKind::Authentication => self.authentication,
            ErrorKind::Timeout => self.timeout,
            ErrorKind::RateLimit => self.rate_limit,
            ErrorKind::ContentPolicyViolation => self.content_policy_violation.or(self.bad_request),
            ErrorKind::BadRequest
            | ErrorKind::ContextWindowExceeded
            | ErrorKind::PaymentRequired => self.bad_request,
            ErrorKind::InternalServer => self.internal_server,
            ErrorKind::ServiceUnavailable => self.service_unavailable,
            ErrorKind::NotFound => self.not_found,
            ErrorKind::PermissionDenied
            | ErrorKind::Conflict
            | ErrorKind::UnprocessableEntity
            | ErrorKind::ApiConnection
            | ErrorKind::StreamInterrupted
            | ErrorKind::InvalidResponse => None,
        }
    }

    /// Like [`for_kind`](Self::for_kind), but an upstream 502 is LiteLLM's
    /// `BadGatewayError`, which is not an `InternalServerError`.
    pub fn for_error(&self, error: &ProviderError) -> Option<u32> {
        if is_bad_gateway(error) {
            self.bad_gateway
        } else {
            self.for_kind(error.kind)
        }
    }

    /// Whether no class is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// An upstream 502: LiteLLM's `BadGatewayError`.
pub(crate) fn is_bad_gateway(error: &ProviderError) -> bool {
    error.kind == ErrorKind::InternalServer && error.status == Some(502)
}

/// What the cooldown logic needs to know about one deployment (built once per
/// deployment when the router is built).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentCooldownConfig {
    /// `cooldown_time` of the deployment (`model_info`, else `litellm_params`): wins over
    /// `Retry-After` and the router's `cooldown_time`. Zero: this deployment never cools.
    pub cooldown_time: Option<Duration>,
    /// `model_info.allowed_fails_policy`: overrides the router's policy for this deployment.
    pub allowed_fails_policy: Option<AllowedFailsPolicy>,
    /// `model_info.allowed_fails`: a deployment-wide allowance for classes its policy does
    /// not name (LiteLLM reads it next to the policy).
    pub allowed_fails: Option<u32>,
}

impl DeploymentCooldownConfig {
    /// Reads `cooldown_time` (seconds, a number or a numeric string; `model_info` first as
    /// LiteLLM does, then `litellm_params`), `model_info.allowed_fails_policy` and
    /// `model_info.allowed_fails`. Unusable values are skipped with a warning.
    pub fn from_deployment(d: &DeploymentConfig) -> Self {
        let id = d.id.as_str();
        let info = &d.model_info.extra;
        let params = &d.litellm_params.extra;
        let cooldown_time = [("model_info", info), ("litellm_params", params)]
            .into_iter()
            .find_map(|(section, map)| {
                let value = map.get("cooldown_time").filter(|v| !v.is_null())?;
                let secs = seconds(value);
                if secs.is_none() {
                    tracing::warn!(
                        deployment = id,
                        section,
                        "cooldown_time: not a non-negative number of seconds, ignored"
                    );
                }
                secs
            });
        let allowed_fails_policy = match info.get("allowed_fails_policy") {
            Some(Value::Object(map)) => Some(AllowedFailsPolicy::from_json(map, id)),
            None | Some(Value::Null) => None,
            Some(_) => {
                tracing::warn!(
                    deployment = id,
                    "model_info.allowed_fails_policy: not a map, ignored"
                );
                None
            }
        };
        let allowed_fails = match info.get("allowed_fails") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let n = count(v);
                if n.is_none() {
                    tracing::warn!(
                        deployment = id,
                        "model_info.allowed_fails: not a count, ignored"
                    );
                }
                n
            }
        };
        Self {
            cooldown_time,
            allowed_fails_policy,
            allowed_fails,
        }
    }

    /// Whether this deployment has its own allowance (policy or `allowed_fails`), which
    /// replaces the router's rules for it.
    pub(crate) fn has_own_allowance(&self) -> bool {
        self.allowed_fails_policy.is_some() || self.allowed_fails.is_some()
    }
}

/// A non-negative count: an integer, an integral float, or a string holding one.
fn count(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            })
            .and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse::<u32>().ok(),
        _ => None,
    }
}

/// Seconds as a duration: a number or numeric string within [`seconds::RANGE`]
/// (the config loader reports one outside it with its path).
fn seconds(v: &Value) -> Option<Duration> {
    let secs = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }?;
    seconds::duration_from_secs(secs)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::{LitellmParams, ModelInfo};

    fn deployment(params: Value, info: Value) -> DeploymentConfig {
        let Value::Object(params) = params else {
            panic!()
        };
        let Value::Object(info) = info else { panic!() };
        DeploymentConfig {
            model_name: "g".into(),
            litellm_params: LitellmParams {
                model: "openai/gpt-4o".into(),
                extra: params,
                ..Default::default()
            },
            model_info: ModelInfo {
                extra: info,
                ..Default::default()
            },
            id: "d1".into(),
        }
    }

    #[test]
    fn policy_from_map_uses_litellm_names_and_the_exception_hierarchy() {
        let map: BTreeMap<String, u32> = [
            ("BadRequestErrorAllowedFails", 7),
            ("RateLimitErrorAllowedFails", 3),
            ("InternalServerErrorAllowedFails", 2),
            ("NoSuchErrorAllowedFails", 9),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let p = AllowedFailsPolicy::from_map(&map);
        assert_eq!(p.for_kind(ErrorKind::RateLimit), Some(3));
        assert_eq!(p.for_kind(ErrorKind::BadRequest), Some(7));
        // Subclasses of BadRequestError fall back to its entry.
        assert_eq!(p.for_kind(ErrorKind::ContentPolicyViolation), Some(7));
        assert_eq!(p.for_kind(ErrorKind::ContextWindowExceeded), Some(7));
        assert_eq!(p.for_kind(ErrorKind::PaymentRequired), Some(7));
        assert_eq!(p.for_kind(ErrorKind::InternalServer), Some(2));
        assert_eq!(p.for_kind(ErrorKind::Timeout), None);
        assert_eq!(p.for_kind(ErrorKind::PermissionDenied), None);
        assert_eq!(p.for_kind(ErrorKind::ApiConnection), None);

        let mut e = ProviderError::new(ErrorKind::InternalServer, "openai", "bad gateway");
        e.status = Some(502);
        assert_eq!(
            p.for_error(&e),
            None,
            "502 is BadGatewayError, not InternalServerError"
        );
        e.status = Some(500);
        assert_eq!(p.for_error(&e), Some(2));
        assert!(!p.is_empty());
        assert!(AllowedFailsPolicy::default().is_empty());
    }

    #[test]
    fn content_policy_entry_wins_over_bad_request() {
        let map: BTreeMap<String, u32> = [
            ("BadRequestErrorAllowedFails".to_owned(), 7),
            ("ContentPolicyViolationErrorAllowedFails".to_owned(), 1),
        ]
        .into_iter()
        .collect();
        let p = AllowedFailsPolicy::from_map(&map);
        assert_eq!(p.for_kind(ErrorKind::ContentPolicyViolation), Some(1));
        assert_eq!(p.for_kind(ErrorKind::BadRequest), Some(7));
    }

    #[test]
    fn deployment_config_reads_cooldown_time_and_policy() {
        let d = deployment(
            json!({"cooldown_time": 30, "temperature": 0.2}),
            json!({"allowed_fails_policy": {"RateLimitErrorAllowedFails": "4", "TimeoutErrorAllowedFails": 1.0}, "allowed_fails": 2}),
        );
        let c = DeploymentCooldownConfig::from_deployment(&d);
        assert_eq!(c.cooldown_time, Some(Duration::from_secs(30)));
        let p = c.allowed_fails_policy.unwrap();
        assert_eq!(p.rate_limit, Some(4));
        assert_eq!(p.timeout, Some(1));
        assert_eq!(c.allowed_fails, Some(2));
        assert!(c.has_own_allowance());
    }

    #[test]
    fn deployment_cooldown_time_forms() {
        for (params, info, want) in [
            (json!({"cooldown_time": "2.5"}), json!({}), Some(2500)),
            (json!({"cooldown_time": 0}), json!({}), Some(0)),
            (json!({"cooldown_time": -1}), json!({}), None),
            (json!({"cooldown_time": "soon"}), json!({}), None),
            (json!({"cooldown_time": null}), json!({}), None),
            // model_info first, as LiteLLM's `_first_present(model_info, litellm_params)`.
            (
                json!({"cooldown_time": 9}),
                json!({"cooldown_time": 1}),
                Some(1000),
            ),
            (json!({}), json!({}), None),
        ] {
            let c = DeploymentCooldownConfig::from_deployment(&deployment(params, info));
            assert_eq!(
                c.cooldown_time,
                want.map(Duration::from_millis),
                "{:?}",
                c.cooldown_time
            );
            assert!(!c.has_own_allowance());
        }
    }

    #[test]
    fn bad_deployment_policy_values_are_skipped() {
        let d = deployment(
            json!({}),
            json!({"allowed_fails_policy": {"RateLimitErrorAllowedFails": -1, "Nope": 1}, "allowed_fails": "x"}),
        );
        let c = DeploymentCooldownConfig::from_deployment(&d);
        assert_eq!(c.allowed_fails_policy, Some(AllowedFailsPolicy::default()));
        assert_eq!(c.allowed_fails, None);
        let d = deployment(json!({}), json!({"allowed_fails_policy": [1, 2]}));
        assert_eq!(
            DeploymentCooldownConfig::from_deployment(&d).allowed_fails_policy,
            None
        );
    }
}
