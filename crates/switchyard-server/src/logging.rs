//! Log setup and the one INFO line per request.

use std::time::Instant;

use axum::http::Method;
use axum::response::Response;
use tracing::info;
use tracing_subscriber::EnvFilter;

/// The target of the per-request log line (the module's own path, spelled out so
/// handlers can ask whether that line is on).
pub(crate) const REQUEST_LOG_TARGET: &str = "switchyard_server::logging";

/// Which deployment served a request, attached to the response for the log line.
#[derive(Debug, Clone)]
pub(crate) struct RouteInfo {
    pub(crate) deployment: std::sync::Arc<switchyard_router::Deployment>,
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
        "debug,hyper=info,hyper_util=info,h2=info,rustls=info"
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

/// What the request line needs from the request, taken before it is handed on.
#[derive(Debug)]
pub(crate) struct RequestLine {
    start: Instant,
    method: Method,
    path: String,
}

impl RequestLine {
    /// Starts the line, or `None` when INFO is off: then nothing is copied
    /// and no clock is read.
    pub(crate) fn start<B>(request: &http::Request<B>) -> Option<Self> {
        tracing::enabled!(tracing::Level::INFO).then(|| Self {
            start: Instant::now(),
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
        })
    }

    /// Logs method, path, model group, deployment, status and duration.
    pub(crate) fn finish(self, response: &Response) {
        let route = response.extensions().get::<RouteInfo>();
        info!(
            target: REQUEST_LOG_TARGET,
            method = %self.method,
            path = self.path,
            model_group = route.map(|r| r.deployment.model_group.as_str()),
            deployment_id = route.map(|r| r.deployment.id.as_str()),
            status = response.status().as_u16(),
            duration_ms = self.start.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
    }
}
