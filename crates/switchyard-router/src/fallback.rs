//! Which model groups to try after a group has failed: `fallbacks`,
//! `context_window_fallbacks`, `content_policy_fallbacks`, the `*` entry and
//! `default_fallbacks`, or the request's own `fallbacks`.

use std::collections::HashMap;

use switchyard_providers::ErrorKind;
use switchyard_types::RequestBody;

use crate::config::Config;

/// LiteLLM's default bound on fallback hops per request.
pub(crate) const DEFAULT_MAX_FALLBACKS: u32 = 5;

/// Fallback tables, merged from `router_settings` and `litellm_settings`
/// (the router's entry wins for a group named in both).
#[derive(Debug, Clone, Default)]
pub(crate) struct FallbackSettings {
    generic: HashMap<String, Vec<String>>,
    context_window: HashMap<String, Vec<String>>,
    content_policy: HashMap<String, Vec<String>>,
    /// The `*` entry of `fallbacks`, else `default_fallbacks`.
    default: Vec<String>,
    pub(crate) max_fallbacks: u32,
}

fn merge(
    primary: &[(String, Vec<String>)],
    secondary: &[(String, Vec<String>)],
) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = secondary.iter().cloned().collect();
    out.extend(primary.iter().cloned());
    out
}

impl FallbackSettings {
    pub(crate) fn from_config(cfg: &Config) -> Self {
        let (rs, ls) = (&cfg.router_settings, &cfg.litellm_settings);
        let mut generic = merge(&rs.fallbacks, &ls.fallbacks);
        let star = generic.remove("*");
        let default = star
            .or_else(|| (!rs.default_fallbacks.is_empty()).then(|| rs.default_fallbacks.clone()))
            .unwrap_or_else(|| ls.default_fallbacks.clone());
        Self {
            generic,
            context_window: merge(&rs.context_window_fallbacks, &ls.context_window_fallbacks),
            content_policy: merge(&rs.content_policy_fallbacks, &ls.content_policy_fallbacks),
            default,
            max_fallbacks: rs.max_fallbacks.unwrap_or(DEFAULT_MAX_FALLBACKS),
        }
    }

    /// Whether a context-window error in `group` has a dedicated fallback
    /// (then it is not retried in the group).
    pub(crate) fn has_context_window(&self, group: &str) -> bool {
        self.context_window
            .get(group)
            .is_some_and(|t| !t.is_empty())
    }

    /// Whether a content-policy error in `group` has a dedicated fallback.
    pub(crate) fn has_content_policy(&self, group: &str) -> bool {
        self.content_policy
            .get(group)
            .is_some_and(|t| !t.is_empty())
    }

    /// The groups to try, in order, after `group` failed with `kind`.
    pub(crate) fn targets<'a>(
        &'a self,
        group: &str,
        kind: ErrorKind,
        request: &'a RequestFallbacks,
    ) -> Vec<&'a str> {
        let dedicated = match kind {
            ErrorKind::ContextWindowExceeded => request
                .context_window
                .as_ref()
                .or(self.context_window.get(group)),
            ErrorKind::ContentPolicyViolation => request
                .content_policy
                .as_ref()
                .or(self.content_policy.get(group)),
            _ => None,
        };
        if let Some(targets) = dedicated.filter(|t| !t.is_empty()) {
            return targets.iter().map(String::as_str).collect();
        }
        if !triggers_generic_fallbacks(kind) {
            return Vec::new();
        }
        if let Some(targets) = &request.generic {
            return targets.iter().map(String::as_str).collect();
        }
        self.generic
            .get(group)
            .unwrap_or(&self.default)
            .iter()
            .map(String::as_str)
            .collect()
    }
}

/// A malformed request fails the same everywhere: LiteLLM does not fall back on a plain 400.
pub(crate) fn triggers_generic_fallbacks(kind: ErrorKind) -> bool {
    !matches!(kind, ErrorKind::BadRequest | ErrorKind::UnprocessableEntity)
}

/// Fallbacks a request names for itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestFallbacks {
    generic: Option<Vec<String>>,
    context_window: Option<Vec<String>>,
    content_policy: Option<Vec<String>>,
    /// `disable_fallbacks: true`.
    pub(crate) disabled: bool,
}

impl RequestFallbacks {
    /// Reads `fallbacks`, `context_window_fallbacks`, `content_policy_fallbacks` and
    /// `disable_fallbacks` from a request body, for the group it names.
    pub(crate) fn from_body(body: &RequestBody, group: &str) -> Self {
        let list = |key: &str| {
            body.get_as::<serde_json::Value>(key)
                .map(|v| targets_of(&v, group))
        };
        Self {
            generic: list("fallbacks"),
            context_window: list("context_window_fallbacks"),
            content_policy: list("content_policy_fallbacks"),
            disabled: body.get_bool("disable_fallbacks").unwrap_or(false),
        }
    }
}

/// Accepts `["b", "c"]`, `[{"model": "b"}]` and LiteLLM's `[{"a": ["b", "c"]}]`.
fn targets_of(value: &serde_json::Value, group: &str) -> Vec<String> {
    let mut out = Vec::new();
    for item in value.as_array().into_iter().flatten() {
        match item {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Object(map) => {
                if let Some(model) = map.get("model").and_then(|m| m.as_str()) {
                    out.push(model.to_owned());
                } else if let Some(targets) = map.get(group).or_else(|| map.get("*")) {
                    match targets {
                        serde_json::Value::String(s) => out.push(s.clone()),
                        other => out.extend(
                            other
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|t| t.as_str().map(str::to_owned)),
                        ),
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> FallbackSettings {
        let mut cfg = Config::default();
        cfg.router_settings.fallbacks = vec![
            ("a".into(), vec!["b".into(), "c".into()]),
            ("*".into(), vec!["z".into()]),
        ];
        cfg.router_settings.context_window_fallbacks = vec![("a".into(), vec!["a-large".into()])];
        cfg.litellm_settings.content_policy_fallbacks =
            vec![("a".into(), vec!["a-lenient".into()])];
        FallbackSettings::from_config(&cfg)
    }

    #[test]
    fn each_error_class_finds_its_targets() {
        let s = settings();
        let none = RequestFallbacks::default();
        assert_eq!(s.targets("a", ErrorKind::InternalServer, &none), ["b", "c"]);
        assert_eq!(
            s.targets("a", ErrorKind::ContextWindowExceeded, &none),
            ["a-large"]
        );
        assert_eq!(
            s.targets("a", ErrorKind::ContentPolicyViolation, &none),
            ["a-lenient"]
        );
        assert_eq!(
            s.targets("other", ErrorKind::RateLimit, &none),
            ["z"],
            "the * entry"
        );
        assert_eq!(
            s.targets("other", ErrorKind::ContextWindowExceeded, &none),
            ["z"],
            "no dedicated entry: generic"
        );
        assert!(s.targets("a", ErrorKind::BadRequest, &none).is_empty());
        assert_eq!(s.max_fallbacks, DEFAULT_MAX_FALLBACKS);
    }

    #[test]
    fn request_fallbacks_override_the_config() {
        let s = settings();
        let body = RequestBody::from_slice(
            br#"{"fallbacks":["x",{"model":"y"}],"disable_fallbacks":false}"#,
        )
        .unwrap();
        let r = RequestFallbacks::from_body(&body, "a");
        assert_eq!(s.targets("a", ErrorKind::InternalServer, &r), ["x", "y"]);
        let body =
            RequestBody::from_slice(br#"{"fallbacks":[{"a":["q"]}],"disable_fallbacks":true}"#)
                .unwrap();
        let r = RequestFallbacks::from_body(&body, "a");
        assert!(r.disabled);
        assert_eq!(s.targets("a", ErrorKind::Timeout, &r), ["q"]);
    }

    #[test]
    fn default_fallbacks_apply_without_a_star_entry() {
        let mut cfg = Config::default();
        cfg.router_settings.default_fallbacks = vec!["d".into()];
        let s = FallbackSettings::from_config(&cfg);
        assert_eq!(
            s.targets("any", ErrorKind::Timeout, &RequestFallbacks::default()),
            ["d"]
        );
    }
}
