//! HTTPS upstreams, the production case: the `switchyard` binary reaches an
//! `https://` `api_base` through its own HTTP/1.1 client over rustls, and
//! trusts the roots `SSL_CERT_FILE` names (as httpx does for LiteLLM), so a
//! certificate nobody vouches for is refused, never sent the key.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchyard_testkit::MockUpstream;

/// The proxy binary on a free port; killed when dropped.
struct Proxy {
    child: Child,
    port: u16,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    async fn start(mock: &MockUpstream, trusted_cert_pem: &str, dir: &Path) -> Proxy {
        let cert_file = dir.join("roots.pem");
        std::fs::write(&cert_file, trusted_cert_pem).unwrap();
        let config = dir.join("config.yaml");
        std::fs::write(
            &config,
            format!(
                "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: {}\n      api_key: sk-upstream-secret\n",
                mock.url()
            ),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .arg("--config")
            .arg(&config)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .env("SSL_CERT_FILE", &cert_file)
            .env_remove("SSL_CERT_DIR")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let proxy = Proxy { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        let ready = format!("http://127.0.0.1:{port}/health/readiness");
        while reqwest::get(&ready).await.is_err() {
            assert!(Instant::now() < deadline, "the proxy did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        proxy
    }

    async fn chat(&self, stream: bool) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/v1/chat/completions",
                self.port
            ))
            .json(&json!({
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": "hi"}],
                "stream": stream,
            }))
            .send()
            .await
            .unwrap()
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchyard-tls-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn an_https_upstream_is_reached_plain_and_streamed_with_the_roots_ssl_cert_file_names() {
    let mock = MockUpstream::start_tls().await;
    assert!(mock.url().starts_with("https://127.0.0.1:"));
    let dir = temp_dir("trusted");
    let proxy = Proxy::start(&mock, mock.cert_pem().unwrap(), &dir).await;

    for _ in 0..2 {
        let resp = proxy.chat(false).await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["object"], "chat.completion", "{body}");
        assert!(
            body["choices"][0]["message"]["content"].is_string(),
            "{body}"
        );
    }

    let resp = proxy.chat(true).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("chat.completion.chunk"), "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");

    let calls = mock.calls();
    assert_eq!(calls.len(), 3);
    for call in &calls {
        assert_eq!(call.path, "/v1/chat/completions");
        assert_eq!(
            call.headers.get("authorization").unwrap(),
            "Bearer sk-upstream-secret"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_upstream_certificate_no_trusted_root_vouches_for_is_refused_before_the_request() {
    let mock = MockUpstream::start_tls().await;
    // Another self-signed certificate: valid, but not the mock's.
    let stranger = MockUpstream::start_tls().await;
    let dir = temp_dir("untrusted");
    let proxy = Proxy::start(&mock, stranger.cert_pem().unwrap(), &dir).await;

    let started = Instant::now();
    let resp = proxy.chat(false).await;
    assert_eq!(resp.status(), 500);
    let body: Value = resp.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("certificate"), "{message}");
    assert!(!message.contains("sk-upstream-secret"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a refusal, not a hang"
    );
    // The handshake failed, so no request (and no key) reached the upstream.
    assert_eq!(mock.call_count(), 0);
    let _ = std::fs::remove_dir_all(dir);
}
