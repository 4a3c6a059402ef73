//! Checks across sections, once everything is read: duplicate deployment ids and unusable
//! `api_base`s (those deployments are skipped with a warning), names of model groups that do
//! not exist, and LiteLLM footguns.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{ModelGroupAlias, RouterSettings};
use super::model_list::ReadDeployment;
use switchyard_providers::{ProviderSpec, SpecError, check_provider};

use super::reader::{Reader, child, quoted};
use super::settings::GroupRef;

/// Two deployments with one id (identical params, or the same `model_info.id`): the first
/// is kept, each later one is skipped with a warning naming both paths. (LiteLLM 1.106's
/// `Router.set_model_list` keeps both in its model list under the one id, so they share
/// cooldowns and usage and its id index points at the last; Switchyard's ids name one
/// deployment each.)
pub(crate) fn duplicate_ids(r: &mut Reader<'_>, deployments: &mut [ReadDeployment]) {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for d in deployments.iter_mut().filter(|d| !d.skipped) {
        match seen.get(&d.deployment.id) {
            Some(first) => {
                r.warn(
                    &d.path,
                    format!(
                        "same deployment id {} as {first} (identical params or model_info.id); \
                         only {first} is routed to, this deployment is skipped",
                        quoted(&d.deployment.id)
                    ),
                );
                d.skipped = true;
            }
            None => {
                seen.insert(d.deployment.id.clone(), d.path.clone());
            }
        }
    }
}

/// Checks each deployment's provider settings as the router will build them, so every
/// problem names its YAML path (the router's own checks see only the deployments kept):
/// - a provider Switchyard has no adapter for (`bedrock/`, ...): skipped with a warning;
/// - an `api_base` that is not a usable URL (an unresolved `${VAR}`, a bare word left by an
///   unset variable...): skipped with a warning, as LiteLLM loads it and fails every call;
/// - anything else (`azure/` without `api_base`, a key a header cannot hold...): an error.
///
/// Deployments answered by `mock_response` never reach their upstream and are not checked.
pub(crate) fn providers(r: &mut Reader<'_>, deployments: &mut [ReadDeployment]) {
    for d in deployments.iter_mut().filter(|d| !d.skipped) {
        let p = &d.deployment.litellm_params;
        if p.mock_response.is_some() {
            continue;
        }
        let spec = ProviderSpec {
            model: p.model.clone(),
            api_base: p.api_base.clone(),
            api_key: p.api_key.clone(),
            api_version: p.api_version.clone(),
        };
        let params = format!("{}.litellm_params", d.path);
        match check_provider(&spec) {
            Ok(()) => {}
            Err(SpecError::UnsupportedProvider) => {
                r.warn(
                    &child(&params, "model"),
                    format!(
                        "provider of {:?} is not supported by Switchyard yet; \
                         this deployment is not routed to",
                        p.model
                    ),
                );
                d.skipped = true;
            }
            Err(SpecError::UnusableApiBase(e)) => {
                r.warn(
                    &child(&params, "api_base"),
                    format!("not a usable URL: {e}; this deployment is not routed to"),
                );
                d.skipped = true;
            }
            Err(SpecError::Invalid(e)) => r.error(&child(&params, "model"), e),
        }
    }
}

/// Warns about each group name in the settings that no deployment serves.
pub(crate) fn group_refs(
    r: &mut Reader<'_>,
    refs: &[GroupRef],
    deployments: &[ReadDeployment],
    router: &RouterSettings,
) {
    let groups: BTreeSet<&str> = deployments
        .iter()
        .map(|d| d.deployment.model_name.as_str())
        .collect();
    let patterns: Vec<&str> = groups.iter().copied().filter(|g| g.contains('*')).collect();
    let aliases: &BTreeMap<String, ModelGroupAlias> = &router.model_group_alias;
    for GroupRef {
        path,
        name,
        alias_ok,
    } in refs
    {
        let known = groups.contains(name.as_str())
            || patterns.iter().any(|p| wildcard_match(p, name))
            || (*alias_ok && aliases.contains_key(name));
        if !known {
            r.warn(
                path,
                format!("model group {} is not in model_list", quoted(name)),
            );
        }
    }
}

/// LiteLLM's simple-shuffle weighs by the first of `weight`, `rpm`, `tpm` that any
/// deployment of the group sets; a deployment without it gets weight 0 and is never picked.
pub(crate) fn partial_weights(r: &mut Reader<'_>, deployments: &[ReadDeployment]) {
    let mut groups: BTreeMap<&str, Vec<&ReadDeployment>> = BTreeMap::new();
    for d in deployments.iter().filter(|d| !d.skipped) {
        groups.entry(&d.deployment.model_name).or_default().push(d);
    }
    for (group, members) in groups {
        if members.len() < 2 {
            continue;
        }
        let metrics: [(&str, Metric); 3] = [
            ("weight", |d| {
                d.deployment.litellm_params.weight.unwrap_or(0.0)
            }),
            ("rpm", |d| {
                d.deployment.litellm_params.rpm.unwrap_or(0) as f64
            }),
            ("tpm", |d| {
                d.deployment.litellm_params.tpm.unwrap_or(0) as f64
            }),
        ];
        let Some((metric, value)) = metrics
            .into_iter()
            .find(|(_, value)| members.iter().any(|d| value(d) > 0.0))
        else {
            continue;
        };
        let unweighted: Vec<&str> = members
            .iter()
            .filter(|d| value(d) <= 0.0)
            .map(|d| d.path.as_str())
            .collect();
        if !unweighted.is_empty() {
            r.warn(
                unweighted[0],
                format!(
                    "model group {} sets `{metric}` on some deployments but not on {}: \
                     LiteLLM's simple-shuffle gives those weight 0, so they are never picked",
                    quoted(group),
                    unweighted.join(", ")
                ),
            );
        }
    }
}

/// Reads one shuffle metric of a deployment (0 when unset).
type Metric = fn(&ReadDeployment) -> f64;

/// `*` matches any run of characters (LiteLLM's wildcard model names, e.g. `openai/*`).
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("openai/*", "openai/gpt-4o"));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("openai/*", "azure/gpt-4o"));
        assert!(!wildcard_match("ab*ba", "aba"));
    }
}
