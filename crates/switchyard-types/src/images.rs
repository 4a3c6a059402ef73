use serde::{Deserialize, Serialize};

/// `POST /v1/images/generations` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageResponse {
    /// Unix seconds.
    pub created: u64,
    /// One entry per image.
    pub data: Vec<ImageData>,
}

/// One generated image, as a URL or base64 JSON.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImageData {
    /// Where the image can be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The image bytes, base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b64_json: Option<String>,
    /// The prompt after the provider rewrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_prompt: Option<String>,
}
