//! The proxy harness: config loading, a real socket, shutdown.

use switchyard_testkit::{MockUpstream, ProxyHarness, yaml_with};

const CONFIG: &str = "
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {mock_url}
      api_key: os.environ/TESTKIT_KEY
";

#[tokio::test]
async fn starts_on_loopback_and_shuts_down() {
    let mock = MockUpstream::start().await;
    let yaml = yaml_with(CONFIG, &[("mock_url", &mock.url())]);
    let proxy = ProxyHarness::start_with_env(&yaml, &[("TESTKIT_KEY", "sk-test")])
        .await
        .unwrap();
    assert!(proxy.addr().ip().is_loopback());
    assert_eq!(proxy.url(), format!("http://{}", proxy.addr()));
    assert_eq!(
        proxy.url_for("/v1/models"),
        format!("http://{}/v1/models", proxy.addr())
    );
    // Whatever the route answers, the server is listening.
    proxy
        .client()
        .get(proxy.url_for("/health/liveliness"))
        .send()
        .await
        .unwrap();
    let addr = proxy.addr();
    proxy.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn routes_a_chat_completion_to_the_mock() {
    let mock = MockUpstream::start().await;
    let yaml = yaml_with(CONFIG, &[("mock_url", &mock.url())]);
    let proxy = ProxyHarness::start_with_env(&yaml, &[("TESTKIT_KEY", "sk-test")])
        .await
        .unwrap();
    let response = proxy
        .client()
        .post(proxy.url_for("/v1/chat/completions"))
        .json(&serde_json::json!({ "model": "gpt", "messages": [{ "role": "user", "content": "hi" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "Hello from mock");
    let call = &mock.calls()[0];
    assert_eq!(call.path, "/v1/chat/completions");
    assert_eq!(call.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(call.json()["model"], "gpt-4o-mini");
    proxy.shutdown().await;
}

#[tokio::test]
async fn an_invalid_config_is_an_error() {
    let err = ProxyHarness::start("model_list: 3\n").await.unwrap_err();
    assert!(!err.to_string().is_empty());
}
