//! Master-key auth and OpenAI-shaped errors with the right statuses.

use std::time::Duration;

use serde_json::{Value, json};
use switchyard_testkit::{MockUpstream, ProxyHarness, Reply};

fn config(mock: &MockUpstream) -> String {
    format!(
        r#"
model_list:
  - model_name: gpt-4o
    litellm_params: {{ model: openai/gpt-4o, api_base: {url}, api_key: sk-upstream-secret }}
general_settings:
  master_key: sk-master-1234
router_settings:
  # These tests look at one upstream answer each; retries and cooldowns have their own tests.
  num_retries: 0
  disable_cooldowns: true
"#,
        url = mock.url()
    )
}

fn assert_openai_error(body: &Value, status: u16) {
    let err = &body["error"];
    assert!(err["message"].is_string(), "{body}");
    assert!(err["type"].is_string(), "{body}");
    assert!(err.get("param").is_some(), "{body}");
    assert_eq!(err["code"], status.to_string(), "{body}");
}

async fn chat(
    proxy: &ProxyHarness,
    key: Option<&str>,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = proxy
        .client()
        .post(format!("{}/v1/chat/completions", proxy.url()))
        .json(&body);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    for secret in ["sk-upstream-secret", "sk-master-1234"] {
        assert!(
            !text.contains(secret),
            "a secret leaked into a response: {text}"
        );
    }
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

fn hello() -> Value {
    json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn master_key_is_required_on_every_route_but_health() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();

    let (status, _, body) = chat(&proxy, None, hello()).await;
    assert_eq!(status, 401);
    assert_openai_error(&body, 401);
    let (status, _, body) = chat(&proxy, Some("sk-wrong"), hello()).await;
    assert_eq!(status, 401);
    assert_openai_error(&body, 401);
    assert_eq!(
        mock.call_count(),
        0,
        "rejected requests never reach the upstream"
    );

    let (status, _, _) = chat(&proxy, Some("sk-master-1234"), hello()).await;
    assert_eq!(status, 200);

    let c = proxy.client();
    let models = c
        .get(format!("{}/v1/models", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 401);
    let models = c
        .get(format!("{}/v1/models", proxy.url()))
        .bearer_auth("sk-master-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 200);
    let azure_style = c
        .get(format!("{}/models", proxy.url()))
        .header("api-key", "sk-master-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(azure_style.status(), 200);
    for path in ["/health/liveliness", "/health/readiness"] {
        let r = c
            .get(format!("{}{path}", proxy.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
}

/// The headers a key may come in, as LiteLLM's `get_api_key` reads them.
#[tokio::test]
async fn the_key_is_read_from_every_header_litellm_reads_it_from() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();
    const NO_KEY: &str = "Authentication Error, No api key passed in.";
    const MALFORMED: &str =
        "Authentication Error, Malformed API Key passed in. Ensure Key has `Bearer ` prefix.";
    const WRONG: &str = "Authentication Error, Invalid proxy server token passed.";
    // The request's headers, and the refusal expected (None: served).
    type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);
    let cases: &[Case] = &[
        (&[("authorization", "Bearer sk-master-1234")], None),
        (&[("authorization", "bearer sk-master-1234")], None),
        (&[("authorization", "Basic sk-master-1234")], None),
        (&[("x-litellm-api-key", "sk-master-1234")], None),
        (&[("x-litellm-api-key", "Bearer sk-master-1234")], None),
        (&[("api-key", "sk-master-1234")], None),
        (&[("x-api-key", "sk-master-1234")], None),
        (&[("x-goog-api-key", "sk-master-1234")], None),
        (&[("ocp-apim-subscription-key", "sk-master-1234")], None),
        // x-litellm-api-key is read first, whatever Authorization says.
        (
            &[
                ("x-litellm-api-key", "sk-master-1234"),
                ("authorization", "Bearer sk-wrong"),
            ],
            None,
        ),
        (&[], Some(NO_KEY)),
        (&[("authorization", "sk-master-1234")], Some(MALFORMED)),
        (&[("authorization", "Bearer")], Some(MALFORMED)),
        (&[("authorization", "Bearer sk-wrong")], Some(WRONG)),
        (&[("x-api-key", "sk-wrong")], Some(WRONG)),
    ];
    for (headers, refusal) in cases {
        let mut req = proxy
            .client()
            .post(format!("{}/v1/chat/completions", proxy.url()))
            .json(&hello());
        for (name, value) in *headers {
            req = req.header(*name, *value);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        match refusal {
            None => assert_eq!(status, 200, "{headers:?}: {body}"),
            Some(message) => {
                assert_eq!(status, 401, "{headers:?}: {body}");
                assert_eq!(body["error"]["message"], *message, "{headers:?}");
                assert_eq!(body["error"]["type"], "auth_error");
                assert_eq!(
                    body["error"]["param"], "None",
                    "LiteLLM's auth errors say so"
                );
                assert_eq!(body["error"]["code"], "401");
            }
        }
    }
}

#[tokio::test]
async fn request_errors_are_openai_shaped() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();
    let key = Some("sk-master-1234");

    let (status, _, body) = chat(&proxy, key, json!({"model": "gpt-5-nope", "messages": []})).await;
    assert_eq!(status, 400);
    assert_openai_error(&body, 400);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "/chat/completions: Invalid model name passed in model=gpt-5-nope. Call `/v1/models`"
        ) && message.contains("gpt-4o"),
        "LiteLLM's words, then the names there are: {message}"
    );
    assert_eq!(body["error"]["param"], Value::Null);

    let (status, _, body) = chat(&proxy, key, json!({"messages": []})).await;
    assert_eq!(status, 400);
    assert_openai_error(&body, 400);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("model=None"), "{message}");

    // Checked before the model, as LiteLLM does; nothing reaches the upstream.
    for (path, body, param) in [
        (
            "/v1/chat/completions",
            json!({"model": "gpt-4o"}),
            "messages",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "nope", "messages": null}),
            "messages",
        ),
        ("/v1/embeddings", json!({"model": "gpt-4o"}), "input"),
        ("/v1/completions", json!({"model": "gpt-4o"}), "prompt"),
        (
            "/v1/images/generations",
            json!({"model": "gpt-4o"}),
            "prompt",
        ),
    ] {
        let resp = proxy
            .client()
            .post(format!("{}{path}", proxy.url()))
            .bearer_auth("sk-master-1234")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_openai_error(&body, 400);
        assert_eq!(body["error"]["param"], param, "{path}: {body}");
        let route = path.strip_prefix("/v1").unwrap().replace("images", "image");
        assert_eq!(
            body["error"]["message"],
            format!("{route}: Missing required parameter: '{param}'."),
        );
    }
    assert_eq!(mock.call_count(), 0);

    let resp = proxy
        .client()
        .post(format!("{}/v1/chat/completions", proxy.url()))
        .bearer_auth("sk-master-1234")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_openai_error(&resp.json().await.unwrap(), 400);

    let resp = proxy
        .client()
        .get(format!("{}/v1/nope", proxy.url()))
        .bearer_auth("sk-master-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_openai_error(&resp.json().await.unwrap(), 404);

    let resp = proxy
        .client()
        .get(format!("{}/v1/chat/completions", proxy.url()))
        .bearer_auth("sk-master-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_openai_error(&resp.json().await.unwrap(), 405);
}

#[tokio::test]
async fn oversized_bodies_are_rejected_with_413() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();
    let huge = "x".repeat(switchyard_server::DEFAULT_MAX_BODY_BYTES + 1);
    let (status, _, body) = chat(
        &proxy,
        Some("sk-master-1234"),
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": huge}]}),
    )
    .await;
    assert_eq!(status, 413);
    assert_openai_error(&body, 413);
    assert_eq!(mock.call_count(), 0);
}

#[tokio::test]
async fn upstream_errors_keep_their_class_status_and_retry_after() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();
    let key = Some("sk-master-1234");

    mock.set_default(
        Reply::error(429, "Rate limit reached for requests").header("retry-after", "7"),
    );
    let (status, headers, body) = chat(&proxy, key, hello()).await;
    assert_eq!(status, 429);
    assert_openai_error(&body, 429);
    assert_eq!(body["error"]["type"], "throttling_error");
    assert_eq!(headers["retry-after"], "7");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("Rate limit reached"), "{message}");
    assert!(message.contains("RateLimitError"), "{message}");

    mock.set_default(Reply::error(500, "boom"));
    let (status, _, body) = chat(&proxy, key, hello()).await;
    assert_eq!(status, 500);
    assert_openai_error(&body, 500);

    mock.set_default(Reply::error(401, "Incorrect API key provided"));
    let (status, _, body) = chat(&proxy, key, hello()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "authentication_error");

    mock.set_default(Reply::error(
        400,
        "This model's maximum context length is 8192 tokens",
    ));
    let (status, _, body) = chat(&proxy, key, hello()).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ContextWindowExceeded"),
        "{body}"
    );
}

#[tokio::test]
async fn an_upstream_that_stalls_past_the_timeout_gets_a_408() {
    let mock = MockUpstream::start().await;
    mock.set_default(Reply::ok().delay(Duration::from_secs(30)));
    let yaml = format!(
        "model_list:\n  - model_name: slow\n    litellm_params: {{ model: openai/gpt-4o, api_base: {}, api_key: k, timeout: 0.3 }}\n",
        mock.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let started = std::time::Instant::now();
    let (status, _, body) = chat(&proxy, None, json!({"model": "slow", "messages": []})).await;
    assert_eq!(status, 408);
    assert_openai_error(&body, 408);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_classified_connection_error() {
    // Bind then drop a listener: nothing accepts on this port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let yaml = format!(
        "model_list:\n  - model_name: gone\n    litellm_params: {{ model: openai/gpt-4o, api_base: http://127.0.0.1:{port}/v1, api_key: k }}\n"
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let (status, _, body) = chat(&proxy, None, json!({"model": "gone", "messages": []})).await;
    assert_eq!(status, 500);
    assert_openai_error(&body, 500);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("APIConnectionError"),
        "{body}"
    );
}

#[tokio::test]
async fn other_methods_on_proxied_routes_need_the_key_and_get_a_405() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();
    for path in ["/chat/completions", "/v1/embeddings", "/images/generations"] {
        let url = format!("{}{path}", proxy.url());
        let resp = proxy.client().put(&url).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{path}");
        assert_openai_error(&resp.json().await.unwrap(), 401);
        let resp = proxy
            .client()
            .put(&url)
            .bearer_auth("sk-master-1234")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "{path}");
        assert_openai_error(&resp.json().await.unwrap(), 405);
    }
    // An unknown POST path is a 404 behind the key, not a proxied call.
    let resp = proxy
        .client()
        .post(format!("{}/v1/chat/completion", proxy.url()))
        .bearer_auth("sk-master-1234")
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(mock.call_count(), 0);
}

/// A request body sent chunked, in many frames, through the proxy.
async fn post_chunked(proxy: &ProxyHarness, parts: Vec<Vec<u8>>) -> (u16, Value) {
    let frames = futures::stream::iter(parts.into_iter().map(Ok::<_, std::io::Error>));
    let resp = proxy
        .client()
        .post(format!("{}/v1/chat/completions", proxy.url()))
        .bearer_auth("sk-master-1234")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(frames))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_chunked_body_is_read_whole_and_capped() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();
    let text = serde_json::to_vec(&json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "a prompt sent in pieces"}],
        "x_custom": [1, 2, 3],
    }))
    .unwrap();
    let parts: Vec<Vec<u8>> = text.chunks(7).map(<[u8]>::to_vec).collect();
    assert!(parts.len() > 3);
    let (status, _) = post_chunked(&proxy, parts).await;
    assert_eq!(status, 200);
    let sent = mock.calls().pop().expect("the upstream was called").json();
    assert_eq!(sent["messages"][0]["content"], "a prompt sent in pieces");
    assert_eq!(sent["x_custom"], json!([1, 2, 3]));

    // Over the cap, however it is split: 413 and no upstream call.
    let piece = vec![b' '; 1 << 20];
    let pieces = switchyard_server::DEFAULT_MAX_BODY_BYTES / piece.len() + 1;
    let (status, body) = post_chunked(&proxy, vec![piece; pieces]).await;
    assert_eq!(status, 413);
    assert_openai_error(&body, 413);
    assert_eq!(mock.call_count(), 1);
}

/// Browsers: LiteLLM's CORS (every origin) and security headers, and a
/// preflight that needs no key.
#[tokio::test]
async fn browsers_get_cors_and_security_headers_and_a_keyless_preflight() {
    let mock = MockUpstream::start().await;
    let proxy = ProxyHarness::start(&config(&mock)).await.unwrap();
    let c = proxy.client();
    let url = format!("{}/v1/chat/completions", proxy.url());

    let preflight = c
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert_eq!(
        h["access-control-allow-headers"],
        "authorization,content-type"
    );
    assert_eq!(h["access-control-max-age"], "600");
    assert_eq!(preflight.text().await.unwrap(), "OK");

    let answer = c
        .post(&url)
        .bearer_auth("sk-master-1234")
        .header("origin", "http://app.example")
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let h = answer.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(h.contains_key("access-control-expose-headers"));
    assert_eq!(h["x-litellm-call-id"].len(), 36, "a fresh UUID");

    // Every answer, errors and other routes included, carries the security headers.
    let refused = c.post(&url).json(&hello()).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().contains_key("x-litellm-call-id"));
    let models = c
        .get(format!("{}/v1/models", proxy.url()))
        .send()
        .await
        .unwrap();
    for h in [answer.headers(), refused.headers(), models.headers()] {
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["content-security-policy"], "frame-ancestors 'none'");
    }
    assert!(
        !models.headers().contains_key("access-control-allow-origin"),
        "no Origin, no CORS"
    );

    // A client's own call id comes back.
    let traced = c
        .post(&url)
        .bearer_auth("sk-master-1234")
        .header("x-litellm-call-id", "trace-42")
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(traced.headers()["x-litellm-call-id"], "trace-42");
}
