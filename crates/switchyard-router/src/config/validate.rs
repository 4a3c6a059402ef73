//! Checks across sections, once everything is read: duplicate deployment ids, names of
//! model groups that do not exist, and LiteLLM footguns.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{ModelGroupAlias, RouterSettings};
use super::model_list::ReadDeployment;
use super::reader::{Reader, quoted};
use super::settings::GroupRef;

/// Two deployments with one id: LiteLLM would keep one and drop the other.
pub(crate) fn duplicate_ids(r: &mut Reader<'_>, deployments: &[ReadDeployment]) {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for d in deployments {
        if let Some(first) = seen.insert(&d.deployment.id, &d.path) {
            r.error(
                &d.path,
                format!(
                    "duplicate deployment id {} (also used by {first})",
                    quoted(&d.deployment.id)
                ),
            );
            seen.insert(&d.deployment.id, first);
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
    for d in deployments {
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
