//! Every endpoint end to end: client → proxy → mock upstream (OpenAI and Azure dialects).

use serde_json::{Value, json};
use switchyard_testkit::{MockUpstream, ProxyHarness, Reply};

fn openai_config(mock: &MockUpstream) -> String {
    format!(
        r#"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-2024-08-06
      api_base: {url}
      api_key: sk-upstream-secret
      temperature: 0.2
  - model_name: text-embedding-3-small
    litellm_params:
      model: openai/text-embedding-3-small
      api_base: {url}
      api_key: sk-upstream-secret
  - model_name: dall-e-3
    litellm_params:
      model: openai/dall-e-3
      api_base: {url}
      api_key: sk-upstream-secret
  - model_name: gpt-3.5-turbo-instruct
    litellm_params:
      model: openai/gpt-3.5-turbo-instruct
      api_base: {url}
      api_key: sk-upstream-secret
"#,
        url = mock.url()
    )
}

/// The JSON chunks of an SSE answer, `[DONE]` left out.
fn stream_chunks(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

async fn post(proxy: &ProxyHarness, path: &str, body: Value) -> reqwest::Response {
    proxy
        .client()
        .post(format!("{}{}", proxy.url(), path))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn chat_completion_reaches_the_upstream_and_comes_back_with_litellm_headers() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&openai_config(&mock)).await.unwrap();
    let resp = post(
        &proxy,
        "/v1/chat/completions",
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    assert_eq!(headers["x-litellm-model-group"], "gpt-4o");
    assert_eq!(
        headers["x-litellm-model-api-base"].to_str().unwrap(),
        mock.url()
    );
    assert!(!headers["x-litellm-model-id"].is_empty());
    // What the answer cost, from its usage and the price table, as LiteLLM writes it.
    let cost = |name: &str| headers[name].to_str().unwrap().parse::<f64>().unwrap();
    let (total, input, output) = (
        cost("x-litellm-response-cost"),
        cost("x-litellm-response-cost-input"),
        cost("x-litellm-response-cost-output"),
    );
    assert!(input > 0.0 && output > 0.0, "{headers:?}");
    assert!((total - (input + output)).abs() < 1e-12);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    let usage = &body["usage"];
    // gpt-4o-2024-08-06: $2.5 and $10 per million tokens.
    let expected = usage["prompt_tokens"].as_f64().unwrap() * 2.5e-6
        + usage["completion_tokens"].as_f64().unwrap() * 1e-5;
    assert!((total - expected).abs() < 1e-12, "{total} vs {expected}");
    assert!(body["choices"][0]["message"]["content"].is_string());

    let calls = mock.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, "/v1/chat/completions");
    assert_eq!(
        calls[0].header("authorization"),
        Some("Bearer sk-upstream-secret")
    );
    let sent = calls[0].json();
    assert_eq!(
        sent["model"], "gpt-4o-2024-08-06",
        "the upstream gets the deployment's model name"
    );
    assert_eq!(sent["temperature"], 0.2, "deployment defaults are added");
}

#[tokio::test]
async fn request_parameters_override_deployment_defaults_and_unknown_fields_pass_through() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&openai_config(&mock)).await.unwrap();
    let resp = post(
        &proxy,
        "/chat/completions",
        json!({
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.9,
            "x_vendor_extension": {"nested": [1, 2.5, "é"], "flag": true},
            "top_k": 7
        }),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let sent = mock.calls()[0].json();
    assert_eq!(sent["temperature"], 0.9);
    assert_eq!(
        sent["x_vendor_extension"],
        json!({"nested": [1, 2.5, "é"], "flag": true})
    );
    assert_eq!(sent["top_k"], 7);
}

#[tokio::test]
async fn litellms_own_deployment_settings_are_never_sent_upstream() {
    // Fields of LiteLLM's `LiteLLM_Params` configure LiteLLM (a budget, a price, a
    // credential for another service), unlike request defaults such as `temperature`.
    let mock = MockUpstream::start().await;
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: {url}
      api_key: sk-upstream-secret
      temperature: 0.2
      max_budget: 10
      budget_duration: 30d
      azure_password: hunter2-secret
      s3_secret_access_key: s3-secret
      tiered_pricing: [{{range: [0, 1000], input_cost_per_token: 0.1}}]
"#,
        url = mock.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let resp = post(
        &proxy,
        "/chat/completions",
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let sent = mock.calls()[0].json();
    assert_eq!(sent["temperature"], 0.2, "a request default still goes");
    for key in [
        "max_budget",
        "budget_duration",
        "azure_password",
        "s3_secret_access_key",
        "tiered_pricing",
    ] {
        assert!(sent.get(key).is_none(), "{key} was sent: {sent}");
    }
}

/// Posts `raw` as a chat completion, expects a 200, and returns the bytes the
/// upstream received (as text).
async fn post_raw_and_read_upstream_body(
    proxy: &ProxyHarness,
    mock: &MockUpstream,
    raw: &'static str,
) -> String {
    let resp = proxy
        .client()
        .post(format!("{}/v1/chat/completions", proxy.url()))
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    String::from_utf8(mock.calls()[0].body.to_vec()).unwrap()
}

#[tokio::test]
async fn unknown_fields_reach_the_upstream_byte_for_byte() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&openai_config(&mock)).await.unwrap();
    let raw = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"weird":{"b":1.50,"a":[true,null]}}"#;
    let sent = post_raw_and_read_upstream_body(&proxy, &mock, raw).await;
    assert!(
        sent.contains(r#""weird":{"b":1.50,"a":[true,null]}"#),
        "sent: {sent}"
    );
}

#[tokio::test]
async fn streaming_chat_passes_chunks_through_and_ends_with_done() {
    let mock = MockUpstream::start().await;
    mock.push(Reply::chat_stream(&["Hel", "lo", " there"]));
    let proxy = ProxyHarness::start(&openai_config(&mock)).await.unwrap();
    let resp = post(
        &proxy,
        "/v1/chat/completions",
        json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    // As LiteLLM sends it, and told not to buffer to an nginx in front.
    assert_eq!(
        resp.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert_eq!(resp.headers()["x-accel-buffering"], "no");
    assert_eq!(resp.headers()["x-litellm-model-group"], "gpt-4o");
    assert_eq!(
        resp.headers()["x-litellm-model-name"],
        "openai/gpt-4o-2024-08-06"
    );
    let text = resp.text().await.unwrap();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(*events.last().unwrap(), "data: [DONE]");
    let content: String = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str::<Value>(e.strip_prefix("data: ").unwrap()).unwrap())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(content, "Hello there");
    assert_eq!(mock.calls()[0].json()["stream"], true);
}

#[tokio::test]
async fn text_completion_embeddings_and_images_are_routed() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&openai_config(&mock)).await.unwrap();

    let r = post(
        &proxy,
        "/v1/completions",
        json!({"model": "gpt-3.5-turbo-instruct", "prompt": "Say"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["object"],
        "text_completion"
    );

    let r = post(
        &proxy,
        "/v1/embeddings",
        json!({"model": "text-embedding-3-small", "input": ["a", "b"]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);

    let r = post(
        &proxy,
        "/images/generations",
        json!({"model": "dall-e-3", "prompt": "a cat"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["data"][0]["url"].is_string());

    let paths: Vec<String> = mock.calls().iter().map(|c| c.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/v1/completions",
            "/v1/embeddings",
            "/v1/images/generations"
        ]
    );
}

#[tokio::test]
async fn azure_deployments_use_the_deployment_path_api_version_and_api_key_header() {
    let mock = MockUpstream::start().await;
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: azure/my-gpt4o-eu
      api_base: {base}
      api_key: azure-secret-key
      api_version: "2024-06-01"
"#,
        base = mock.base_url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let r = post(
        &proxy,
        "/v1/chat/completions",
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = post(
        &proxy,
        "/v1/chat/completions",
        json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().ends_with("data: [DONE]\n\n"));

    let calls = mock.calls();
    assert_eq!(calls.len(), 2);
    for call in &calls {
        assert_eq!(
            call.path,
            "/openai/deployments/my-gpt4o-eu/chat/completions"
        );
        assert_eq!(call.query.as_deref(), Some("api-version=2024-06-01"));
        assert_eq!(call.header("api-key"), Some("azure-secret-key"));
        assert_eq!(call.header("authorization"), None);
    }
}

#[tokio::test]
async fn mock_response_deployments_answer_without_any_upstream() {
    let yaml = r#"
model_list:
  - model_name: offline
    litellm_params:
      model: openai/gpt-4o
      mock_response: "Hello from the mock"
"#;
    let proxy = ProxyHarness::start(yaml).await.unwrap();
    let r = post(
        &proxy,
        "/v1/chat/completions",
        json!({"model": "offline", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from the mock");

    let r = post(&proxy, "/v1/chat/completions", json!({"model": "offline", "stream": true, "messages": [{"role": "user", "content": "hi"}]})).await;
    let text = r.text().await.unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    assert!(text.contains("chat.completion.chunk"));
}

#[tokio::test]
async fn models_lists_groups_and_visible_aliases_without_secrets() {
    let mock = MockUpstream::start().await;
    let yaml = format!(
        "{}\nrouter_settings:\n  model_group_alias:\n    gpt4: gpt-4o\n    secret-alias: {{model: gpt-4o, hidden: true}}\n",
        openai_config(&mock)
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let r = proxy
        .client()
        .get(format!("{}/v1/models", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(!text.contains("sk-upstream-secret"));
    let v: Value = serde_json::from_str(&text).unwrap();
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "gpt4",
            "gpt-4o",
            "text-embedding-3-small",
            "dall-e-3",
            "gpt-3.5-turbo-instruct",
        ],
        "visible aliases first, as LiteLLM lists them"
    );
    assert_eq!(v["object"], "list");
    // LiteLLM's card: a fixed date, and what the price table knows of the model.
    let card = &v["data"][2];
    assert_eq!(card["created"], 1677610602);
    assert_eq!(card["owned_by"], "openai");
    assert_eq!(card["mode"], "embedding");
    assert!(card["max_input_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        v["data"][0]["mode"], "chat",
        "an alias shows its group's model"
    );

    // One model: a group's card; an alias or an unknown name is a 404 (LiteLLM's words).
    let get = |path: String| proxy.client().get(format!("{}{path}", proxy.url())).send();
    let one = get("/v1/models/text-embedding-3-small".into())
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    let one: Value = one.json().await.unwrap();
    assert_eq!(one, *card);
    for (name, message) in [
        ("gpt4", "Model 'gpt4' not found in router configuration"),
        (
            "nope",
            "The model `nope` does not exist or is not accessible",
        ),
    ] {
        let r = get(format!("/models/{name}")).await.unwrap();
        assert_eq!(r.status(), 404, "{name}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["message"], message);
    }

    // Aliases route, hidden ones included, and the answer names the alias asked for.
    for alias in ["gpt4", "secret-alias"] {
        let r = post(
            &proxy,
            "/v1/chat/completions",
            json!({"model": alias, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
        assert_eq!(r.status(), 200, "alias {alias}");
        assert_eq!(r.headers()["x-litellm-model-group"], alias);
    }
}

#[tokio::test]
async fn weighted_deployments_share_traffic_by_weight() {
    let heavy = MockUpstream::start().await;
    let light = MockUpstream::start().await;
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt-4o
    litellm_params: {{ model: openai/gpt-4o, api_base: {h}, api_key: k, weight: 3 }}
  - model_name: gpt-4o
    litellm_params: {{ model: openai/gpt-4o, api_base: {l}, api_key: k, weight: 1 }}
"#,
        h = heavy.url(),
        l = light.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let n = 400;
    for _ in 0..n {
        let r = post(
            &proxy,
            "/v1/chat/completions",
            json!({"model": "gpt-4o", "messages": []}),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    let share = heavy.call_count() as f64 / n as f64;
    // Expected 0.75; the standard deviation of the share at n = 400 is 0.022,
    // so ±0.11 is five standard deviations.
    assert!((share - 0.75).abs() < 0.11, "heavy share {share}");
    assert_eq!(heavy.call_count() + light.call_count(), n);
}

#[tokio::test]
async fn a_request_level_mock_response_never_reaches_the_upstream() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&openai_config(&mock)).await.unwrap();
    let r = post(
        &proxy,
        "/v1/chat/completions",
        json!({"model": "gpt-4o", "mock_response": "canned", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-litellm-model-group"], "gpt-4o");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "canned");
    assert_eq!(mock.call_count(), 0);

    // LiteLLM's mock error strings raise the named error class.
    let r = post(
        &proxy,
        "/v1/chat/completions",
        json!({"model": "gpt-4o", "mock_response": "litellm.RateLimitError", "messages": []}),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert_eq!(mock.call_count(), 0);
}

#[tokio::test]
async fn the_upstream_body_keeps_the_clients_order_swaps_the_model_and_adds_defaults_last() {
    let mock = MockUpstream::start().await;
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o-2024-08-06
      api_base: {}
      api_key: k
      temperature: 0.2
      seed: 7
router_settings:
  default_litellm_params: {{seed: 1, top_p: 0.5, temperature: 1.5}}
"#,
        mock.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let raw = r#"{"messages":[{"role":"user","content":"hi"}],"model":"gpt","metadata":{"tags":["x"]},"temperature":0.9,"num_retries":0,"x\"odd":[1.50]}"#;
    let sent = post_raw_and_read_upstream_body(&proxy, &mock, raw).await;
    // The model is renamed where the client put it; router-only fields (`metadata`,
    // `num_retries`) are dropped; the client's temperature beats both defaults; the
    // deployment's `seed` beats the router's; the router's `top_p` comes last.
    assert_eq!(
        sent,
        r#"{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o-2024-08-06","temperature":0.9,"x\"odd":[1.50],"seed":7,"top_p":0.5}"#
    );
}

/// LiteLLM's proxy answers with the model name the client asked for
/// (`_override_openai_response_model`, `_restamp_streaming_chunk_model`), not
/// the upstream's; after a fallback, a complete answer keeps the upstream's
/// value and a stream names the group that served it.
#[tokio::test]
async fn answers_name_the_model_the_client_asked_for() {
    let mock = MockUpstream::start().await;
    let mut yaml = openai_config(&mock);
    yaml.push_str("router_settings:\n  model_group_alias: {gpt4: gpt-4o}\n");
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let hi = json!([{"role": "user", "content": "hi"}]);

    for asked in ["gpt-4o", "gpt4"] {
        let body: Value = post(
            &proxy,
            "/v1/chat/completions",
            json!({"model": asked, "messages": hi}),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(body["model"], asked, "{body}");

        let text = post(
            &proxy,
            "/v1/chat/completions",
            json!({"model": asked, "messages": hi, "stream": true}),
        )
        .await
        .text()
        .await
        .unwrap();
        let chunks = stream_chunks(&text);
        assert!(chunks.len() > 1, "{text}");
        assert!(chunks.iter().all(|c| c["model"] == asked), "{text}");
    }
    // The upstream itself was asked for, and answered with, the deployment's model.
    assert!(
        mock.calls()
            .iter()
            .all(|c| c.json()["model"] == "gpt-4o-2024-08-06")
    );

    let body: Value = post(
        &proxy,
        "/v1/embeddings",
        json!({"model": "text-embedding-3-small", "input": "hi"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["model"], "text-embedding-3-small");
}

#[tokio::test]
async fn after_a_fallback_the_answer_keeps_the_upstream_model_and_a_stream_names_the_group() {
    let failing = MockUpstream::start().await;
    failing.set_default(Reply::error(500, "down"));
    let fine = MockUpstream::start().await;
    let yaml = format!(
        "model_list:\n  - model_name: primary\n    litellm_params: {{model: openai/gpt-4o, api_base: {}, api_key: k}}\n  - model_name: backup\n    litellm_params: {{model: openai/gpt-4o-mini-2024-07-18, api_base: {}, api_key: k}}\nrouter_settings:\n  num_retries: 0\n  fallbacks: [{{primary: [backup]}}]\n",
        failing.url(),
        fine.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let hi = json!([{"role": "user", "content": "hi"}]);

    let body: Value = post(
        &proxy,
        "/v1/chat/completions",
        json!({"model": "primary", "messages": hi}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["model"], "gpt-4o-mini-2024-07-18", "{body}");

    let text = post(
        &proxy,
        "/v1/chat/completions",
        json!({"model": "primary", "messages": hi, "stream": true}),
    )
    .await
    .text()
    .await
    .unwrap();
    let first = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let first: Value = serde_json::from_str(first).unwrap();
    assert_eq!(first["model"], "backup", "{text}");
}

/// The upstream's rate-limit headers reach the client as they are, and every
/// upstream header with an `llm_provider-` prefix, as LiteLLM passes them.
#[tokio::test]
async fn upstream_rate_limit_headers_reach_the_client() {
    let mock = MockUpstream::start().await;
    mock.set_default(
        Reply::ok()
            .header("x-ratelimit-remaining-requests", "9999")
            .header("x-ratelimit-limit-tokens", "30000000")
            .header("x-request-id", "req_abc")
            .header("openai-processing-ms", "7"),
    );
    let proxy = ProxyHarness::start(&openai_config(&mock)).await.unwrap();
    for stream in [false, true] {
        let resp = post(
            &proxy,
            "/v1/chat/completions",
            json!({"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
        assert_eq!(resp.status(), 200);
        let h = resp.headers();
        assert_eq!(
            h["x-ratelimit-remaining-requests"], "9999",
            "stream={stream}"
        );
        assert_eq!(h["x-ratelimit-limit-tokens"], "30000000");
        assert_eq!(h["llm_provider-x-ratelimit-remaining-requests"], "9999");
        assert_eq!(h["llm_provider-openai-processing-ms"], "7");
        assert_eq!(h["request-id"], "req_abc");
        assert!(
            !h.contains_key("openai-processing-ms"),
            "only rate limits go unprefixed"
        );
    }
}

/// An `AzureOpenAI` client pointed at the proxy calls
/// `/openai/deployments/{model}/...?api-version=...`, older clients
/// `/engines/{model}/...`: LiteLLM serves both, the path naming the model.
#[tokio::test]
async fn azure_style_and_engine_paths_name_the_model() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&openai_config(&mock)).await.unwrap();
    let hi = json!([{"role": "user", "content": "hi"}]);
    let cases = [
        (
            "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
            json!({"messages": hi}),
            "gpt-4o-2024-08-06",
        ),
        (
            "/openai/deployments/gpt-4o/chat/completions",
            json!({"model": "dall-e-3", "messages": hi}),
            "gpt-4o-2024-08-06",
        ),
        (
            "/engines/text-embedding-3-small/embeddings",
            json!({"input": "hi"}),
            "text-embedding-3-small",
        ),
        (
            "/openai/deployments/gpt-3.5-turbo-instruct/completions",
            json!({"prompt": "hi"}),
            "gpt-3.5-turbo-instruct",
        ),
    ];
    for (i, (path, body, upstream_model)) in cases.into_iter().enumerate() {
        let resp = post(&proxy, path, body).await;
        assert_eq!(resp.status(), 200, "{path}");
        let calls = mock.calls();
        assert_eq!(calls.len(), i + 1);
        assert_eq!(calls[i].json()["model"], upstream_model, "{path}");
    }
}

/// LiteLLM lists a provider's wildcard group as that provider's known models,
/// and the pattern itself only when asked (`return_wildcard_routes=true`).
#[tokio::test]
async fn a_wildcard_group_is_listed_as_its_providers_models() {
    let mock = MockUpstream::start().await;
    let yaml = format!(
        "model_list:\n  - model_name: \"openai/*\"\n    litellm_params: {{model: \"openai/*\", api_base: {}, api_key: k}}\n",
        mock.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let ids = |query: &'static str| {
        let proxy = &proxy;
        async move {
            let v: Value = proxy
                .client()
                .get(format!("{}/v1/models{query}", proxy.url()))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let listed = ids("").await;
    assert!(listed.len() > 50, "{listed:?}");
    assert!(listed.iter().any(|id| id == "openai/gpt-4o-mini"));
    assert!(listed.iter().all(|id| id.starts_with("openai/")));
    assert!(!listed.iter().any(|id| id == "openai/*"));
    let with_routes = ids("?return_wildcard_routes=true").await;
    assert_eq!(with_routes[0], "openai/*");
    assert_eq!(with_routes.len(), listed.len() + 1);

    // And a bare name of an OpenAI model routes through it.
    let resp = post(
        &proxy,
        "/v1/chat/completions",
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-litellm-model-group"], "gpt-4o-mini");
    assert_eq!(mock.calls()[0].json()["model"], "gpt-4o-mini");
}

/// LiteLLM serves `/completions` on an OpenAI chat model through its chat
/// endpoint (OpenAI answers those models only there) and answers a text
/// completion; a completion model keeps the native endpoint.
#[tokio::test]
async fn a_text_completion_on_an_openai_chat_model_goes_through_chat() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&openai_config(&mock)).await.unwrap();

    let body: Value = post(
        &proxy,
        "/v1/completions",
        json!({"model": "gpt-4o", "prompt": "Say hi", "max_tokens": 5}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["object"], "text_completion", "{body}");
    assert!(
        body["choices"][0]["text"].as_str().unwrap().len() > 1,
        "{body}"
    );
    assert_eq!(body["model"], "gpt-4o");
    let call = &mock.calls()[0];
    assert_eq!(call.path, "/v1/chat/completions");
    let sent = call.json();
    assert_eq!(
        sent["messages"],
        json!([{"role": "user", "content": "Say hi"}])
    );
    assert_eq!(sent["max_tokens"], 5);
    assert!(sent.get("prompt").is_none());

    let text = post(
        &proxy,
        "/v1/completions",
        json!({"model": "gpt-4o", "prompt": "Say hi", "stream": true}),
    )
    .await
    .text()
    .await
    .unwrap();
    let chunks = stream_chunks(&text);
    assert!(chunks.len() > 1, "{text}");
    assert!(
        chunks.iter().all(|c| c["object"] == "text_completion"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("data: [DONE]"));
    assert_eq!(mock.calls()[1].path, "/v1/chat/completions");

    // A completion model is asked on /completions, prompt and all.
    post(
        &proxy,
        "/v1/completions",
        json!({"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi"}),
    )
    .await;
    assert_eq!(mock.calls()[2].path, "/v1/completions");
    assert_eq!(mock.calls()[2].json()["prompt"], "Say hi");
}
