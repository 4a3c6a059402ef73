//! The proxy's HTTP/1.1 server: Switchyard's own, on tokio's sockets.
//!
//! Why not hyper's server: a gateway answers a handful of routes with bodies
//! in memory, and hyper's generic connection driver (a request `HeaderMap`,
//! a body channel, a response `HeaderMap` encoded again, boxed service
//! futures) was about a quarter of a proxied request's instructions. Here
//! the request head stays in the received bytes (headers looked up by name),
//! the answer's header lines are written once per deployment and copied,
//! and head and body leave in one write. The parsing is httparse's; framing
//! follows RFC 9112 and refuses every ambiguous body length.
//!
//! One task per connection, owned by the accept loop, which also keeps the
//! number of connections under a cap (idle ones make room first). Every
//! phase of a request is timed (`options.rs`). At shutdown idle connections
//! and half-sent heads close at once, busy ones after their current answer or
//! at the drain deadline, whichever comes first.

pub(crate) mod body;
pub(crate) mod conn;
pub(crate) mod head;
mod linger;
pub(crate) mod options;
mod refusal;
pub(crate) mod write;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::front_door::FrontDoor;
pub use options::ServerOptions;

/// How far ahead the accept loop keeps a timer armed (see `serve`).
const NEAR_TIMER: Duration = Duration::from_secs(1);

/// At the connection limit, how often idle connections are asked again to
/// make room while none has left.
const PRESSURE_EVERY: Duration = Duration::from_millis(50);

/// After a failed accept (out of descriptors), the pause before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What every connection of one server shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) door: FrontDoor,
    pub(crate) options: ServerOptions,
    /// Graceful shutdown has begun: a connection that is not answering a
    /// request closes.
    pub(crate) stop: CancellationToken,
    /// Wakes idle keep-alive connections, the longest idle first: one at a
    /// time when the server is at its connection limit, all at shutdown.
    pub(crate) evict: Notify,
}

/// Accepts until `shutdown` resolves, then drains the connections (see
/// [`ServerOptions::drain_timeout`]).
pub(crate) async fn serve(
    listener: TcpListener,
    door: FrontDoor,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max_connections = options.effective_max_connections(current_file_limit());
    let shared = Arc::new(Shared {
        door,
        options: options.bounded(),
        stop: CancellationToken::new(),
        evict: Notify::new(),
    });
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    // Every call arms a deadline. On a quiet runtime with no timer due sooner,
    // tokio's timer wheel wakes its driver to take the new one into account:
    // an eventfd write and an extra epoll_wait per request. A timer always
    // due within a second spares that.
    let mut near_timer = tokio::time::interval(NEAR_TIMER);
    near_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if connections.len() >= max_connections {
            // Full: the longest-idle connection makes room; slow heads leave at
            // their timeout. New clients wait in the listen backlog meanwhile.
            shared.evict.notify_one();
            tokio::select! {
                _ = connections.join_next() => {}
                () = tokio::time::sleep(PRESSURE_EVERY) => {}
                () = &mut shutdown => break,
            }
            continue;
        }
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e, &shared).await;
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = near_timer.tick() => continue,
            () = &mut shutdown => break,
        };
        // Small SSE events must not wait for Nagle's algorithm.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        connections.spawn(conn::serve(tcp, peer, shared.clone()));
    }
    drain(listener, &shared, connections).await;
    Ok(())
}

/// Stops accepting, closes idle connections (and half-sent heads) at once,
/// lets calls in flight finish until the drain deadline, then closes the rest.
async fn drain(listener: TcpListener, shared: &Shared, mut connections: JoinSet<()>) {
    drop(listener);
    // Cancelled before the wake-up: an idle connection registers for it,
    // then checks `stop`, so none misses both.
    shared.stop.cancel();
    shared.evict.notify_waiters();
    let finished = tokio::time::timeout(shared.options.drain_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            connections = connections.len(),
            seconds = shared.options.drain_timeout.as_secs_f64(),
            "drain deadline passed; closing the connections still open"
        );
        connections.shutdown().await;
    }
}

/// The soft limit on open files, to size the connection cap by.
fn current_file_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// An accept error is about one connection or a passing shortage (out of file
/// descriptors): log it (at a bounded rate), ask an idle connection to make
/// room, and back off briefly instead of spinning or exiting.
async fn accept_failed(error: &std::io::Error, shared: &Shared) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    refusal::log_accept_error(error);
    shared.evict.notify_one();
    tokio::time::sleep(ACCEPT_BACKOFF).await;
}
