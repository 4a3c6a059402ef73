//! Switchyard's router: pick a deployment for each request, call it, and keep
//! the state that routing needs. Usable from Rust without any HTTP server.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use switchyard_router::{Router, config};
//! use switchyard_types::{ChatCompletion, RequestBody};
//!
//! let yaml = r#"
//! model_list:
//!   - model_name: gpt-4o
//!     litellm_params: { model: openai/gpt-4o, mock_response: "Hi!" }
//! "#;
//! let router = Router::from_yaml(yaml)?;
//! let body = RequestBody::from_slice(br#"{"model":"gpt-4o","messages":[{"role":"user","content":"Hey"}]}"#)?;
//! let answer: ChatCompletion = router.chat_completion(body).await?.json()?;
//! println!("{}", answer.choices[0].message.text().unwrap_or_default());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod config;
pub mod cooldown;
mod deployment;
mod error;
mod fallback;
mod precall;
pub mod pricing;
mod python;
mod request;
mod response;
mod retry;
mod router;
mod scheduler;
mod select;
mod slots;
pub mod state;
pub mod strategy;
mod text_via_chat;
mod timeouts;
pub mod tokens;
mod usage;
mod validate;
mod wildcard;

pub use deployment::Deployment;
pub use error::{Attempt, RouterError, Unavailable};
pub use response::RoutedResponse;
pub use retry::RetryPolicy;
pub use router::{
    BuildError, CallOptions, DeploymentUsage, ListedModel, ModelLookup, Router, RouterBuilder,
    SetupError,
};
pub use switchyard_providers::{Endpoint, ErrorKind, ProviderError, ProviderResponse};
