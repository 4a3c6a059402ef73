use serde::{Deserialize, Serialize};

use crate::Usage;

/// `POST /v1/embeddings` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    /// Always `"list"`.
    pub object: String,
    /// One vector per input.
    pub data: Vec<Embedding>,
    /// The model that answered.
    pub model: String,
    /// Token counts.
    #[serde(default)]
    pub usage: Usage,
}

/// One embedding vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// Always `"embedding"`.
    pub object: String,
    /// Position of the input it embeds.
    pub index: u32,
    /// The vector (a base64 string when `encoding_format` was `base64`).
    pub embedding: serde_json::Value,
}
