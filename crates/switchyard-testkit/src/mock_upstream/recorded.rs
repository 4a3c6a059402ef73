//! What the mock received.

use bytes::Bytes;
use http::HeaderMap;

/// One request as the mock received it, body untouched.
#[derive(Debug, Clone)]
pub struct RecordedCall {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path without the query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Raw query string without `?`, e.g. `api-version=2024-06-01`.
    pub query: Option<String>,
    /// Request headers.
    pub headers: HeaderMap,
    /// Request body, byte for byte.
    pub body: Bytes,
}

impl RecordedCall {
    /// The body parsed as JSON.
    ///
    /// # Panics
    /// If the body is not JSON: a test asking for JSON wants to know loudly.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "recorded body of {} {} is not JSON ({e}): {}",
                self.method,
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header's value, if present and valid UTF-8 (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The Azure deployment named in the path (`/openai/deployments/{deployment}/...`).
    pub fn azure_deployment(&self) -> Option<&str> {
        azure_deployment(&self.path)
    }
}

/// The `{deployment}` segment of an Azure path.
pub(crate) fn azure_deployment(path: &str) -> Option<&str> {
    path.strip_prefix("/openai/deployments/")?
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
}

/// A response the mock sent in full (not cut by the script, not abandoned by
/// the client), as listed by [`MockUpstream::completions`](super::MockUpstream::completions) (`switchyard_testkit::mock_upstream::Completion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// The call's serial number: 1 for the mock's first call. It also appears
    /// in the ids of [`Reply::ok`](super::Reply::ok) answers (`chatcmpl-mock-{serial}`).
    pub serial: u64,
    /// The HTTP status sent.
    pub status: u16,
}
