//! The headers of a successful answer: content type, LiteLLM's
//! `x-litellm-model-*` and the routing headers of [`route_headers`](crate::route_headers).
//!
//! What depends only on the deployment (its id, group, API base, and the routing
//! headers of an answer that needed no retry) is built once per deployment when the
//! server starts. An answer from the first attempt, by far the usual one, gets a
//! clone of that whole header map: inserting the eight headers one by one cost
//! about 5 % of the proxy's instructions per request (`bench/instructions.sh`).

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use switchyard_router::{Attempt, Deployment, Router};

use crate::route_headers;

const MODEL_ID: HeaderName = HeaderName::from_static("x-litellm-model-id");
pub(crate) const MODEL_GROUP: HeaderName = HeaderName::from_static("x-litellm-model-group");
const API_BASE: HeaderName = HeaderName::from_static("x-litellm-model-api-base");
const MODEL_NAME: HeaderName = HeaderName::from_static("x-litellm-model-name");
/// Tells a buffering reverse proxy (nginx) in front of this one to pass events on at once.
const ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

/// What the answer's body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnswerKind {
    /// One JSON document.
    Json,
    /// Server-sent events.
    EventStream,
}

/// Header values per deployment id.
#[derive(Debug)]
pub(crate) struct AnswerHeaders {
    by_deployment: HashMap<String, Prebuilt>,
    strategy: String,
}

#[derive(Debug)]
struct Prebuilt {
    litellm: Vec<(HeaderName, HeaderValue)>,
    /// `x-switchyard-route` of an answer from the first attempt.
    first_try_route: Option<HeaderValue>,
    /// Every header of an answer from the first attempt, per [`AnswerKind`].
    first_try: [HeaderMap; 2],
}

impl AnswerHeaders {
    pub(crate) fn new(router: &Router) -> Self {
        let strategy = router.routing_strategy().name().to_owned();
        let by_deployment = router
            .all_deployments()
            .map(|d| {
                let litellm = litellm_headers(d);
                let first_try_route =
                    route_headers::success_route(&[], (&d.model_group, &d.id), &strategy);
                let first_try = [AnswerKind::Json, AnswerKind::EventStream].map(|kind| {
                    let mut headers = content_headers(kind);
                    headers.extend(litellm.iter().cloned());
                    route_headers::insert(&mut headers, 0, 0, first_try_route.clone());
                    headers
                });
                let prebuilt = Prebuilt {
                    litellm,
                    first_try_route,
                    first_try,
                };
                (d.id.clone(), prebuilt)
            })
            .collect();
        Self {
            by_deployment,
            strategy,
        }
    }

    /// Every header of a `kind` answer `deployment` gave after `failed`
    /// attempts (`retries` in its group, `fallbacks` to other groups).
    pub(crate) fn for_answer(
        &self,
        kind: AnswerKind,
        deployment: &Deployment,
        failed: &[Attempt],
        retries: u32,
        fallbacks: u32,
    ) -> HeaderMap {
        let prebuilt = self.by_deployment.get(&deployment.id);
        if let Some(p) = prebuilt
            && failed.is_empty()
            && retries == 0
            && fallbacks == 0
        {
            return p.first_try[kind as usize].clone();
        }
        let mut headers = content_headers(kind);
        match prebuilt {
            Some(p) => headers.extend(p.litellm.iter().cloned()),
            None => headers.extend(litellm_headers(deployment)),
        }
        let route = match prebuilt.and_then(|p| p.first_try_route.as_ref()) {
            Some(route) if failed.is_empty() => Some(route.clone()),
            _ => route_headers::success_route(
                failed,
                (&deployment.model_group, &deployment.id),
                &self.strategy,
            ),
        };
        route_headers::insert(&mut headers, retries, fallbacks, route);
        headers
    }

    /// The strategy named in `x-switchyard-route`.
    pub(crate) fn strategy(&self) -> &str {
        &self.strategy
    }
}

/// A header map with the content and security headers of a `kind` answer,
/// and room for the rest (`x-litellm-model-*`, the routing headers, the call
/// id, CORS) without growing.
fn content_headers(kind: AnswerKind) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(24);
    match kind {
        AnswerKind::Json => {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        AnswerKind::EventStream => {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert(ACCEL_BUFFERING, HeaderValue::from_static("no"));
        }
    }
    headers.extend(crate::browser::SECURITY_HEADERS);
    headers
}

/// LiteLLM's response headers, so tooling built for LiteLLM keeps working.
fn litellm_headers(deployment: &Deployment) -> Vec<(HeaderName, HeaderValue)> {
    [
        (MODEL_ID, Some(deployment.id.as_str())),
        (MODEL_NAME, Some(deployment.model.as_str())),
        (MODEL_GROUP, Some(deployment.model_group.as_str())),
        (API_BASE, deployment.api_base.as_deref()),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, HeaderValue::from_str(value?).ok()?)))
    .collect()
}
