//! Thin HTTP handlers: read the request, hand it to the router, write the answer.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use switchyard_providers::{Endpoint, ProviderResponse};

use futures::StreamExt;
use switchyard_router::{CallOptions, Deployment, ListedModel, ModelLookup, RoutedResponse};
use switchyard_types::{EventRestamper, ModelCard, ModelList, RequestBody, restamp_model, seconds};

use crate::AppState;
use crate::answer::{Answer, AnswerBody, HeaderLines};
use crate::answer_headers::AnswerKind;
use crate::api_error::ApiError;
use crate::route_headers;
use crate::sse::SseOut;

/// A whole-call deadline in seconds, beyond what LiteLLM offers.
pub(crate) const TIMEOUT_HEADER: &str = "x-switchyard-timeout";

/// A proxied call (`POST` to the chat, completion, embedding or image route): parse
/// the body, route, write the answer.
pub(crate) async fn routed(
    state: AppState,
    endpoint: Endpoint,
    options: CallOptions,
    raw: Bytes,
    path_model: Option<String>,
) -> Answer {
    let mut body = match RequestBody::from_bytes(raw) {
        Ok(body) => body,
        Err(e) => return ApiError::bad_request(e.to_string(), None).into_answer(),
    };
    if let Some(model) = path_model {
        body.set("model", &model);
    }
    // What the answer's `model` becomes: the name as the client wrote it.
    let requested_model = body.get_bytes("model");
    match state.router.call_with(endpoint, body, options).await {
        Ok(routed) => answer(&state, routed, requested_model),
        Err(error) => {
            let mut routing = HeaderLines::default();
            route_headers::write_failure(&mut routing, &error, state.answer_headers.strategy());
            let mut answer = ApiError::from(error).into_answer();
            answer.headers.extend(routing.as_bytes());
            answer
        }
    }
}

/// The call options a request's headers set (`x-switchyard-timeout`).
pub(crate) fn call_options(timeout: Option<&[u8]>) -> Result<CallOptions, ApiError> {
    let Some(value) = timeout else {
        return Ok(CallOptions::default());
    };
    let timeout = std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(seconds::duration_from_secs)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            ApiError::bad_request(
                format!(
                    "{TIMEOUT_HEADER} must be a positive number of seconds, at most {} (365 days)",
                    seconds::MAX_SECS
                ),
                Some(TIMEOUT_HEADER),
            )
        })?;
    Ok(CallOptions {
        timeout: Some(timeout),
    })
}

fn answer(state: &AppState, routed: RoutedResponse, requested_model: Option<Bytes>) -> Answer {
    let RoutedResponse {
        deployment,
        body,
        upstream_headers,
        failed_attempts,
        retries,
        fallbacks,
    } = routed;
    // LiteLLM names the group as asked for (an alias, a wildcard's match) unless a
    // fallback answered.
    let asked_group = (fallbacks == 0)
        .then_some(requested_model.as_deref())
        .flatten()
        .filter(|raw| !names(raw, &deployment.model_group))
        .and_then(|raw| serde_json::from_slice::<String>(raw).ok())
        .filter(|name| !name.bytes().any(|b| b.is_ascii_control()));
    let stamp = response_model(requested_model, &deployment, fallbacks, &body);
    let (body, kind) = match body {
        ProviderResponse::Complete(bytes) => {
            let bytes = match stamp {
                Some(model) => restamp_model(&bytes, &model).map_or(bytes, Bytes::from),
                None => bytes,
            };
            (AnswerBody::Full(bytes), AnswerKind::Json)
        }
        ProviderResponse::Stream(events) => {
            let events = match stamp {
                Some(model) => {
                    let mut restamper = EventRestamper::new(model);
                    events
                        .map(move |batch| batch.map(|b| restamper.restamp(&b).unwrap_or(b)))
                        .boxed()
                }
                None => events,
            };
            (
                AnswerBody::Stream(SseOut::new(events)),
                AnswerKind::EventStream,
            )
        }
    };
    let mut headers = HeaderLines::with_capacity(1024);
    let group = asked_group.as_deref().unwrap_or(&deployment.model_group);
    state.answer_headers.write(
        &mut headers,
        kind,
        &deployment,
        group.as_bytes(),
        (&failed_attempts, retries, fallbacks),
    );
    if let AnswerBody::Full(json) = &body {
        crate::cost_headers::write(&mut headers, &deployment, json);
    }
    crate::upstream_headers::pass_on(&upstream_headers, &mut headers);
    Answer {
        status: StatusCode::OK,
        headers,
        body,
        route: Some(deployment),
    }
}

/// Whether `raw` (a JSON string literal) is `name` written without escapes.
fn names(raw: &[u8], name: &str) -> bool {
    raw.len() == name.len() + 2
        && raw.first() == Some(&b'"')
        && raw.last() == Some(&b'"')
        && &raw[1..raw.len() - 1] == name.as_bytes()
}

/// The `model` the answer shows (a JSON string literal), as LiteLLM's proxy
/// sets it: the name the client asked for; after a fallback, the upstream's
/// own value in a complete answer and the serving group's name in a stream.
fn response_model(
    requested: Option<Bytes>,
    deployment: &Deployment,
    fallbacks: u32,
    body: &ProviderResponse,
) -> Option<Bytes> {
    match (fallbacks, body) {
        (0, _) => requested.filter(|raw| raw.first() == Some(&b'"')),
        (_, ProviderResponse::Complete(_)) => None,
        (_, ProviderResponse::Stream(_)) => serde_json::to_vec(&deployment.model_group)
            .ok()
            .map(Bytes::from),
    }
}

/// `GET /v1/models`.
pub(crate) async fn models(
    State(state): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<ModelsQuery>,
) -> Response {
    let wildcards = query.return_wildcard_routes.as_deref() == Some("true");
    let cards = state
        .router
        .listed_models(wildcards)
        .into_iter()
        .map(card)
        .collect();
    axum::Json(ModelList::new(cards)).into_response()
}

/// `GET /v1/models` query parameters.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ModelsQuery {
    /// `true`: list wildcard groups' patterns too.
    return_wildcard_routes: Option<String>,
}

/// `GET /v1/models/{model}`: a model group's card (an alias is not one, as in LiteLLM).
pub(crate) async fn model(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    match state.router.listed_model(&name) {
        Ok(listed) => axum::Json(card(listed)).into_response(),
        Err(ModelLookup::Alias) => {
            ApiError::model_not_found(format!("Model '{name}' not found in router configuration"))
                .into_response()
        }
        Err(ModelLookup::Unknown) => ApiError::model_not_found(format!(
            "The model `{name}` does not exist or is not accessible"
        ))
        .into_response(),
    }
}

fn card(listed: ListedModel) -> ModelCard {
    ModelCard {
        mode: listed.mode,
        max_input_tokens: listed.max_input_tokens,
        max_output_tokens: listed.max_output_tokens,
        ..ModelCard::new(listed.id)
    }
}

/// `GET /health/liveliness`: the process is up.
pub(crate) async fn liveliness() -> Response {
    axum::Json("I'm alive!").into_response()
}

/// `GET /health/readiness`: the proxy can serve.
pub(crate) async fn readiness() -> Response {
    axum::Json(serde_json::json!({
        "status": "healthy",
        "db": "Not connected",
        "cache": null,
        "litellm_version": null,
        "switchyard_version": env!("CARGO_PKG_VERSION"),
    }))
    .into_response()
}

/// Any other path.
pub(crate) async fn fallback(uri: axum::http::Uri) -> Response {
    ApiError::not_found(uri.path()).into_response()
}

/// A known path with the wrong method.
pub(crate) async fn method_not_allowed() -> Response {
    ApiError::method_not_allowed().into_response()
}
