//! How many retries a failure earns: `num_retries`, `retry_policy` and
//! `model_group_retry_policy`.

use std::collections::{BTreeMap, HashMap};

use switchyard_providers::ErrorKind;

/// LiteLLM's `RetryPolicy`: a retry count per error class; unset classes fall
/// back to `num_retries`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryPolicy {
    bad_request: Option<u32>,
    authentication: Option<u32>,
    timeout: Option<u32>,
    rate_limit: Option<u32>,
    content_policy_violation: Option<u32>,
    internal_server: Option<u32>,
}

impl RetryPolicy {
    /// Reads LiteLLM's key names (`RateLimitErrorRetries`, ...); unknown keys are ignored
    /// here because the config loader already warned about them.
    pub fn from_map(map: &BTreeMap<String, u32>) -> Self {
        let get = |k: &str| map.get(k).copied();
        Self {
            bad_request: get("BadRequestErrorRetries"),
            authentication: get("AuthenticationErrorRetries"),
            timeout: get("TimeoutErrorRetries"),
            rate_limit: get("RateLimitErrorRetries"),
            content_policy_violation: get("ContentPolicyViolationErrorRetries"),
            internal_server: get("InternalServerErrorRetries"),
        }
    }

    /// The count this policy sets for `kind`, if any. Subclasses fall back to their
    /// parent class as in LiteLLM (a content-policy error is a bad request).
    pub fn for_kind(&self, kind: ErrorKind) -> Option<u32> {
        match kind {
            ErrorKind::ContentPolicyViolation => self.content_policy_violation.or(self.bad_request),
            ErrorKind::BadRequest
            | ErrorKind::ContextWindowExceeded
            | ErrorKind::UnprocessableEntity => self.bad_request,
            ErrorKind::Authentication | ErrorKind::PermissionDenied => self.authentication,
            ErrorKind::Timeout => self.timeout,
            ErrorKind::RateLimit => self.rate_limit,
            ErrorKind::InternalServer
            | ErrorKind::ServiceUnavailable
            | ErrorKind::InvalidResponse => self.internal_server,
            _ => None,
        }
    }
}

/// Router-wide retry settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct RetrySettings {
    /// `router_settings.num_retries`, else `litellm_settings.num_retries`, else 2.
    pub(crate) num_retries: u32,
    /// `retry_after`: the least a backoff sleeps.
    pub(crate) min_backoff: std::time::Duration,
    pub(crate) policy: RetryPolicy,
    pub(crate) group_policies: HashMap<String, RetryPolicy>,
}

/// LiteLLM's default `num_retries` for the proxy's router.
pub(crate) const DEFAULT_NUM_RETRIES: u32 = 2;

impl RetrySettings {
    pub(crate) fn from_config(cfg: &crate::config::Config) -> Self {
        let rs = &cfg.router_settings;
        Self {
            num_retries: rs
                .num_retries
                .or(cfg.litellm_settings.num_retries)
                .unwrap_or(DEFAULT_NUM_RETRIES),
            min_backoff: rs.retry_after.unwrap_or_default(),
            policy: RetryPolicy::from_map(&rs.retry_policy),
            group_policies: rs
                .model_group_retry_policy
                .iter()
                .map(|(group, map)| (group.clone(), RetryPolicy::from_map(map)))
                .collect(),
        }
    }

    /// Whether a policy names `kind`'s class, which makes even a
    /// non-retryable class (a 400) retryable.
    pub(crate) fn has_policy_for(&self, group: &str, kind: ErrorKind) -> bool {
        self.group_policies
            .get(group)
            .and_then(|p| p.for_kind(kind))
            .or_else(|| self.policy.for_kind(kind))
            .is_some()
    }

    /// Retries allowed after a failure of class `kind` in `group`: the group's
    /// policy, then the router's policy, then the request's or deployment's
    /// `num_retries`, then the router's.
    pub(crate) fn allowed(&self, group: &str, kind: ErrorKind, requested: Option<u32>) -> u32 {
        self.group_policies
            .get(group)
            .and_then(|p| p.for_kind(kind))
            .or_else(|| self.policy.for_kind(kind))
            .or(requested)
            .unwrap_or(self.num_retries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_policy_then_router_policy_then_request_then_default() {
        let mut cfg = crate::config::Config::default();
        cfg.router_settings.retry_policy =
            BTreeMap::from([("RateLimitErrorRetries".to_owned(), 0)]);
        cfg.router_settings.model_group_retry_policy = BTreeMap::from([(
            "special".to_owned(),
            BTreeMap::from([
                ("RateLimitErrorRetries".to_owned(), 5),
                ("InternalServerErrorRetries".to_owned(), 1),
            ]),
        )]);
        let s = RetrySettings::from_config(&cfg);
        assert_eq!(s.allowed("any", ErrorKind::RateLimit, Some(9)), 0);
        assert_eq!(s.allowed("special", ErrorKind::RateLimit, None), 5);
        assert_eq!(s.allowed("special", ErrorKind::InternalServer, None), 1);
        assert_eq!(s.allowed("any", ErrorKind::InternalServer, Some(4)), 4);
        assert_eq!(
            s.allowed("any", ErrorKind::InternalServer, None),
            DEFAULT_NUM_RETRIES
        );
    }

    #[test]
    fn content_policy_falls_back_to_the_bad_request_count() {
        let p = RetryPolicy::from_map(&BTreeMap::from([("BadRequestErrorRetries".to_owned(), 3)]));
        assert_eq!(p.for_kind(ErrorKind::ContentPolicyViolation), Some(3));
        assert_eq!(p.for_kind(ErrorKind::ContextWindowExceeded), Some(3));
        assert_eq!(p.for_kind(ErrorKind::RateLimit), None);
    }
}
