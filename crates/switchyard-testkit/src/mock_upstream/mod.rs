//! A mock OpenAI-compatible upstream on `127.0.0.1:0`, scriptable per call.
//!
//! It serves `POST` on `/v1/{chat/completions, completions, embeddings,
//! images/generations}`, the same paths without `/v1`, and Azure's
//! `/openai/deployments/{deployment}/...` (any query, e.g. `api-version`).
//! Every call is recorded; each takes the next scripted [`Reply`] or, when the
//! script is empty, the default one ([`Reply::ok`] unless changed).
//!
//! ```no_run
//! # async fn demo() {
//! use switchyard_testkit::{MockUpstream, Reply};
//! let mock = MockUpstream::start().await;
//! mock.push(Reply::error(429, "slow down").header("Retry-After", "1"));
//! // ... point a deployment at mock.url() and call it twice:
//! // the first call gets the 429, the second the default reply.
//! # }
//! ```

mod body;
mod random;
mod recorded;
mod render;
mod reply;
mod server;
mod shared;
mod tls;

#[cfg(test)]
mod hooks_tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use recorded::{Completion, RecordedCall};
pub use reply::Reply;

use shared::Shared;
use tls::TlsIdentity;

/// A running mock upstream. Dropping it stops the server and closes every
/// connection.
#[derive(Debug)]
pub struct MockUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// Set when the mock serves HTTPS.
    tls: Option<TlsIdentity>,
    stop: CancellationToken,
    tracker: TaskTracker,
}

impl MockUpstream {
    /// Binds `127.0.0.1:0` and starts serving.
    ///
    /// # Panics
    /// If no loopback port can be bound: nothing a test could do about it.
    pub async fn start() -> MockUpstream {
        Self::start_with(Shared::default(), None).await
    }

    /// Like [`start`](Self::start), with a name put in the ids of its
    /// [`Reply::ok`] answers: `chatcmpl-mock-{name}-{serial}` (`cmpl-` for text
    /// completions). A test then knows which mock, and which call
    /// ([`Completion::serial`]), produced an answer the proxy passed through.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub async fn start_named(name: &str) -> MockUpstream {
        Self::start_with(Shared::with_name(name), None).await
    }

    /// Like [`start`](Self::start), serving HTTPS with a self-signed
    /// certificate for `127.0.0.1` and `localhost` ([`cert_pem`](Self::cert_pem)):
    /// [`url`](Self::url) is then `https://127.0.0.1:PORT/v1`.
    ///
    /// # Panics
    /// As [`start`](Self::start), or if the certificate cannot be made.
    pub async fn start_tls() -> MockUpstream {
        Self::start_with(Shared::default(), Some(TlsIdentity::self_signed())).await
    }

    async fn start_with(shared: Shared, tls: Option<TlsIdentity>) -> MockUpstream {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("mock upstream: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("mock upstream: local address");
        let shared = Arc::new(shared);
        let stop = CancellationToken::new();
        let tracker = TaskTracker::new();
        let app = server::router(shared.clone());
        tracker.spawn(server::accept_loop(
            listener,
            app,
            tls.clone(),
            stop.clone(),
            tracker.clone(),
        ));
        MockUpstream {
            addr,
            shared,
            tls,
            stop,
            tracker,
        }
    }

    /// `http://127.0.0.1:PORT/v1` (`https://` for [`start_tls`](Self::start_tls)): an OpenAI `api_base`.
    pub fn url(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    /// `http://127.0.0.1:PORT` (or `https://`): an Azure `api_base` (or any base without `/v1`).
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The certificate of a mock started with [`start_tls`](Self::start_tls),
    /// PEM-encoded: the root a client must trust to reach it.
    pub fn cert_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|tls| tls.cert_pem.as_str())
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Scripts the next call (first in, first out).
    pub fn push(&self, reply: Reply) {
        self.shared.push(reply);
    }

    /// Sets the reply used when the script is empty.
    pub fn set_default(&self, reply: Reply) {
        self.shared.set_default(reply);
    }

    /// Every call received so far, in arrival order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.calls()
    }

    /// How many calls were received.
    pub fn call_count(&self) -> usize {
        self.shared.call_count()
    }

    /// Calls being served now: from the handler's start to the end of the response body.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// The most calls that were in flight at once, since the start or the last
    /// [`reset_max_in_flight`](Self::reset_max_in_flight).
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Restarts [`max_in_flight`](Self::max_in_flight) from the current in-flight count.
    pub fn reset_max_in_flight(&self) {
        self.shared
            .max_in_flight
            .store(self.in_flight(), Ordering::SeqCst);
    }

    /// Responses sent in full, in the order they ended: not those cut by
    /// [`Reply::drop_after`], nor those whose client went away first (a proxy
    /// timeout during [`Reply::delay`], say). With [`Reply::random`], this is the
    /// log to check a proxy's successes against.
    pub fn completions(&self) -> Vec<Completion> {
        self.shared.completions()
    }

    /// How many responses with this status were sent in full.
    pub fn completed_with_status(&self, status: u16) -> usize {
        self.shared
            .completions()
            .iter()
            .filter(|c| c.status == status)
            .count()
    }

    /// Calls whose client went away before the response ended (a dropped stream,
    /// a client timeout during [`Reply::delay`] or [`Reply::hang`]). Cuts the
    /// script asked for ([`Reply::drop_after`]) are not counted.
    pub fn cancelled(&self) -> usize {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// Waits until `condition` holds (checked on every change), or `timeout`
    /// passes. Returns whether it held. Counters such as [`cancelled`](Self::cancelled)
    /// change shortly after the client acts, so tests wait for them.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        condition: impl Fn(&MockUpstream) -> bool,
    ) -> bool {
        // A test's own wait, a few seconds: the sum cannot overflow.
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            // Registered before checking, so a change in between is not missed.
            changed.as_mut().enable();
            if condition(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return condition(self);
            }
        }
    }

    /// Stops the server and waits for every connection task to end.
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        self.stop.cancel();
        self.tracker.close();
    }
}
