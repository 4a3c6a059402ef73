//! Log setup and the one INFO line per request.

use std::io::IsTerminal;
use std::time::Instant;

use axum::http::StatusCode;
use switchyard_router::Deployment;
use tracing::info;
use tracing_subscriber::EnvFilter;

use crate::log_format::TextFormat;
use crate::log_sink;

/// The target of the per-request log line (the module's own path, spelled out so
/// handlers can ask whether that line is on).
pub(crate) const REQUEST_LOG_TARGET: &str = "switchyard_server::logging";

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
        // Colours for a person at a terminal only: escape codes have no place
        // in a log file or a pipe, and drawing them was a third of the cost
        // of each request's log line.
        .with_ansi(colours_wanted())
        .with_writer(log_sink::stderr());
    // A second initialisation (tests starting several servers) is harmless: keep the first.
    let _ = match format {
        LogFormat::Text => builder.event_format(TextFormat::default()).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Writes the log lines still waiting in the batch (see [`log_sink`]); call
/// before the process exits.
pub fn flush_logs() {
    log_sink::stderr().flush_pending();
}

fn colours_wanted() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// What the request line needs from the request, taken before it is handed on.
#[derive(Debug)]
pub(crate) struct RequestLine {
    start: Instant,
    method: String,
    path: String,
}

impl RequestLine {
    /// Starts the line, or `None` when INFO is off: then nothing is copied
    /// and no clock is read.
    pub(crate) fn start(method: &str, path: &str) -> Option<Self> {
        tracing::enabled!(tracing::Level::INFO).then(|| Self {
            start: Instant::now(),
            method: method.to_owned(),
            path: path.to_owned(),
        })
    }

    /// Logs method, path, model group, deployment, status and duration.
    pub(crate) fn finish(self, status: StatusCode, route: Option<&Deployment>) {
        // Strings as `Display`: a path, a group name and an id need no quoting
        // (the head parser admits no space or control character in a path),
        // and the `Debug` escaping of each character was a tenth of the line's cost.
        info!(
            target: REQUEST_LOG_TARGET,
            method = %self.method,
            path = %self.path,
            model_group = route.map(|r| display(r.model_group.as_str())),
            deployment_id = route.map(|r| display(r.id.as_str())),
            status = status.as_u16(),
            duration_ms = self.start.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
    }
}
