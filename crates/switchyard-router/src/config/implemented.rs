//! Which typed config keys Switchyard acts on today.
//!
//! Every key the loader parses into a typed field is named here as `section.key`
//! (deployment keys as `model_list.litellm_params.key`, `model_list.model_info.key` or
//! `model_list.key`). A typed key that is set in a config but missing from
//! [`IMPLEMENTED`] gets one warning, "parsed but not implemented by Switchyard yet".
//! Implementing a feature = add its key here.
//!
//! Under `--strict` the server turns every [`super::ConfigWarning`] of
//! [`super::Loaded::warnings`] into an error, these included.

/// Typed keys whose behaviour Switchyard implements.
pub const IMPLEMENTED: &[&str] = &[
    // model_list[]
    "model_list.model_name",
    "model_list.rpm",
    "model_list.tpm",
    "model_list.litellm_params.model",
    "model_list.litellm_params.api_base",
    "model_list.litellm_params.api_key",
    "model_list.litellm_params.api_version",
    "model_list.litellm_params.timeout",
    "model_list.litellm_params.stream_timeout",
    "model_list.litellm_params.request_timeout",
    "model_list.litellm_params.timeout_by_service_tier",
    "model_list.litellm_params.stream_timeout_by_service_tier",
    "model_list.litellm_params.rpm",
    "model_list.litellm_params.tpm",
    "model_list.litellm_params.weight",
    "model_list.litellm_params.mock_response",
    "model_list.litellm_params.order",
    "model_list.litellm_params.tags",
    "model_list.litellm_params.region_name",
    "model_list.litellm_params.max_parallel_requests",
    "model_list.model_info.id",
    "model_list.model_info.base_model",
    "model_list.model_info.max_input_tokens",
    "model_list.model_info.max_output_tokens",
    "model_list.model_info.input_cost_per_token",
    "model_list.model_info.output_cost_per_token",
    // router_settings (`routing_strategy`: only `simple-shuffle`, checked where it is read)
    "router_settings.routing_strategy",
    "router_settings.routing_strategy_args",
    "router_settings.enable_pre_call_checks",
    "router_settings.enable_tag_filtering",
    "router_settings.default_priority",
    "router_settings.model_group_alias",
    "router_settings.set_verbose",
    "router_settings.debug_level",
    "router_settings.timeout",
    "router_settings.stream_timeout",
    // reliability: retries, cooldowns, fallbacks, parallel limits
    "router_settings.num_retries",
    "router_settings.retry_after",
    "router_settings.retry_policy",
    "router_settings.model_group_retry_policy",
    "router_settings.allowed_fails",
    "router_settings.allowed_fails_policy",
    "router_settings.cooldown_time",
    "router_settings.disable_cooldowns",
    "router_settings.fallbacks",
    "router_settings.default_fallbacks",
    "router_settings.context_window_fallbacks",
    "router_settings.content_policy_fallbacks",
    "router_settings.max_fallbacks",
    "router_settings.default_max_parallel_requests",
    // litellm_settings
    "litellm_settings.set_verbose",
    "litellm_settings.request_timeout",
    "switchyard_settings.request_deadline",
    "litellm_settings.num_retries",
    "litellm_settings.allowed_fails",
    "litellm_settings.cooldown_time",
    "litellm_settings.fallbacks",
    "litellm_settings.default_fallbacks",
    "litellm_settings.context_window_fallbacks",
    "litellm_settings.content_policy_fallbacks",
    // general_settings
    "general_settings.master_key",
];

/// The routing strategies Switchyard implements; other valid LiteLLM names
/// (`provider-budget-routing`, `lar1`) fall back to simple-shuffle with a warning.
pub const IMPLEMENTED_ROUTING_STRATEGIES: &[&str] = &[
    "simple-shuffle",
    "least-busy",
    "usage-based-routing",
    "usage-based-routing-v2",
    "latency-based-routing",
    "cost-based-routing",
];

/// Whether Switchyard acts on the typed key `key` (e.g. `router_settings.retry_policy`).
pub fn is_implemented(key: &str) -> bool {
    IMPLEMENTED.contains(&key)
}
