//! Routing rules at the router level (mock deployments, paused time): rpm/tpm
//! limits, strategies fed from the state store, pre-call checks, tags and
//! wildcards.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use switchyard_router::{CallOptions, Endpoint, Router, RouterError, Unavailable};
use switchyard_types::RequestBody;

fn router(yaml: &str) -> Router {
    let loaded = switchyard_router::config::load_str(yaml, &|_| None).expect("valid config");
    Router::builder()
        .config(loaded.config)
        .rng_seed(11)
        .build()
        .expect("router builds")
}

fn chat(model: &str, extra: serde_json::Value) -> RequestBody {
    let mut v = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    RequestBody::from_serialize(&v).unwrap()
}

async fn served_by(r: &Router, body: RequestBody) -> String {
    r.chat_completion(body)
        .await
        .expect("call succeeds")
        .deployment
        .id
        .clone()
}

#[tokio::test(start_paused = true)]
async fn rpm_limits_hold_and_a_full_minute_answers_429_until_the_window_turns() {
    let r = router(
        r#"
model_list:
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi, rpm: 3}
    model_info: {id: a1}
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi, rpm: 2}
    model_info: {id: a2}
"#,
    );
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut limited = 0;
    for _ in 0..8 {
        match r.chat_completion(chat("a", json!({}))).await {
            Ok(answer) => *counts.entry(answer.deployment.id.clone()).or_default() += 1,
            Err(RouterError::NoDeploymentAvailable {
                reason,
                retry_after,
                ..
            }) => {
                assert_eq!(reason, Unavailable::RateLimited);
                assert!(retry_after.unwrap() <= Duration::from_secs(60));
                limited += 1;
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    // Unless the minute turned during the test, exactly 3 + 2 calls fit.
    if limited > 0 {
        assert_eq!(counts.get("a1"), Some(&3));
        assert_eq!(counts.get("a2"), Some(&2));
        assert_eq!(limited, 3);
    }
}

#[tokio::test(start_paused = true)]
async fn tpm_limits_count_the_request_tokens() {
    let r = router(
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, mock_response: hi, tpm: 100}\n",
    );
    // Each call reserves its input tokens plus max_tokens (60): two such reservations
    // (over 120) do not fit in 100. The mock reports 30 tokens of usage, so after the
    // first call its reservation shrinks to 30 and the second call fits.
    r.chat_completion(chat("a", json!({"max_tokens": 60})))
        .await
        .unwrap();
    let err = r
        .chat_completion(chat("a", json!({"max_tokens": 60})))
        .await;
    assert!(
        err.is_ok(),
        "reconciled usage frees the unused reservation: {err:?}"
    );
    // Now 30 + 30 are used: a third call reserving over 40 does not fit.
    let err = r
        .chat_completion(chat("a", json!({"max_tokens": 60})))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RouterError::NoDeploymentAvailable {
                reason: Unavailable::RateLimited,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn least_busy_sends_new_calls_to_the_idle_deployment() {
    let r = router(
        r#"
model_list:
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi, mock_delay: 10}
    model_info: {id: a1}
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi, mock_delay: 10}
    model_info: {id: a2}
router_settings:
  routing_strategy: least-busy
"#,
    );
    let calls: Vec<_> = (0..6)
        .map(|_| r.chat_completion(chat("a", json!({}))))
        .collect();
    let answers = futures::future::join_all(calls).await;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for a in answers {
        *counts.entry(a.unwrap().deployment.id.clone()).or_default() += 1;
    }
    assert_eq!(counts.get("a1"), Some(&3), "{counts:?}");
    assert_eq!(counts.get("a2"), Some(&3), "{counts:?}");
}

#[tokio::test(start_paused = true)]
async fn latency_based_routing_shifts_traffic_to_the_faster_deployment() {
    let r = router(
        r#"
model_list:
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi, mock_delay: 2}
    model_info: {id: slow}
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi, mock_delay: 0.1}
    model_info: {id: fast}
router_settings:
  routing_strategy: latency-based-routing
"#,
    );
    let mut last = Vec::new();
    for i in 0..20 {
        let id = served_by(&r, chat("a", json!({}))).await;
        if i >= 10 {
            last.push(id);
        }
    }
    assert!(
        last.iter().all(|id| id == "fast"),
        "after warm-up every call goes to the fast one: {last:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_context_window_pre_check_routes_long_prompts_to_the_larger_window() {
    let r = router(
        r#"
model_list:
  - model_name: gpt-3.5-turbo
    litellm_params: {model: openai/gpt-3.5-turbo, mock_response: small}
    model_info: {id: small, max_input_tokens: 50}
  - model_name: gpt-3.5-turbo-large
    litellm_params: {model: openai/gpt-3.5-turbo-16k, mock_response: large}
    model_info: {id: large, max_input_tokens: 16000}
router_settings:
  enable_pre_call_checks: true
  context_window_fallbacks: [{gpt-3.5-turbo: [gpt-3.5-turbo-large]}]
"#,
    );
    assert_eq!(
        served_by(&r, chat("gpt-3.5-turbo", json!({}))).await,
        "small"
    );
    let long = "word ".repeat(400);
    let body = RequestBody::from_serialize(
        &json!({"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": long}]}),
    )
    .unwrap();
    let answer = r.chat_completion(body).await.unwrap();
    assert_eq!(answer.deployment.id, "large");
    assert_eq!(answer.fallbacks, 1);
}

#[tokio::test(start_paused = true)]
async fn the_region_filter_keeps_deployments_in_the_allowed_region() {
    let r = router(
        r#"
model_list:
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi, region_name: us}
    model_info: {id: us1}
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi, region_name: eu}
    model_info: {id: eu1}
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi, aws_region_name: eu-west-1}
    model_info: {id: eu2}
router_settings:
  enable_pre_call_checks: true
"#,
    );
    for _ in 0..20 {
        let id = served_by(&r, chat("a", json!({"allowed_model_region": "eu"}))).await;
        assert!(id.starts_with("eu"), "{id}");
    }
    let err = r
        .chat_completion(chat("a", json!({"allowed_model_region": "ap"})))
        .await
        .unwrap_err();
    assert!(matches!(err, RouterError::BadRequest { .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn tags_route_to_matching_deployments_and_default_takes_the_rest() {
    let r = router(
        r#"
model_list:
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi, tags: [free]}
    model_info: {id: free}
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi, tags: [paid]}
    model_info: {id: paid}
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi, tags: [default]}
    model_info: {id: default}
router_settings:
  enable_tag_filtering: true
"#,
    );
    for _ in 0..10 {
        assert_eq!(
            served_by(&r, chat("a", json!({"metadata": {"tags": ["paid"]}}))).await,
            "paid"
        );
        assert_eq!(
            served_by(&r, chat("a", json!({"tags": ["free"]}))).await,
            "free"
        );
        assert_eq!(
            served_by(&r, chat("a", json!({"tags": ["other"]}))).await,
            "default"
        );
        assert_eq!(served_by(&r, chat("a", json!({}))).await, "default");
    }
}

#[tokio::test(start_paused = true)]
async fn wildcard_groups_route_any_matching_model_most_specific_first() {
    let r = router(
        r#"
model_list:
  - model_name: "*"
    litellm_params: {model: "openai/*", mock_response: catch-all}
    model_info: {id: star}
  - model_name: "anthropic/*"
    litellm_params: {model: "openai/*", mock_response: anthropic}
    model_info: {id: anthropic}
  - model_name: exact
    litellm_params: {model: openai/x, mock_response: exact}
    model_info: {id: exact}
"#,
    );
    assert_eq!(served_by(&r, chat("exact", json!({}))).await, "exact");
    assert_eq!(
        served_by(&r, chat("anthropic/claude-3-5", json!({}))).await,
        "anthropic"
    );
    let answer = r
        .chat_completion(chat("gpt-4o-mini", json!({})))
        .await
        .unwrap();
    assert_eq!(answer.deployment.id, "star");
    let completion: serde_json::Value = answer.json().unwrap();
    assert_eq!(
        completion["model"], "gpt-4o-mini",
        "the matched part is substituted into the model"
    );
}

#[tokio::test(start_paused = true)]
async fn the_priority_queue_serves_priority_0_before_5_when_capacity_frees() {
    let r = router(
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, mock_response: hi, mock_delay: 5, max_parallel_requests: 1}\n",
    );
    let order = std::sync::Mutex::new(Vec::new());
    let call = |name: &'static str, extra: serde_json::Value, after: Duration| {
        let r = r.clone();
        let order = &order;
        async move {
            tokio::time::sleep(after).await;
            r.chat_completion(chat("a", extra)).await.unwrap();
            order
                .lock()
                .unwrap()
                .push((name, tokio::time::Instant::now()));
        }
    };
    let start = tokio::time::Instant::now();
    tokio::join!(
        call("holder", json!({}), Duration::ZERO),
        call("low", json!({"priority": 5}), Duration::from_millis(10)),
        call("high", json!({"priority": 0}), Duration::from_millis(20)),
    );
    let order = order.into_inner().unwrap();
    let names: Vec<&str> = order.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["holder", "high", "low"]);
    let done: Vec<Duration> = order.iter().map(|(_, t)| *t - start).collect();
    assert_eq!(
        done,
        [
            Duration::from_secs(5),
            Duration::from_secs(10),
            Duration::from_secs(15)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_priority_request_waits_out_a_cooldown_instead_of_failing() {
    let r = router(
        r#"
model_list:
  - model_name: a
    litellm_params: {model: openai/x, mock_response: hi}
    model_info: {id: a1}
router_settings:
  cooldown_time: 10
"#,
    );
    // Cool the only deployment, as a 401 would.
    r.state_store()
        .set_cooldown("a1", Duration::from_secs(10))
        .await
        .unwrap();
    let err = r.chat_completion(chat("a", json!({}))).await.unwrap_err();
    assert!(matches!(
        err,
        RouterError::NoDeploymentAvailable {
            reason: Unavailable::Cooldown,
            ..
        }
    ));
    let start = tokio::time::Instant::now();
    let answer = r
        .chat_completion(chat("a", json!({"priority": 1})))
        .await
        .unwrap();
    assert_eq!(answer.deployment.id, "a1");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(9) && waited <= Duration::from_secs(11),
        "{waited:?}"
    );
    // With a deadline shorter than the cooldown, the queued request gives up in time.
    r.state_store()
        .set_cooldown("a1", Duration::from_secs(10))
        .await
        .unwrap();
    let err = r
        .call_with(
            Endpoint::ChatCompletions,
            chat("a", json!({"priority": 1})),
            CallOptions {
                timeout: Some(Duration::from_secs(2)),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, RouterError::NoDeploymentAvailable { .. }),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_bare_known_model_name_goes_to_its_providers_wildcard_group() {
    let r = router(
        r#"
model_list:
  - model_name: "openai/*"
    litellm_params: {model: "openai/*", mock_response: openai}
    model_info: {id: openai-any}
  - model_name: "anthropic/*"
    litellm_params: {model: "openai/*", mock_response: anthropic}
    model_info: {id: anthropic-any}
"#,
    );
    // LiteLLM knows gpt-4.1-nano as OpenAI's, and routes it to `openai/*`.
    let answer = r
        .chat_completion(chat("gpt-4.1-nano", json!({})))
        .await
        .unwrap();
    assert_eq!(answer.deployment.id, "openai-any");
    let completion: serde_json::Value = answer.json().unwrap();
    assert_eq!(completion["model"], "gpt-4.1-nano");
    // A name no price table knows has no provider to go by.
    let err = r
        .chat_completion(chat("made-up-model", json!({})))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Invalid model name"), "{err}");
}
