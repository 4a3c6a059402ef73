//! The validated configuration: LiteLLM's `config.yaml` after loading.
//!
//! Field names follow LiteLLM's keys. Durations are seconds in YAML.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Map, Value};

/// A whole `config.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `model_list`: one entry per deployment.
    pub model_list: Vec<DeploymentConfig>,
    /// `router_settings`.
    pub router_settings: RouterSettings,
    /// `litellm_settings`.
    pub litellm_settings: LitellmSettings,
    /// `general_settings`.
    pub general_settings: GeneralSettings,
    /// `switchyard_settings`: Switchyard's own settings, under a name LiteLLM does not read.
    pub switchyard_settings: SwitchyardSettings,
}

/// `switchyard_settings`: what Switchyard adds to LiteLLM's settings. LiteLLM ignores the
/// section, so a config that sets it still means the same to LiteLLM.
#[derive(Debug, Clone, Default)]
pub struct SwitchyardSettings {
    /// `request_deadline`: seconds for the whole request (every attempt, backoff and
    /// fallback, and a committed stream), unless `x-switchyard-timeout` sets one.
    pub request_deadline: Option<Duration>,
}

/// One `model_list[]` entry.
#[derive(Debug, Clone)]
pub struct DeploymentConfig {
    /// The model group name clients send.
    pub model_name: String,
    /// `litellm_params`.
    pub litellm_params: LitellmParams,
    /// `model_info`.
    pub model_info: ModelInfo,
    /// Deployment id: `model_info.id`, else a stable hash of the params.
    pub id: String,
}

/// `model_list[].litellm_params`.
#[derive(Debug, Clone, Default)]
pub struct LitellmParams {
    /// `provider/name`, e.g. `azure/gpt-4o`; no prefix means OpenAI.
    pub model: String,
    /// Upstream base URL.
    pub api_base: Option<String>,
    /// Upstream key (resolved from `os.environ/NAME` when written so).
    pub api_key: Option<SecretString>,
    /// Azure's `api-version`.
    pub api_version: Option<String>,
    /// Per-attempt timeout.
    pub timeout: Option<Duration>,
    /// `request_timeout`: read after `timeout`, as LiteLLM does.
    pub request_timeout: Option<Duration>,
    /// `timeout_by_service_tier`: a timeout per request `service_tier`, read before `timeout`.
    pub timeout_by_service_tier: BTreeMap<String, Duration>,
    /// `stream_timeout_by_service_tier`: the same for streams, before `stream_timeout`.
    pub stream_timeout_by_service_tier: BTreeMap<String, Duration>,
    /// Per-attempt timeout for streams.
    pub stream_timeout: Option<Duration>,
    /// Requests per minute limit (also accepted at the deployment's top level).
    pub rpm: Option<u64>,
    /// Tokens per minute limit (also accepted at the deployment's top level).
    pub tpm: Option<u64>,
    /// Weight for simple-shuffle.
    pub weight: Option<f64>,
    /// Lower orders are tried first.
    pub order: Option<u32>,
    /// Concurrency cap for this deployment.
    pub max_parallel_requests: Option<u32>,
    /// Region, for region pre-call checks.
    pub region_name: Option<String>,
    /// Tags, for tag routing.
    pub tags: Vec<String>,
    /// Answer with this instead of calling the upstream.
    pub mock_response: Option<Value>,
    /// Every other key: a default request parameter (`temperature`, `max_tokens`, ...).
    pub extra: Map<String, Value>,
}

/// `model_list[].model_info`.
#[derive(Debug, Clone, Default)]
pub struct ModelInfo {
    /// Explicit deployment id.
    pub id: Option<String>,
    /// The model whose prices and limits apply (Azure cost tracking).
    pub base_model: Option<String>,
    /// Context window.
    pub max_input_tokens: Option<u64>,
    /// Output cap.
    pub max_output_tokens: Option<u64>,
    /// USD per input token.
    pub input_cost_per_token: Option<f64>,
    /// USD per output token.
    pub output_cost_per_token: Option<f64>,
    /// Every other key, kept for `/model/info`-style output.
    pub extra: Map<String, Value>,
}

/// `router_settings` (and the same keys given to `Router(...)` in LiteLLM).
#[derive(Debug, Clone, Default)]
pub struct RouterSettings {
    /// `routing_strategy`, as written (`simple-shuffle` when absent).
    pub routing_strategy: Option<String>,
    /// `routing_strategy_args`.
    pub routing_strategy_args: Map<String, Value>,
    /// `num_retries`.
    pub num_retries: Option<u32>,
    /// `timeout`: seconds per attempt.
    pub timeout: Option<Duration>,
    /// `stream_timeout`.
    pub stream_timeout: Option<Duration>,
    /// `retry_after`: minimum seconds before a retry.
    pub retry_after: Option<Duration>,
    /// `allowed_fails`.
    pub allowed_fails: Option<u32>,
    /// `allowed_fails_policy`: class name -> count.
    pub allowed_fails_policy: BTreeMap<String, u32>,
    /// `cooldown_time` in seconds.
    pub cooldown_time: Option<Duration>,
    /// `disable_cooldowns`.
    pub disable_cooldowns: Option<bool>,
    /// `fallbacks`: `[{group: [targets]}]`.
    pub fallbacks: Vec<(String, Vec<String>)>,
    /// `default_fallbacks`.
    pub default_fallbacks: Vec<String>,
    /// `context_window_fallbacks`.
    pub context_window_fallbacks: Vec<(String, Vec<String>)>,
    /// `content_policy_fallbacks`.
    pub content_policy_fallbacks: Vec<(String, Vec<String>)>,
    /// `max_fallbacks`.
    pub max_fallbacks: Option<u32>,
    /// `model_group_alias`: alias -> (group, hidden).
    pub model_group_alias: BTreeMap<String, ModelGroupAlias>,
    /// `retry_policy`: class name (`RateLimitErrorRetries`...) -> count.
    pub retry_policy: BTreeMap<String, u32>,
    /// `model_group_retry_policy`: group -> class name -> count.
    pub model_group_retry_policy: BTreeMap<String, BTreeMap<String, u32>>,
    /// `default_max_parallel_requests`.
    pub default_max_parallel_requests: Option<u32>,
    /// `enable_pre_call_checks`.
    pub enable_pre_call_checks: Option<bool>,
    /// `enable_tag_filtering`.
    pub enable_tag_filtering: Option<bool>,
    /// `default_priority`.
    pub default_priority: Option<u32>,
    /// `set_verbose`.
    pub set_verbose: Option<bool>,
    /// `debug_level` (`DEBUG` or `INFO`).
    pub debug_level: Option<String>,
    /// `default_litellm_params`: request defaults for every deployment.
    pub default_litellm_params: Map<String, Value>,
    /// Redis connection: `redis_host`.
    pub redis_host: Option<String>,
    /// `redis_port`.
    pub redis_port: Option<u16>,
    /// `redis_password`.
    pub redis_password: Option<SecretString>,
    /// `redis_url`.
    pub redis_url: Option<SecretString>,
    /// `cache_responses`.
    pub cache_responses: Option<bool>,
    /// `caching_groups`.
    pub caching_groups: Vec<Vec<String>>,
}

/// A `model_group_alias` value: a bare string or `{model, hidden}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelGroupAlias {
    /// The group the alias points to.
    pub model: String,
    /// Hidden aliases route but are not listed in `/models`.
    pub hidden: bool,
}

/// `litellm_settings`: module-level settings of LiteLLM.
#[derive(Debug, Clone, Default)]
pub struct LitellmSettings {
    /// `set_verbose`.
    pub set_verbose: Option<bool>,
    /// `num_retries` (used when `router_settings` does not set it).
    pub num_retries: Option<u32>,
    /// `request_timeout`: seconds per attempt.
    pub request_timeout: Option<Duration>,
    /// `drop_params`.
    pub drop_params: Option<bool>,
    /// `fallbacks` (LiteLLM also reads them here).
    pub fallbacks: Vec<(String, Vec<String>)>,
    /// `context_window_fallbacks`.
    pub context_window_fallbacks: Vec<(String, Vec<String>)>,
    /// `content_policy_fallbacks`.
    pub content_policy_fallbacks: Vec<(String, Vec<String>)>,
    /// `default_fallbacks`.
    pub default_fallbacks: Vec<String>,
    /// `allowed_fails`.
    pub allowed_fails: Option<u32>,
    /// `cooldown_time`.
    pub cooldown_time: Option<Duration>,
    /// `cache`: enable response caching.
    pub cache: Option<bool>,
    /// `cache_params`.
    pub cache_params: Map<String, Value>,
    /// `callbacks`, `success_callback`, `failure_callback` names.
    pub callbacks: Vec<String>,
}

/// `general_settings`: proxy-level settings.
#[derive(Debug, Clone, Default)]
pub struct GeneralSettings {
    /// `master_key`: required as `Authorization: Bearer` when set.
    pub master_key: Option<SecretString>,
    /// `dangerously_allow_mock_testing_request_params`: requests may carry
    /// `mock_testing_fallbacks` and its siblings (refused with a 400 otherwise).
    pub allow_mock_testing_params: bool,
}

/// A non-fatal finding: a key Switchyard does not use (yet), or a footgun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// YAML path, e.g. `router_settings.provider_budget_config`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A fatal problem at one YAML path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// YAML path, e.g. `model_list[2].litellm_params.rpm`.
    pub path: String,
    /// What is wrong, e.g. `expected an integer, got "ten"`.
    pub message: String,
}

impl std::fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every fatal problem found in one config, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid config:\n{}", .issues.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    /// One entry per problem.
    pub issues: Vec<ConfigIssue>,
}

/// A loaded config and the warnings found while loading it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated config.
    pub config: Config,
    /// Keys not used and footguns seen, one entry per path.
    pub warnings: Vec<ConfigWarning>,
    /// Deployments left out of [`Config::model_list`] (each with a warning): a later
    /// duplicate of another's id, or an `api_base` that is not a usable URL.
    pub skipped: Vec<SkippedDeployment>,
}

/// A `model_list` entry the loader left out, with a warning saying why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedDeployment {
    /// `model_list[i]`.
    pub path: String,
    /// Its model group.
    pub model_name: String,
    /// Its deployment id.
    pub id: String,
}
