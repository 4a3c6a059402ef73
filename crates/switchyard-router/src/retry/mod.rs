//! The one place calls are retried and fall back.
//!
//! A request runs through a chain of model groups: its own group first, then
//! fallback groups, depth first as LiteLLM walks them (each target with its
//! own retries; a failed target goes on with its own chain, else the rest of
//! the original group's; each group at most once, at most `max_fallbacks`
//! hops). Inside a
//! group, deployments are tried by `order` tier (lowest first); inside a tier,
//! a failed attempt is retried on a fresh pick while the error class earns
//! retries, immediately when another healthy deployment exists, else after a
//! backoff. One deadline bounds every attempt, wait and sleep of the request.
//!
//! Nothing here retries after a stream's first event: providers return a stream
//! only once it has started, and from then on it belongs to the caller, bounded
//! by the attempt's timeout between events and by the request's deadline
//! ([`committed`]).

mod backoff;
mod committed;
mod observe;
mod policy;
mod stream_usage;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use futures::future::BoxFuture;
use switchyard_providers::{
    Answered, Endpoint, ErrorKind, ProviderError, ProviderRequest, ProviderResponse,
};
use switchyard_types::RequestBody;
use tokio::time::Instant;
use tracing::debug;

pub(crate) use crate::request::RequestFacts;
pub use policy::RetryPolicy;
pub(crate) use policy::RetrySettings;

use crate::deployment::Deployment;
use crate::error::{Attempt, RouterError};
use crate::fallback::RequestFallbacks;
use crate::request::{AttemptBody, upstream_body, wants_mock};
use crate::router::{CallGuard, Inner};
use crate::select::PickError;
use crate::text_via_chat;

/// What one request asks of the retry loop.
pub(crate) struct CallPlan<'a> {
    pub(crate) endpoint: Endpoint,
    pub(crate) body: &'a RequestBody,
    pub(crate) stream: bool,
    /// Switchyard's whole-request deadline (`x-switchyard-timeout`,
    /// `switchyard_settings.request_deadline`): bounds every attempt, wait and sleep together.
    pub(crate) deadline: Option<Instant>,
    /// The request's own `timeout`, `request_timeout` and `stream_timeout` (per attempt).
    pub(crate) timeouts: crate::timeouts::RequestTimeouts,
    pub(crate) num_retries: Option<u32>,
    pub(crate) fallbacks: RequestFallbacks,
    pub(crate) facts: RequestFacts,
    /// Failures the request asked to be faked (`mock_testing_*`).
    pub(crate) mock_testing: MockTesting,
}

/// LiteLLM's `mock_testing_*` request parameters, for trying a config's
/// fallbacks and retries without a failing upstream (allowed only with
/// `general_settings.dangerously_allow_mock_testing_request_params`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MockTesting {
    /// The requested group fails with this before any call
    /// (`mock_testing_fallbacks`, `_context_fallbacks`, `_content_policy_fallbacks`).
    pub(crate) failure: Option<ErrorKind>,
    /// The first attempt is a rate limit (`mock_testing_rate_limit_error`).
    pub(crate) rate_limit: bool,
}

impl MockTesting {
    /// The parameters `body` sets to `true`.
    pub(crate) fn from_body(body: &RequestBody) -> Self {
        let on = |key: &str| body.get_bool(key) == Some(true);
        let failure = [
            ("mock_testing_fallbacks", ErrorKind::InternalServer),
            (
                "mock_testing_context_fallbacks",
                ErrorKind::ContextWindowExceeded,
            ),
            (
                "mock_testing_content_policy_fallbacks",
                ErrorKind::ContentPolicyViolation,
            ),
        ]
        .into_iter()
        .find_map(|(key, kind)| on(key).then_some(kind));
        Self {
            failure,
            rate_limit: on("mock_testing_rate_limit_error"),
        }
    }
}

/// The names of LiteLLM's gated mock-testing parameters.
pub(crate) const MOCK_TESTING_PARAMS: [&str; 4] = [
    "mock_testing_fallbacks",
    "mock_testing_context_fallbacks",
    "mock_testing_content_policy_fallbacks",
    "mock_testing_rate_limit_error",
];

/// A failure faked for `mock_testing_*`, named like an attempt so the final
/// error and the route header say what happened.
fn mock_testing_failure(kind: ErrorKind, group: &str, trail: &mut Trail) -> ProviderError {
    let what = match kind {
        ErrorKind::RateLimit => "a rate limit error".to_owned(),
        _ => "a fallback".to_owned(),
    };
    let error = ProviderError::new(
        kind,
        "mock",
        format!("This is a mock exception for model={group}, to trigger {what}."),
    );
    trail.attempts.push(Attempt {
        deployment_id: "mock_testing".to_owned(),
        model_group: group.to_owned(),
        error: error.clone(),
    });
    error
}

/// A successful attempt and how the request got there.
pub(crate) struct Success {
    pub(crate) deployment: Arc<Deployment>,
    pub(crate) response: ProviderResponse,
    /// The answering upstream's response headers.
    pub(crate) upstream_headers: switchyard_providers::UpstreamHeaders,
    pub(crate) guard: CallGuard,
    /// Retries made in the group that answered.
    pub(crate) retries: u32,
    /// `order` tiers the answering group moved past.
    tier_hops: u32,
    /// Fallback hops, as the answer reports them (see [`run_group_chain`]).
    pub(crate) fallbacks: u32,
}

/// Everything tried so far, for the final error and the route header.
#[derive(Debug, Default)]
pub(crate) struct Trail {
    pub(crate) attempts: Vec<Attempt>,
    /// Every fallback hop taken (tiers included), for the final error.
    pub(crate) fallbacks: u32,
    /// Groups entered: a fallback never goes back to one.
    tried_groups: Vec<String>,
}

/// Why a group gave up.
enum GroupFailure {
    /// An upstream attempt failed (the last one's error).
    Upstream(ProviderError),
    /// No deployment could be tried (all cooling, all full until the deadline).
    Unavailable(RouterError),
}

impl GroupFailure {
    /// The class that decides which fallbacks apply. An unavailable group is
    /// a rate limit, as LiteLLM's `RouterRateLimitError` is.
    fn kind(&self) -> ErrorKind {
        match self {
            GroupFailure::Upstream(e) => e.kind,
            GroupFailure::Unavailable(_) => ErrorKind::RateLimit,
        }
    }
}

/// Runs a request through its group and fallbacks.
pub(crate) async fn execute(
    inner: &Inner,
    group: &str,
    plan: &CallPlan<'_>,
) -> Result<(Success, Trail), RouterError> {
    let mut trail = Trail::default();
    match run_group_chain(inner, group, group, 0, plan, &mut trail).await {
        Ok(success) => Ok((success, trail)),
        Err(GroupFailure::Unavailable(e)) if trail.attempts.is_empty() => Err(e),
        // Every attempt is named; the status is the first group's (see `RouterError::Upstream`).
        Err(_) => Err(RouterError::Upstream {
            attempts: trail.attempts,
            fallbacks: trail.fallbacks,
        }),
    }
}

/// Tries `group`, then its fallbacks, as LiteLLM 1.106 walks them: when a
/// fallback target fails too, it goes on with the target's own chain, else
/// with what is left of the original group's chain (see
/// [`FallbackSettings::targets`](crate::fallback::FallbackSettings::targets));
/// each group is tried at most once per request. `depth` is the hops taken
/// to get here; a level at `max_fallbacks` tries nothing further.
///
/// The hop count an answer reports is the one of the outermost level: a
/// level that got its answer from a deeper one states its own count (so
/// `gA → gB`, where gB's failure led on to gC, reports 1, as LiteLLM does).
fn run_group_chain<'a>(
    inner: &'a Inner,
    group: &'a str,
    original: &'a str,
    depth: u32,
    plan: &'a CallPlan<'_>,
    trail: &'a mut Trail,
) -> BoxFuture<'a, Result<Success, GroupFailure>> {
    Box::pin(async move {
        trail.tried_groups.push(group.to_owned());
        let mocked = plan.mock_testing.failure.filter(|_| depth == 0);
        let (failure, tier_hops) = match mocked {
            Some(kind) => (
                GroupFailure::Upstream(mock_testing_failure(kind, group, trail)),
                0,
            ),
            None => match run_group(inner, group, depth, plan, trail).await {
                Ok(mut success) => {
                    success.fallbacks = depth + success.tier_hops;
                    return Ok(success);
                }
                Err(failed) => failed,
            },
        };
        let mut hops = depth + tier_hops;
        if plan.fallbacks.disabled || hops >= inner.fallbacks.max_fallbacks {
            return Err(failure);
        }
        let targets = inner
            .fallbacks
            .targets(group, original, failure.kind(), &plan.fallbacks);
        for target in targets {
            // `max_fallbacks` bounds the hops of the whole request (LiteLLM
            // checks it per nesting level only, so a flat chain can go past it).
            if deadline_passed(plan.deadline) || trail.fallbacks >= inner.fallbacks.max_fallbacks {
                break;
            }
            let Some(target) = inner.resolve_group(target) else {
                tracing::warn!(model_group = group, fallback = %target, "fallback names an unknown model group");
                continue;
            };
            if trail.tried_groups.iter().any(|tried| tried == target) {
                continue;
            }
            hops += 1;
            trail.fallbacks += 1;
            debug!(from = group, to = target, hop = hops, "falling back");
            if let Ok(mut success) =
                run_group_chain(inner, target, original, hops, plan, trail).await
            {
                success.fallbacks = hops;
                return Ok(success);
            }
        }
        Err(failure)
    })
}

/// Tries one group: order tiers lowest first, retries within a tier.
///
/// Moving to a higher tier is a fallback hop (`depth` counts those already
/// taken); a failure reports the tier hops it took.
async fn run_group(
    inner: &Inner,
    group: &str,
    depth: u32,
    plan: &CallPlan<'_>,
    trail: &mut Trail,
) -> Result<Success, (GroupFailure, u32)> {
    let deployments = inner
        .groups
        .get(group)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut spent_tiers: Vec<Option<u32>> = Vec::new();
    let mut retries_in_tier = 0u32;
    let mut tier_hops = 0u32;
    let mut last_error: Option<ProviderError> = None;
    if plan.mock_testing.rate_limit && depth == 0 && trail.attempts.is_empty() {
        // The first attempt "fails" before any deployment is picked, as in LiteLLM.
        let error = mock_testing_failure(ErrorKind::RateLimit, group, trail);
        if retries_allowed(inner, group, &error, plan, None, deployments.len()) == 0 {
            return Err((GroupFailure::Upstream(error), 0));
        }
        retries_in_tier = 1;
        last_error = Some(error);
    }
    loop {
        let picked = match plan.facts.priority {
            Some(priority) => {
                inner
                    .pick_in_turn(group, deployments, &spent_tiers, plan, priority)
                    .await
            }
            None => inner.pick(group, deployments, &spent_tiers, plan).await,
        };
        let picked = match picked {
            Ok(picked) => picked,
            Err(PickError::Precheck(error)) => {
                // No deployment can take this request at all: named like an attempt, so the
                // final error says why, and classified so context-window fallbacks apply.
                trail.attempts.push(Attempt {
                    deployment_id: "pre-call-check".to_owned(),
                    model_group: group.to_owned(),
                    error: error.clone(),
                });
                return Err((GroupFailure::Upstream(error), tier_hops));
            }
            Err(PickError::Unavailable(unavailable)) => {
                let failure = match last_error {
                    Some(e) => GroupFailure::Upstream(e),
                    None => GroupFailure::Unavailable(unavailable),
                };
                return Err((failure, tier_hops));
            }
        };
        let deployment = picked.deployment;
        let reserved = picked.reserved_tokens;
        let tier = deployment.order;
        let started = Instant::now();
        // Usage is being counted for a stream the client did not ask usage for: ask the
        // upstream for its final usage event, and keep that event from the client.
        let ask_usage = reserved > 0
            && plan.stream
            && !plan.body.contains("stream_options")
            && !wants_mock(plan.body, &deployment);
        let outcome = attempt(inner, &deployment, plan, picked.guard, ask_usage).await;
        let error = match outcome {
            Ok((Answered { response, headers }, guard)) => {
                inner
                    .cooldowns
                    .record_success_at(&deployment.id, &deployment.success_key)
                    .await;
                let model = if reserved > 0 && plan.stream {
                    plan.facts.upstream_model(&deployment)
                } else {
                    Default::default()
                };
                let counted = observe::Counted {
                    model: &model,
                    prompt_tokens: plan.facts.prompt_tokens,
                };
                let response = observe::success(
                    inner,
                    &deployment,
                    response,
                    started,
                    reserved,
                    counted,
                    ask_usage,
                )
                .await;
                return Ok(Success {
                    deployment,
                    response,
                    upstream_headers: headers,
                    guard,
                    retries: retries_in_tier,
                    tier_hops,
                    fallbacks: 0,
                });
            }
            Err(error) => error,
        };
        debug!(model_group = group, deployment_id = %deployment.id, kind = ?error.kind, status = ?error.status, "attempt failed");
        observe::failure(inner, &deployment, &error, reserved).await;
        // A timeout caused by the request's own deadline says nothing about the deployment.
        let cut_by_deadline = error.kind == ErrorKind::Timeout && deadline_passed(plan.deadline);
        if cut_by_deadline {
            debug!(deployment_id = %deployment.id, "attempt cut short by the request deadline; not counted against the deployment");
        } else if let Some(cooled) = inner
            .cooldowns
            .record_failure(
                &deployment.id,
                &deployment.cooldown,
                &error,
                deployments.len(),
            )
            .await
        {
            debug!(deployment_id = %deployment.id, seconds = cooled.as_secs_f64(), "deployment cooling down");
        }
        trail.attempts.push(Attempt {
            deployment_id: deployment.id.clone(),
            model_group: group.to_owned(),
            error: error.clone(),
        });

        if deadline_passed(plan.deadline) {
            return Err((GroupFailure::Upstream(error), tier_hops));
        }
        let allowed = retries_allowed(
            inner,
            group,
            &error,
            plan,
            deployment.num_retries,
            deployments.len(),
        );
        if retries_in_tier < allowed {
            let sleep = if inner
                .has_other_healthy(deployments, &deployment, &spent_tiers)
                .await
            {
                Duration::ZERO
            } else {
                let mut rng = inner.rng();
                backoff::backoff(
                    retries_in_tier,
                    error.retry_after,
                    inner.retry.min_backoff,
                    &mut *rng,
                )
            };
            if !sleep.is_zero() {
                // `sleep` is at most a year (see `backoff`): the sum cannot overflow.
                if plan.deadline.is_some_and(|d| Instant::now() + sleep >= d) {
                    // Sleeping would outlive the request: give up now rather than time out asleep.
                    return Err((GroupFailure::Upstream(error), tier_hops));
                }
                debug!(
                    model_group = group,
                    seconds = sleep.as_secs_f64(),
                    "backing off before retrying"
                );
                tokio::time::sleep(sleep).await;
            }
            retries_in_tier += 1;
            last_error = Some(error);
            continue;
        }
        // This tier is spent; a higher `order` tier of the same group is the first fallback.
        let more_tiers = deployments
            .iter()
            .any(|d| d.order != tier && !spent_tiers.contains(&d.order));
        let hops_left = depth + tier_hops < inner.fallbacks.max_fallbacks;
        if more_tiers && hops_left && crate::fallback::moves_to_next_tier(error.kind) {
            // Counted as a fallback hop, as the response header reports it.
            tier_hops += 1;
            trail.fallbacks += 1;
            spent_tiers.push(tier);
            retries_in_tier = 0;
            last_error = Some(error);
            continue;
        }
        return Err((GroupFailure::Upstream(error), tier_hops));
    }
}

/// How many retries a failure earns in its group, as LiteLLM's
/// `async_function_with_retries` decides: a retry policy's count when one applies (and
/// then whatever the class), else `num_retries` (the request's, the deployment's, the
/// router's) for a failure worth retrying, else none.
fn retries_allowed(
    inner: &Inner,
    group: &str,
    error: &ProviderError,
    plan: &CallPlan<'_>,
    deployment_retries: Option<u32>,
    group_size: usize,
) -> u32 {
    if let Some(count) = inner.retry.policy_count(group, error, plan.num_retries) {
        return count;
    }
    if !worth_retrying(inner, group, error, group_size) {
        return 0;
    }
    plan.num_retries
        .or(deployment_retries)
        .unwrap_or(inner.retry.num_retries)
}

/// Whether a failure no retry policy counts may be retried in its group at all.
fn worth_retrying(inner: &Inner, group: &str, error: &ProviderError, group_size: usize) -> bool {
    match error.kind {
        ErrorKind::ContextWindowExceeded if inner.fallbacks.has_context_window(group) => false,
        ErrorKind::ContentPolicyViolation if inner.fallbacks.has_content_policy(group) => false,
        // Another deployment may hold a valid key; the same one will not.
        ErrorKind::Authentication | ErrorKind::PermissionDenied => group_size > 1,
        kind => kind.is_retryable(),
    }
}

/// One upstream call on one deployment.
async fn attempt(
    inner: &Inner,
    deployment: &Arc<Deployment>,
    plan: &CallPlan<'_>,
    guard: CallGuard,
    ask_usage: bool,
) -> Result<(Answered, CallGuard), ProviderError> {
    let mock = wants_mock(plan.body, deployment);
    let attempt_timeout = inner.attempt_timeout(plan, deployment);
    let timeout = match plan.deadline {
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(deadline_error());
            }
            attempt_timeout.min(left)
        }
        None => attempt_timeout,
    };
    let body = upstream_body(
        plan.body,
        deployment,
        &inner.router_defaults,
        AttemptBody {
            upstream_model: &plan.facts.upstream_model(deployment),
            mock,
            ask_usage,
        },
    );
    // A text completion on an OpenAI chat model is asked of its chat endpoint.
    let via_chat =
        !mock && plan.endpoint == Endpoint::Completions && deployment.completions_via_chat;
    let (endpoint, body) = match via_chat.then(|| text_via_chat::chat_body(&body)).flatten() {
        Some(chat) => (Endpoint::ChatCompletions, chat),
        None => (plan.endpoint, body),
    };
    let request = ProviderRequest {
        endpoint,
        body,
        stream: plan.stream,
        timeout: Some(timeout),
    };
    let provider = if mock {
        &inner.mock
    } else {
        &deployment.provider
    };
    debug!(deployment_id = %deployment.id, model = %deployment.model, timeout_s = timeout.as_secs_f64(), "calling upstream");
    let mut answered = provider.call(request).await?;
    if let ProviderResponse::Stream(events) = answered.response {
        // Committed: from here the attempt's timeout bounds each silence between events
        // (LiteLLM's read timeout), and the request's deadline the whole stream.
        answered.response = ProviderResponse::Stream(committed::bound(
            events,
            provider.name(),
            attempt_timeout,
            plan.deadline,
        ));
    }
    if endpoint != plan.endpoint {
        answered.response = match answered.response {
            ProviderResponse::Complete(chat) => {
                ProviderResponse::Complete(text_via_chat::text_answer(&chat).unwrap_or(chat))
            }
            ProviderResponse::Stream(chat) => {
                ProviderResponse::Stream(text_via_chat::text_stream(chat))
            }
        };
    }
    if let ProviderResponse::Complete(body) = &answered.response
        && inner.fallbacks.has_content_policy(&deployment.model_group)
        && finished_by_content_filter(body)
    {
        return Err(ProviderError::new(
            ErrorKind::ContentPolicyViolation,
            provider.name(),
            "the response was stopped by a content filter (finish_reason: content_filter)",
        ));
    }
    Ok((answered, guard))
}

fn deadline_error() -> ProviderError {
    ProviderError::new(
        ErrorKind::Timeout,
        "router",
        "the request deadline passed before the call could be made",
    )
}

fn deadline_passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

/// A 200 whose choices ended with `finish_reason: content_filter`.
fn finished_by_content_filter(body: &[u8]) -> bool {
    static CONTENT_FILTER: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"content_filter"));
    if CONTENT_FILTER.find(body).is_none() {
        return false;
    }
    #[derive(serde::Deserialize)]
    struct Choice {
        finish_reason: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        choices: Vec<Choice>,
    }
    serde_json::from_slice::<Body>(body)
        .map(|b| {
            b.choices
                .iter()
                .any(|c| c.finish_reason.as_deref() == Some("content_filter"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_filter_is_read_from_the_choices() {
        assert!(finished_by_content_filter(
            br#"{"choices":[{"finish_reason":"content_filter"}]}"#
        ));
        assert!(!finished_by_content_filter(
            br#"{"choices":[{"finish_reason":"stop","message":{"content":"content_filter"}}]}"#
        ));
        assert!(!finished_by_content_filter(
            br#"{"choices":[{"finish_reason":"stop"}]}"#
        ));
    }
}
