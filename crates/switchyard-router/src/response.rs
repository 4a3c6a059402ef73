//! What a successful routed call returns.

use std::sync::Arc;

use futures::StreamExt;
use switchyard_providers::{ByteStream, ProviderResponse};

use crate::deployment::Deployment;
use crate::error::{Attempt, RouterError};

/// A successful call, with the deployment that answered.
#[derive(Debug)]
pub struct RoutedResponse {
    /// The deployment that produced the answer.
    pub deployment: Arc<Deployment>,
    /// The answer: a complete JSON body or a stream of SSE events.
    pub body: ProviderResponse,
    /// The upstream's response headers (empty for a `mock_response` answer).
    pub upstream_headers: switchyard_providers::UpstreamHeaders,
    /// Attempts that failed before this answer, oldest first (fallback groups included).
    pub failed_attempts: Vec<Attempt>,
    /// Retries made in the group that answered.
    pub retries: u32,
    /// Fallback hops taken to reach that group.
    pub fallbacks: u32,
}

impl RoutedResponse {
    /// Parses a complete JSON answer into `T`. A stream is an error.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, RouterError> {
        match &self.body {
            ProviderResponse::Complete(bytes) => {
                serde_json::from_slice(bytes).map_err(|e| RouterError::BadRequest {
                    message: format!("upstream answer is not the expected JSON: {e}"),
                    param: None,
                })
            }
            ProviderResponse::Stream(_) => Err(RouterError::BadRequest {
                message: "the call was streamed; read it with into_stream".into(),
                param: None,
            }),
        }
    }

    /// The SSE stream (`data: {...}\n\n` events, without `data: [DONE]`).
    /// A complete answer becomes a one-item stream of its JSON.
    pub fn into_stream(self) -> ByteStream {
        match self.body {
            ProviderResponse::Stream(s) => s,
            ProviderResponse::Complete(bytes) => {
                futures::stream::once(async move { Ok(bytes) }).boxed()
            }
        }
    }
}
