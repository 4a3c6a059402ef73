//! The cooldown decision as a pure function: which rule applies to one failure.
//! The counting it may need happens in `mod.rs`, against the state store.

use switchyard_providers::{ErrorKind, ProviderError};

use super::policy::{DeploymentCooldownConfig, is_bad_gateway};
use super::{CooldownSettings, DEFAULT_ALLOWED_FAILS};

/// Which allowed-fails counter a failure goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counter {
    /// One counter for every class (plain `allowed_fails`, or a policy without an
    /// entry for this class).
    Generic,
    /// One counter per exception class named in a policy (LiteLLM's class name).
    Class(&'static str),
}

/// What to do with one failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Never cools for this failure.
    Skip,
    /// Cools at once.
    Cool,
    /// LiteLLM's default rule: cool when the failure ratio of the window is too high.
    Ratio {
        /// The group has no other deployment: only the "every request failed, with
        /// heavy traffic" rule applies.
        single: bool,
    },
    /// Cool when failures in the window exceed `allowed`.
    Allowance {
        /// Failures tolerated.
        allowed: u32,
        /// The counter they are counted in.
        counter: Counter,
    },
}

/// The status LiteLLM's cooldown code sees for a class (its exception classes carry a
/// fixed `status_code`), with a 502 kept as such.
pub(crate) fn status(error: &ProviderError) -> u16 {
    if is_bad_gateway(error) {
        502
    } else {
        error.kind.http_status()
    }
}

/// LiteLLM's `_is_cooldown_required`: connection errors never cool; of the 4xx only
/// 401, 402, 404, 408 and 429 do; everything else (5xx) does.
pub(crate) fn may_cool(error: &ProviderError) -> bool {
    if matches!(
        error.kind,
        ErrorKind::ApiConnection | ErrorKind::StreamInterrupted
    ) {
        return false;
    }
    match status(error) {
        429 | 401 | 402 | 404 | 408 => true,
        400..=499 => false,
        _ => true,
    }
}

/// `litellm.should_retry(status)`: 408, 409, 429 and 5xx.
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// The LiteLLM class name a policy counter is keyed by (a 502 is `BadGatewayError`).
fn class_name(error: &ProviderError) -> &'static str {
    if is_bad_gateway(error) {
        "BadGatewayError"
    } else {
        error.kind.litellm_name()
    }
}

/// LiteLLM's `_should_run_cooldown_logic` + `_should_cooldown_deployment`, minus the
/// counting. `group_size` is the number of deployments in the model group.
pub(crate) fn plan(
    settings: &CooldownSettings,
    deployment: &DeploymentCooldownConfig,
    error: &ProviderError,
    group_size: usize,
) -> Plan {
    let deployment_entry = deployment
        .allowed_fails_policy
        .as_ref()
        .and_then(|p| p.for_error(error));
    // A deployment-level policy entry naming the class opts it in even when it is a 4xx
    // that normally never cools (`_has_explicit_allowed_fails_policy_for_exception`).
    if !may_cool(error) && deployment_entry.is_none() {
        return Plan::Skip;
    }
    let single = group_size <= 1;
    let status = status(error);
    let router_entry = settings
        .allowed_fails_policy
        .as_ref()
        .and_then(|p| p.for_error(error));
    // Out of credit on the only deployment: cooling it would only turn 402s into 429s.
    if single && status == 402 && deployment_entry.is_none() && router_entry.is_none() {
        return Plan::Skip;
    }

    // Deployment-level allowance first (it overrides the router's).
    if deployment.has_own_allowance() {
        if let Some(allowed) = deployment_entry {
            return Plan::Allowance {
                allowed,
                counter: Counter::Class(class_name(error)),
            };
        }
        if let Some(allowed) = deployment.allowed_fails {
            // A generic per-deployment `allowed_fails` keeps the single-deployment safety net.
            if single {
                return Plan::Skip;
            }
            return Plan::Allowance {
                allowed,
                counter: Counter::Generic,
            };
        }
        // The deployment's policy does not name this class: the router's rules apply.
    }

    if settings.allowed_fails.is_none() && settings.allowed_fails_policy.is_none() {
        // LiteLLM's default ("v2") rules.
        if status == 429 && !single {
            return Plan::Cool;
        }
        if !retryable_status(status) {
            // 401, 402, 404: the deployment will not get better by retrying it.
            return Plan::Cool;
        }
        return Plan::Ratio { single };
    }

    match router_entry {
        Some(allowed) => Plan::Allowance {
            allowed,
            counter: Counter::Class(class_name(error)),
        },
        None => Plan::Allowance {
            allowed: settings.allowed_fails.unwrap_or(DEFAULT_ALLOWED_FAILS),
            counter: Counter::Generic,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cooldown::AllowedFailsPolicy;

    fn err(kind: ErrorKind) -> ProviderError {
        ProviderError::new(kind, "openai", "x")
    }

    fn plan_of(kind: ErrorKind, group: usize) -> Plan {
        plan(
            &CooldownSettings::default(),
            &DeploymentCooldownConfig::default(),
            &err(kind),
            group,
        )
    }

    #[test]
    fn default_rules_per_class_and_group_size() {
        use ErrorKind::*;
        for (kind, multi, single) in [
            (RateLimit, Plan::Cool, Plan::Ratio { single: true }),
            (Authentication, Plan::Cool, Plan::Cool),
            (NotFound, Plan::Cool, Plan::Cool),
            (PaymentRequired, Plan::Cool, Plan::Skip),
            (BadRequest, Plan::Skip, Plan::Skip),
            (PermissionDenied, Plan::Skip, Plan::Skip),
            (ContextWindowExceeded, Plan::Skip, Plan::Skip),
            (ContentPolicyViolation, Plan::Skip, Plan::Skip),
            (Conflict, Plan::Skip, Plan::Skip),
            (UnprocessableEntity, Plan::Skip, Plan::Skip),
            (ApiConnection, Plan::Skip, Plan::Skip),
            (StreamInterrupted, Plan::Skip, Plan::Skip),
            (
                Timeout,
                Plan::Ratio { single: false },
                Plan::Ratio { single: true },
            ),
            (
                InternalServer,
                Plan::Ratio { single: false },
                Plan::Ratio { single: true },
            ),
            (
                ServiceUnavailable,
                Plan::Ratio { single: false },
                Plan::Ratio { single: true },
            ),
            (
                InvalidResponse,
                Plan::Ratio { single: false },
                Plan::Ratio { single: true },
            ),
        ] {
            assert_eq!(plan_of(kind, 3), multi, "{kind:?} in a group of 3");
            assert_eq!(plan_of(kind, 1), single, "{kind:?} alone");
        }
    }

    #[test]
    fn router_allowance_uses_the_class_entry_else_allowed_fails_else_three() {
        let mut s = CooldownSettings {
            allowed_fails_policy: Some(AllowedFailsPolicy {
                rate_limit: Some(5),
                ..Default::default()
            }),
            ..Default::default()
        };
        let d = DeploymentCooldownConfig::default();
        assert_eq!(
            plan(&s, &d, &err(ErrorKind::RateLimit), 1),
            Plan::Allowance {
                allowed: 5,
                counter: Counter::Class("RateLimitError")
            }
        );
        assert_eq!(
            plan(&s, &d, &err(ErrorKind::InternalServer), 2),
            Plan::Allowance {
                allowed: DEFAULT_ALLOWED_FAILS,
                counter: Counter::Generic
            }
        );
        s.allowed_fails = Some(0);
        assert_eq!(
            plan(&s, &d, &err(ErrorKind::Authentication), 2),
            Plan::Allowance {
                allowed: 0,
                counter: Counter::Generic
            }
        );
        // 400 and 403 still never cool under a router-level allowance.
        assert_eq!(plan(&s, &d, &err(ErrorKind::BadRequest), 2), Plan::Skip);
        assert_eq!(
            plan(&s, &d, &err(ErrorKind::PermissionDenied), 2),
            Plan::Skip
        );
    }

    #[test]
    fn deployment_policy_overrides_and_can_opt_in_bad_requests() {
        let s = CooldownSettings::default();
        let d = DeploymentCooldownConfig {
            allowed_fails_policy: Some(AllowedFailsPolicy {
                bad_request: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            plan(&s, &d, &err(ErrorKind::BadRequest), 1),
            Plan::Allowance {
                allowed: 1,
                counter: Counter::Class("BadRequestError")
            }
        );
        // A class the deployment's policy does not name: the router's rules.
        assert_eq!(plan(&s, &d, &err(ErrorKind::RateLimit), 2), Plan::Cool);
        // A generic deployment allowed_fails: counted, except on a lone deployment.
        let d = DeploymentCooldownConfig {
            allowed_fails: Some(2),
            ..Default::default()
        };
        assert_eq!(
            plan(&s, &d, &err(ErrorKind::RateLimit), 2),
            Plan::Allowance {
                allowed: 2,
                counter: Counter::Generic
            }
        );
        assert_eq!(plan(&s, &d, &err(ErrorKind::RateLimit), 1), Plan::Skip);
    }

    #[test]
    fn bad_gateway_is_its_own_class() {
        let s = CooldownSettings {
            allowed_fails_policy: Some(AllowedFailsPolicy {
                bad_gateway: Some(4),
                internal_server: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut e = err(ErrorKind::InternalServer);
        e.status = Some(502);
        assert_eq!(
            plan(&s, &DeploymentCooldownConfig::default(), &e, 2),
            Plan::Allowance {
                allowed: 4,
                counter: Counter::Class("BadGatewayError")
            }
        );
    }
}
