//! Pre-call filters over a group's deployments: context window and region
//! (`enable_pre_call_checks`), and tags (`enable_tag_filtering`), with
//! LiteLLM's semantics.

use std::sync::Arc;

use serde_json::{Map, Value};
use switchyard_types::RequestBody;

use crate::deployment::Deployment;

/// The region a deployment serves from: `region_name`, else inferred from
/// Vertex's `vertex_location` or Bedrock's `aws_region_name`.
pub(crate) fn deployment_region(
    region_name: Option<&str>,
    extra: &Map<String, Value>,
) -> Option<String> {
    if let Some(r) = region_name {
        return Some(r.trim().to_ascii_lowercase());
    }
    let inferred = |location: &str| {
        let l = location.trim().to_ascii_lowercase();
        if l.starts_with("eu") {
            Some("eu".to_owned())
        } else if l.starts_with("us") {
            Some("us".to_owned())
        } else {
            None
        }
    };
    let location = extra
        .get("vertex_location")
        .or_else(|| extra.get("aws_region_name"))?
        .as_str()?;
    inferred(location)
}

/// Keeps deployments whose context window holds `input_tokens`; deployments
/// with an unknown window are kept.
pub(crate) fn fits_context_window(deployment: &Deployment, input_tokens: u64) -> bool {
    deployment
        .max_input_tokens
        .is_none_or(|max| input_tokens <= max)
}

/// Keeps deployments in the request's `allowed_model_region`; a deployment
/// whose region is unknown is not known to comply, so it is dropped.
pub(crate) fn in_region(deployment: &Deployment, allowed: &str) -> bool {
    deployment
        .region
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case(allowed))
}

/// The request's tags: `metadata.tags`, else top-level `tags`.
pub(crate) fn request_tags(body: &RequestBody) -> Vec<String> {
    let from_metadata = body
        .get_as::<Value>("metadata")
        .and_then(|m| m.get("tags").cloned())
        .and_then(|t| serde_json::from_value::<Vec<String>>(t).ok());
    from_metadata
        .or_else(|| body.get_as::<Vec<String>>("tags"))
        .unwrap_or_default()
}

/// LiteLLM's tag routing: a tagged request goes to deployments sharing one of
/// its tags, else to `default`-tagged ones (an error when neither exists); an
/// untagged request goes to `default`-tagged deployments when there are any,
/// else anywhere.
pub(crate) fn filter_by_tags<'a>(
    deployments: Vec<&'a Arc<Deployment>>,
    tags: &[String],
) -> Result<Vec<&'a Arc<Deployment>>, String> {
    let is_default = |d: &Deployment| d.tags.iter().any(|t| t == "default");
    if tags.is_empty() {
        let defaults: Vec<_> = deployments
            .iter()
            .copied()
            .filter(|d| is_default(d))
            .collect();
        return Ok(if defaults.is_empty() {
            deployments
        } else {
            defaults
        });
    }
    let matching: Vec<_> = deployments
        .iter()
        .copied()
        .filter(|d| d.tags.iter().any(|t| tags.contains(t)))
        .collect();
    if !matching.is_empty() {
        return Ok(matching);
    }
    let defaults: Vec<_> = deployments.into_iter().filter(|d| is_default(d)).collect();
    if defaults.is_empty() {
        return Err(format!(
            "no deployment matches the request's tags {tags:?} and none is tagged \"default\""
        ));
    }
    Ok(defaults)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_inferred_from_vertex_and_bedrock_params() {
        let extra =
            |k: &str, v: &str| Map::from_iter([(k.to_owned(), Value::String(v.to_owned()))]);
        assert_eq!(
            deployment_region(Some("EU"), &Map::new()).as_deref(),
            Some("eu")
        );
        assert_eq!(
            deployment_region(None, &extra("vertex_location", "europe-west4")).as_deref(),
            Some("eu")
        );
        assert_eq!(
            deployment_region(None, &extra("aws_region_name", "eu-central-1")).as_deref(),
            Some("eu")
        );
        assert_eq!(
            deployment_region(None, &extra("aws_region_name", "us-east-1")).as_deref(),
            Some("us")
        );
        assert_eq!(
            deployment_region(None, &extra("vertex_location", "asia-east1")),
            None
        );
        assert_eq!(deployment_region(None, &Map::new()), None);
    }

    #[test]
    fn tags_come_from_metadata_or_the_top_level() {
        let b =
            RequestBody::from_slice(br#"{"metadata":{"tags":["free"]},"tags":["paid"]}"#).unwrap();
        assert_eq!(request_tags(&b), ["free"]);
        let b = RequestBody::from_slice(br#"{"tags":["paid"]}"#).unwrap();
        assert_eq!(request_tags(&b), ["paid"]);
        assert!(request_tags(&RequestBody::from_slice(b"{}").unwrap()).is_empty());
    }
}
