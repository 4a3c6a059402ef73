//! What the proxy does with a request: the four proxied POST routes go
//! straight to their handler; everything else (models, health, 404s, wrong
//! methods) through axum. Every answer leaves with the security headers,
//! CORS when a browser asked, and, for proxied calls, a call id.
//!
//! Why not axum for everything: its router costs, per request, a route
//! lookup, two boxed service clones, a boxed handler future and the
//! extractors' copies; on the proxied routes that was several percent of the
//! proxy's CPU. This path does what the axum middleware does for the other
//! routes: the master-key check, then the handler.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures::future::{BoxFuture, FutureExt};
use http_body_util::BodyExt;
use switchyard_providers::Endpoint;
use switchyard_router::CallOptions;
use tower::{Service, ServiceExt};

use crate::AppState;
use crate::answer::{Answer, HeaderLines};
use crate::api_error::ApiError;
use crate::http1::head::RequestHead;
use crate::{auth, browser, call_id, handlers};

/// The proxy's request handling, with or without a socket. Build it with
/// [`app`](crate::app).
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

/// What a request asks for, known from its head.
pub(crate) enum Plan {
    /// Answered from the head alone (a preflight, a request to another route
    /// without the key): its body is not needed.
    Answer(Answer),
    /// A proxied call refused from its head (no key, a bad option): its body
    /// is not needed.
    Refused(Answer),
    /// A proxied call: read the body, then route it.
    Proxied {
        endpoint: Endpoint,
        path_model: Option<String>,
        options: CallOptions,
    },
    /// Anything else: axum, with the body.
    Other,
}

impl Plan {
    /// Whether the answer gets a call id (the calls LiteLLM gives one).
    pub(crate) fn is_proxied(&self) -> bool {
        matches!(self, Plan::Proxied { .. } | Plan::Refused(_))
    }
}

impl FrontDoor {
    pub(crate) fn new(state: AppState) -> Self {
        Self {
            rest: crate::other_routes(state.clone()),
            state,
        }
    }

    /// The largest body a request may have.
    pub(crate) fn max_body_bytes(&self) -> usize {
        self.state.max_body_bytes
    }

    /// What to do with a request, from its head.
    pub(crate) fn plan(&self, head: &RequestHead) -> Plan {
        if let Some(preflight) = browser::preflight(head.method(), |n| head.header(n)) {
            return Plan::Answer(preflight);
        }
        // The key is checked from the head, before any body is read, on every
        // route.
        let refusal = auth::refusal(&self.state, head.path(), |n| head.header(n))
            .map(|why| ApiError::unauthorized(why).into_answer());
        let proxied = proxied_endpoint(head.path()).filter(|_| head.method() == "POST");
        let Some((endpoint, path_model)) = proxied else {
            // Other methods on the proxied paths get axum's 405 handling, like
            // every other route.
            return refusal.map_or(Plan::Other, Plan::Answer);
        };
        if let Some(refusal) = refusal {
            return Plan::Refused(refusal);
        }
        match handlers::call_options(head.header(handlers::TIMEOUT_HEADER)) {
            Ok(options) => Plan::Proxied {
                endpoint,
                path_model,
                options,
            },
            Err(error) => Plan::Refused(error.into_answer()),
        }
    }

    /// Answers a request whose plan needs its body.
    pub(crate) fn respond(
        &self,
        head: &RequestHead,
        plan: Plan,
        body: Bytes,
    ) -> BoxFuture<'static, Answer> {
        match plan {
            Plan::Answer(answer) | Plan::Refused(answer) => futures::future::ready(answer).boxed(),
            Plan::Proxied {
                endpoint,
                path_model,
                options,
            } => handlers::routed(self.state.clone(), endpoint, options, body, path_model).boxed(),
            Plan::Other => {
                let request = match axum_request(head, body) {
                    Ok(request) => request,
                    Err(answer) => return futures::future::ready(answer).boxed(),
                };
                let rest = self.rest.clone().oneshot(request);
                async move {
                    match rest.await {
                        Ok(response) => from_response(response).await,
                        Err(never) => match never {},
                    }
                }
                .boxed()
            }
        }
    }

    /// Adds what every answer carries: the security headers, CORS for a
    /// browser, and a call id on proxied calls.
    pub(crate) fn finish(&self, answer: &mut Answer, head: &RequestHead, proxied: bool) {
        if proxied {
            call_id::write(&mut answer.headers, head.header(call_id::CALL_ID));
        }
        browser::finish(&mut answer.headers, head.header("origin").is_some());
    }
}

/// The request as axum takes it. A `HEAD` is asked as a `GET` (the server
/// leaves the body out), so its answer says the length a `GET` would get.
fn axum_request(head: &RequestHead, body: Bytes) -> Result<Request, Answer> {
    let method = match head.method() {
        "HEAD" => "GET",
        method => method,
    };
    let mut builder = http::Request::builder().method(method).uri(head.target());
    for (name, value) in head.headers() {
        builder = builder.header(name, value);
    }
    builder.body(Body::from(body)).map_err(|_| {
        ApiError::bad_request("The request line or a header is not valid HTTP", None).into_answer()
    })
}

/// An axum response as an answer. The proxy's own routes answer small
/// bodies, read here whole.
async fn from_response(response: Response) -> Answer {
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut lines = HeaderLines::with_capacity(256);
    for (name, value) in &parts.headers {
        // The server writes the framing itself.
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            continue;
        }
        lines.push(name.as_str(), value.as_bytes());
    }
    Answer::full(parts.status, lines, body)
}

/// The proxy as a tower service, for callers without a socket: the same
/// plan, handler and finishing as the server's.
impl Service<Request> for FrontDoor {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let door = self.clone();
        async move {
            let (parts, body) = request.into_parts();
            let mut raw = BytesMut::new();
            raw.extend_from_slice(
                format!("{} {} HTTP/1.1\r\n", parts.method, parts.uri).as_bytes(),
            );
            for (name, value) in &parts.headers {
                raw.extend_from_slice(name.as_str().as_bytes());
                raw.extend_from_slice(b": ");
                raw.extend_from_slice(value.as_bytes());
                raw.extend_from_slice(b"\r\n");
            }
            // Requests built in code often name no host; the head parser
            // requires one, as HTTP/1.1 does.
            if !parts.headers.contains_key(header::HOST) {
                raw.extend_from_slice(b"host: localhost\r\n");
            }
            raw.extend_from_slice(b"\r\n");
            let head = match RequestHead::take(&mut raw) {
                Ok(Some(head)) => head,
                _ => {
                    return Ok(ApiError::bad_request("invalid request head", None)
                        .into_answer()
                        .into_response());
                }
            };
            let body = match http_body_util::Limited::new(body, door.max_body_bytes())
                .collect()
                .await
            {
                Ok(body) => body.to_bytes(),
                Err(_) => {
                    return Ok(ApiError::payload_too_large(door.max_body_bytes())
                        .into_answer()
                        .into_response());
                }
            };
            let plan = door.plan(&head);
            let proxied = plan.is_proxied();
            let mut answer = door.respond(&head, plan, body).await;
            door.finish(&mut answer, &head, proxied);
            Ok(answer.into_response())
        }
        .boxed()
    }
}
