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
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures::future::{BoxFuture, FutureExt};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use switchyard_providers::Endpoint;
use tower::{Service, ServiceExt};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

use crate::AppState;
use crate::api_error::ApiError;
use crate::auth;
use crate::browser;
use crate::call_id;
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

/// The endpoint a proxied path names, and the model the path names when it
/// is Azure's form (`/openai/deployments/{model}/chat/completions`, the
/// path an `AzureOpenAI` client pointed at the proxy uses) or the older
/// `/engines/{model}/...`: LiteLLM serves both, and the path's model wins
/// over the body's.
fn proxied_endpoint(path: &str) -> Option<(Endpoint, Option<String>)> {
    let path = path.strip_prefix("/v1").unwrap_or(path);
    if let Some((_, endpoint)) = PROXIED_ROUTES.iter().find(|(route, _)| *route == path) {
        return Some((*endpoint, None));
    }
    let named = path
        .strip_prefix("/openai/deployments/")
        .or_else(|| path.strip_prefix("/engines/"))?;
    // `images/generations` is not served this way, as in LiteLLM.
    PROXIED_ROUTES[..3].iter().find_map(|(route, endpoint)| {
        let model = named.strip_suffix(route)?;
        let model = percent_encoding::percent_decode_str(model)
            .decode_utf8()
            .ok()?;
        (!model.is_empty()).then(|| (*endpoint, Some(model.into_owned())))
    })
}

impl FrontDoor {
    /// Routes one request: a proxied POST straight to its handler, anything
    /// else to axum. Generic over the body so the server can hand over hyper's
    /// body as it is (no boxing per request) and tests can call it with axum's.
    fn route<B>(&self, request: http::Request<B>) -> BoxFuture<'static, Response>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        if let Some(preflight) = browser::preflight(&request) {
            return futures::future::ready(preflight).boxed();
        }
        let from_browser = request.headers().contains_key(header::ORIGIN);
        let (endpoint, path_model) = match proxied_endpoint(request.uri().path()) {
            Some(named) if request.method() == Method::POST => named,
            // Other methods on these paths get axum's 405 handling, like every other route.
            _ => {
                let rest = self
                    .rest
                    .clone()
                    .oneshot(request.map(axum::body::Body::new));
                return async move {
                    let mut response = match rest.await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    };
                    browser::finish(response.headers_mut(), from_browser);
                    response
                }
                .boxed();
            }
        };
        let line = RequestLine::start(&request);
        let call_id = call_id::for_request(request.headers());
        let state = self.state.clone();
        async move {
            let mut response = match auth::reject(&state, &request) {
                Some(rejection) => rejection,
                None => proxied(state, endpoint, path_model, request).await,
            };
            let headers = response.headers_mut();
            headers.insert(call_id::CALL_ID, call_id);
            browser::finish(headers, from_browser);
            if let Some(line) = line {
                line.finish(&response);
            }
            response
        }
        .boxed()
    }
}

/// What [`serve`](crate::serve) runs per request on each connection.
impl hyper::service::Service<http::Request<hyper::body::Incoming>> for FrontDoor {
    type Response = Response;
    type Error = Infallible;
    type Future = futures::future::Map<
        BoxFuture<'static, Response>,
        fn(Response) -> Result<Response, Infallible>,
    >;

    fn call(&self, request: http::Request<hyper::body::Incoming>) -> Self::Future {
        self.route(request).map(Ok)
    }
}

/// The proxy as a tower service, for callers without a socket (tests).
impl Service<Request> for FrontDoor {
    type Response = Response;
    type Error = Infallible;
    type Future = futures::future::Map<
        BoxFuture<'static, Response>,
        fn(Response) -> Result<Response, Infallible>,
    >;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        self.route(request).map(Ok)
    }
}

/// Reads the capped body and the call options, then routes the call.
async fn proxied<B>(
    state: AppState,
    endpoint: Endpoint,
    path_model: Option<String>,
    request: http::Request<B>,
) -> Response
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let (parts, body) = request.into_parts();
    let options = match handlers::call_options(&parts.headers) {
        Ok(options) => options,
        Err(error) => return error.into_response(),
    };
    // The head's strings are slices of the connection's read buffer: let go of
    // them (and, below, of a small body) before routing, so that buffer is
    // free to be reused for the next request instead of reallocated.
    drop(parts);
    let raw = match read_all(Limited::new(body, state.max_body_bytes)).await {
        Ok(raw) => detach_small(raw),
        Err(error) if error.is::<LengthLimitError>() => {
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
    handlers::routed(state, endpoint, options, raw, path_model).await
}

/// Reads a whole body. Unlike `collect()`, a body that arrives as one frame
/// (a request small enough to come with its head) is taken as it is, with no
/// list of buffers allocated around it.
async fn read_all<B>(body: B) -> Result<Bytes, B::Error>
where
    B: http_body::Body<Data = Bytes>,
{
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    while let Some(frame) = body.as_mut().frame().await {
        let Ok(data) = frame?.into_data() else {
            continue; // trailers
        };
        match (&mut joined, first.take()) {
            (Some(all), _) => all.extend_from_slice(&data),
            (None, None) => first = Some(data),
            (None, Some(previous)) => {
                let mut all = BytesMut::with_capacity(previous.len() + data.len());
                all.extend_from_slice(&previous);
                all.extend_from_slice(&data);
                joined = Some(all);
            }
        }
    }
    Ok(joined.map(BytesMut::freeze).or(first).unwrap_or_default())
}

/// A body small enough that copying it costs less than a fresh read buffer.
const DETACH_UP_TO: usize = 16 * 1024;

/// `body` in memory of its own when it is small (see [`proxied`]); larger
/// bodies keep sharing the read buffer, which has to grow for them anyway.
fn detach_small(body: Bytes) -> Bytes {
    if body.len() <= DETACH_UP_TO {
        Bytes::copy_from_slice(&body)
    } else {
        body
    }
}
