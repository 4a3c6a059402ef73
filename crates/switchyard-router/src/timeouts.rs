//! How long one attempt may take, resolved as LiteLLM's `Router._get_timeout` does.
//!
//! Every timeout LiteLLM knows is per attempt. A stream looks for a `stream_timeout`
//! (the request's, the deployment's, the router's, then `litellm_settings.request_timeout`
//! when the router also sets `timeout`); without one, and for every other call, the
//! chain is the request's `timeout` or `request_timeout`, the deployment's `timeout` or
//! `request_timeout`, then the router's. A deployment's `timeout_by_service_tier` and
//! `stream_timeout_by_service_tier` come right after the request's own, for the request's
//! `service_tier`. As in Python's `or`, a 0 counts as unset.
//!
//! The whole-request deadline is Switchyard's own and is not resolved here: it comes
//! only from `x-switchyard-timeout` or `switchyard_settings.request_deadline`, so a
//! LiteLLM config keeps its meaning.

use std::collections::BTreeMap;
use std::time::Duration;

use switchyard_types::RequestBody;

use crate::error::RouterError;
use crate::request::body_seconds;

/// LiteLLM's default `litellm.request_timeout`: 6000 seconds.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(6000);

/// The router's part of the chain, fixed when the router is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RouterTimeouts {
    /// LiteLLM's `Router.timeout`: `router_settings.timeout`, else
    /// `litellm_settings.request_timeout`, else 6000 s.
    timeout: Duration,
    /// LiteLLM's `Router.request_timeout`: `litellm_settings.request_timeout`, kept only
    /// when the router sets `timeout` too (otherwise it already is `timeout`). It comes
    /// before the router's `timeout`, and before a deployment's `timeout` for streams.
    request_timeout: Option<Duration>,
    /// `router_settings.stream_timeout`.
    stream_timeout: Option<Duration>,
}

impl RouterTimeouts {
    /// From `router_settings.timeout`, `router_settings.stream_timeout` and
    /// `litellm_settings.request_timeout`.
    pub(crate) fn new(
        router_timeout: Option<Duration>,
        stream_timeout: Option<Duration>,
        request_timeout: Option<Duration>,
    ) -> Self {
        let configured = nonzero(request_timeout);
        Self {
            timeout: nonzero(router_timeout)
                .or(configured)
                .unwrap_or(DEFAULT_REQUEST_TIMEOUT),
            // `get_configured_request_timeout() if timeout is not None`: a router
            // `timeout: 0` still counts as set here.
            request_timeout: router_timeout.and(configured),
            stream_timeout: nonzero(stream_timeout),
        }
    }
}

impl RouterTimeouts {
    /// How long a request without a deadline may wait for its turn or a slot: LiteLLM
    /// bounds its priority queue by the router's `timeout` (`_wait_for_scheduler_turn`).
    pub(crate) fn queue_wait(&self) -> Duration {
        self.timeout
    }
}

/// A deployment's `timeout`, `request_timeout` and `stream_timeout`, and its
/// `timeout_by_service_tier` and `stream_timeout_by_service_tier`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DeploymentTimeouts {
    pub(crate) timeout: Option<Duration>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) stream_timeout: Option<Duration>,
    pub(crate) by_service_tier: BTreeMap<String, Duration>,
    pub(crate) stream_by_service_tier: BTreeMap<String, Duration>,
}

/// The request's own `timeout`, `request_timeout` and `stream_timeout` fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RequestTimeouts {
    pub(crate) timeout: Option<Duration>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) stream_timeout: Option<Duration>,
}

impl RequestTimeouts {
    /// Reads the three fields (numbers or numeric strings); one out of range is the
    /// client's error, naming the field.
    pub(crate) fn read(body: &RequestBody) -> Result<Self, RouterError> {
        Ok(Self {
            timeout: body_seconds(body, "timeout")?,
            request_timeout: body_seconds(body, "request_timeout")?,
            stream_timeout: body_seconds(body, "stream_timeout")?,
        })
    }
}

/// One attempt's timeout. `service_tier` is the request's, which picks the deployment's
/// timeout for that tier (LiteLLM's `get_service_tier_timeout`).
pub(crate) fn attempt_timeout(
    stream: bool,
    request: &RequestTimeouts,
    service_tier: Option<&str>,
    deployment: &DeploymentTimeouts,
    router: &RouterTimeouts,
) -> Duration {
    let tier = |map: &BTreeMap<String, Duration>| service_tier.and_then(|t| map.get(t).copied());
    let for_stream = stream
        .then(|| {
            first_set([
                request.stream_timeout,
                tier(&deployment.stream_by_service_tier),
                deployment.stream_timeout,
                router.stream_timeout,
                router.request_timeout,
            ])
        })
        .flatten();
    for_stream
        .or_else(|| {
            first_set([
                request.timeout,
                request.request_timeout,
                tier(&deployment.by_service_tier),
                deployment.timeout,
                deployment.request_timeout,
                router.request_timeout,
            ])
        })
        .unwrap_or(router.timeout)
}

fn first_set<const N: usize>(chain: [Option<Duration>; N]) -> Option<Duration> {
    chain.into_iter().find_map(nonzero)
}

fn nonzero(d: Option<Duration>) -> Option<Duration> {
    d.filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Option<Duration> {
        Some(Duration::from_secs(secs))
    }

    fn req(timeout: Option<Duration>, stream_timeout: Option<Duration>) -> RequestTimeouts {
        RequestTimeouts {
            timeout,
            request_timeout: None,
            stream_timeout,
        }
    }

    fn dep(timeout: Option<Duration>, stream_timeout: Option<Duration>) -> DeploymentTimeouts {
        DeploymentTimeouts {
            timeout,
            stream_timeout,
            ..DeploymentTimeouts::default()
        }
    }

    /// Each row: (stream, request timeout/stream_timeout, deployment timeout/stream_timeout,
    /// router timeout/stream_timeout, litellm request_timeout) -> seconds. Every row was
    /// checked against LiteLLM 1.106's `Router._get_timeout`.
    #[test]
    fn the_chain_is_litellms() {
        type Pair = (Option<Duration>, Option<Duration>);
        type Row = (bool, Pair, Pair, Pair, Option<Duration>, u64);
        let n = None;
        let rows: &[Row] = &[
            // Nothing set: LiteLLM's 6000 s.
            (false, (n, n), (n, n), (n, n), n, 6000),
            (true, (n, n), (n, n), (n, n), n, 6000),
            // The cases: a deployment's 3 s under a router's 1 s; a request's 10 s.
            (false, (n, n), (s(3), n), (s(1), n), n, 3),
            (false, (s(10), n), (s(3), n), (s(1), n), n, 10),
            // request_timeout alone is the router's timeout.
            (false, (n, n), (n, n), (n, n), s(30), 30),
            // With a router timeout too, request_timeout wins over it.
            (false, (n, n), (n, n), (s(5), n), s(30), 30),
            // ... but not over a deployment's.
            (false, (n, n), (s(2), n), (s(5), n), s(30), 2),
            // Streams: stream_timeouts first, request > deployment > router.
            (true, (s(10), s(4)), (s(3), s(2)), (s(1), s(1)), n, 4),
            (true, (s(10), n), (s(3), s(2)), (s(1), s(1)), n, 2),
            (true, (s(10), n), (s(3), n), (s(1), s(1)), n, 1),
            // No stream_timeout anywhere: the plain chain.
            (true, (s(10), n), (s(3), n), (s(1), n), n, 10),
            (true, (n, n), (s(3), n), (s(1), n), n, 3),
            // request_timeout with a router timeout counts as a stream timeout too.
            (true, (s(10), n), (s(3), n), (s(1), n), s(30), 30),
            // A stream_timeout on a plain call is not read.
            (false, (n, s(4)), (n, s(2)), (n, s(1)), n, 6000),
            // 0 is unset, as Python's `or` reads it.
            (false, (s(0), n), (s(0), n), (s(7), n), n, 7),
            (true, (n, s(0)), (n, s(0)), (n, n), n, 6000),
        ];
        for (i, &(stream, (rt, rst), (dt, dst), (t, st), lrt, want)) in rows.iter().enumerate() {
            let got = attempt_timeout(
                stream,
                &req(rt, rst),
                None,
                &dep(dt, dst),
                &RouterTimeouts::new(t, st, lrt),
            );
            assert_eq!(got, Duration::from_secs(want), "row {i}");
        }
    }

    #[test]
    fn request_and_deployment_request_timeout_fields_follow_timeout() {
        let router = RouterTimeouts::new(s(1), None, None);
        let request = RequestTimeouts {
            timeout: None,
            request_timeout: s(9),
            stream_timeout: None,
        };
        let deployment = DeploymentTimeouts {
            request_timeout: s(8),
            ..DeploymentTimeouts::default()
        };
        assert_eq!(
            attempt_timeout(false, &request, None, &deployment, &router),
            Duration::from_secs(9)
        );
        assert_eq!(
            attempt_timeout(
                false,
                &RequestTimeouts::default(),
                None,
                &deployment,
                &router
            ),
            Duration::from_secs(8)
        );
    }

    #[test]
    fn a_service_tier_picks_the_deployments_timeout_for_it() {
        let router = RouterTimeouts::new(s(1), s(1), None);
        let deployment = DeploymentTimeouts {
            timeout: s(3),
            stream_timeout: s(2),
            by_service_tier: BTreeMap::from([("flex".to_owned(), Duration::from_secs(900))]),
            stream_by_service_tier: BTreeMap::from([("flex".to_owned(), Duration::from_secs(600))]),
            ..DeploymentTimeouts::default()
        };
        let none = RequestTimeouts::default();
        let at = |stream, tier| attempt_timeout(stream, &none, tier, &deployment, &router);
        assert_eq!(at(false, Some("flex")), Duration::from_secs(900));
        assert_eq!(at(true, Some("flex")), Duration::from_secs(600));
        // Another tier, or none: the deployment's own.
        assert_eq!(at(false, Some("default")), Duration::from_secs(3));
        assert_eq!(at(true, None), Duration::from_secs(2));
        // The request's own timeout still comes first.
        let asked = req(s(5), None);
        assert_eq!(
            attempt_timeout(false, &asked, Some("flex"), &deployment, &router),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn a_router_timeout_of_zero_still_keeps_request_timeout_first() {
        // `self.timeout = 0 or litellm.request_timeout`, and request_timeout is kept
        // because `timeout is not None`.
        let router = RouterTimeouts::new(s(0), None, s(30));
        assert_eq!(router.timeout, Duration::from_secs(30));
        assert_eq!(router.request_timeout, s(30));
    }
}
