//! `general_settings.master_key`: every route but liveness/readiness needs it.

use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::AppState;

/// Paths that answer without a key, as in LiteLLM.
const PUBLIC_PATHS: &[&str] = &[
    "/health/liveliness",
    "/health/liveness",
    "/health/readiness",
];

/// Why a request with this path and these headers is refused (LiteLLM's
/// words), or `None` when it may pass.
pub(crate) fn refusal<'h>(
    state: &AppState,
    path: &str,
    header: impl Fn(&str) -> Option<&'h [u8]>,
) -> Option<&'static str> {
    let master_key = state.master_key.as_ref()?;
    if PUBLIC_PATHS.contains(&path) {
        return None;
    }
    match presented_key(header) {
        Presented::Key(key) if bool::from(key.ct_eq(master_key.expose_secret().as_bytes())) => None,
        Presented::None => Some("Authentication Error, No api key passed in."),
        Presented::Malformed => Some(
            "Authentication Error, Malformed API Key passed in. Ensure Key has `Bearer ` prefix.",
        ),
        Presented::Key(_) => Some("Authentication Error, Invalid proxy server token passed."),
    }
}

/// What a request offers as its key.
enum Presented<'a> {
    None,
    /// An `Authorization` header that is not `Bearer <key>` (or `Basic`).
    Malformed,
    Key(&'a [u8]),
}

/// The key, looked for where LiteLLM looks (`get_api_key` in its
/// `user_api_key_auth.py`), in its order: `x-litellm-api-key` (with or
/// without `Bearer `), `Authorization: Bearer` (a bare key there is
/// malformed), then Azure's `api-key`, Anthropic's `x-api-key`, Google's
/// `x-goog-api-key` and Azure APIM's `Ocp-Apim-Subscription-Key`, as sent.
fn presented_key<'h>(header: impl Fn(&str) -> Option<&'h [u8]>) -> Presented<'h> {
    let key = if let Some(value) = header("x-litellm-api-key") {
        strip_scheme(value).unwrap_or(value)
    } else if let Some(value) = header("authorization").filter(|v| !v.is_empty()) {
        match strip_scheme(value) {
            Some(key) => key,
            None => return Presented::Malformed,
        }
    } else if let Some(value) = [
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "ocp-apim-subscription-key",
    ]
    .into_iter()
    .find_map(&header)
    {
        value
    } else {
        return Presented::None;
    };
    if key.is_empty() {
        Presented::Malformed
    } else {
        Presented::Key(key)
    }
}

/// The token after `Bearer ` (or `bearer `, or `Basic ` as Langfuse sends it).
fn strip_scheme(value: &[u8]) -> Option<&[u8]> {
    [&b"Bearer "[..], b"bearer ", b"Basic "]
        .iter()
        .find_map(|scheme| value.strip_prefix(*scheme))
}
