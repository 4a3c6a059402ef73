//! LiteLLM's `config.yaml` → validated [`Config`], every problem reported with its YAML path.
//!
//! [`load_str`] / [`load_file`] parse the YAML (duplicate keys: last wins, as PyYAML),
//! walk it by hand with a path-tracking reader so every error is collected, resolve
//! `os.environ/NAME` references, compute LiteLLM's deployment ids, and warn once per key
//! that Switchyard does not act on (see [`IMPLEMENTED`]). Under `--strict` the server
//! turns every warning into an error.

mod deployment_id;
mod env;
mod implemented;
mod litellm_keys;
mod load;
mod model;
mod model_list;
mod reader;
mod settings;
mod validate;
mod yaml;

pub use implemented::{IMPLEMENTED, IMPLEMENTED_ROUTING_STRATEGIES, is_implemented};
pub use load::{load_file, load_str};

/// Whether `key` is a field of LiteLLM's `LiteLLM_Params`: a setting of the deployment,
/// never a request parameter.
pub(crate) fn is_litellm_param(key: &str) -> bool {
    litellm_keys::contains(litellm_keys::LITELLM_PARAMS_KEYS, key)
}
pub use model::*;
