//! Upstream LLM APIs.
//!
//! A [`Provider`] translates one OpenAI-shaped request into its upstream's wire
//! format, sends exactly one request and classifies the outcome into a
//! [`ProviderError`]. It never retries, sleeps or touches shared state: the
//! router owns all of that.
//!
//! Entry points: [`build_provider`] turns a deployment's `litellm_params` into
//! an `Arc<dyn Provider>`; [`client::build_http_client`] builds the one shared
//! upstream client; [`mock::MockProvider`] answers `mock_response` requests.

pub mod base_url;
mod capped;
pub mod classify;
pub mod client;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod headers;
pub mod mock;
pub mod openai;
mod provider;
mod spec;
pub mod sse;

pub use classify::classify;
pub use error::{ErrorKind, ProviderError};
pub use headers::UpstreamHeaders;
pub use provider::{Answered, ByteStream, Endpoint, Provider, ProviderRequest, ProviderResponse};
pub use spec::{
    BuiltProvider, ProviderSpec, SpecError, build_provider, check_provider, is_supported_provider,
};
