//! What an attempt's outcome teaches the router: real token usage (replacing
//! the reservation) and latency samples for latency-based routing.

use std::sync::Arc;

use switchyard_providers::{ErrorKind, ProviderError, ProviderResponse};
use tokio::time::Instant;

use crate::deployment::Deployment;
use crate::router::Inner;
use crate::strategy::{RoutingStrategy, TIMEOUT_PENALTY_SECS};
use crate::usage;

use super::stream_usage;

/// What settles a stream's reservation when its upstream reports no usage.
pub(super) struct Counted<'a> {
    /// The model name sent upstream, whose encoding counts the completion.
    pub(super) model: &'a str,
    /// The request's input tokens.
    pub(super) prompt_tokens: u64,
}

/// Records a successful attempt. A stream is wrapped so its usage settles the
/// reservation (see [`stream_usage`]).
pub(super) async fn success(
    inner: &Inner,
    deployment: &Arc<Deployment>,
    response: ProviderResponse,
    started: Instant,
    reserved: u64,
    counted: Counted<'_>,
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
                usage::reconcile(&*inner.store, &deployment.usage_keys, reserved, r.total).await;
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
            let tally = stream_usage::Tally {
                store: Arc::clone(&inner.store),
                keys: Arc::clone(&deployment.usage_keys),
                model: counted.model.to_owned(),
                reserved,
                input_tokens: counted.prompt_tokens,
                hide_usage_event,
            };
            ProviderResponse::Stream(stream_usage::wrap(events, tally))
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
        usage::reconcile(&*inner.store, &deployment.usage_keys, reserved, 0).await;
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
