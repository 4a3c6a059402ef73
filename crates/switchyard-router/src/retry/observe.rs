//! What an attempt's outcome teaches the router: real token usage (replacing
//! the reservation) and latency samples for latency-based routing.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use switchyard_providers::{ErrorKind, ProviderError, ProviderResponse};
use tokio::time::Instant;

use crate::deployment::Deployment;
use crate::router::Inner;
use crate::strategy::{RoutingStrategy, TIMEOUT_PENALTY_SECS};
use crate::usage;

/// Records a successful attempt. A stream is wrapped so its final usage event
/// reconciles the reservation when it passes by.
pub(super) async fn success(
    inner: &Inner,
    deployment: &Arc<Deployment>,
    response: ProviderResponse,
    started: Instant,
    reserved: u64,
    hide_usage_event: bool,
) -> ProviderResponse {
    let elapsed = started.elapsed().as_secs_f64();
    match response {
        ProviderResponse::Complete(body) => {
            // One read of `usage` serves both the reconciliation and the latency sample.
            let wanted = reserved > 0 || tracks_latency(inner);
            let reported = if wanted { usage::reported(&body) } else { None };
            if reserved > 0
                && let Some(r) = reported
            {
                usage::reconcile(&*inner.store, &deployment.id, reserved, r.total).await;
            }
            if tracks_latency(inner) {
                // Seconds per completion token when usage is known, as LiteLLM measures it.
                let sample = reported
                    .and_then(|r| r.completion)
                    .filter(|t| *t > 0)
                    .map_or(elapsed, |t| elapsed / t as f64);
                record_latency(inner, &deployment.id, sample).await;
            }
            ProviderResponse::Complete(body)
        }
        ProviderResponse::Stream(events) => {
            if tracks_latency(inner) {
                // A stream is measured by its time to first token: it has just arrived.
                record_latency(inner, &deployment.id, elapsed).await;
            }
            if reserved == 0 {
                return ProviderResponse::Stream(events);
            }
            let store = Arc::clone(&inner.store);
            let id = deployment.id.clone();
            let mut reconciled = false;
            let events = events.then(move |item| {
                let found = match (&item, reconciled) {
                    (Ok(bytes), false) => usage_in_events(bytes),
                    _ => None,
                };
                let item = match item {
                    Ok(bytes) if hide_usage_event && found.is_some() => {
                        Ok(without_usage_only_events(bytes))
                    }
                    other => other,
                };
                if found.is_some() {
                    reconciled = true;
                }
                let store = Arc::clone(&store);
                let id = id.clone();
                async move {
                    if let Some(actual) = found {
                        usage::reconcile(&*store, &id, reserved, actual).await;
                    }
                    item
                }
            });
            ProviderResponse::Stream(events.boxed())
        }
    }
}

/// Records a failed attempt: a timeout is LiteLLM's 1000 s latency sample; the reservation stays
/// (LiteLLM counts failed calls' requests against rpm too) but its tokens are given back.
pub(super) async fn failure(
    inner: &Inner,
    deployment: &Deployment,
    error: &ProviderError,
    reserved: u64,
) {
    if reserved > 0 {
        usage::reconcile(&*inner.store, &deployment.id, reserved, 0).await;
    }
    if tracks_latency(inner) && error.kind == ErrorKind::Timeout {
        record_latency(inner, &deployment.id, TIMEOUT_PENALTY_SECS).await;
    }
}

fn tracks_latency(inner: &Inner) -> bool {
    matches!(inner.strategy, RoutingStrategy::LatencyBased { .. })
}

async fn record_latency(inner: &Inner, deployment_id: &str, seconds: f64) {
    let (max_samples, ttl) = inner.latency_window;
    if let Err(e) = inner
        .store
        .push_latency(deployment_id, seconds, max_samples, ttl)
        .await
    {
        tracing::warn!(error = %e, deployment_id, "cannot record a latency sample");
    }
}

/// The `usage.total_tokens` of the event in `bytes` that carries one.
fn usage_in_events(bytes: &Bytes) -> Option<u64> {
    memchr::memmem::find(bytes, b"\"usage\"")?;
    bytes
        .split(|b| *b == b'\n')
        .filter_map(|line| line.strip_prefix(b"data:"))
        .find_map(|data| usage::total_tokens(data.trim_ascii()))
}

/// Drops the usage-only event (`"choices": []` with `usage`) that the router asked
/// for itself, keeping every other event byte for byte.
fn without_usage_only_events(bytes: Bytes) -> Bytes {
    let is_usage_only = |event: &[u8]| {
        let Some(data) = event.strip_prefix(b"data:") else {
            return false;
        };
        #[derive(serde::Deserialize)]
        struct Event {
            choices: Option<Vec<serde_json::Value>>,
            usage: Option<serde_json::Value>,
        }
        serde_json::from_slice::<Event>(data.trim_ascii())
            .is_ok_and(|e| e.usage.is_some() && e.choices.is_none_or(|c| c.is_empty()))
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest: &[u8] = &bytes;
    while !rest.is_empty() {
        let end = memchr::memmem::find(rest, b"\n\n").map_or(rest.len(), |i| i + 2);
        let (event, tail) = rest.split_at(end);
        if !is_usage_only(event.trim_ascii()) {
            out.extend_from_slice(event);
        }
        rest = tail;
    }
    if out.len() == bytes.len() {
        bytes
    } else {
        Bytes::from(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_usage_only_event_is_dropped() {
        let input = Bytes::from_static(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"total_tokens\":9}}\n\n",
        );
        let out = without_usage_only_events(input);
        assert_eq!(
            &out[..],
            b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n"
        );
        assert_eq!(
            usage_in_events(&Bytes::from_static(
                b"data: {\"choices\":[],\"usage\":{\"total_tokens\":9}}\n\n"
            )),
            Some(9)
        );
    }
}
