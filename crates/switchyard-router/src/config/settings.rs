//! `router_settings`, `litellm_settings` and `general_settings`.
//!
//! Every key is either read into its typed field, or warned about: "not implemented by
//! Switchyard yet; ignored" when LiteLLM reads it in that section, "unknown key; ignored"
//! otherwise. Typed keys Switchyard does not act on yet warn through
//! [`super::implemented::IMPLEMENTED`].

use std::collections::BTreeMap;

use super::implemented::IMPLEMENTED_ROUTING_STRATEGIES;
use super::litellm_keys::{
    ALLOWED_FAILS_POLICY_KEYS, GENERAL_SETTINGS_KEYS, LITELLM_SETTINGS_KEYS, RETRY_POLICY_KEYS,
    ROUTER_SETTINGS_KEYS, ROUTING_STRATEGIES, contains,
};
use super::model::{
    GeneralSettings, LitellmSettings, ModelGroupAlias, RouterSettings, SwitchyardSettings,
};
use super::reader::{Reader, child, index, quoted};
use super::yaml::Node;

/// A model group named somewhere in the settings, checked once `model_list` is known.
pub(crate) struct GroupRef {
    pub(crate) path: String,
    pub(crate) name: String,
    /// Whether a `model_group_alias` name is acceptable here (fallback targets), or only a group.
    pub(crate) alias_ok: bool,
}

/// Reads one settings section: `set` handles a typed key and returns `false` when the key
/// has no typed field, then `known` decides the warning.
fn read_section(
    r: &mut Reader<'_>,
    refs: &mut Vec<GroupRef>,
    node: &Node,
    section: &str,
    known: &[&str],
    mut set: impl FnMut(&mut Reader<'_>, &mut Vec<GroupRef>, &str, &Node, &str) -> bool,
) {
    let Some(entries) = r.map(node, section) else {
        return;
    };
    for (key, value) in entries {
        let p = child(section, key);
        if set(r, refs, key, value, &p) {
            if !matches!(value, Node::Null) {
                r.typed(&format!("{section}.{key}"), &p);
            }
        } else {
            r.untyped(contains(known, key), &p);
        }
    }
}

pub(crate) fn read_router(
    r: &mut Reader<'_>,
    refs: &mut Vec<GroupRef>,
    node: &Node,
    out: &mut RouterSettings,
) {
    read_section(
        r,
        refs,
        node,
        "router_settings",
        ROUTER_SETTINGS_KEYS,
        |r, refs, key, v, p| {
            match key {
                "routing_strategy" => out.routing_strategy = routing_strategy(r, v, p),
                "routing_strategy_args" => out.routing_strategy_args = r.json_map(v, p),
                "num_retries" => out.num_retries = r.u32(v, p),
                "timeout" => out.timeout = r.seconds(v, p),
                "stream_timeout" => out.stream_timeout = r.seconds(v, p),
                "retry_after" => out.retry_after = r.seconds(v, p),
                "allowed_fails" => out.allowed_fails = r.u32(v, p),
                "allowed_fails_policy" => {
                    out.allowed_fails_policy = class_counts(r, v, p, ALLOWED_FAILS_POLICY_KEYS)
                }
                "cooldown_time" => out.cooldown_time = r.seconds(v, p),
                "disable_cooldowns" => out.disable_cooldowns = r.bool(v, p),
                "fallbacks" => out.fallbacks = fallbacks(r, refs, v, p),
                "context_window_fallbacks" => {
                    out.context_window_fallbacks = fallbacks(r, refs, v, p)
                }
                "content_policy_fallbacks" => {
                    out.content_policy_fallbacks = fallbacks(r, refs, v, p)
                }
                "default_fallbacks" => out.default_fallbacks = group_list(r, refs, v, p),
                "max_fallbacks" => out.max_fallbacks = r.u32(v, p),
                "model_group_alias" => out.model_group_alias = aliases(r, refs, v, p),
                "retry_policy" => out.retry_policy = class_counts(r, v, p, RETRY_POLICY_KEYS),
                "model_group_retry_policy" => {
                    out.model_group_retry_policy = BTreeMap::new();
                    for (group, policy) in r.map(v, p).unwrap_or_default() {
                        let gp = child(p, group);
                        refs.push(GroupRef {
                            path: gp.clone(),
                            name: group.clone(),
                            alias_ok: true,
                        });
                        let counts = class_counts(r, policy, &gp, RETRY_POLICY_KEYS);
                        out.model_group_retry_policy.insert(group.clone(), counts);
                    }
                }
                "default_max_parallel_requests" => out.default_max_parallel_requests = r.u32(v, p),
                "enable_pre_call_checks" => out.enable_pre_call_checks = r.bool(v, p),
                "enable_tag_filtering" => out.enable_tag_filtering = r.bool(v, p),
                "default_priority" => out.default_priority = r.u32(v, p),
                "set_verbose" => out.set_verbose = r.bool(v, p),
                "debug_level" => {
                    out.debug_level = r.string(v, p);
                    if let Some(level) = &out.debug_level
                        && level != "DEBUG"
                        && level != "INFO"
                    {
                        r.error(
                            p,
                            format!("expected \"DEBUG\" or \"INFO\", got {}", quoted(level)),
                        );
                    }
                }
                "default_litellm_params" => {
                    out.default_litellm_params = r.json_map(v, p);
                    // Merged into every request body: the mock provider reads it as seconds.
                    if let Some(delay) = out.default_litellm_params.get("mock_delay") {
                        r.check_json_seconds(delay, &child(p, "mock_delay"));
                    }
                }
                "redis_host" => out.redis_host = r.string(v, p),
                "redis_port" => out.redis_port = r.u16(v, p),
                "redis_password" => out.redis_password = r.secret(v, p),
                "redis_url" => out.redis_url = r.secret(v, p),
                "cache_responses" => out.cache_responses = r.bool(v, p),
                "caching_groups" => {
                    out.caching_groups = r
                        .seq(v, p)
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                        .map(|(i, group)| group_list(r, refs, group, &index(p, i)))
                        .collect();
                }
                _ => return false,
            }
            true
        },
    );
}

pub(crate) fn read_litellm(
    r: &mut Reader<'_>,
    refs: &mut Vec<GroupRef>,
    node: &Node,
    out: &mut LitellmSettings,
) {
    read_section(
        r,
        refs,
        node,
        "litellm_settings",
        LITELLM_SETTINGS_KEYS,
        |r, refs, key, v, p| {
            match key {
                "set_verbose" => out.set_verbose = r.bool(v, p),
                "num_retries" => out.num_retries = r.u32(v, p),
                "request_timeout" => out.request_timeout = r.seconds(v, p),
                "drop_params" => out.drop_params = r.bool(v, p),
                "fallbacks" => out.fallbacks = fallbacks(r, refs, v, p),
                "context_window_fallbacks" => {
                    out.context_window_fallbacks = fallbacks(r, refs, v, p)
                }
                "content_policy_fallbacks" => {
                    out.content_policy_fallbacks = fallbacks(r, refs, v, p)
                }
                "default_fallbacks" => out.default_fallbacks = group_list(r, refs, v, p),
                "allowed_fails" => out.allowed_fails = r.u32(v, p),
                "cooldown_time" => out.cooldown_time = r.seconds(v, p),
                "cache" => out.cache = r.bool(v, p),
                "cache_params" => out.cache_params = r.json_map(v, p),
                "callbacks" | "success_callback" | "failure_callback" => {
                    let names = r.string_list(v, p);
                    out.callbacks.extend(names);
                }
                _ => return false,
            }
            true
        },
    );
}

pub(crate) fn read_general(r: &mut Reader<'_>, node: &Node, out: &mut GeneralSettings) {
    read_section(
        r,
        &mut Vec::new(),
        node,
        "general_settings",
        GENERAL_SETTINGS_KEYS,
        |r, _, key, v, p| {
            match key {
                "master_key" => out.master_key = r.secret(v, p),
                "dangerously_allow_mock_testing_request_params" => {
                    out.allow_mock_testing_params = r.bool(v, p).unwrap_or(false);
                }
                _ => return false,
            }
            true
        },
    );
}

/// `switchyard_settings`: Switchyard's own keys; every other key is unknown.
pub(crate) fn read_switchyard(r: &mut Reader<'_>, node: &Node, out: &mut SwitchyardSettings) {
    read_section(
        r,
        &mut Vec::new(),
        node,
        "switchyard_settings",
        &[],
        |r, _, key, v, p| {
            match key {
                "request_deadline" => out.request_deadline = r.seconds(v, p),
                _ => return false,
            }
            true
        },
    );
}

/// `routing_strategy`: a LiteLLM name; the ones Switchyard lacks fall back to simple-shuffle.
fn routing_strategy(r: &mut Reader<'_>, node: &Node, path: &str) -> Option<String> {
    let name = r.string(node, path)?;
    if !ROUTING_STRATEGIES.contains(&name.as_str()) {
        r.error(
            path,
            format!(
                "unknown routing strategy {}; valid: {}",
                quoted(&name),
                ROUTING_STRATEGIES.join(", ")
            ),
        );
    } else if !IMPLEMENTED_ROUTING_STRATEGIES.contains(&name.as_str()) {
        r.warn(
            path,
            format!(
                "routing strategy {} is not implemented by Switchyard yet; simple-shuffle is used",
                quoted(&name)
            ),
        );
    }
    Some(name)
}

/// `[{group: [targets]}]`; a target list may be a bare string. Several keys in one item
/// are all read, as LiteLLM looks the group up in each item.
fn fallbacks(
    r: &mut Reader<'_>,
    refs: &mut Vec<GroupRef>,
    node: &Node,
    path: &str,
) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (i, item) in r.seq(node, path).unwrap_or_default().iter().enumerate() {
        let ip = index(path, i);
        let Node::Map(entries) = item else {
            r.error(
                &ip,
                format!(
                    "expected a mapping like {{\"gpt-4\": [\"gpt-3.5\"]}}, got {}",
                    item.kind()
                ),
            );
            continue;
        };
        for (group, targets) in entries {
            let gp = child(&ip, group);
            if group != "*" {
                refs.push(GroupRef {
                    path: gp.clone(),
                    name: group.clone(),
                    alias_ok: true,
                });
            }
            out.push((group.clone(), group_list(r, refs, targets, &gp)));
        }
    }
    out
}

/// A list of model group names (or one bare name), each checked against `model_list` later.
fn group_list(
    r: &mut Reader<'_>,
    refs: &mut Vec<GroupRef>,
    node: &Node,
    path: &str,
) -> Vec<String> {
    let names = r.string_list(node, path);
    let single = !matches!(node, Node::Seq(_));
    for (i, name) in names.iter().enumerate() {
        let p = if single {
            path.to_owned()
        } else {
            index(path, i)
        };
        refs.push(GroupRef {
            path: p,
            name: name.clone(),
            alias_ok: true,
        });
    }
    names
}

/// `model_group_alias`: alias → `"group"` or `{model: group, hidden: bool}`.
fn aliases(
    r: &mut Reader<'_>,
    refs: &mut Vec<GroupRef>,
    node: &Node,
    path: &str,
) -> BTreeMap<String, ModelGroupAlias> {
    let mut out = BTreeMap::new();
    for (alias, value) in r.map(node, path).unwrap_or_default() {
        let p = child(path, alias);
        let target = match value {
            Node::Map(entries) => {
                let mut model = None;
                let mut hidden = false;
                for (key, v) in entries {
                    let kp = child(&p, key);
                    match key.as_str() {
                        "model" => model = r.string(v, &kp).map(|m| (m, kp)),
                        "hidden" => hidden = r.bool(v, &kp).unwrap_or(false),
                        _ => r.untyped(false, &kp),
                    }
                }
                match model {
                    Some((model, kp)) => Some((model, hidden, kp)),
                    None => {
                        r.error(&child(&p, "model"), "is required");
                        None
                    }
                }
            }
            Node::Null => {
                r.error(
                    &p,
                    "expected a model group name or {model, hidden}, got null",
                );
                None
            }
            other => r.string(other, &p).map(|m| (m, false, p.clone())),
        };
        if let Some((model, hidden, target_path)) = target {
            refs.push(GroupRef {
                path: target_path,
                name: model.clone(),
                alias_ok: false,
            });
            out.insert(alias.clone(), ModelGroupAlias { model, hidden });
        }
    }
    out
}

/// `retry_policy` / `allowed_fails_policy`: exception class name → count.
fn class_counts(
    r: &mut Reader<'_>,
    node: &Node,
    path: &str,
    known: &[&str],
) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for (class, value) in r.map(node, path).unwrap_or_default() {
        let p = child(path, class);
        if !contains(known, class) {
            r.untyped(false, &p);
            continue;
        }
        if let Some(n) = r.u32(value, &p) {
            out.insert(class.clone(), n);
        }
    }
    out
}
