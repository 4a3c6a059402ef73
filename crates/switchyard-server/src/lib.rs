//! Switchyard's proxy: an OpenAI-compatible HTTP API in front of a [`switchyard_router::Router`].
//!
//! [`app`] builds the HTTP service (callable without a socket, for tests);
//! [`serve`] runs it on a listener until a shutdown signal, then lets
//! in-flight requests finish.

mod answer_headers;
mod api_error;
mod auth;
mod browser;
mod call_id;
mod front_door;
mod gate;
mod handlers;
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
/// health, and the OpenAI-shaped 404/405 answers, behind the master key and log line.
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
        .layer(gate::GateLayer::new(state.clone()))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
///
/// HTTP/1.1 (and 1.0) on hyper's connection driver directly, one task per
/// connection: the OpenAI clients and LiteLLM's own server speak HTTP/1.1,
/// and skipping axum's `serve` (protocol sniffing, a rewinding reader, a
/// boxed body and a tower adapter per request) is measurably cheaper per
/// request (`bench/`). Non-proxied routes still go through axum ([`FrontDoor`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let door = app(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    // Copy head and body into one buffer and send it with one plain write:
    // answers and SSE batches are small, and on loopback a two- or
    // three-part writev costs the kernel more than the copy costs us
    // (about 6 % of the CPU per request, `bench/`).
    http.writev(false);
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small SSE events must not wait for Nagle's algorithm.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(tcp), door.clone());
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "client connection ended with an error");
            }
        });
    }
    // Stop accepting, close idle keep-alive connections, let busy ones finish.
    drop(listener);
    connections.shutdown().await;
    Ok(())
}

/// An accept error is about one connection or a passing shortage (out of file
/// descriptors): log it and back off briefly instead of spinning or exiting.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %error, "accepting a connection failed; retrying in 100 ms");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}
