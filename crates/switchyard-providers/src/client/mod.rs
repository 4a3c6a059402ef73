//! The one place the upstream HTTP client is built.
//!
//! Every provider shares one [`HttpClient`] (one connection pool). The
//! defaults follow the measurements in the design notes: HTTP/1.1 keep-alive
//! (an HTTP/2 connection caps concurrent streams and hyper will not open a
//! second one, so a busy deployment would queue behind one socket), a large
//! idle pool, and `TCP_NODELAY` so small SSE frames are not held back by Nagle.
//!
//! The exchange itself is Switchyard's own (`exchange.rs`, `body.rs`,
//! `framing.rs`), not hyper's or reqwest's client: a proxy that only ever
//! POSTs bytes to a fixed URL and reads one response needs neither reqwest's
//! per-request URL parsing and redirect layer (about a fifth of the proxy's
//! CPU) nor hyper's per-connection task and channels (about a quarter of its
//! user CPU): the request head is written once per URL ([`PreparedRequest`])
//! and the exchange runs in the request's own task. Connections are still
//! opened by hyper-util's connector (DNS, TCP options, connect timeout) with
//! rustls on top (`hyper-rustls`, aws-lc-rs, the platform's verifier).
//!
//! Like reqwest and LiteLLM, the client honours `HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY` and `NO_PROXY` ([`ProxyRules`]); the `connect` module opens the
//! connections, directly or through the proxy.

mod body;
mod connect;
mod exchange;
pub(crate) mod framing;
mod pool;
mod proxy;
mod request;

pub use body::{Body, BodyError};
pub use exchange::{Response, SendError};
pub use framing::{ChunkedState, Decoded, FramingHeaders, ProtocolError, line_span};
pub use proxy::{IgnoredProxy, ProxyRules};
pub use request::PreparedRequest;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http::header::{HeaderName, HeaderValue};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tower_service::Service;

use self::connect::UpstreamConnector;
use self::exchange::Conn;
use self::pool::OriginPool;

type Connector = hyper_rustls::HttpsConnector<UpstreamConnector>;

/// The shared upstream client: cheap to clone, clones share the pools.
#[derive(Clone)]
pub struct HttpClient {
    connector: Connector,
    /// `None` when no proxy is configured, so preparing a request does no
    /// proxy work at all.
    proxy: Option<Arc<Matcher>>,
    /// One pool per origin, shared by every request prepared for it.
    pools: Arc<Mutex<HashMap<String, Arc<OriginPool>>>>,
    pool_idle_timeout: Duration,
    pool_max_idle_per_host: usize,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Prepares `POST uri` with `headers` (plus `user-agent` and `accept`
    /// unless given; `host` and `content-length` are always written by the
    /// client). Done once per deployment URL, not per request.
    ///
    /// An `http://` URL that goes through a proxy is written in absolute form
    /// with the proxy's `Proxy-Authorization`; `https://` requests carry theirs
    /// in the CONNECT request instead.
    pub fn prepare(&self, uri: &Uri, headers: &[(HeaderName, HeaderValue)]) -> PreparedRequest {
        let forward = self
            .proxy
            .as_ref()
            .and_then(|m| proxy::forward_proxy(m, uri));
        let proxy_auth = forward.clone().flatten();
        let head = request::build_head(uri, headers, forward.is_some(), proxy_auth.as_ref());
        let origin = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or("http"),
            uri.authority().map(|a| a.as_str()).unwrap_or_default()
        );
        let pool = self
            .pools
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(origin)
            .or_insert_with(|| {
                Arc::new(OriginPool::new(
                    self.pool_max_idle_per_host,
                    self.pool_idle_timeout,
                ))
            })
            .clone();
        PreparedRequest {
            uri: uri.clone(),
            head: head.into(),
            pool,
        }
    }

    /// Sends one request with `body` on an idle connection of its origin, or
    /// on a new one. Never follows redirects (they would re-send the body,
    /// and the key, somewhere else). Dropping the future or the response's
    /// body closes the connection.
    ///
    /// A request is never sent twice: when a reused connection turns out to
    /// have been closed by the upstream after our write, that is reported
    /// (and retried by the router, counted as an attempt), since the
    /// upstream may have received it. Connections the upstream closed while
    /// idle are noticed before use and never written to.
    pub async fn send(
        &self,
        request: &PreparedRequest,
        body: Bytes,
    ) -> Result<Response, SendError> {
        let conn = match request.pool.checkout() {
            Some(conn) => conn,
            None => self.connect(&request.uri).await?,
        };
        exchange::exchange(conn, request, &body).await
    }

    async fn connect(&self, uri: &Uri) -> Result<Conn, SendError> {
        let mut connector = self.connector.clone();
        std::future::poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(SendError::Connect)?;
        let io = connector
            .call(uri.clone())
            .await
            .map_err(SendError::Connect)?;
        Ok(Conn::new(TokioIo::new(io)))
    }
}

/// Knobs of the shared upstream client. `Default` gives the production values.
#[derive(Debug, Clone)]
pub struct HttpClientOptions {
    /// Bound on the TCP connect of each new connection, and on the whole
    /// CONNECT tunnel when it goes through a proxy.
    pub connect_timeout: Duration,
    /// How long an idle pooled connection is kept before it is closed.
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per upstream host.
    pub pool_max_idle_per_host: usize,
    /// TCP keep-alive probe interval, so dead peers are noticed on long streams.
    pub tcp_keepalive: Option<Duration>,
    /// Forward proxies for upstream calls. `Default` reads the proxy
    /// variables of the environment once ([`ProxyRules::from_env`]);
    /// [`ProxyRules::none`] connects directly whatever they say.
    pub proxy: ProxyRules,
}

impl Default for HttpClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            // Slightly below the 120 s many load balancers use, so we close first
            // and never write a request onto a connection the peer is closing.
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 1024,
            tcp_keepalive: Some(Duration::from_secs(60)),
            proxy: ProxyRules::from_env(),
        }
    }
}

/// Builds the shared upstream client.
///
/// No whole-request timeout is set here: each attempt carries its own bound
/// (`ProviderRequest::timeout`), and a stream must be able to run for as long
/// as the model keeps generating once its first event has arrived.
///
/// Logs the proxies in use, and warns about every proxy variable it cannot
/// use (naming the variable, never its value).
///
/// # Panics
///
/// If the TLS backend cannot be initialised (no usable crypto provider or
/// certificate verifier), which is a build problem rather than a runtime condition.
pub fn build_http_client(opts: &HttpClientOptions) -> HttpClient {
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_keepalive(opts.tcp_keepalive);
    tcp.set_connect_timeout(Some(opts.connect_timeout));
    opts.proxy.log();
    let proxy = opts.proxy.matcher().cloned();
    let upstream = UpstreamConnector::new(tcp, proxy.clone(), opts.connect_timeout);
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_platform_verifier(rustls::crypto::aws_lc_rs::default_provider())
        .expect("the upstream HTTP client (TLS backend) could not be initialised")
        .https_or_http();
    // HTTP/1.1 only: ALPN never offers h2, so TLS upstreams speak 1.1 too.
    let connector = tls.enable_http1().wrap_connector(upstream);
    HttpClient {
        connector,
        proxy,
        pools: Arc::default(),
        pool_idle_timeout: opts.pool_idle_timeout,
        pool_max_idle_per_host: opts.pool_max_idle_per_host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_with_defaults() {
        let _ = build_http_client(&HttpClientOptions::default());
    }
}
