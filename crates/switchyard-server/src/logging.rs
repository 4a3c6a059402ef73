//! Log setup and the one INFO line per request.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tracing::info;
use tracing_subscriber::EnvFilter;

/// Which deployment served a request, attached to the response for the log line.
#[derive(Debug, Clone)]
pub(crate) struct RouteInfo {
    pub(crate) model_group: String,
    pub(crate) deployment_id: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Installs the global subscriber. `RUST_LOG`, when set, wins over `debug`.
pub fn init_tracing(debug: bool, format: LogFormat) {
    let default = if debug {
        "debug,hyper=info,h2=info,reqwest=info,rustls=info"
    } else {
        "info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests starting several servers) is harmless: keep the first.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Logs method, path, model group, deployment, status and duration of every request.
pub(crate) async fn log_request(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let route = response.extensions().get::<RouteInfo>();
    info!(
        %method,
        path,
        model_group = route.map(|r| r.model_group.as_str()),
        deployment_id = route.map(|r| r.deployment_id.as_str()),
        status = response.status().as_u16(),
        duration_ms = start.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}
