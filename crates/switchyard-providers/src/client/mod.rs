//! The one place the upstream HTTP client is built.
//!
//! Every provider shares one [`HttpClient`] (one connection pool). The
//! defaults follow the measurements in the design notes: HTTP/1.1 keep-alive
//! (an HTTP/2 connection caps concurrent streams and hyper will not open a
//! second one, so a busy deployment would queue behind one socket), a large
//! idle pool, and `TCP_NODELAY` so small SSE frames are not held back by Nagle.
//!
//! The client is hyper-util's pooled client over rustls (aws-lc-rs, the
//! platform's certificate verifier), not reqwest: reqwest re-parses the URL
//! and runs a redirect layer on every request, which measured at about a
//! fifth of the proxy's own CPU per request (`bench/`). A proxy that only
//! ever POSTs bytes to a fixed URL needs none of it.
//!
//! Like reqwest and LiteLLM, the client honours `HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY` and `NO_PROXY` ([`ProxyRules`]); the `connect` module opens the
//! connections, directly or through the proxy.

mod connect;
mod proxy;

pub use proxy::{IgnoredProxy, ProxyRules};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, HeaderValue, PROXY_AUTHORIZATION, USER_AGENT};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use self::connect::UpstreamConnector;

/// The body of every upstream request: bytes already in memory.
pub type RequestBody = Full<Bytes>;

/// An upstream response; its body is read with a cap by the caller.
pub type Response = http::Response<hyper::body::Incoming>;

/// Why no response arrived (connect failure, broken connection before the
/// head, TLS failure).
pub type SendError = hyper_util::client::legacy::Error;

type Connector = hyper_rustls::HttpsConnector<UpstreamConnector>;

/// The shared upstream client: cheap to clone, clones share the pool.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<Connector, RequestBody>,
    /// Only for `Proxy-Authorization` on plain-HTTP requests; `None` when no
    /// proxy is configured, so `send` does no proxy work at all.
    proxy: Option<Arc<Matcher>>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Sends one request. Adds `user-agent` and `accept` unless present;
    /// `host` and `content-length` are set by hyper. Never follows redirects
    /// (they would re-send the body, and the key, somewhere else).
    ///
    /// An `http://` request that goes through a proxy with credentials gets
    /// its `Proxy-Authorization`; `https://` requests carry theirs in the
    /// CONNECT request instead.
    pub fn send(
        &self,
        mut request: http::Request<RequestBody>,
    ) -> hyper_util::client::legacy::ResponseFuture {
        let headers = request.headers_mut();
        headers
            .entry(USER_AGENT)
            .or_insert(HeaderValue::from_static(concat!(
                "switchyard/",
                env!("CARGO_PKG_VERSION")
            )));
        headers
            .entry(ACCEPT)
            .or_insert(HeaderValue::from_static("*/*"));
        if let Some(proxy) = &self.proxy
            && let Some(auth) = proxy::forward_authorization(proxy, request.uri())
        {
            request.headers_mut().insert(PROXY_AUTHORIZATION, auth);
        }
        self.inner.request(request)
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
    /// Allow HTTP/2 when a TLS upstream offers it through ALPN. Off by
    /// default: see the module documentation.
    pub http2: bool,
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
            http2: false,
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
    let connector = if opts.http2 {
        tls.enable_http1().enable_http2().wrap_connector(upstream)
    } else {
        tls.enable_http1().wrap_connector(upstream)
    };
    let inner = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(opts.pool_idle_timeout)
        .pool_max_idle_per_host(opts.pool_max_idle_per_host)
        .pool_timer(TokioTimer::new())
        .build(connector);
    HttpClient { inner, proxy }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_with_defaults_and_with_http2() {
        let _ = build_http_client(&HttpClientOptions::default());
        let _ = build_http_client(&HttpClientOptions {
            http2: true,
            ..Default::default()
        });
    }
}
