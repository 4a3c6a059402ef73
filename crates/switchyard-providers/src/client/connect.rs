//! The connector under TLS: opens the byte stream of one new upstream
//! connection, straight to the upstream or through a forward proxy.
//!
//! `hyper_rustls::HttpsConnector` wraps it and runs TLS on top of whatever it
//! returns, so an `https://` upstream behind a proxy is TLS inside a CONNECT
//! tunnel, verified against the upstream's name exactly as without a proxy.
//! It only runs when the pool opens a connection, never per request.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn StdError + Send + Sync>;

/// `HttpConnector`'s future, which hyper-util does not export by name.
type TcpConnecting = <HttpConnector as Service<Uri>>::Future;

/// Opens upstream connections: plain TCP, a TCP connection to an HTTP
/// forward proxy, or a CONNECT tunnel through one.
#[derive(Clone, Debug)]
pub(crate) struct UpstreamConnector {
    /// Carries `TCP_NODELAY`, keep-alive and the connect timeout; used for
    /// the upstream itself and for the proxy alike.
    tcp: HttpConnector,
    /// `None` when no proxy is configured: `call` is then exactly `tcp.call`.
    proxy: Option<Arc<Matcher>>,
    /// Bound on a CONNECT tunnel (TCP connect plus the proxy's answer); the
    /// TCP part is also bounded by `tcp`'s own connect timeout.
    tunnel_timeout: Duration,
}

impl UpstreamConnector {
    pub(crate) fn new(
        tcp: HttpConnector,
        proxy: Option<Arc<Matcher>>,
        tunnel_timeout: Duration,
    ) -> Self {
        Self {
            tcp,
            proxy,
            tunnel_timeout,
        }
    }

    fn tunnel(&self, proxy: &Intercept, dst: Uri) -> Connecting {
        let mut tunnel = Tunnel::new(proxy.uri().clone(), self.tcp.clone());
        if let Some(auth) = proxy.basic_auth() {
            tunnel = tunnel.with_auth(auth.clone());
        }
        // `Tunnel::poll_ready` only forwards to `HttpConnector`, which is
        // always ready, so calling it directly is fine.
        let tunneling = tunnel.call(dst);
        let timeout = self.tunnel_timeout;
        let proxy_uri = proxy.uri().clone();
        Connecting::Tunnel(Box::pin(async move {
            let io = match tokio::time::timeout(timeout, tunneling).await {
                Ok(Ok(io)) => io,
                Ok(Err(e)) => return Err(ViaProxy::boxed(proxy_uri, e)),
                Err(_) => {
                    let e = io::Error::new(io::ErrorKind::TimedOut, "proxy tunnel timed out");
                    return Err(ViaProxy::boxed(proxy_uri, e));
                }
            };
            Ok(UpstreamIo {
                io,
                via_forward_proxy: false,
            })
        }))
    }
}

impl Service<Uri> for UpstreamConnector {
    type Response = UpstreamIo;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.tcp.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let Some(proxy) = self.proxy.as_ref().and_then(|m| m.intercept(&dst)) else {
            return Connecting::Tcp {
                connecting: self.tcp.call(dst),
                proxy: None,
            };
        };
        if dst.scheme() == Some(&http::uri::Scheme::HTTPS) {
            self.tunnel(&proxy, dst)
        } else {
            // Plain HTTP through a forward proxy: the connection goes to the
            // proxy, and the request line carries the absolute URI (hyper-util
            // writes it when the connection reports `proxy(true)`).
            Connecting::Tcp {
                connecting: self.tcp.call(proxy.uri().clone()),
                proxy: Some(proxy.uri().clone()),
            }
        }
    }
}

/// The future of [`UpstreamConnector::call`]. The direct path adds no
/// allocation to `HttpConnector`'s own.
pub(crate) enum Connecting {
    /// A TCP connection, to the upstream (`proxy: None`) or to an HTTP proxy.
    Tcp {
        connecting: TcpConnecting,
        proxy: Option<Uri>,
    },
    /// A CONNECT tunnel through a proxy.
    Tunnel(Pin<Box<dyn Future<Output = Result<UpstreamIo, BoxError>> + Send>>),
}

impl Future for Connecting {
    type Output = Result<UpstreamIo, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Connecting::Tcp { connecting, proxy } => {
                Pin::new(connecting).poll(cx).map(|result| match result {
                    Ok(io) => Ok(UpstreamIo {
                        io,
                        via_forward_proxy: proxy.is_some(),
                    }),
                    Err(e) => Err(match proxy.take() {
                        Some(proxy) => ViaProxy::boxed(proxy, e),
                        // The same error as before proxies existed.
                        None => e.into(),
                    }),
                })
            }
            Connecting::Tunnel(tunneling) => tunneling.as_mut().poll(cx),
        }
    }
}

impl fmt::Debug for Connecting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Connecting::Tcp { proxy: None, .. } => "Connecting::Tcp",
            Connecting::Tcp { proxy: Some(_), .. } => "Connecting::Tcp(proxy)",
            Connecting::Tunnel(_) => "Connecting::Tunnel",
        })
    }
}

/// A failure reaching or talking to the proxy, naming the proxy (its URI
/// never carries credentials: hyper-util strips them when parsing) so an
/// operator can tell it from an upstream failure. The cause stays reachable
/// through `source()`, where timeouts are recognised.
#[derive(Debug)]
struct ViaProxy {
    proxy: Uri,
    source: BoxError,
}

impl ViaProxy {
    fn boxed(proxy: Uri, source: impl Into<BoxError>) -> BoxError {
        Box::new(ViaProxy {
            proxy,
            source: source.into(),
        })
    }
}

impl fmt::Display for ViaProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.proxy.authority() {
            Some(authority) => write!(f, "through the proxy {authority}"),
            None => f.write_str("through the proxy"),
        }
    }
}

impl StdError for ViaProxy {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// One upstream connection's byte stream: a TCP stream, possibly to a proxy.
/// Reads and writes go straight to the socket.
#[derive(Debug)]
pub(crate) struct UpstreamIo {
    io: TokioIo<TcpStream>,
    /// The peer is an HTTP forward proxy (not a tunnel): requests must be
    /// written in absolute form.
    via_forward_proxy: bool,
}

impl Connection for UpstreamIo {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.via_forward_proxy)
    }
}

impl Read for UpstreamIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl Write for UpstreamIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    // Forwarded so hyper keeps writing head and body with one vectored write.
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}
