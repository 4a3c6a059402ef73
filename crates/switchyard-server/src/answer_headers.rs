//! The headers of a successful answer: LiteLLM's `x-litellm-model-*` and the
//! routing headers of [`route_headers`](crate::route_headers).
//!
//! What depends only on the deployment (its id, group, API base, and the route of an
//! answer that needed no retry) is built once per deployment when the server starts:
//! building header values per request copied each string into a fresh allocation.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use switchyard_router::{Attempt, Deployment, Router};

use crate::route_headers;

const MODEL_ID: HeaderName = HeaderName::from_static("x-litellm-model-id");
const MODEL_GROUP: HeaderName = HeaderName::from_static("x-litellm-model-group");
const API_BASE: HeaderName = HeaderName::from_static("x-litellm-model-api-base");

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
}

impl AnswerHeaders {
    pub(crate) fn new(router: &Router) -> Self {
        let strategy = router.routing_strategy().name().to_owned();
        let by_deployment = router
            .all_deployments()
            .map(|d| {
                let prebuilt = Prebuilt {
                    litellm: litellm_headers(d),
                    first_try_route: route_headers::success_route(
                        &[],
                        (&d.model_group, &d.id),
                        &strategy,
                    ),
                };
                (d.id.clone(), prebuilt)
            })
            .collect();
        Self {
            by_deployment,
            strategy,
        }
    }

    /// Adds the headers of an answer `deployment` gave after `failed` attempts.
    pub(crate) fn insert(
        &self,
        headers: &mut HeaderMap,
        deployment: &Deployment,
        failed: &[Attempt],
        retries: u32,
        fallbacks: u32,
    ) {
        let prebuilt = self.by_deployment.get(&deployment.id);
        match prebuilt {
            Some(p) => {
                for (name, value) in &p.litellm {
                    headers.insert(name.clone(), value.clone());
                }
            }
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
        route_headers::insert(headers, retries, fallbacks, route);
    }

    /// The strategy named in `x-switchyard-route`.
    pub(crate) fn strategy(&self) -> &str {
        &self.strategy
    }
}

/// LiteLLM's response headers, so tooling built for LiteLLM keeps working.
fn litellm_headers(deployment: &Deployment) -> Vec<(HeaderName, HeaderValue)> {
    [
        (MODEL_ID, Some(deployment.id.as_str())),
        (MODEL_GROUP, Some(deployment.model_group.as_str())),
        (API_BASE, deployment.api_base.as_deref()),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, HeaderValue::from_str(value?).ok()?)))
    .collect()
}
