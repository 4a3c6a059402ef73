//! Switchyard's proxy: an OpenAI-compatible HTTP API in front of a [`switchyard_router::Router`].
//!
//! [`app`] builds the HTTP service (callable without a socket, for tests);
//! [`serve`] runs it on a listener until a shutdown signal, then lets
//! in-flight requests finish.

mod answer;
mod answer_headers;
mod api_error;
mod auth;
mod browser;
mod call_id;
mod cost_headers;
mod front_door;
#[doc(hidden)]
pub mod fuzzing;
mod handlers;
mod http1;
mod log_format;
mod log_sink;
mod logging;
mod route_headers;
mod sse;
mod upstream_headers;

use std::future::Future;
use std::sync::Arc;

use axum::routing::{any, get};
use secrecy::SecretString;
use switchyard_router::Router;
use switchyard_router::config::Config;
use tokio::net::TcpListener;

pub use api_error::ApiError;
pub use front_door::FrontDoor;
pub use http1::ServerOptions;
pub use http1::options::{DEFAULT_MAX_CONNECTIONS, connection_cap, raise_file_limit};
pub use logging::{LogFormat, flush_logs, init_tracing};

/// Default cap on request bodies: large enough for base64 images in chat.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Everything the handlers share. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    router: Router,
    master_key: Option<Arc<SecretString>>,
    max_body_bytes: usize,
    answer_headers: Arc<answer_headers::AnswerHeaders>,
}

impl AppState {
    /// Builds the router and server state from a validated config.
    pub fn from_config(config: Config) -> anyhow::Result<Self> {
        let master_key = config.general_settings.master_key.clone().map(Arc::new);
        let router = Router::from_config(config).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(|e| format!("  - {e}")).collect();
            anyhow::anyhow!("invalid config:\n{}", lines.join("\n"))
        })?;
        Ok(Self::new(router, master_key))
    }

    /// State around an already-built router.
    pub fn new(router: Router, master_key: Option<Arc<SecretString>>) -> Self {
        Self {
            answer_headers: Arc::new(answer_headers::AnswerHeaders::new(&router)),
            router,
            master_key,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// Caps request bodies at `bytes`.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The router requests go to.
    pub fn router(&self) -> &Router {
        &self.router
    }
}

/// The proxy as a tower service, callable without a socket (what [`serve`] serves).
pub fn app(state: AppState) -> FrontDoor {
    FrontDoor::new(state)
}

/// Every route but the proxied POSTs (which [`FrontDoor`] handles itself): models,
/// health, and the OpenAI-shaped 404/405 answers. [`FrontDoor`] has checked the
/// master key from the request head before a request gets here.
fn other_routes(state: AppState) -> axum::Router {
    let mut api = axum::Router::new();
    // LiteLLM serves every OpenAI route with and without the `/v1` prefix.
    for prefix in ["", "/v1"] {
        // A proxied path reaches axum only with another method than POST.
        for (path, _) in front_door::PROXIED_ROUTES {
            api = api.route(
                &format!("{prefix}{path}"),
                any(handlers::method_not_allowed),
            );
        }
        api = api
            .route(
                &format!("{prefix}/models"),
                get(handlers::models).fallback(handlers::method_not_allowed),
            )
            .route(
                &format!("{prefix}/models/{{*model}}"),
                get(handlers::model).fallback(handlers::method_not_allowed),
            );
    }
    api.route("/health/liveliness", get(handlers::liveliness))
        .route("/health/liveness", get(handlers::liveliness))
        .route("/health/readiness", get(handlers::readiness))
        .fallback(handlers::fallback)
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish,
/// with the default [`ServerOptions`].
///
/// HTTP/1.1 (and 1.0), Switchyard's own server (`http1`): the OpenAI
/// clients and LiteLLM's own server speak HTTP/1.1.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, ServerOptions::default(), shutdown).await
}

/// [`serve`] with the given limits on clients (timeouts, connection cap,
/// drain deadline).
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    http1::serve(listener, app(state), options, shutdown).await
}
