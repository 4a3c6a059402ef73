//! A deployment ready to call: its config resolved into a provider and the
//! request defaults it adds.

use std::sync::Arc;

use serde_json::value::RawValue;
use switchyard_providers::mock::MockProvider;
use switchyard_providers::{BuiltProvider, Provider, ProviderSpec, build_provider};

use crate::config::DeploymentConfig;
use crate::cooldown::DeploymentCooldownConfig;
use crate::precall::deployment_region;
use crate::pricing::{DeploymentPrice, PriceTable, deployment_price};
use crate::strategy::CandidateSnapshot;
use crate::timeouts::DeploymentTimeouts;

/// `litellm_params` keys that configure the router rather than the upstream request, so
/// they are never sent as request defaults: every field of LiteLLM's `LiteLLM_Params`
/// ([`crate::config::is_litellm_param`]: credentials, prices, provider settings), and these,
/// which LiteLLM's router reads from the same place without declaring them there.
const ROUTER_PARAMS: &[&str] = &[
    "azure_ad_token_provider",
    "base_model",
    "cooldown_time",
    "litellm_metadata",
    "max_parallel_requests",
    "num_retries",
    "order",
    "request_timeout",
    "weight",
];

/// Whether a `litellm_params` key configures LiteLLM or the router (never sent upstream).
fn is_config_only(key: &str) -> bool {
    ROUTER_PARAMS.contains(&key) || crate::config::is_litellm_param(key)
}

/// One callable deployment of a model group.
#[derive(Debug)]
pub struct Deployment {
    /// Stable id: `model_info.id`, else a hash of the params.
    pub id: String,
    /// The model group (`model_name`) it serves.
    pub model_group: String,
    /// `litellm_params.model` as written (`azure/gpt-4o`).
    pub model: String,
    /// The name put in the upstream request's `model` field.
    pub upstream_model: String,
    /// `/completions` calls go to its `/chat/completions` (an OpenAI chat model).
    pub(crate) completions_via_chat: bool,
    /// Where requests go; `None` for `mock_response` deployments.
    pub api_base: Option<String>,
    pub(crate) provider: Arc<dyn Provider>,
    /// Request parameters this deployment adds when the request does not set them.
    pub(crate) defaults: Vec<(String, Box<RawValue>)>,
    /// `litellm_params.mock_response`: answer without calling the upstream.
    pub(crate) mock_response: Option<Box<RawValue>>,
    pub(crate) snapshot: CandidateSnapshot,
    /// `timeout`, `request_timeout`, `stream_timeout`: its part of each attempt's timeout.
    pub(crate) timeouts: DeploymentTimeouts,
    /// `order`: lower tiers are tried first.
    pub order: Option<u32>,
    /// `litellm_params.num_retries`: overrides the router's count for this deployment.
    pub(crate) num_retries: Option<u32>,
    pub(crate) max_parallel_requests: Option<u32>,
    pub(crate) cooldown: DeploymentCooldownConfig,
    /// `litellm_params.tags`, for tag routing.
    pub tags: Vec<String>,
    /// `region_name`, or the region inferred from Vertex/Bedrock params.
    pub region: Option<String>,
    /// Context window: `model_info.max_input_tokens`, else the price table's.
    pub max_input_tokens: Option<u64>,
    /// Longest completion: `model_info.max_output_tokens`, else the price table's.
    pub max_output_tokens: Option<u64>,
    /// What the model does (`chat`, `embedding`...): `model_info.mode`, else the price table's.
    pub mode: Option<String>,
    /// Per-token prices (deployment overrides over the price table).
    pub price: DeploymentPrice,
    /// Its rpm/tpm counter keys in the state store.
    pub(crate) usage_keys: Arc<crate::usage::UsageKeys>,
    /// Its success counter key (the cooldown failure-ratio rule).
    pub(crate) success_key: String,
}

impl Deployment {
    /// Resolves a deployment's provider from its config.
    pub(crate) fn from_config(
        cfg: &DeploymentConfig,
        client: &switchyard_providers::client::HttpClient,
        prices: &PriceTable,
    ) -> Result<Self, String> {
        let p = &cfg.litellm_params;
        let spec = ProviderSpec {
            model: p.model.clone(),
            api_base: p.api_base.clone(),
            api_key: p.api_key.clone(),
            api_version: p.api_version.clone(),
        };
        let mock_response = p
            .mock_response
            .as_ref()
            .map(|v| serde_json::value::to_raw_value(v).expect("a JSON value serialises"));
        let built = match build_provider(&spec, client) {
            Ok(built) => built,
            // A mock deployment never reaches its upstream, so an incomplete provider config is fine.
            Err(_) if mock_response.is_some() => BuiltProvider {
                provider: Arc::new(MockProvider),
                upstream_model: p
                    .model
                    .split_once('/')
                    .map_or(p.model.as_str(), |(_, m)| m)
                    .to_owned(),
            },
            Err(e) => return Err(e),
        };
        let defaults = p
            .extra
            .iter()
            .filter(|(k, _)| !is_config_only(k))
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::value::to_raw_value(v).expect("a JSON value serialises"),
                )
            })
            .collect();
        let info = &cfg.model_info;
        // LiteLLM's docs set `base_model` in either place; model_info wins.
        let base_model = info
            .base_model
            .as_deref()
            .or_else(|| p.extra.get("base_model").and_then(|v| v.as_str()));
        let price = deployment_price(
            &p.model,
            base_model,
            (info.input_cost_per_token, info.output_cost_per_token),
            prices,
        );
        let cost_per_token = price.routing_cost_per_token();
        Ok(Self {
            usage_keys: Arc::new(crate::usage::UsageKeys::new(&cfg.id)),
            success_key: crate::cooldown::success_key(&cfg.id),
            id: cfg.id.clone(),
            model_group: cfg.model_name.clone(),
            model: p.model.clone(),
            completions_via_chat: crate::text_via_chat::applies(
                built.provider.name(),
                &p.model,
                prices,
            ),
            upstream_model: built.upstream_model,
            api_base: built.provider.api_base().map(str::to_owned),
            provider: built.provider,
            defaults,
            mock_response,
            snapshot: CandidateSnapshot {
                weight: p.weight,
                rpm: p.rpm,
                tpm: p.tpm,
                cost_per_token,
                ..CandidateSnapshot::default()
            },
            timeouts: DeploymentTimeouts {
                timeout: p.timeout,
                request_timeout: p.request_timeout,
                stream_timeout: p.stream_timeout,
                by_service_tier: p.timeout_by_service_tier.clone(),
                stream_by_service_tier: p.stream_timeout_by_service_tier.clone(),
            },
            order: p.order,
            num_retries: p.extra.get("num_retries").and_then(non_negative_int),
            max_parallel_requests: p.max_parallel_requests,
            cooldown: DeploymentCooldownConfig::from_deployment(cfg),
            tags: p.tags.clone(),
            region: deployment_region(p.region_name.as_deref(), &p.extra),
            max_input_tokens: info.max_input_tokens.or(price.max_input_tokens),
            max_output_tokens: info.max_output_tokens.or(price.max_output_tokens),
            mode: info
                .extra
                .get("mode")
                .and_then(|m| m.as_str())
                .map(str::to_owned)
                .or_else(|| {
                    base_model
                        .and_then(|b| prices.lookup(b))
                        .or_else(|| prices.lookup(&p.model))
                        .and_then(|e| e.mode.clone())
                }),
            price,
        })
    }
}

/// A count written as a number or a numeric string, as LiteLLM's loader accepts.
fn non_negative_int(value: &serde_json::Value) -> Option<u32> {
    match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n| *n >= 0.0 && n.is_finite())
    .map(|n| n as u32)
}
