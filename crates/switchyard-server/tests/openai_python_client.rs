//! The official `openai` Python client against the running proxy.
//!
//! `scripts/test.sh` installs the client into `.venv` and exports
//! `SWITCHYARD_TEST_PYTHON`; without it this test fails and says so.

use std::path::PathBuf;

use switchyard_testkit::{MockUpstream, ProxyHarness, Reply};

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("SWITCHYARD_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "the openai Python client is missing: run ./scripts/test.sh (it creates .venv with it) or set SWITCHYARD_TEST_PYTHON"
    );
    venv
}

#[tokio::test]
async fn the_official_openai_client_works_against_the_proxy() {
    let python = python();
    let mock = MockUpstream::start().await;
    let flaky = MockUpstream::start().await;
    flaky.set_default(Reply::error(429, "slow down").header("retry-after", "1"));
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt-4o
    litellm_params: {{ model: openai/gpt-4o, api_base: {url}, api_key: sk-up }}
  - model_name: text-embedding-3-small
    litellm_params: {{ model: openai/text-embedding-3-small, api_base: {url}, api_key: sk-up }}
  - model_name: flaky
    litellm_params: {{ model: openai/gpt-4o, api_base: {flaky}, api_key: sk-up }}
general_settings:
  master_key: sk-compat-test
"#,
        url = mock.url(),
        flaky = flaky.url()
    );
    let proxy = ProxyHarness::start(&yaml).await.unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/openai_compat.py");
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(format!("{}/v1", proxy.url()))
        .arg("sk-compat-test")
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "openai client checks failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("openai client compatibility: ok"),
        "{stdout}"
    );
    assert!(
        mock.call_count() >= 4,
        "the client's calls reached the upstream"
    );
}
