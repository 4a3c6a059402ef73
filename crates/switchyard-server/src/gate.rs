//! The one middleware of the axum routes: the master-key check. (The proxied
//! POST routes skip axum; `front_door.rs` checks the key for them, and the
//! server writes every request's log line.)
//!
//! Written as a plain tower service rather than two `from_fn` layers: each
//! axum layer costs a boxed service clone and a boxed future per request, and
//! this pair ran on every request (about 8% of the proxy's instructions per
//! proxied request, measured with callgrind).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use tower::{Layer, Service};

use crate::AppState;
use crate::auth;

/// Adds [`Gate`] around a service.
#[derive(Debug, Clone)]
pub(crate) struct GateLayer {
    state: AppState,
}

impl GateLayer {
    pub(crate) fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl<S> Layer<S> for GateLayer {
    type Service = Gate<S>;

    fn layer(&self, inner: S) -> Gate<S> {
        Gate {
            inner,
            state: self.state.clone(),
        }
    }
}

/// Rejects requests without the master key (when one is configured).
#[derive(Debug, Clone)]
pub(crate) struct Gate<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for Gate<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = GateFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let state = match auth::reject(&self.state, &request) {
            Some(rejection) => State::Rejected {
                response: Some(rejection),
            },
            None => State::Inner {
                future: self.inner.call(request),
            },
        };
        GateFuture { state }
    }
}

pin_project_lite::pin_project! {
    /// The response of [`Gate`].
    pub(crate) struct GateFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F> {
        Inner { #[pin] future: F },
        Rejected { response: Option<Response> },
    }
}

impl<F> Future for GateFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match this.state.project() {
            StateProj::Inner { future } => match future.poll(cx) {
                Poll::Ready(Ok(response)) => response,
                Poll::Ready(Err(never)) => match never {},
                Poll::Pending => return Poll::Pending,
            },
            StateProj::Rejected { response } => {
                response.take().expect("GateFuture polled after completion")
            }
        };
        Poll::Ready(Ok(response))
    }
}
