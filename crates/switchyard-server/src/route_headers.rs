//! Headers that tell a client how its request was routed: LiteLLM's
//! `x-litellm-attempted-retries` / `x-litellm-attempted-fallbacks`, and
//! `x-switchyard-route`, every attempt oldest first as
//! `<model_group>/<deployment_id>:<status or ok>`.

use axum::http::{HeaderMap, HeaderValue};
use switchyard_router::{Attempt, RouterError};

/// Adds the routing headers of a successful call.
pub(crate) fn insert_success(
    headers: &mut HeaderMap,
    failed: &[Attempt],
    answered_by: (&str, &str),
    retries: u32,
    fallbacks: u32,
) {
    let mut route = describe(failed);
    if !route.is_empty() {
        route.push_str(", ");
    }
    route.push_str(&format!("{}/{}:ok", answered_by.0, answered_by.1));
    insert(headers, retries, fallbacks, &route);
}

/// Adds the routing headers of a failed call (nothing when no attempt was made).
pub(crate) fn insert_failure(headers: &mut HeaderMap, error: &RouterError) {
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
        insert(headers, retries as u32, *fallbacks, &describe(attempts));
    }
}

fn describe(attempts: &[Attempt]) -> String {
    attempts
        .iter()
        .map(|a| {
            format!(
                "{}/{}:{}",
                a.model_group,
                a.deployment_id,
                a.error.http_status()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn insert(headers: &mut HeaderMap, retries: u32, fallbacks: u32, route: &str) {
    headers.insert("x-litellm-attempted-retries", HeaderValue::from(retries));
    headers.insert(
        "x-litellm-attempted-fallbacks",
        HeaderValue::from(fallbacks),
    );
    // Group names come from the config and may hold bytes a header cannot carry.
    if let Ok(value) = HeaderValue::from_str(route) {
        headers.insert("x-switchyard-route", value);
    }
}
