//! Wildcard model groups: `model_name: "openai/*"` or `"*"` route any model
//! the pattern matches, the matched part substituted into the deployment's
//! `model`. The most specific pattern (most literal characters) wins.

/// A `model_name` containing `*`, split around its first `*`.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub(crate) group: String,
    prefix: String,
    suffix: String,
}

impl Pattern {
    /// `None` when `model_name` has no `*`.
    pub(crate) fn parse(model_name: &str) -> Option<Self> {
        let (prefix, suffix) = model_name.split_once('*')?;
        Some(Self {
            group: model_name.to_owned(),
            prefix: prefix.to_owned(),
            suffix: suffix.replace('*', ""),
        })
    }

    /// The part of `model` the `*` stands for, when the pattern matches.
    pub(crate) fn matches<'m>(&self, model: &'m str) -> Option<&'m str> {
        let rest = model.strip_prefix(self.prefix.as_str())?;
        let middle = rest.strip_suffix(self.suffix.as_str())?;
        (!middle.is_empty()).then_some(middle)
    }

    fn specificity(&self) -> usize {
        self.prefix.len() + self.suffix.len()
    }
}

/// The most specific pattern matching `model`, and the matched part.
pub(crate) fn best_match<'p, 'm>(
    patterns: &'p [Pattern],
    model: &'m str,
) -> Option<(&'p Pattern, &'m str)> {
    patterns
        .iter()
        .filter_map(|p| p.matches(model).map(|m| (p, m)))
        .max_by_key(|(p, _)| p.specificity())
}

/// The upstream model for a wildcard deployment: its `*` replaced by the matched part.
pub(crate) fn substitute(upstream_model: &str, matched: &str) -> String {
    if upstream_model.contains('*') {
        upstream_model.replacen('*', matched, 1)
    } else {
        upstream_model.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_pattern_wins() {
        let patterns: Vec<Pattern> = ["*", "openai/*", "openai/gpt-4*"]
            .iter()
            .map(|p| Pattern::parse(p).unwrap())
            .collect();
        let (p, m) = best_match(&patterns, "openai/gpt-4o").unwrap();
        assert_eq!((p.group.as_str(), m), ("openai/gpt-4*", "o"));
        let (p, m) = best_match(&patterns, "openai/o3").unwrap();
        assert_eq!((p.group.as_str(), m), ("openai/*", "o3"));
        let (p, m) = best_match(&patterns, "claude-3").unwrap();
        assert_eq!((p.group.as_str(), m), ("*", "claude-3"));
        assert!(Pattern::parse("gpt-4o").is_none());
    }

    #[test]
    fn the_matched_part_replaces_the_star() {
        assert_eq!(substitute("*", "gpt-4o"), "gpt-4o");
        assert_eq!(substitute("gpt-4o", "ignored"), "gpt-4o");
        assert_eq!(substitute("azure-*-eu", "gpt4"), "azure-gpt4-eu");
    }
}
