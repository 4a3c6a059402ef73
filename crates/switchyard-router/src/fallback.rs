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
        // LiteLLM appends `default_fallbacks` as one more `*` entry, and the
        // last `*` entry wins.
        let default = [&rs.default_fallbacks, &ls.default_fallbacks]
            .into_iter()
            .find(|d| !d.is_empty())
            .cloned()
            .or(star)
            .unwrap_or_default();
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
        chain_for(&self.context_window, &[], &[group]).is_some_and(|t| !t.is_empty())
    }

    /// Whether a content-policy error in `group` has somewhere to go: its
    /// dedicated fallback, or, with no content-policy table at all, the
    /// default fallbacks (a 200 stopped by the content filter is turned into
    /// an error only then, as in LiteLLM).
    pub(crate) fn has_content_policy(&self, group: &str) -> bool {
        match configured(&self.content_policy) {
            Some(table) => chain_for(table, &[], &[group]).is_some_and(|t| !t.is_empty()),
            None => !self.default.is_empty(),
        }
    }

    /// The groups to try, in order, after `failed` fell over with `kind` on
    /// the way to serving a request for `original`, as LiteLLM 1.106 picks
    /// them:
    /// - a context-window or content-policy error uses its dedicated table
    ///   when one is configured at all (the request's, else the config's), and
    ///   then nothing else, even when that table has no entry for the group;
    ///   without one it takes the generic path, like any other error;
    /// - the generic table's own entry for `failed`, else the entry for
    ///   `original` (a fallback group that fails resumes the original
    ///   group's chain), else the `*` entry or `default_fallbacks`.
    ///
    /// Every error class falls back, a malformed request included: LiteLLM
    /// excludes none, and another provider may accept what this one refused.
    pub(crate) fn targets<'a>(
        &'a self,
        failed: &str,
        original: &str,
        kind: ErrorKind,
        request: &'a RequestFallbacks,
    ) -> &'a [String] {
        let lookup = [failed, original];
        let dedicated = match kind {
            ErrorKind::ContextWindowExceeded => {
                request.context_window.as_deref().map(Some).or_else(|| {
                    configured(&self.context_window).map(|t| chain_for(t, &[], &lookup))
                })
            }
            ErrorKind::ContentPolicyViolation => {
                request.content_policy.as_deref().map(Some).or_else(|| {
                    configured(&self.content_policy).map(|t| chain_for(t, &[], &lookup))
                })
            }
            _ => None,
        };
        if let Some(chain) = dedicated {
            return chain.unwrap_or_default();
        }
        if let Some(targets) = &request.generic {
            return targets;
        }
        chain_for(&self.generic, &self.default, &lookup).unwrap_or_default()
    }
}

/// A table that has any entry (LiteLLM's `None` versus a configured list).
fn configured(table: &HashMap<String, Vec<String>>) -> Option<&HashMap<String, Vec<String>>> {
    (!table.is_empty()).then_some(table)
}

/// The first of `lookup` with an entry of its own in `table`, else the `*`
/// entry, else `default`; `None` when there is nothing at all.
fn chain_for<'a>(
    table: &'a HashMap<String, Vec<String>>,
    default: &'a [String],
    lookup: &[&str],
) -> Option<&'a [String]> {
    lookup
        .iter()
        .find_map(|group| table.get(*group))
        .or_else(|| table.get("*"))
        .map(Vec::as_slice)
        .or_else(|| (!default.is_empty()).then_some(default))
}

/// Whether a spent `order` tier moves on to the group's next tier: not for
/// the errors with fallbacks of their own (LiteLLM skips order fallbacks for
/// them).
pub(crate) fn moves_to_next_tier(kind: ErrorKind) -> bool {
    !matches!(
        kind,
        ErrorKind::ContextWindowExceeded | ErrorKind::ContentPolicyViolation
    )
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
        let t = |failed, kind| s.targets(failed, failed, kind, &none).to_vec();
        assert_eq!(t("a", ErrorKind::InternalServer), ["b", "c"]);
        assert_eq!(
            t("a", ErrorKind::BadRequest),
            ["b", "c"],
            "a plain 400 falls back too"
        );
        assert_eq!(t("a", ErrorKind::UnprocessableEntity), ["b", "c"]);
        assert_eq!(t("a", ErrorKind::ContextWindowExceeded), ["a-large"]);
        assert_eq!(t("a", ErrorKind::ContentPolicyViolation), ["a-lenient"]);
        assert_eq!(t("other", ErrorKind::RateLimit), ["z"], "the * entry");
        assert!(
            t("other", ErrorKind::ContextWindowExceeded).is_empty(),
            "a context-window table that names other groups only: no fallback at all"
        );
        assert_eq!(s.max_fallbacks, DEFAULT_MAX_FALLBACKS);
    }

    #[test]
    fn without_a_dedicated_table_context_errors_take_the_generic_chain() {
        let mut cfg = Config::default();
        cfg.router_settings.fallbacks = vec![("a".into(), vec!["b".into()])];
        let s = FallbackSettings::from_config(&cfg);
        let none = RequestFallbacks::default();
        assert_eq!(
            s.targets("a", "a", ErrorKind::ContextWindowExceeded, &none),
            ["b"]
        );
        assert_eq!(
            s.targets("a", "a", ErrorKind::ContentPolicyViolation, &none),
            ["b"]
        );
    }

    #[test]
    fn a_failed_fallback_target_resumes_the_original_chain_unless_it_has_its_own() {
        let mut cfg = Config::default();
        cfg.router_settings.fallbacks = vec![
            ("a".into(), vec!["b".into(), "c".into()]),
            ("c".into(), vec!["c2".into()]),
        ];
        cfg.router_settings.default_fallbacks = vec!["d".into()];
        let s = FallbackSettings::from_config(&cfg);
        let none = RequestFallbacks::default();
        let t = |failed, original| s.targets(failed, original, ErrorKind::InternalServer, &none);
        assert_eq!(
            t("b", "a"),
            ["b", "c"],
            "b has no entry: a's chain, not the default"
        );
        assert_eq!(t("c", "a"), ["c2"], "c's own entry wins");
        assert_eq!(t("x", "y"), ["d"], "neither has an entry: the default");
    }

    #[test]
    fn request_fallbacks_override_the_config() {
        let s = settings();
        let body = RequestBody::from_slice(
            br#"{"fallbacks":["x",{"model":"y"}],"disable_fallbacks":false}"#,
        )
        .unwrap();
        let r = RequestFallbacks::from_body(&body, "a");
        assert_eq!(
            s.targets("a", "a", ErrorKind::InternalServer, &r),
            ["x", "y"]
        );
        let body =
            RequestBody::from_slice(br#"{"fallbacks":[{"a":["q"]}],"disable_fallbacks":true}"#)
                .unwrap();
        let r = RequestFallbacks::from_body(&body, "a");
        assert!(r.disabled);
        assert_eq!(s.targets("a", "a", ErrorKind::Timeout, &r), ["q"]);
    }

    #[test]
    fn default_fallbacks_apply_without_a_star_entry_and_win_over_one() {
        let mut cfg = Config::default();
        cfg.router_settings.default_fallbacks = vec!["d".into()];
        let s = FallbackSettings::from_config(&cfg);
        let none = RequestFallbacks::default();
        assert_eq!(s.targets("any", "any", ErrorKind::Timeout, &none), ["d"]);
        cfg.router_settings.fallbacks = vec![("*".into(), vec!["star".into()])];
        let s = FallbackSettings::from_config(&cfg);
        assert_eq!(
            s.targets("any", "any", ErrorKind::Timeout, &none),
            ["d"],
            "LiteLLM appends default_fallbacks as the last `*` entry"
        );
    }
}
