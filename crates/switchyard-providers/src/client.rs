//! The one place the upstream HTTP client is built.
//!
//! Every provider shares one `reqwest::Client` (one connection pool). The
//! defaults follow the measurements in the design notes: HTTP/1.1 keep-alive
//! (an HTTP/2 connection caps concurrent streams and hyper will not open a
//! second one, so a busy deployment would queue behind one socket), a large
//! idle pool, and `TCP_NODELAY` so small SSE frames are not held back by Nagle.

use std::time::Duration;

/// Knobs of the shared upstream client. `Default` gives the production values.
#[derive(Debug, Clone)]
pub struct HttpClientOptions {
    /// Bound on the TCP (and TLS) connect phase of each new connection.
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
        }
    }
}

/// Builds the shared upstream client.
///
/// No whole-request timeout is set here: each attempt carries its own bound
/// (`ProviderRequest::timeout`), and a stream must be able to run for as long
/// as the model keeps generating once its first event has arrived.
///
/// # Panics
///
/// If the TLS backend cannot be initialised (no usable crypto provider), which
/// is a build problem rather than a runtime condition.
pub fn build_http_client(opts: &HttpClientOptions) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(opts.connect_timeout)
        .pool_idle_timeout(opts.pool_idle_timeout)
        .pool_max_idle_per_host(opts.pool_max_idle_per_host)
        .tcp_nodelay(true)
        .tcp_keepalive(opts.tcp_keepalive)
        // Redirects would re-send the body (and the key) somewhere else.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")));
    if !opts.http2 {
        builder = builder.http1_only();
    }
    builder
        .build()
        .expect("the upstream HTTP client (TLS backend) could not be initialised")
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
