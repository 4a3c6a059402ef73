//! Starts the proxy from a YAML string on `127.0.0.1:0`, as the binary would,
//! minus the CLI: load and validate the config, build the state, serve.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use switchyard_testkit::{MockUpstream, ProxyHarness, yaml_with};
//! let mock = MockUpstream::start().await;
//! let yaml = yaml_with(
//!     "model_list:\n  - model_name: gpt\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: {mock_url}\n      api_key: sk-test\n",
//!     &[("mock_url", &mock.url())],
//! );
//! let proxy = ProxyHarness::start(&yaml).await?;
//! let response = proxy
//!     .client()
//!     .post(proxy.url_for("/v1/chat/completions"))
//!     .json(&serde_json::json!({ "model": "gpt", "messages": [] }))
//!     .send()
//!     .await?;
//! assert_eq!(response.status(), 200);
//! proxy.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::net::SocketAddr;

use anyhow::Context as _;
use switchyard_router::config::{Config, ConfigWarning};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running proxy. Dropping it stops the server; [`shutdown`](Self::shutdown)
/// stops it gracefully and waits.
#[derive(Debug)]
pub struct ProxyHarness {
    addr: SocketAddr,
    client: reqwest::Client,
    warnings: Vec<ConfigWarning>,
    state: switchyard_server::AppState,
    stop: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl ProxyHarness {
    /// Loads `yaml` (with `os.environ/NAME` resolved from the process
    /// environment) and serves it on `127.0.0.1:0`.
    pub async fn start(yaml: &str) -> anyhow::Result<ProxyHarness> {
        Self::start_with_env(yaml, &[]).await
    }

    /// Like [`start`](Self::start), but `os.environ/NAME` looks in `env` first,
    /// then in the process environment: tests running in parallel cannot
    /// safely set process variables.
    pub async fn start_with_env(yaml: &str, env: &[(&str, &str)]) -> anyhow::Result<ProxyHarness> {
        Self::start_with(yaml, env, switchyard_server::ServerOptions::default()).await
    }

    /// Like [`start`](Self::start), with the given limits on clients (short
    /// timeouts, a small connection cap...).
    pub async fn start_with_options(
        yaml: &str,
        options: switchyard_server::ServerOptions,
    ) -> anyhow::Result<ProxyHarness> {
        Self::start_with(yaml, &[], options).await
    }

    async fn start_with(
        yaml: &str,
        env: &[(&str, &str)],
        options: switchyard_server::ServerOptions,
    ) -> anyhow::Result<ProxyHarness> {
        let lookup = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
                .or_else(|| std::env::var(name).ok())
        };
        let (config, warnings) = load(yaml, &lookup)?;
        let state =
            switchyard_server::AppState::from_config(config).context("building the proxy state")?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding 127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let shutdown = stop.clone().cancelled_owned();
        // Owned by this harness: aborted on drop, awaited by `shutdown`.
        let task = tokio::spawn(switchyard_server::serve_with(
            listener,
            state.clone(),
            options,
            shutdown,
        ));
        // Environment proxies must not capture loopback traffic.
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .context("building the test client")?;
        Ok(ProxyHarness {
            addr,
            client,
            warnings,
            state,
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT{path}`, e.g. `url_for("/v1/chat/completions")`.
    pub fn url_for(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A client for the proxy (no environment proxies; cheap to clone).
    pub fn client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// Warnings the config loader reported (unused keys, footguns).
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.warnings
    }

    /// The server's state, e.g. to read the router's in-flight counters.
    pub fn state(&self) -> &switchyard_server::AppState {
        &self.state
    }

    /// Triggers graceful shutdown and waits for the server to finish its
    /// in-flight requests.
    ///
    /// # Panics
    /// If the server task panicked or failed: the test should see it.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.await
                .expect("proxy task panicked")
                .expect("proxy server failed");
        }
    }
}

impl Drop for ProxyHarness {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The one call into the config loader.
fn load(
    yaml: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<(Config, Vec<ConfigWarning>)> {
    let loaded = switchyard_router::config::load_str(yaml, lookup)?;
    Ok((loaded.config, loaded.warnings))
}

/// Substitutes `{name}` placeholders, e.g. `yaml_with(t, &[("mock_url", &mock.url())])`.
/// Only the given names are replaced, so YAML flow maps (`{a: 1}`) are left alone.
pub fn yaml_with(template: &str, vars: &[(&str, &str)]) -> String {
    vars.iter()
        .fold(template.to_owned(), |yaml, (name, value)| {
            yaml.replace(&format!("{{{name}}}"), value)
        })
}

#[cfg(test)]
mod tests {
    use super::yaml_with;

    #[test]
    fn yaml_with_replaces_only_named_placeholders() {
        let yaml = yaml_with(
            "a: {mock_url}\nb: {x: 1}\nc: {mock_url}/v1\n",
            &[("mock_url", "http://h")],
        );
        assert_eq!(yaml, "a: http://h\nb: {x: 1}\nc: http://h/v1\n");
    }
}
