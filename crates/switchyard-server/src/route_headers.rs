//! Headers that tell a client how its request was routed: LiteLLM's
//! `x-litellm-attempted-retries` / `x-litellm-attempted-fallbacks`, and
//! `x-switchyard-route`, every attempt oldest first as
//! `<model_group>/<deployment_id>:<status or ok>`, then `; strategy=<name>`:
//! the routing strategy that chose those deployments.

use std::fmt::Write as _;

use switchyard_router::{Attempt, RouterError};

use crate::answer::HeaderLines;

/// `x-switchyard-route` of a successful call: the failed attempts, then the answer.
pub(crate) fn success_route(
    failed: &[Attempt],
    answered_by: (&str, &str),
    strategy: &str,
) -> String {
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
    route
}

/// Adds the routing headers of a failed call (nothing when no attempt was made).
pub(crate) fn write_failure(lines: &mut HeaderLines, error: &RouterError, strategy: &str) {
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
        write(lines, retries as u32, *fallbacks, &route);
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

/// Adds the retry and fallback counts and the route. A route that could
/// not be a header value (a config name with control characters) is left out.
pub(crate) fn write(lines: &mut HeaderLines, retries: u32, fallbacks: u32, route: &str) {
    lines.push(
        "x-litellm-attempted-retries",
        itoa::Buffer::new().format(retries).as_bytes(),
    );
    lines.push(
        "x-litellm-attempted-fallbacks",
        itoa::Buffer::new().format(fallbacks).as_bytes(),
    );
    if !route.bytes().any(|b| b.is_ascii_control()) {
        lines.push("x-switchyard-route", route.as_bytes());
    }
}
