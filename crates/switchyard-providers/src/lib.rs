//! Upstream LLM APIs.
//!
//! A [`Provider`] translates one OpenAI-shaped request into its upstream's wire
//! format, sends exactly one request and classifies the outcome into a
//! [`ProviderError`]. It never retries, sleeps or touches shared state: the
//! router owns all of that.

pub mod client;
mod error;
pub mod mock;
pub mod openai;
mod provider;
pub mod sse;

pub use error::{ErrorKind, ProviderError};
pub use provider::{
    ByteStream, Endpoint, Provider, ProviderRequest, ProviderResponse,
};
