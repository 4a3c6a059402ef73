//! The one trait every upstream implements.

use std::fmt;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use futures::future::BoxFuture;

use crate::ProviderError;

/// The OpenAI endpoints Switchyard routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/chat/completions`
    ChatCompletions,
    /// `/completions`
    Completions,
    /// `/embeddings`
    Embeddings,
    /// `/images/generations`
    ImageGenerations,
}

impl Endpoint {
    /// The path below the API base, without a leading `/v1`.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "/chat/completions",
            Endpoint::Completions => "/completions",
            Endpoint::Embeddings => "/embeddings",
            Endpoint::ImageGenerations => "/images/generations",
        }
    }

    /// Whether the endpoint can stream.
    pub fn can_stream(self) -> bool {
        matches!(self, Endpoint::ChatCompletions | Endpoint::Completions)
    }
}

/// One request to one upstream, already merged with the deployment's defaults.
#[derive(Debug, Clone)]
pub struct ProviderRequest {
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// The OpenAI-shaped JSON body, `model` already set to the upstream's name.
    pub body: Bytes,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// Bound on this attempt: the whole response, or for a stream the time to
    /// its first token.
    pub timeout: Option<Duration>,
}

/// A stream of raw SSE bytes from the upstream, already in OpenAI's format
/// (`data: {...}\n\n` events; the terminal `data: [DONE]` is not included).
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ProviderError>> + Send>>;

/// A successful upstream answer.
pub enum ProviderResponse {
    /// A complete JSON body in OpenAI's format.
    Complete(Bytes),
    /// A stream whose first token has already arrived (the commit point), or
    /// that ended without one; events before it come with it.
    Stream(ByteStream),
}

impl fmt::Debug for ProviderResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderResponse::Complete(b) => write!(f, "Complete({} bytes)", b.len()),
            ProviderResponse::Stream(_) => f.write_str("Stream"),
        }
    }
}

/// An upstream API. Object-safe: the router holds `Arc<dyn Provider>`.
pub trait Provider: Send + Sync + fmt::Debug {
    /// Short provider name (`openai`, `azure`, `mock`...), used in errors and logs.
    fn name(&self) -> &'static str;

    /// The base URL requests go to, for the `x-litellm-model-api-base` header.
    fn api_base(&self) -> Option<&str>;

    /// Sends one request and classifies the outcome, keeping the upstream's
    /// response headers (rate-limit headers and the like, which a proxy passes
    /// on). Never retries.
    fn call(&self, request: ProviderRequest) -> BoxFuture<'_, Result<Answered, ProviderError>>;

    /// [`call`](Self::call) without the headers.
    fn send(
        &self,
        request: ProviderRequest,
    ) -> BoxFuture<'_, Result<ProviderResponse, ProviderError>> {
        Box::pin(async move { self.call(request).await.map(|answered| answered.response) })
    }
}

/// A successful upstream answer with the upstream's response headers.
pub struct Answered {
    /// The answer.
    pub response: ProviderResponse,
    /// The upstream's response headers (empty when there was no upstream).
    pub headers: crate::UpstreamHeaders,
}

impl fmt::Debug for Answered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answered")
            .field("response", &self.response)
            .field("headers", &self.headers.len())
            .finish()
    }
}
