//! `switchyard`: the proxy binary. Accepts LiteLLM's CLI spellings so that
//! replacing `litellm` by `switchyard` in a launch command is the whole migration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use switchyard_router::Router;
use switchyard_router::config::{Loaded, load_file};
use switchyard_router::pricing::PriceTable;
use switchyard_server::{
    AppState, LogFormat, ServerOptions, flush_logs, init_tracing, raise_file_limit, serve_with,
};
use tracing::{error, info, warn};

/// mimalloc instead of the system allocator: the proxy allocates and frees
/// many small objects per request (headers, futures, body pieces); glibc's
/// malloc/free was 14-18% of the proxy's CPU, mimalloc cuts the instructions
/// per proxied request by about 10-12%. Built as v2 without transparent huge
/// pages (workspace `Cargo.toml`): v3 with THP raised the peak RSS at 256
/// concurrent requests from ~40 MB to ~55 MB; v2 without THP stays at
/// glibc's level.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "switchyard",
    version,
    about = "An OpenAI-compatible LLM gateway that reads LiteLLM's config.yaml"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// LiteLLM-format config file.
    #[arg(long, short = 'c', global = true, env = "CONFIG_FILE_PATH")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    host: String,
    /// Port to listen on.
    #[arg(long, short = 'p', default_value_t = 4000, env = "PORT")]
    port: u16,
    /// DEBUG-level logs (LiteLLM's `--detailed_debug`).
    #[arg(long = "detailed_debug", alias = "detailed-debug")]
    detailed_debug: bool,
    /// INFO-level logs (LiteLLM's `--debug`; INFO is already the default).
    #[arg(long)]
    debug: bool,
    /// Log line format.
    #[arg(long = "log-format", value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Treat every config warning (unused or unimplemented key) as an error.
    #[arg(long, global = true)]
    strict: bool,
    /// Largest accepted request body, in bytes.
    #[arg(long = "max-body-bytes", default_value_t = switchyard_server::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// A LiteLLM-format `model_prices_and_context_window.json` merged over the
    /// built-in price table (prices and context windows).
    #[arg(long = "model-prices", env = "SWITCHYARD_MODEL_PRICES", global = true)]
    model_prices: Option<PathBuf>,
    /// Seconds a client has to send a whole request head.
    #[arg(long = "head-timeout", value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    head_timeout: Duration,
    /// Seconds an idle keep-alive connection is kept (LiteLLM's `--keepalive_timeout`).
    #[arg(long = "keepalive_timeout", alias = "keepalive-timeout", value_name = "SECONDS", default_value = "75", value_parser = seconds)]
    keepalive_timeout: Duration,
    /// Seconds a request body may make no progress before a 408.
    #[arg(long = "body-timeout", value_name = "SECONDS", default_value = "60", value_parser = seconds)]
    body_timeout: Duration,
    /// Seconds a client may read nothing of its answer before it is dropped
    /// (its upstream call cancelled).
    #[arg(long = "send-timeout", value_name = "SECONDS", default_value = "60", value_parser = seconds)]
    send_timeout: Duration,
    /// Open client connections at most [default: 10000, and never above what
    /// the file limit allows].
    #[arg(long = "max-connections", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: Option<u32>,
    /// Seconds calls in flight may take to finish after SIGTERM/SIGINT before
    /// the remaining connections are closed.
    #[arg(long = "drain-timeout", value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    drain_timeout: Duration,
    /// Accepted for LiteLLM compatibility; Switchyard always uses every core of one process.
    #[arg(long = "num_workers", alias = "num-workers", hide = true)]
    num_workers: Option<u32>,
}

/// A positive number of seconds, at most a day, for the timeout flags.
fn seconds(text: &str) -> Result<Duration, String> {
    const MAX_SECONDS: f64 = 86_400.0;
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= MAX_SECONDS) {
        return Err(format!(
            "{text} must be above 0 and at most {MAX_SECONDS} seconds"
        ));
    }
    switchyard_types::seconds::duration_from_secs(secs)
        .ok_or_else(|| format!("{text} is out of range"))
}

impl Cli {
    /// The limits on clients the flags set.
    fn server_options(&self) -> ServerOptions {
        ServerOptions {
            head_timeout: self.head_timeout,
            keepalive_timeout: self.keepalive_timeout,
            body_timeout: self.body_timeout,
            send_timeout: self.send_timeout,
            max_connections: self.max_connections.map(|n| n as usize),
            drain_timeout: self.drain_timeout,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a config file and exit non-zero on any problem.
    Check,
}

fn main() -> ExitCode {
    let code = start(Cli::parse());
    // Log lines are written in batches: the last ones go out before the exit.
    flush_logs();
    code
}

fn start(cli: Cli) -> ExitCode {
    let Some(config_path) = cli.config.clone() else {
        eprintln!("error: --config FILE is required");
        return ExitCode::from(2);
    };
    let loaded = match load_file(&config_path) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {}: {e}", config_path.display());
            return ExitCode::FAILURE;
        }
    };
    if let Some(Command::Check) = cli.command {
        return check(
            &config_path,
            &loaded,
            cli.strict,
            cli.model_prices.as_deref(),
        );
    }
    let debug = cli.detailed_debug || wants_debug(&loaded);
    init_tracing(debug, cli.log_format);
    let state = match build_state(&loaded, cli.model_prices.as_deref()) {
        Ok(state) => state.with_max_body_bytes(cli.max_body_bytes),
        Err(e) => {
            eprintln!("error: {}: {e:#}", config_path.display());
            return ExitCode::FAILURE;
        }
    };
    let warnings: Vec<_> = loaded
        .warnings
        .iter()
        .chain(state.router().warnings())
        .collect();
    for w in &warnings {
        warn!(path = %w.path, "config: {}", w.message);
    }
    for (group, paths) in Serving::of(&loaded, state.router()).empty_groups {
        warn!(
            model_group = %group,
            "config: no routable deployment in this model group (every one is skipped: {})",
            paths.join(", ")
        );
    }
    if cli.strict && !warnings.is_empty() {
        error!(count = warnings.len(), "--strict: config has warnings");
        return ExitCode::FAILURE;
    }
    if cli.num_workers.is_some() {
        warn!("--num_workers is ignored: one Switchyard process uses every core");
    }
    let runtime = match runtime_builder().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, state)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// One worker thread per usable core. On a single core (pinned with
/// `taskset`, or a one-CPU cgroup quota) the current-thread scheduler does the
/// same work without the multi-thread one's cross-thread wake-ups and atomics
/// (about 5% less CPU per proxied request in `bench/`'s pinned setup).
fn runtime_builder() -> tokio::runtime::Builder {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if cores == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    }
}

fn wants_debug(loaded: &Loaded) -> bool {
    let c = &loaded.config;
    c.litellm_settings.set_verbose == Some(true)
        || c.router_settings.set_verbose == Some(true)
        || c.router_settings
            .debug_level
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case("debug"))
}

/// The server state: the config's router, with the user's price file when given.
fn build_state(
    loaded: &Loaded,
    model_prices: Option<&std::path::Path>,
) -> anyhow::Result<AppState> {
    let Some(path) = model_prices else {
        return AppState::from_config(loaded.config.clone());
    };
    let prices = PriceTable::from_path(path)
        .map_err(|e| anyhow::anyhow!("--model-prices {}: {e}", path.display()))?
        .merged_over(PriceTable::builtin());
    let master_key = loaded
        .config
        .general_settings
        .master_key
        .clone()
        .map(std::sync::Arc::new);
    let router = Router::builder()
        .config(loaded.config.clone())
        .price_table(prices)
        .build()
        .map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(|e| format!("  - {e}")).collect();
            anyhow::anyhow!("invalid config:\n{}", lines.join("\n"))
        })?;
    Ok(AppState::new(router, master_key))
}

fn check(
    path: &std::path::Path,
    loaded: &Loaded,
    strict: bool,
    model_prices: Option<&std::path::Path>,
) -> ExitCode {
    let state = match build_state(loaded, model_prices) {
        Ok(state) => state,
        Err(e) => {
            for w in &loaded.warnings {
                eprintln!("warning: {w}");
            }
            eprintln!("error: {}: {e:#}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let warnings: Vec<_> = loaded
        .warnings
        .iter()
        .chain(state.router().warnings())
        .collect();
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let serving = Serving::of(loaded, state.router());
    for (group, paths) in &serving.empty_groups {
        eprintln!(
            "warning: model group {group:?} has no routable deployment (every one is skipped: {})",
            paths.join(", ")
        );
    }
    println!("{}: {}", path.display(), serving.summary(warnings.len()));
    let mut failed = false;
    if strict && !warnings.is_empty() {
        eprintln!("error: {} warning(s) with --strict", warnings.len());
        failed = true;
    }
    if strict && !serving.empty_groups.is_empty() {
        eprintln!(
            "error: {} model group(s) without a routable deployment with --strict",
            serving.empty_groups.len()
        );
        failed = true;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// What a loaded config will serve: `check`'s summary.
struct Serving {
    /// Deployments the router routes to.
    routable: usize,
    /// Deployments in `model_list` (routable or skipped).
    total: usize,
    /// Model groups named in `model_list`.
    groups: usize,
    /// Model groups every deployment of which was skipped, with the skipped paths, in
    /// config order.
    empty_groups: Vec<(String, Vec<String>)>,
}

impl Serving {
    fn of(loaded: &Loaded, router: &Router) -> Self {
        // Group names by first appearance: the loaded deployments', then the skipped ones'
        // (a group whose every deployment is skipped appears only there, in config order).
        let mut groups: Vec<&str> = Vec::new();
        let names = loaded
            .config
            .model_list
            .iter()
            .map(|d| d.model_name.as_str())
            .chain(loaded.skipped.iter().map(|s| s.model_name.as_str()));
        for name in names {
            if !groups.contains(&name) {
                groups.push(name);
            }
        }
        let empty_groups = groups
            .iter()
            .filter(|g| router.deployments(g).is_empty())
            .map(|g| {
                let paths = loaded
                    .skipped
                    .iter()
                    .filter(|s| s.model_name == *g)
                    .map(|s| s.path.clone())
                    .collect();
                ((*g).to_owned(), paths)
            })
            .collect();
        Serving {
            routable: router.all_deployments().count(),
            total: loaded.config.model_list.len() + loaded.skipped.len(),
            groups: groups.len(),
            empty_groups,
        }
    }

    /// `ok: 3 of 4 deployments routable, 2 of 3 model groups served, 1 warning`.
    fn summary(&self, warnings: usize) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let status = if self.empty_groups.is_empty() {
            "ok"
        } else {
            "served in part"
        };
        format!(
            "{status}: {} of {} routable, {} of {} served, {}",
            self.routable,
            plural(self.total, "deployment", "deployments"),
            self.groups - self.empty_groups.len(),
            plural(self.groups, "model group", "model groups"),
            plural(warnings, "warning", "warnings"),
        )
    }
}

async fn run(cli: Cli, state: AppState) -> anyhow::Result<()> {
    let host: std::net::IpAddr = cli
        .host
        .parse()
        .map_err(|e| anyhow::anyhow!("--host {}: {e}", cli.host))?;
    let addr = SocketAddr::new(host, cli.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let options = cli.server_options();
    let file_limit = raise_file_limit();
    let max_connections = options.effective_max_connections(file_limit);
    if options
        .max_connections
        .is_some_and(|asked| asked > max_connections)
    {
        warn!(
            max_connections,
            file_limit, "--max-connections lowered to what the open-file limit allows"
        );
    }
    info!(address = %listener.local_addr()?, models = ?state.router().model_names(), max_connections, "switchyard listening");
    serve_with(listener, state, options, shutdown_signal()).await?;
    info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    info!("shutdown signal received; finishing in-flight requests");
}
