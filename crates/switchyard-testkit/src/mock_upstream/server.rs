//! The mock's HTTP side: an axum router served by its own accept loop, so that
//! every connection task is owned and a handler can close its connection on purpose.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::post;
use http::{HeaderName, HeaderValue, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service;

use super::body::ReplyBody;
use super::recorded::{RecordedCall, azure_deployment};
use super::render::{Endpoint, RequestView, render};
use super::shared::{CallGuard, Shared};
use super::tls::TlsIdentity;

/// Bodies are recorded whole; images and long prompts can be large.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Lets a handler close the connection it is served on, without any response.
#[derive(Debug, Clone)]
struct ConnAbort(CancellationToken);

pub(crate) fn router(shared: Arc<Shared>) -> axum::Router {
    let mut app = axum::Router::new();
    for (suffix, endpoint) in Endpoint::ALL {
        let handler = move |State(shared): State<Arc<Shared>>, request: Request| {
            handle(shared, endpoint, request)
        };
        for prefix in ["/v1/", "/", "/openai/deployments/{deployment}/"] {
            app = app.route(&format!("{prefix}{suffix}"), post(handler));
        }
    }
    app.with_state(shared)
}

/// Accepts until `stop` is cancelled; each connection is a tracked task that
/// ends with `stop` too. With `tls`, every connection is HTTPS.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    app: axum::Router,
    tls: Option<TlsIdentity>,
    stop: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                let (app, abort) = (app.clone(), stop.child_token());
                match &tls {
                    None => tracker.spawn(serve_connection(stream, app, abort)),
                    Some(tls) => tracker.spawn(serve_tls(tls.acceptor.clone(), stream, app, abort)),
                };
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "mock upstream: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

async fn serve_tls(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    app: axum::Router,
    abort: CancellationToken,
) {
    let handshake = tokio::select! {
        handshake = acceptor.accept(stream) => handshake,
        () = abort.cancelled() => return,
    };
    match handshake {
        Ok(tls) => serve_connection(tls, app, abort).await,
        // A client that does not trust the certificate gives up here.
        Err(e) => tracing::debug!(error = %e, "mock upstream: TLS handshake failed"),
    }
}

async fn serve_connection<Io>(stream: Io, app: axum::Router, abort: CancellationToken)
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let for_requests = abort.clone();
    let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
        request
            .extensions_mut()
            .insert(ConnAbort(for_requests.clone()));
        app.clone().call(request.map(Body::new))
    });
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        // Dropping the connection closes the socket and drops any handler still running.
        () = abort.cancelled() => {}
    }
}

async fn handle(shared: Arc<Shared>, endpoint: Endpoint, request: Request) -> Response {
    let mut guard = CallGuard::new(shared.clone());
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(e) => {
            guard.cut();
            return plain(
                StatusCode::BAD_REQUEST,
                &format!("mock: could not read body: {e}"),
            );
        }
    };
    let path = parts.uri.path().to_owned();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let model = json
        .get("model")
        .and_then(Value::as_str)
        .or_else(|| azure_deployment(&path))
        .unwrap_or("mock-model")
        .to_owned();
    let serial = shared.record(RecordedCall {
        method: parts.method.to_string(),
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    });

    let reply = shared.next_reply(serial);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if reply.hang {
        // Dropped when the client gives up; the guard then counts a cancellation.
        std::future::pending::<()>().await;
    }
    let view = RequestView {
        endpoint,
        body: json,
        model,
        serial,
        name: shared.name.clone(),
    };
    let rendered = render(&reply.kind, &view);
    let cut = reply.drop_after.is_some();
    if cut && !rendered.is_sse {
        guard.cut();
        if let Some(ConnAbort(abort)) = parts.extensions.get::<ConnAbort>() {
            abort.cancel();
        }
        std::future::pending::<()>().await;
    }
    let mut chunks = rendered.chunks;
    if let Some(n) = reply.drop_after {
        // `n` events and never `[DONE]`, which is the last chunk.
        chunks.truncate(n.min(chunks.len().saturating_sub(1)));
    }
    guard.responding(serial, rendered.status);
    let body = ReplyBody::new(
        chunks,
        reply.chunk_delay,
        reply.first_chunk_delay,
        cut,
        !rendered.is_sse,
        guard,
    )
    .stall_after(reply.stall_after);
    let mut response = Response::new(Body::new(body));
    *response.status_mut() =
        StatusCode::from_u16(rendered.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(rendered.content_type),
    );
    if rendered.is_sse {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    for (name, value) in &reply.headers {
        match (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => panic!("mock reply header is not valid HTTP: {name}: {value}"),
        }
    }
    response
}

fn plain(status: StatusCode, message: &str) -> Response {
    let mut response = Response::new(Body::from(message.to_owned()));
    *response.status_mut() = status;
    response
}
