//! Switchyard's proxy: an OpenAI-compatible HTTP API in front of a [`switchyard_router::Router`].

use std::future::Future;

use switchyard_router::config::Config;
use tokio::net::TcpListener;

/// Everything the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    config: std::sync::Arc<Config>,
}

impl AppState {
    /// Builds the router and server state from a validated config.
    pub fn from_config(config: Config) -> anyhow::Result<Self> {
        Ok(Self { config: std::sync::Arc::new(config) })
    }
}

/// The axum application, callable without a socket.
pub fn app(state: AppState) -> axum::Router {
    let _ = state.config;
    axum::Router::new()
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}
