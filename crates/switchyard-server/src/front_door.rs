//! The proxy's HTTP service: the four proxied POST routes go straight to their
//! handler; everything else (models, health, 404s, wrong methods) through axum.
//!
//! Why: axum's router costs, per request, a route lookup, two boxed service
//! clones, a boxed handler future and the extractors' copies; on the proxied
//! routes that was several percent of the proxy's CPU. This path does what the
//! axum middleware does for the other routes, in the same order: master key,
//! body cap, handler, log line.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use futures::future::{BoxFuture, FutureExt};
use switchyard_providers::Endpoint;
use tower::Service;

use crate::AppState;
use crate::api_error::ApiError;
use crate::auth;
use crate::handlers;
use crate::logging::RequestLine;

/// The proxy as a tower service: routes the proxied endpoints directly and hands
/// the rest to axum. Build it with [`app`](crate::app).
#[derive(Clone)]
pub struct FrontDoor {
    state: AppState,
    rest: axum::Router,
}

impl std::fmt::Debug for FrontDoor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrontDoor").finish_non_exhaustive()
    }
}

impl FrontDoor {
    pub(crate) fn new(state: AppState) -> Self {
        Self {
            rest: crate::other_routes(state.clone()),
            state,
        }
    }
}

/// The proxied routes; LiteLLM serves each with and without the `/v1` prefix.
pub(crate) const PROXIED_ROUTES: [(&str, Endpoint); 4] = [
    ("/chat/completions", Endpoint::ChatCompletions),
    ("/completions", Endpoint::Completions),
    ("/embeddings", Endpoint::Embeddings),
    ("/images/generations", Endpoint::ImageGenerations),
];

/// The endpoint a proxied path names.
fn proxied_endpoint(path: &str) -> Option<Endpoint> {
    let path = path.strip_prefix("/v1").unwrap_or(path);
    PROXIED_ROUTES
        .iter()
        .find(|(route, _)| *route == path)
        .map(|(_, endpoint)| *endpoint)
}

/// One front door per connection (they share everything).
impl<L: axum::serve::Listener> Service<axum::serve::IncomingStream<'_, L>> for FrontDoor {
    type Response = FrontDoor;
    type Error = Infallible;
    type Future = std::future::Ready<Result<FrontDoor, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: axum::serve::IncomingStream<'_, L>) -> Self::Future {
        std::future::ready(Ok(self.clone()))
    }
}

impl Service<Request> for FrontDoor {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let endpoint = match proxied_endpoint(request.uri().path()) {
            Some(endpoint) if request.method() == Method::POST => endpoint,
            // Other methods on these paths get axum's 405 handling, like every other route.
            _ => return self.rest.call(request).boxed(),
        };
        let line = RequestLine::start(&request);
        let state = self.state.clone();
        async move {
            let response = match auth::reject(&state, &request) {
                Some(rejection) => rejection,
                None => proxied(state, endpoint, request).await,
            };
            if let Some(line) = line {
                line.finish(&response);
            }
            Ok(response)
        }
        .boxed()
    }
}

/// Reads the capped body and the call options, then routes the call.
async fn proxied(state: AppState, endpoint: Endpoint, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let raw = match axum::body::to_bytes(body, state.max_body_bytes).await {
        Ok(raw) => raw,
        Err(error) if is_length_limit(&error) => {
            return ApiError::payload_too_large(state.max_body_bytes).into_response();
        }
        Err(error) => {
            return ApiError::bad_request(
                format!("Failed to buffer the request body: {error}"),
                None,
            )
            .into_response();
        }
    };
    handlers::routed(state, endpoint, &parts.headers, raw).await
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}
