//! LiteLLM's `config.yaml` → validated [`Config`], every problem reported with its YAML path.

mod model;

pub use model::*;
