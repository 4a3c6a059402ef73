//! `general_settings.master_key`: every route but liveness/readiness needs it.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::api_error::ApiError;

/// Paths that answer without a key, as in LiteLLM.
const PUBLIC_PATHS: &[&str] = &[
    "/health/liveliness",
    "/health/liveness",
    "/health/readiness",
];

/// The rejection for a request without the master key, when one is
/// configured; `None` lets the request through.
pub(crate) fn reject<B>(state: &AppState, request: &http::Request<B>) -> Option<Response> {
    let master_key = state.master_key.as_ref()?;
    if PUBLIC_PATHS.contains(&request.uri().path()) {
        return None;
    }
    match presented_key(request.headers()) {
        None => Some(
            ApiError::unauthorized("Authentication Error, No api key passed in.").into_response(),
        ),
        Some(key) if bool::from(key.as_bytes().ct_eq(master_key.expose_secret().as_bytes())) => {
            None
        }
        Some(_) => Some(
            ApiError::unauthorized("Authentication Error, Invalid proxy server token passed.")
                .into_response(),
        ),
    }
}

/// The key from `Authorization: Bearer`, or the headers LiteLLM also accepts.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let value = value.trim();
        let key = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value);
        return Some(key.trim());
    }
    ["api-key", "x-litellm-api-key"]
        .iter()
        .find_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()))
        .map(str::trim)
}
