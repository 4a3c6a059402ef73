//! Headers that tell a client how its request was routed: LiteLLM's
//! `x-litellm-attempted-retries` / `x-litellm-attempted-fallbacks`, and
//! `x-switchyard-route`, every attempt oldest first as
//! `<model_group>/<deployment_id>:<status or ok>`, then `; strategy=<name>`:
//! the routing strategy that chose those deployments.

use std::fmt::Write as _;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;
use switchyard_router::{Attempt, RouterError};

const ATTEMPTED_RETRIES: HeaderName = HeaderName::from_static("x-litellm-attempted-retries");
const ATTEMPTED_FALLBACKS: HeaderName = HeaderName::from_static("x-litellm-attempted-fallbacks");
const ROUTE: HeaderName = HeaderName::from_static("x-switchyard-route");

/// `x-switchyard-route` of a successful call: the failed attempts, then the answer.
pub(crate) fn success_route(
    failed: &[Attempt],
    answered_by: (&str, &str),
    strategy: &str,
) -> Option<HeaderValue> {
    let (group, id) = answered_by;
    let mut route = String::with_capacity(group.len() + id.len() + strategy.len() + 16);
    describe(&mut route, failed);
    if !route.is_empty() {
        route.push_str(", ");
    }
    route.push_str(group);
    route.push('/');
    route.push_str(id);
    route.push_str(":ok");
    name_strategy(&mut route, strategy);
    header_value(route)
}

/// Adds the routing headers of a failed call (nothing when no attempt was made).
pub(crate) fn insert_failure(headers: &mut HeaderMap, error: &RouterError, strategy: &str) {
    if let RouterError::Upstream {
        attempts,
        fallbacks,
    } = error
    {
        let first_group = attempts
            .first()
            .map(|a| a.model_group.as_str())
            .unwrap_or_default();
        let retries = attempts
            .iter()
            .filter(|a| a.model_group == first_group)
            .count()
            .saturating_sub(1);
        let mut route = String::new();
        describe(&mut route, attempts);
        name_strategy(&mut route, strategy);
        insert(headers, retries as u32, *fallbacks, header_value(route));
    }
}

/// Appends `group/id:status` for each attempt, comma-separated.
fn describe(out: &mut String, attempts: &[Attempt]) {
    for (i, a) in attempts.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(
            out,
            "{}/{}:{}",
            a.model_group,
            a.deployment_id,
            a.error.http_status()
        );
    }
}

fn name_strategy(route: &mut String, strategy: &str) {
    route.push_str("; strategy=");
    route.push_str(strategy);
}

/// A count as a header value; the common small ones without formatting or allocating.
fn count(n: u32) -> HeaderValue {
    const SMALL: [&str; 4] = ["0", "1", "2", "3"];
    match SMALL.get(n as usize) {
        Some(text) => HeaderValue::from_static(text),
        None => HeaderValue::from(n),
    }
}

/// Adds the retry and fallback counts and the route (when it could be a header).
pub(crate) fn insert(
    headers: &mut HeaderMap,
    retries: u32,
    fallbacks: u32,
    route: Option<HeaderValue>,
) {
    headers.insert(ATTEMPTED_RETRIES, count(retries));
    headers.insert(ATTEMPTED_FALLBACKS, count(fallbacks));
    if let Some(route) = route {
        headers.insert(ROUTE, route);
    }
}

/// Group names come from the config and may hold bytes a header cannot carry.
fn header_value(route: String) -> Option<HeaderValue> {
    HeaderValue::from_maybe_shared(Bytes::from(route)).ok()
}
