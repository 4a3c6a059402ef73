use serde::{Deserialize, Serialize};

/// `GET /v1/models` response, fields in LiteLLM's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelList {
    /// One card per model name.
    pub data: Vec<ModelCard>,
    /// Always `"list"`.
    pub object: String,
}

/// One entry of the model list (and the `GET /v1/models/{model}` answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// The model name clients send.
    pub id: String,
    /// Always `"model"`.
    pub object: String,
    /// Unix seconds; LiteLLM answers the same fixed date for every model.
    pub created: u64,
    /// Who owns it (LiteLLM answers `"openai"`).
    pub owned_by: String,
    /// What the model does (`chat`, `embedding`...), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Its context window, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_tokens: Option<u64>,
    /// Its longest completion, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
}

/// The `created` LiteLLM puts on every model card.
pub const MODEL_CARD_CREATED: u64 = 1_677_610_602;

impl ModelCard {
    /// A card with LiteLLM's fixed `created` and owner.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            object: "model".into(),
            created: MODEL_CARD_CREATED,
            owned_by: "openai".into(),
            mode: None,
            max_input_tokens: None,
            max_output_tokens: None,
        }
    }
}

impl ModelList {
    /// A list of cards.
    pub fn new(data: Vec<ModelCard>) -> Self {
        Self {
            data,
            object: "list".into(),
        }
    }

    /// A list of bare cards from model names.
    pub fn from_names<I: IntoIterator<Item = String>>(names: I) -> Self {
        Self::new(names.into_iter().map(ModelCard::new).collect())
    }
}
