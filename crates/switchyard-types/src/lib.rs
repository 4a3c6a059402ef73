//! OpenAI-compatible wire types shared by every Switchyard crate.
//!
//! Nothing here does IO. Request bodies are kept as [`RequestBody`], an ordered
//! map of top-level keys to raw JSON, so unknown fields pass through untouched
//! and the proxy only parses what routing reads.

mod body;
mod chat;
mod embeddings;
mod error;
mod images;
mod models;
mod response_model;
pub mod seconds;
mod usage;

pub use body::{BodyError, RequestBody};
pub use chat::{
    ChatChoice, ChatChunk, ChatChunkChoice, ChatCompletion, ChatDelta, ChatMessage, TextChoice,
    TextCompletion,
};
pub use embeddings::{Embedding, EmbeddingResponse};
pub use error::{ErrorBody, ErrorDetail};
pub use images::{ImageData, ImageResponse};
pub use models::{ModelCard, ModelList};
pub use response_model::{EventRestamper, restamp_model};
pub use usage::Usage;
