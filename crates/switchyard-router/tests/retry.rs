//! The retry loop at the router level, with paused tokio time: every rule's
//! observable effect (which deployment each attempt hit, how long the router
//! slept, what the final answer is). Deployments answer through LiteLLM's
//! `mock_response` (error strings raise that error class), so no network is
//! involved and time can be paused.

use std::time::Duration;

use serde_json::json;
use switchyard_router::{CallOptions, Endpoint, Router, RouterError, Unavailable};
use switchyard_types::RequestBody;
use tokio::time::Instant;

fn router(yaml: &str) -> Router {
    let loaded = switchyard_router::config::load_str(yaml, &|_| None).expect("valid config");
    Router::builder()
        .config(loaded.config)
        .rng_seed(7)
        .build()
        .expect("router builds")
}

fn chat(model: &str) -> RequestBody {
    RequestBody::from_serialize(
        &json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .unwrap()
}

/// A whole-request deadline (what `x-switchyard-timeout` sets); a body's `timeout` is
/// per attempt, as in LiteLLM.
fn within(secs: u64) -> CallOptions {
    CallOptions {
        timeout: Some(Duration::from_secs(secs)),
    }
}

fn chat_with(model: &str, extra: serde_json::Value) -> RequestBody {
    let mut v = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    RequestBody::from_serialize(&v).unwrap()
}

fn attempt_ids(err: &RouterError) -> Vec<String> {
    match err {
        RouterError::Upstream { attempts, .. } => {
            attempts.iter().map(|a| a.deployment_id.clone()).collect()
        }
        other => panic!("expected an upstream error, got {other:?}"),
    }
}

const FAILING_500: &str = "litellm.InternalServerError";

#[tokio::test(start_paused = true)]
async fn a_single_deployment_is_retried_twice_with_backoff_and_no_sleep_after_the_last_attempt() {
    let r = router(&format!(
        "model_list:\n  - model_name: a\n    litellm_params: {{model: openai/x, mock_response: {FAILING_500}}}\n    model_info: {{id: a1}}\n"
    ));
    let start = Instant::now();
    let err = r.chat_completion(chat("a")).await.unwrap_err();
    assert_eq!(attempt_ids(&err), ["a1", "a1", "a1"]);
    // Backoffs 0.5 s and 1 s, each with a jitter in (0.75, 1]; nothing after the third attempt.
    let slept = start.elapsed().as_secs_f64();
    assert!((1.125..=1.5).contains(&slept), "slept {slept}");
    assert_eq!(err.deciding_error().unwrap().http_status(), 500);
}

#[tokio::test(start_paused = true)]
async fn with_another_healthy_deployment_the_retry_is_immediate_and_succeeds() {
    let r = router(&format!(
        r#"
model_list:
  - model_name: a
    litellm_params: {{model: openai/x, mock_response: {FAILING_500}}}
    model_info: {{id: bad}}
  - model_name: a
    litellm_params: {{model: openai/x, mock_response: fine}}
    model_info: {{id: good}}
"#
    ));
    // A retry picks again at random (as LiteLLM does), so three picks of `bad`
    // in a row can happen (p = 1/8) until the failure-ratio rule cools it.
    let mut successes = 0;
    for _ in 0..20 {
        let start = Instant::now();
        match r.chat_completion(chat("a")).await {
            Ok(answer) => {
                successes += 1;
                assert_eq!(answer.deployment.id, "good");
                assert!(
                    answer
                        .failed_attempts
                        .iter()
                        .all(|a| a.deployment_id == "bad")
                );
                assert_eq!(answer.retries as usize, answer.failed_attempts.len());
            }
            Err(err) => assert_eq!(attempt_ids(&err), ["bad", "bad", "bad"]),
        }
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "no backoff while another deployment is healthy"
        );
    }
    assert!(successes >= 15, "{successes} of 20");
}

#[tokio::test(start_paused = true)]
async fn request_num_retries_and_retry_policies_set_the_count() {
    let yaml = format!(
        r#"
model_list:
  - model_name: a
    litellm_params: {{model: openai/x, mock_response: {FAILING_500}}}
  - model_name: limited
    litellm_params: {{model: openai/x, mock_response: litellm.RateLimitError}}
  - model_name: special
    litellm_params: {{model: openai/x, mock_response: {FAILING_500}}}
router_settings:
  retry_policy: {{RateLimitErrorRetries: 0}}
  model_group_retry_policy: {{special: {{InternalServerErrorRetries: 4}}}}
"#
    );
    let r = router(&yaml);
    let err = r
        .chat_completion(chat_with("a", json!({"num_retries": 0})))
        .await
        .unwrap_err();
    assert_eq!(attempt_ids(&err).len(), 1);
    let err = r
        .chat_completion(chat_with("a", json!({"num_retries": 1})))
        .await
        .unwrap_err();
    assert_eq!(attempt_ids(&err).len(), 2);
    let err = r.chat_completion(chat("limited")).await.unwrap_err();
    assert_eq!(attempt_ids(&err).len(), 1, "RateLimitErrorRetries: 0");
    let err = r.chat_completion(chat("special")).await.unwrap_err();
    assert_eq!(
        attempt_ids(&err).len(),
        5,
        "the group's InternalServerErrorRetries: 4"
    );
}

#[tokio::test(start_paused = true)]
async fn errors_that_are_not_retryable_are_tried_once() {
    let r = router(
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, mock_response: litellm.ContextWindowExceededError}\n",
    );
    let err = r.chat_completion(chat("a")).await.unwrap_err();
    assert_eq!(attempt_ids(&err).len(), 1);
    assert_eq!(err.deciding_error().unwrap().http_status(), 400);
}

#[tokio::test(start_paused = true)]
async fn fallbacks_run_after_the_groups_retries_with_their_own_retries() {
    let r = router(&format!(
        r#"
model_list:
  - model_name: a
    litellm_params: {{model: openai/x, mock_response: {FAILING_500}}}
    model_info: {{id: a1}}
  - model_name: b
    litellm_params: {{model: openai/x, mock_response: {FAILING_500}}}
    model_info: {{id: b1}}
  - model_name: c
    litellm_params: {{model: openai/x, mock_response: rescued}}
    model_info: {{id: c1}}
router_settings:
  fallbacks: [{{a: [b, c]}}]
"#
    ));
    let answer = r.chat_completion(chat("a")).await.unwrap();
    assert_eq!(answer.deployment.id, "c1");
    let tried: Vec<&str> = answer
        .failed_attempts
        .iter()
        .map(|a| a.deployment_id.as_str())
        .collect();
    assert_eq!(tried, ["a1", "a1", "a1", "b1", "b1", "b1"]);
    // b failed and went on with a's chain to c: as in LiteLLM, the answer
    // reports the outermost level's hops (a → b), not the depth reached.
    assert_eq!(answer.fallbacks, 1);
    assert_eq!(answer.retries, 0);

    // The request may switch fallbacks off.
    let err = r
        .chat_completion(chat_with("a", json!({"disable_fallbacks": true})))
        .await
        .unwrap_err();
    assert_eq!(attempt_ids(&err), ["a1", "a1", "a1"]);
    // Or name its own.
    let answer = r
        .chat_completion(chat_with("a", json!({"fallbacks": ["c"]})))
        .await
        .unwrap();
    assert_eq!(answer.deployment.id, "c1");
    assert_eq!(answer.fallbacks, 1);
}

#[tokio::test(start_paused = true)]
async fn context_window_errors_skip_retries_and_use_their_dedicated_fallback() {
    let r = router(
        r#"
model_list:
  - model_name: small
    litellm_params: {model: openai/x, mock_response: litellm.ContextWindowExceededError}
    model_info: {id: s1}
  - model_name: large
    litellm_params: {model: openai/x, mock_response: "long answer"}
    model_info: {id: l1}
  - model_name: generic
    litellm_params: {model: openai/x, mock_response: "wrong one"}
    model_info: {id: g1}
router_settings:
  context_window_fallbacks: [{small: [large]}]
  fallbacks: [{small: [generic]}]
"#,
    );
    let answer = r.chat_completion(chat("small")).await.unwrap();
    assert_eq!(answer.deployment.id, "l1");
    assert_eq!(
        answer.failed_attempts.len(),
        1,
        "no retries when a context-window fallback exists"
    );
}

#[tokio::test(start_paused = true)]
async fn fallback_loops_terminate_and_every_attempt_is_named() {
    let r = router(&format!(
        r#"
model_list:
  - model_name: a
    litellm_params: {{model: openai/x, mock_response: {FAILING_500}}}
    model_info: {{id: a1}}
  - model_name: b
    litellm_params: {{model: openai/x, mock_response: litellm.RateLimitError}}
    model_info: {{id: b1}}
router_settings:
  num_retries: 0
  fallbacks: [{{a: [b]}}, {{b: [a]}}]
"#
    ));
    let err = r.chat_completion(chat("a")).await.unwrap_err();
    assert_eq!(attempt_ids(&err), ["a1", "b1"]);
    // The status is the original group's, as LiteLLM answers.
    assert_eq!(err.deciding_error().unwrap().http_status(), 500);
    let message = err.to_string();
    assert!(
        message.contains("a1") && message.contains("b1") && message.contains("RateLimitError"),
        "{message}"
    );
    match err {
        RouterError::Upstream { fallbacks, .. } => assert_eq!(fallbacks, 1),
        _ => unreachable!(),
    }
}

#[tokio::test(start_paused = true)]
async fn max_fallbacks_bounds_the_hops() {
    let mut yaml = String::from("model_list:\n");
    for g in ["g0", "g1", "g2", "g3"] {
        yaml.push_str(&format!(
            "  - model_name: {g}\n    litellm_params: {{model: openai/x, mock_response: {FAILING_500}}}\n    model_info: {{id: {g}}}\n"
        ));
    }
    yaml.push_str("router_settings:\n  num_retries: 0\n  max_fallbacks: 2\n  fallbacks: [{g0: [g1, g2, g3]}]\n");
    let err = router(&yaml).chat_completion(chat("g0")).await.unwrap_err();
    assert_eq!(attempt_ids(&err), ["g0", "g1", "g2"]);
}

#[tokio::test(start_paused = true)]
async fn higher_order_deployments_serve_only_when_the_lower_order_fails() {
    let r = router(&format!(
        r#"
model_list:
  - model_name: a
    litellm_params: {{model: openai/x, mock_response: {FAILING_500}, order: 1}}
    model_info: {{id: primary}}
  - model_name: a
    litellm_params: {{model: openai/x, mock_response: backup, order: 2}}
    model_info: {{id: backup}}
router_settings:
  num_retries: 1
  disable_cooldowns: true
"#
    ));
    let answer = r.chat_completion(chat("a")).await.unwrap();
    assert_eq!(answer.deployment.id, "backup");
    let tried: Vec<&str> = answer
        .failed_attempts
        .iter()
        .map(|a| a.deployment_id.as_str())
        .collect();
    assert_eq!(
        tried,
        ["primary", "primary"],
        "order 1 gets its retries first"
    );
    assert_eq!(
        answer.fallbacks, 1,
        "moving to the next order tier is a fallback hop"
    );
}

#[tokio::test(start_paused = true)]
async fn a_request_deadline_bounds_attempts_and_backoffs_together() {
    let r = router(&format!(
        "model_list:\n  - model_name: a\n    litellm_params: {{model: openai/x, mock_response: {FAILING_500}}}\nrouter_settings:\n  num_retries: 10\n"
    ));
    let start = Instant::now();
    let err = r
        .call_with(Endpoint::ChatCompletions, chat("a"), within(2))
        .await
        .unwrap_err();
    assert!(
        start.elapsed() <= Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    assert!(attempt_ids(&err).len() < 11);
}

#[tokio::test(start_paused = true)]
async fn a_slow_attempt_times_out_and_the_next_deployment_answers() {
    let r = router(
        r#"
model_list:
  - model_name: a
    litellm_params: {model: openai/x, mock_response: slow, mock_delay: 30, timeout: 1, order: 1}
    model_info: {id: slow}
  - model_name: a
    litellm_params: {model: openai/x, mock_response: quick, order: 2}
    model_info: {id: quick}
router_settings:
  num_retries: 0
"#,
    );
    let start = Instant::now();
    let answer = r.chat_completion(chat("a")).await.unwrap();
    assert_eq!(answer.deployment.id, "quick");
    assert_eq!(
        answer.failed_attempts[0].error.kind,
        switchyard_router::ErrorKind::Timeout
    );
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn when_every_deployment_is_cooling_the_answer_is_429_with_the_soonest_expiry() {
    let r = router(
        r#"
model_list:
  - model_name: a
    litellm_params: {model: openai/x, mock_response: litellm.RateLimitError}
    model_info: {id: a1}
  - model_name: a
    litellm_params: {model: openai/x, mock_response: litellm.RateLimitError}
    model_info: {id: a2}
router_settings:
  cooldown_time: 30
"#,
    );
    // The first call cools both deployments (429 in a multi-deployment group).
    let _ = r.chat_completion(chat("a")).await.unwrap_err();
    let err = r.chat_completion(chat("a")).await.unwrap_err();
    match err {
        RouterError::NoDeploymentAvailable {
            model_group,
            reason,
            retry_after,
        } => {
            assert_eq!(model_group, "a");
            assert_eq!(reason, Unavailable::Cooldown);
            assert!(retry_after.unwrap() <= Duration::from_secs(30));
        }
        other => panic!("expected all-in-cooldown, got {other:?}"),
    }
    tokio::time::advance(Duration::from_secs(31)).await;
    assert!(matches!(
        r.chat_completion(chat("a")).await.unwrap_err(),
        RouterError::Upstream { .. }
    ));
}

#[tokio::test(start_paused = true)]
async fn a_full_deployment_makes_the_next_call_wait_for_its_slot() {
    let r = router(
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, mock_response: done, mock_delay: 5, max_parallel_requests: 1}\n",
    );
    let start = Instant::now();
    let (first, second) = tokio::join!(r.chat_completion(chat("a")), r.chat_completion(chat("a")));
    first.unwrap();
    second.unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(10),
        "the calls ran one after the other"
    );

    // A deadline shorter than the wait answers 429 instead.
    let (first, second) = tokio::join!(
        r.chat_completion(chat("a")),
        r.call_with(Endpoint::ChatCompletions, chat("a"), within(2))
    );
    first.unwrap();
    match second.unwrap_err() {
        RouterError::NoDeploymentAvailable { reason, .. } => {
            assert_eq!(reason, Unavailable::ParallelLimit)
        }
        other => panic!("expected a parallel-limit 429, got {other:?}"),
    }
    let id = r.deployments("a")[0].id.clone();
    assert_eq!(
        r.state_store().in_flight(&[id.as_str()]).await.unwrap(),
        vec![0]
    );
}
