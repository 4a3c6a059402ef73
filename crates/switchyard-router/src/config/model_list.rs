//! `model_list`: one [`DeploymentConfig`] per entry.

use std::collections::BTreeMap;
use std::time::Duration;

use super::deployment_id::litellm_model_id;
use super::model::{DeploymentConfig, LitellmParams, ModelInfo};
use super::reader::{Reader, child, index};
use super::yaml::Node;

/// `litellm_params` keys kept as written but read later as seconds (the
/// deployment's `cooldown_time`, the mock provider's `mock_delay`): range-checked here
/// so an unusable value is a config error with its path, not a failure per call.
const SECONDS_KEPT_AS_WRITTEN: [&str; 2] = ["cooldown_time", "mock_delay"];

/// A deployment read from `model_list[i]`, with its path for later checks.
pub(crate) struct ReadDeployment {
    /// `model_list[i]`.
    pub(crate) path: String,
    pub(crate) deployment: DeploymentConfig,
    /// Set by the checks that skip a deployment (with a warning) rather than fail the load.
    pub(crate) skipped: bool,
}

/// Reads `model_list`; `null` is an empty list (LiteLLM starts with no models).
pub(crate) fn read(r: &mut Reader<'_>, node: &Node, path: &str) -> Vec<ReadDeployment> {
    let Some(items) = r.seq(node, path) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let p = index(path, i);
            read_deployment(r, item, &p).map(|deployment| ReadDeployment {
                path: p,
                deployment,
                skipped: false,
            })
        })
        .collect()
}

fn read_deployment(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<DeploymentConfig> {
    let entries = match node {
        Node::Map(entries) => entries,
        other => {
            r.error(
                path,
                format!(
                    "expected a mapping with model_name and litellm_params, got {}",
                    other.kind()
                ),
            );
            return None;
        }
    };
    let issues_before = r.issues.len();

    let name_path = child(path, "model_name");
    let model_name = match node.get("model_name") {
        None | Some(Node::Null) => {
            r.error(&name_path, "is required");
            None
        }
        Some(v) => r.string(v, &name_path),
    };

    let params_path = child(path, "litellm_params");
    let (mut litellm_params, raw_params) = match node.get("litellm_params") {
        None | Some(Node::Null) => {
            r.error(&params_path, "is required");
            (LitellmParams::default(), &[][..])
        }
        Some(v) => match r.map(v, &params_path) {
            Some(raw) => (read_params(r, raw, &params_path), raw),
            None => (LitellmParams::default(), &[][..]),
        },
    };

    let mut model_info = ModelInfo::default();
    let mut top_rpm = None;
    let mut top_tpm = None;
    for (key, value) in entries {
        let p = child(path, key);
        match key.as_str() {
            "model_name" | "litellm_params" => {}
            "model_info" => {
                if let Some(raw) = r.map(value, &p) {
                    model_info = read_model_info(r, raw, &p);
                }
            }
            "rpm" | "tpm" => {
                let n = r.u64(value, &p);
                if n.is_some() {
                    r.typed(&format!("model_list.{key}"), &p);
                }
                if key == "rpm" {
                    top_rpm = n;
                } else {
                    top_tpm = n;
                }
            }
            _ => r.untyped(false, &p),
        }
    }
    // `litellm_params` wins over the deployment's top level.
    litellm_params.rpm = litellm_params.rpm.or(top_rpm);
    litellm_params.tpm = litellm_params.tpm.or(top_tpm);

    // LiteLLM also takes prices from `litellm_params`; `model_info` wins.
    for (key, slot) in [
        ("input_cost_per_token", &mut model_info.input_cost_per_token),
        (
            "output_cost_per_token",
            &mut model_info.output_cost_per_token,
        ),
    ] {
        if slot.is_none()
            && let Some(value) = litellm_params.extra.get(key)
        {
            let number = match value {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            match number.filter(|f| f.is_finite() && *f >= 0.0) {
                Some(f) => *slot = Some(f),
                None if value.is_null() => {}
                None => r.error(&child(&params_path, key), "expected a non-negative number"),
            }
        }
    }

    let model_name = model_name?;
    if r.issues.len() > issues_before {
        return None;
    }
    let id = match &model_info.id {
        Some(id) => id.clone(),
        None => litellm_model_id(&model_name, raw_params, &r.env),
    };
    Some(DeploymentConfig {
        model_name,
        litellm_params,
        model_info,
        id,
    })
}

fn read_params(r: &mut Reader<'_>, raw: &[(String, Node)], path: &str) -> LitellmParams {
    let mut params = LitellmParams::default();
    let mut has_model = false;
    for (key, value) in raw {
        let p = child(path, key);
        let set = !matches!(value, Node::Null);
        let typed = match key.as_str() {
            "model" => {
                has_model = set;
                if let Some(model) = r.string(value, &p) {
                    if model.trim().is_empty() {
                        r.error(&p, "must not be empty");
                    }
                    params.model = model;
                }
                true
            }
            "api_base" => {
                params.api_base = r.string(value, &p);
                true
            }
            "api_key" => {
                params.api_key = r.secret(value, &p);
                true
            }
            "api_version" => {
                params.api_version = r.string(value, &p);
                true
            }
            "timeout" => {
                params.timeout = r.seconds(value, &p);
                true
            }
            "stream_timeout" => {
                params.stream_timeout = r.seconds(value, &p);
                true
            }
            "request_timeout" => {
                params.request_timeout = r.seconds(value, &p);
                true
            }
            "timeout_by_service_tier" => {
                params.timeout_by_service_tier = seconds_by_tier(r, value, &p);
                true
            }
            "stream_timeout_by_service_tier" => {
                params.stream_timeout_by_service_tier = seconds_by_tier(r, value, &p);
                true
            }
            "rpm" => {
                params.rpm = r.u64(value, &p);
                true
            }
            "tpm" => {
                params.tpm = r.u64(value, &p);
                true
            }
            "weight" => {
                params.weight = r.non_negative(value, &p);
                true
            }
            "order" => {
                params.order = r.u32(value, &p);
                true
            }
            "max_parallel_requests" => {
                params.max_parallel_requests = r.u32(value, &p);
                true
            }
            "region_name" => {
                params.region_name = r.string(value, &p);
                true
            }
            "tags" => {
                params.tags = r.string_list(value, &p);
                true
            }
            "mock_response" => {
                params.mock_response = set.then(|| r.json(value, &p));
                true
            }
            _ => {
                // A default request parameter or a provider setting: kept as written.
                let v = r.json(value, &p);
                if SECONDS_KEPT_AS_WRITTEN.contains(&key.as_str()) {
                    r.check_json_seconds(&v, &p);
                }
                params.extra.insert(key.clone(), v);
                false
            }
        };
        if typed && set {
            r.typed(&format!("model_list.litellm_params.{key}"), &p);
        }
    }
    if !has_model {
        r.error(&child(path, "model"), "is required");
    }
    params
}

fn read_model_info(r: &mut Reader<'_>, raw: &[(String, Node)], path: &str) -> ModelInfo {
    let mut info = ModelInfo::default();
    for (key, value) in raw {
        let p = child(path, key);
        let typed = match key.as_str() {
            "id" => {
                info.id = r.string(value, &p);
                if info.id.as_deref().is_some_and(|id| id.trim().is_empty()) {
                    r.error(&p, "must not be empty");
                }
                true
            }
            "base_model" => {
                info.base_model = r.string(value, &p);
                true
            }
            "max_input_tokens" => {
                info.max_input_tokens = r.u64(value, &p);
                true
            }
            "max_output_tokens" => {
                info.max_output_tokens = r.u64(value, &p);
                true
            }
            "input_cost_per_token" => {
                info.input_cost_per_token = r.non_negative(value, &p);
                true
            }
            "output_cost_per_token" => {
                info.output_cost_per_token = r.non_negative(value, &p);
                true
            }
            _ => {
                let v = r.json(value, &p);
                if key == "cooldown_time" {
                    r.check_json_seconds(&v, &p);
                }
                info.extra.insert(key.clone(), v);
                false
            }
        };
        if typed && !matches!(value, Node::Null) {
            r.typed(&format!("model_list.model_info.{key}"), &p);
        }
    }
    info
}

/// A mapping of service tier (`flex`, `priority`...) to seconds.
fn seconds_by_tier(r: &mut Reader<'_>, node: &Node, path: &str) -> BTreeMap<String, Duration> {
    let Some(entries) = r.map(node, path) else {
        return BTreeMap::new();
    };
    entries
        .iter()
        .filter_map(|(tier, v)| Some((tier.clone(), r.seconds(v, &child(path, tier))?)))
        .collect()
}
