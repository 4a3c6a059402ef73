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
//! One task per connection, tracked; at shutdown idle connections close at
//! once and busy ones after their current answer.

pub(crate) mod body;
pub(crate) mod conn;
pub(crate) mod head;
pub(crate) mod write;

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::front_door::FrontDoor;

/// How far ahead the accept loop keeps a timer armed (see `serve`).
const NEAR_TIMER: Duration = Duration::from_secs(1);

/// Accepts until `shutdown` resolves, then waits for the connections to finish.
pub(crate) async fn serve(
    listener: TcpListener,
    door: FrontDoor,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut shutdown = std::pin::pin!(shutdown);
    // Every call arms a deadline. On a quiet runtime with no timer due sooner,
    // tokio's timer wheel wakes its driver to take the new one into account:
    // an eventfd write and an extra epoll_wait per request. A timer always
    // due within a second spares that.
    let mut near_timer = tokio::time::interval(NEAR_TIMER);
    near_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            _ = near_timer.tick() => continue,
            () = &mut shutdown => break,
        };
        // Small SSE events must not wait for Nagle's algorithm.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        connections.spawn(conn::serve(tcp, door.clone(), stop.clone()));
    }
    // Stop accepting, close idle keep-alive connections, let busy ones finish.
    drop(listener);
    stop.cancel();
    connections.close();
    connections.wait().await;
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
    tokio::time::sleep(Duration::from_millis(100)).await;
}
