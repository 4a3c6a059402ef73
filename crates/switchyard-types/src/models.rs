use serde::{Deserialize, Serialize};

/// `GET /v1/models` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelList {
    /// Always `"list"`.
    pub object: String,
    /// One card per model name.
    pub data: Vec<ModelCard>,
}

/// One entry of the model list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// The model name clients send.
    pub id: String,
    /// Always `"model"`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// Who owns it (LiteLLM answers `"openai"`).
    pub owned_by: String,
}

impl ModelList {
    /// A list from model names.
    pub fn from_names<I: IntoIterator<Item = String>>(names: I, created: u64) -> Self {
        Self {
            object: "list".into(),
            data: names
                .into_iter()
                .map(|id| ModelCard {
                    id,
                    object: "model".into(),
                    created,
                    owned_by: "openai".into(),
                })
                .collect(),
        }
    }
}
