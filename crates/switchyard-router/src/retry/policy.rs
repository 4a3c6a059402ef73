//! How many retries a failure earns: `num_retries`, `retry_policy` and
//! `model_group_retry_policy`.

use std::collections::{BTreeMap, HashMap};

use switchyard_providers::{ErrorKind, ProviderError};

/// LiteLLM's `RetryPolicy`: a retry count per exception class, `NotFoundErrorRetries` for
/// any 404, and `DefaultRetries` for the rest; where it sets nothing, `num_retries` applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryPolicy {
    bad_request: Option<u32>,
    authentication: Option<u32>,
    timeout: Option<u32>,
    rate_limit: Option<u32>,
    content_policy_violation: Option<u32>,
    internal_server: Option<u32>,
    service_unavailable: Option<u32>,
    not_found: Option<u32>,
    default: Option<u32>,
}

/// The exception classes a `RetryPolicy` has a field for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PolicyClass {
    BadRequest,
    Authentication,
    Timeout,
    RateLimit,
    ContentPolicyViolation,
    InternalServer,
    ServiceUnavailable,
}

/// LiteLLM's exception class for a failure and its base classes, most specific first,
/// keeping only the classes a policy names: the walk over `type(exception).__mro__` in
/// LiteLLM's `get_num_retries_from_retry_policy` (`router_utils/get_retry_from_policy.py`),
/// with the classes of `litellm/exceptions.py` and the OpenAI dialect's status mapping
/// (`exception_mapping_utils.py`).
fn policy_classes(error: &ProviderError) -> &'static [PolicyClass] {
    use PolicyClass as C;
    match error.kind {
        // BadRequestError; PaymentRequiredError and ContextWindowExceededError subclass it.
        ErrorKind::BadRequest | ErrorKind::PaymentRequired | ErrorKind::ContextWindowExceeded => {
            &[C::BadRequest]
        }
        ErrorKind::ContentPolicyViolation => &[C::ContentPolicyViolation, C::BadRequest],
        ErrorKind::Authentication => &[C::Authentication],
        // A 408, a 504 (`Timeout` with its status) or a local timeout.
        ErrorKind::Timeout => &[C::Timeout],
        ErrorKind::RateLimit => &[C::RateLimit],
        // ServiceUnavailableError is not an InternalServerError.
        ErrorKind::ServiceUnavailable => &[C::ServiceUnavailable],
        // A 500 is InternalServerError; a 502 BadGatewayError and other 5xx APIError,
        // neither of which a policy names.
        ErrorKind::InternalServer => match error.status {
            None | Some(500) => &[C::InternalServer],
            Some(_) => &[],
        },
        // PermissionDeniedError, NotFoundError (404s are looked up first, by status),
        // UnprocessableEntityError, APIConnectionError, APIError: no field of their own.
        ErrorKind::PermissionDenied
        | ErrorKind::NotFound
        | ErrorKind::Conflict
        | ErrorKind::UnprocessableEntity
        | ErrorKind::ApiConnection
        | ErrorKind::StreamInterrupted
        | ErrorKind::InvalidResponse => &[],
    }
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
            service_unavailable: get("ServiceUnavailableErrorRetries"),
            not_found: get("NotFoundErrorRetries"),
            default: get("DefaultRetries"),
        }
    }

    fn for_class(&self, class: PolicyClass) -> Option<u32> {
        match class {
            PolicyClass::BadRequest => self.bad_request,
            PolicyClass::Authentication => self.authentication,
            PolicyClass::Timeout => self.timeout,
            PolicyClass::RateLimit => self.rate_limit,
            PolicyClass::ContentPolicyViolation => self.content_policy_violation,
            PolicyClass::InternalServer => self.internal_server,
            PolicyClass::ServiceUnavailable => self.service_unavailable,
        }
    }

    /// The count this policy sets for `error`: `NotFoundErrorRetries` for a 404, else the
    /// most specific class of the error that the policy sets, else `DefaultRetries`.
    pub fn for_error(&self, error: &ProviderError) -> Option<u32> {
        let is_404 = error.status == Some(404) || error.kind == ErrorKind::NotFound;
        is_404
            .then_some(self.not_found)
            .flatten()
            .or_else(|| {
                policy_classes(error)
                    .iter()
                    .find_map(|&class| self.for_class(class))
            })
            .or(self.default)
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

    /// The retries a policy grants for `error` in `group`, when one applies: the group's
    /// own policy when it has one (the router's is then not read), else the router's. A
    /// request that asks for `num_retries: 0` gets no policy, as in LiteLLM. A count from
    /// a policy also makes the error retryable whatever its class.
    pub(crate) fn policy_count(
        &self,
        group: &str,
        error: &ProviderError,
        requested: Option<u32>,
    ) -> Option<u32> {
        if requested == Some(0) {
            return None;
        }
        self.group_policies
            .get(group)
            .unwrap_or(&self.policy)
            .for_error(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(kind: ErrorKind, status: Option<u16>) -> ProviderError {
        let mut e = ProviderError::new(kind, "openai", "failed");
        e.status = status;
        e
    }

    fn policy(pairs: &[(&str, u32)]) -> RetryPolicy {
        RetryPolicy::from_map(&pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect())
    }

    const EVERY_CLASS: [&str; 9] = [
        "BadRequestErrorRetries",
        "AuthenticationErrorRetries",
        "TimeoutErrorRetries",
        "RateLimitErrorRetries",
        "ContentPolicyViolationErrorRetries",
        "InternalServerErrorRetries",
        "ServiceUnavailableErrorRetries",
        "NotFoundErrorRetries",
        "DefaultRetries",
    ];

    /// Every error class and status against a policy that sets every field to a distinct
    /// count: the field LiteLLM 1.106 reads for it (`None`: only `DefaultRetries`).
    #[test]
    fn each_failure_reads_litellms_field() {
        use ErrorKind::*;
        let rows: &[(ErrorKind, Option<u16>, Option<&str>)] = &[
            (BadRequest, Some(400), Some("BadRequestErrorRetries")),
            (
                ContextWindowExceeded,
                Some(400),
                Some("BadRequestErrorRetries"),
            ),
            (
                ContentPolicyViolation,
                Some(400),
                Some("ContentPolicyViolationErrorRetries"),
            ),
            (
                ContentPolicyViolation,
                None,
                Some("ContentPolicyViolationErrorRetries"),
            ),
            (PaymentRequired, Some(402), Some("BadRequestErrorRetries")),
            (
                Authentication,
                Some(401),
                Some("AuthenticationErrorRetries"),
            ),
            (PermissionDenied, Some(403), None),
            (NotFound, Some(404), Some("NotFoundErrorRetries")),
            (Timeout, Some(408), Some("TimeoutErrorRetries")),
            (Timeout, Some(504), Some("TimeoutErrorRetries")),
            (Timeout, None, Some("TimeoutErrorRetries")),
            (Conflict, Some(409), None),
            (UnprocessableEntity, Some(422), None),
            (RateLimit, Some(429), Some("RateLimitErrorRetries")),
            (
                InternalServer,
                Some(500),
                Some("InternalServerErrorRetries"),
            ),
            (InternalServer, None, Some("InternalServerErrorRetries")),
            (InternalServer, Some(502), None),
            (InternalServer, Some(501), None),
            (InternalServer, Some(529), None),
            (
                ServiceUnavailable,
                Some(503),
                Some("ServiceUnavailableErrorRetries"),
            ),
            (ApiConnection, None, None),
            (StreamInterrupted, None, None),
            (InvalidResponse, Some(200), None),
            // Any 404 reads NotFoundErrorRetries first, whatever its class.
            (BadRequest, Some(404), Some("NotFoundErrorRetries")),
        ];
        let all = policy(
            &EVERY_CLASS
                .iter()
                .enumerate()
                .map(|(i, k)| (*k, i as u32 + 10))
                .collect::<Vec<_>>(),
        );
        let count = |field: &str| EVERY_CLASS.iter().position(|k| *k == field).unwrap() as u32 + 10;
        for &(kind, status, field) in rows {
            let want = count(field.unwrap_or("DefaultRetries"));
            assert_eq!(
                all.for_error(&error(kind, status)),
                Some(want),
                "{kind:?} {status:?}"
            );
        }
        // Every class is in the table.
        for kind in ErrorKind::ALL {
            assert!(rows.iter().any(|r| r.0 == kind), "{kind:?} has no row");
        }
    }

    #[test]
    fn a_subclass_falls_back_to_its_parent_then_default_then_nothing() {
        let p = policy(&[("BadRequestErrorRetries", 3)]);
        assert_eq!(
            p.for_error(&error(ErrorKind::ContentPolicyViolation, Some(400))),
            Some(3)
        );
        assert_eq!(
            p.for_error(&error(ErrorKind::ContextWindowExceeded, Some(400))),
            Some(3)
        );
        assert_eq!(p.for_error(&error(ErrorKind::RateLimit, Some(429))), None);
        // A 404 without NotFoundErrorRetries walks its class: NotFoundError names none.
        assert_eq!(p.for_error(&error(ErrorKind::NotFound, Some(404))), None);
        let p = policy(&[("DefaultRetries", 1)]);
        assert_eq!(p.for_error(&error(ErrorKind::NotFound, Some(404))), Some(1));
        assert_eq!(
            p.for_error(&error(ErrorKind::UnprocessableEntity, Some(422))),
            Some(1)
        );
    }

    #[test]
    fn a_503_is_not_an_internal_server_error() {
        let p = policy(&[("InternalServerErrorRetries", 4)]);
        assert_eq!(
            p.for_error(&error(ErrorKind::ServiceUnavailable, Some(503))),
            None
        );
        assert_eq!(
            p.for_error(&error(ErrorKind::InternalServer, Some(500))),
            Some(4)
        );
    }

    #[test]
    fn the_groups_policy_replaces_the_routers() {
        let mut cfg = crate::config::Config::default();
        cfg.router_settings.retry_policy = BTreeMap::from([
            ("RateLimitErrorRetries".to_owned(), 0),
            ("InternalServerErrorRetries".to_owned(), 6),
        ]);
        cfg.router_settings.model_group_retry_policy = BTreeMap::from([(
            "special".to_owned(),
            BTreeMap::from([("RateLimitErrorRetries".to_owned(), 5)]),
        )]);
        let s = RetrySettings::from_config(&cfg);
        let rate_limit = error(ErrorKind::RateLimit, Some(429));
        let server = error(ErrorKind::InternalServer, Some(500));
        assert_eq!(s.policy_count("any", &rate_limit, Some(9)), Some(0));
        assert_eq!(s.policy_count("special", &rate_limit, None), Some(5));
        // The group's policy does not set it, and the router's is not read.
        assert_eq!(s.policy_count("special", &server, None), None);
        assert_eq!(s.policy_count("any", &server, None), Some(6));
        // `num_retries: 0` on the request turns policies off.
        assert_eq!(s.policy_count("any", &server, Some(0)), None);
    }
}
