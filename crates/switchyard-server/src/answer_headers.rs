//! The headers of a successful answer: content type, LiteLLM's
//! `x-litellm-model-*` and the routing headers of [`route_headers`](crate::route_headers).
//!
//! What depends only on the deployment (its id, name, API base, and the
//! routing headers of an answer that needed no retry) is written once per
//! deployment when the server starts, as the bytes that go on the wire; an
//! answer copies them in one go. The model group comes apart: LiteLLM names
//! the group as the client asked for it (an alias, a wildcard's match).

use std::collections::HashMap;

use bytes::Bytes;
use switchyard_router::{Attempt, Deployment, Router};

use crate::answer::HeaderLines;
use crate::route_headers;

pub(crate) const MODEL_GROUP: &str = "x-litellm-model-group";

/// What the answer's body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnswerKind {
    /// One JSON document.
    Json,
    /// Server-sent events.
    EventStream,
}

/// Header lines per deployment id.
#[derive(Debug)]
pub(crate) struct AnswerHeaders {
    by_deployment: HashMap<String, Prebuilt>,
    strategy: String,
}

#[derive(Debug)]
struct Prebuilt {
    /// `x-litellm-model-id`, `-model-name`, `-model-api-base`.
    litellm: Bytes,
    /// The routing lines of an answer from the first attempt.
    first_try_routing: Bytes,
}

impl AnswerHeaders {
    pub(crate) fn new(router: &Router) -> Self {
        let strategy = router.routing_strategy().name().to_owned();
        let by_deployment = router
            .all_deployments()
            .map(|d| {
                let mut routing = HeaderLines::default();
                let route = route_headers::success_route(&[], (&d.model_group, &d.id), &strategy);
                route_headers::write(&mut routing, 0, 0, &route);
                let prebuilt = Prebuilt {
                    litellm: litellm_lines(d).freeze(),
                    first_try_routing: routing.freeze(),
                };
                (d.id.clone(), prebuilt)
            })
            .collect();
        Self {
            by_deployment,
            strategy,
        }
    }

    /// Writes every header of a `kind` answer `deployment` gave after
    /// `failed` attempts (`retries` in its group, `fallbacks` to other
    /// groups); `group` is the model group as the answer names it.
    pub(crate) fn write(
        &self,
        lines: &mut HeaderLines,
        kind: AnswerKind,
        deployment: &Deployment,
        group: &[u8],
        attempts: (&[Attempt], u32, u32),
    ) {
        let (failed, retries, fallbacks) = attempts;
        lines.extend(match kind {
            AnswerKind::Json => b"content-type: application/json\r\n",
            AnswerKind::EventStream => {
                &b"content-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\nx-accel-buffering: no\r\n"[..]
            }
        });
        let prebuilt = self.by_deployment.get(&deployment.id);
        match prebuilt {
            Some(p) => lines.extend(&p.litellm),
            None => lines.extend(litellm_lines(deployment).as_bytes()),
        }
        lines.push(MODEL_GROUP, group);
        match prebuilt {
            Some(p) if failed.is_empty() && retries == 0 && fallbacks == 0 => {
                lines.extend(&p.first_try_routing);
            }
            _ => {
                let route = route_headers::success_route(
                    failed,
                    (&deployment.model_group, &deployment.id),
                    &self.strategy,
                );
                route_headers::write(lines, retries, fallbacks, &route);
            }
        }
    }

    /// The strategy named in `x-switchyard-route`.
    pub(crate) fn strategy(&self) -> &str {
        &self.strategy
    }
}

/// LiteLLM's response headers, so tooling built for LiteLLM keeps working.
/// Values a header cannot carry (control characters in a config string) are left out.
fn litellm_lines(deployment: &Deployment) -> HeaderLines {
    let mut lines = HeaderLines::with_capacity(256);
    for (name, value) in [
        ("x-litellm-model-id", Some(deployment.id.as_str())),
        ("x-litellm-model-name", Some(deployment.model.as_str())),
        ("x-litellm-model-api-base", deployment.api_base.as_deref()),
    ] {
        if let Some(value) = value.filter(|v| !v.bytes().any(|b| b.is_ascii_control())) {
            lines.push(name, value.as_bytes());
        }
    }
    lines
}
