//! Routing rules through the proxy against mock upstreams: rpm limits under
//! concurrency, latency-based routing, the context-window pre-check, region,
//! tags, wildcards and the priority queue.

use std::time::Duration;

use serde_json::{Value, json};
use switchyard_testkit::{MockUpstream, ProxyHarness, Reply};

async fn post(proxy: &ProxyHarness, body: Value) -> reqwest::Response {
    proxy
        .client()
        .post(proxy.url_for("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn hello(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn rpm_limits_hold_under_64_concurrent_clients() {
    let a = MockUpstream::start().await;
    let b = MockUpstream::start().await;
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt
    litellm_params: {{model: openai/gpt-4o, api_base: {a}, api_key: k, rpm: 20}}
  - model_name: gpt
    litellm_params: {{model: openai/gpt-4o, api_base: {b}, api_key: k, rpm: 10}}
router_settings:
  num_retries: 0
"#,
        a = a.url(),
        b = b.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let requests = (0..64).map(|_| post(&proxy, hello("gpt")));
    let responses = futures::future::join_all(requests).await;
    let ok = responses.iter().filter(|r| r.status() == 200).count();
    let limited: Vec<&reqwest::Response> = responses.iter().filter(|r| r.status() == 429).collect();
    assert_eq!(ok + limited.len(), 64);
    // Within one minute window at most 20 + 10 calls go out (the test may straddle a
    // minute boundary, which can let a second window's worth through).
    assert!(a.call_count() <= 40, "a got {}", a.call_count());
    assert!(b.call_count() <= 20);
    if a.call_count() <= 20 && b.call_count() <= 10 {
        assert_eq!(ok, 30);
        assert_eq!(limited.len(), 34);
        let retry_after: u64 = limited[0].headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after));
    }
}

#[tokio::test]
async fn latency_based_routing_moves_traffic_to_the_faster_mock() {
    let slow = MockUpstream::start().await;
    slow.set_default(Reply::ok().delay(Duration::from_millis(150)));
    let fast = MockUpstream::start().await;
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt
    litellm_params: {{model: openai/gpt-4o, api_base: {s}, api_key: k}}
  - model_name: gpt
    litellm_params: {{model: openai/gpt-4o, api_base: {f}, api_key: k}}
router_settings:
  routing_strategy: latency-based-routing
"#,
        s = slow.url(),
        f = fast.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    for _ in 0..4 {
        assert_eq!(post(&proxy, hello("gpt")).await.status(), 200);
    }
    let slow_before = slow.call_count();
    for _ in 0..20 {
        assert_eq!(post(&proxy, hello("gpt")).await.status(), 200);
    }
    assert!(slow_before >= 1, "both were tried first");
    assert_eq!(
        slow.call_count(),
        slow_before,
        "after both were measured, only the fast one is used"
    );
}

#[tokio::test]
async fn the_context_window_check_sends_a_long_prompt_to_the_larger_window() {
    // The seeds' "Test it!" example: one group, a 4k Azure deployment (window from its
    // base_model in the price table) and a 16k OpenAI one; a ~5k-token prompt works.
    let small = MockUpstream::start().await;
    let large = MockUpstream::start().await;
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt-3.5-turbo
    litellm_params:
      model: azure/chatgpt-v-2
      api_key: k
      api_version: "2024-06-01"
      api_base: {small}
      base_model: azure/gpt-35-turbo
    model_info:
      base_model: azure/gpt-35-turbo
  - model_name: gpt-3.5-turbo
    litellm_params: {{model: gpt-3.5-turbo-1106, api_key: k, api_base: {large}}}
router_settings:
  enable_pre_call_checks: true
"#,
        small = small.base_url(),
        large = large.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let text = "What is the meaning of 42?".repeat(700);
    for _ in 0..5 {
        let body = json!({"model": "gpt-3.5-turbo", "messages": [
            {"role": "system", "content": text},
            {"role": "user", "content": "Who was Alexander?"}
        ]});
        assert_eq!(post(&proxy, body).await.status(), 200);
    }
    assert_eq!(
        small.call_count(),
        0,
        "the 4k deployment never gets the 5k prompt"
    );
    assert_eq!(large.call_count(), 5);
}

#[tokio::test]
async fn region_tags_and_wildcards_pick_the_right_mock() {
    let eu = MockUpstream::start().await;
    let us = MockUpstream::start().await;
    let any = MockUpstream::start().await;
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt
    litellm_params: {{model: openai/gpt-4o, api_base: {eu}, api_key: k, region_name: eu, tags: [paid]}}
  - model_name: gpt
    litellm_params: {{model: openai/gpt-4o, api_base: {us}, api_key: k, region_name: us, tags: [default]}}
  - model_name: "openai/*"
    litellm_params: {{model: "openai/*", api_base: {any}, api_key: k}}
router_settings:
  enable_pre_call_checks: true
  enable_tag_filtering: true
"#,
        eu = eu.url(),
        us = us.url(),
        any = any.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    for _ in 0..5 {
        let mut body = hello("gpt");
        body["allowed_model_region"] = json!("eu");
        body["metadata"] = json!({"tags": ["paid"]});
        assert_eq!(post(&proxy, body).await.status(), 200);
        assert_eq!(
            post(&proxy, hello("gpt")).await.status(),
            200,
            "untagged goes to default"
        );
    }
    assert_eq!((eu.call_count(), us.call_count()), (5, 5));
    let r = post(&proxy, hello("openai/gpt-4.1-mini")).await;
    assert_eq!(r.status(), 200);
    // The group as asked for, as LiteLLM names a wildcard's match.
    assert_eq!(r.headers()["x-litellm-model-group"], "openai/gpt-4.1-mini");
    assert_eq!(any.calls()[0].json()["model"], "gpt-4.1-mini");
    assert!(any.calls()[0].json().get("allowed_model_region").is_none());
}

#[tokio::test]
async fn the_priority_queue_serves_priority_0_before_5_when_capacity_frees() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::ok().delay(Duration::from_millis(300)));
    let yaml = format!(
        "model_list:\n  - model_name: gpt\n    litellm_params: {{model: openai/gpt-4o, api_base: {}, api_key: k, max_parallel_requests: 1}}\n",
        mock.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let send = |priority: Option<u32>, after: u64, tag: &'static str| {
        let proxy = &proxy;
        async move {
            tokio::time::sleep(Duration::from_millis(after)).await;
            let mut body = hello("gpt");
            body["x_tag"] = json!(tag);
            if let Some(p) = priority {
                body["priority"] = json!(p);
            }
            assert_eq!(post(proxy, body).await.status(), 200);
        }
    };
    tokio::join!(
        send(None, 0, "holder"),
        send(Some(5), 50, "low"),
        send(Some(0), 100, "high")
    );
    let order: Vec<String> = mock
        .calls()
        .iter()
        .map(|c| c.json()["x_tag"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(order, ["holder", "high", "low"]);
}

#[tokio::test]
async fn a_counted_stream_asks_the_upstream_for_usage_without_showing_it_to_the_client() {
    let mock = MockUpstream::start().await;
    let yaml = format!(
        "model_list:\n  - model_name: gpt\n    litellm_params: {{model: openai/gpt-4o, api_base: {}, api_key: k, tpm: 100000}}\n",
        mock.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let mut body = hello("gpt");
    body["stream"] = json!(true);
    let text = post(&proxy, body.clone()).await.text().await.unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    assert!(
        !text.contains("\"usage\""),
        "the client did not ask for usage: {text}"
    );
    assert_eq!(
        mock.calls()[0].json()["stream_options"],
        json!({"include_usage": true})
    );

    // A client that asks for usage gets it, and its stream_options are left alone.
    body["stream_options"] = json!({"include_usage": true});
    let text = post(&proxy, body).await.text().await.unwrap();
    assert!(text.contains("\"usage\""), "{text}");
}

#[tokio::test]
async fn the_route_header_names_the_strategy_and_the_deployment_it_chose() {
    let a = MockUpstream::start().await;
    let b = MockUpstream::start().await;
    for strategy in [
        "simple-shuffle",
        "least-busy",
        "usage-based-routing",
        "usage-based-routing-v2",
        "latency-based-routing",
        "cost-based-routing",
    ] {
        let yaml = format!(
            r#"
model_list:
  - model_name: gpt
    litellm_params: {{model: openai/gpt-4o, api_base: {a}, api_key: k, tpm: 100000}}
    model_info: {{id: dep-a}}
  - model_name: gpt
    litellm_params: {{model: openai/gpt-4o-mini, api_base: {b}, api_key: k, tpm: 100000}}
    model_info: {{id: dep-b}}
router_settings:
  routing_strategy: {strategy}
"#,
            a = a.url(),
            b = b.url()
        );
        let proxy = ProxyHarness::start(&yaml).await.unwrap();
        let response = post(&proxy, hello("gpt")).await;
        assert_eq!(response.status(), 200, "{strategy}");
        let chosen = response.headers()["x-litellm-model-id"].to_str().unwrap();
        let route = response.headers()["x-switchyard-route"].to_str().unwrap();
        assert_eq!(route, format!("gpt/{chosen}:ok; strategy={strategy}"));
        if strategy == "cost-based-routing" {
            // gpt-4o-mini is the cheaper model in the price table.
            assert_eq!(chosen, "dep-b");
        }
    }
}

#[tokio::test]
async fn a_stream_without_usage_counts_its_completion_against_tpm() {
    let mock = MockUpstream::start().await;
    // An upstream that ignores `stream_options` and never reports usage.
    let chunk = |text: &str| {
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
               "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
        .to_string()
    };
    mock.set_default(Reply::sse(vec![
        chunk("The quick brown fox"),
        chunk(" jumps over the lazy dog."),
        "[DONE]".to_owned(),
    ]));
    let yaml = format!(
        "model_list:\n  - model_name: gpt\n    litellm_params: {{model: openai/gpt-4o, api_base: {}, api_key: k, tpm: 100000}}\n    model_info: {{id: dep}}\n",
        mock.url()
    );
    let minute = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 60
    };
    // Usage is counted per UTC minute: a run that straddles a minute's end
    // would read the new, empty minute, so it is run again.
    let (proxy, usage) = loop {
        let started = minute();
        let proxy = ProxyHarness::start(&yaml).await.unwrap();
        let mut body = hello("gpt");
        body["stream"] = json!(true);
        body["max_tokens"] = json!(500);
        let text = post(&proxy, body).await.text().await.unwrap();
        assert!(text.contains("lazy dog"), "{text}");
        assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
        let usage = proxy.state().router().deployment_usage("dep").await;
        if minute() == started {
            break (proxy, usage);
        }
    };
    drop(proxy);
    assert_eq!(usage.rpm, 1);
    // The input plus the counted completion, instead of input + 500 reserved up front.
    let completion = switchyard_router::tokens::count_text(
        "gpt-4o",
        "The quick brown fox jumps over the lazy dog.",
    );
    let input = switchyard_router::tokens::count_chat_tokens(
        "gpt-4o",
        &switchyard_types::RequestBody::from_slice(hello("gpt").to_string().as_bytes()).unwrap(),
    );
    assert_eq!(usage.tpm, input + completion);
    assert!(
        usage.tpm < 100,
        "the 500 max_tokens reservation was replaced: {usage:?}"
    );
}
