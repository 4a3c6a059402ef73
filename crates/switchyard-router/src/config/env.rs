//! `os.environ/NAME`: LiteLLM's way to take a value from the environment.
//!
//! The config's own `environment_variables` section is consulted first, as LiteLLM sets
//! those variables in `os.environ` before it uses the config. (LiteLLM 1.106 resolves the
//! references before setting them, so there a reference to a variable defined only in
//! `environment_variables` silently becomes `None`; Switchyard makes it visible instead.)

use std::collections::BTreeMap;

/// The prefix that marks an environment reference.
pub(crate) const PREFIX: &str = "os.environ/";

/// Where `os.environ/NAME` references are looked up.
pub(crate) struct Env<'a> {
    /// `environment_variables` from the config, resolved.
    overrides: BTreeMap<String, String>,
    /// The process environment (or a test's stand-in).
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Env<'a> {
    pub(crate) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Env {
            overrides: BTreeMap::new(),
            lookup,
        }
    }

    /// Makes `name` resolve to `value`, as `environment_variables` does.
    pub(crate) fn set(&mut self, name: String, value: String) {
        self.overrides.insert(name, value);
    }

    /// The variable's value, the config's `environment_variables` first.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.overrides
            .get(name)
            .cloned()
            .or_else(|| (self.lookup)(name))
    }

    /// `Some(NAME)` when `text` is an `os.environ/NAME` reference.
    pub(crate) fn reference<'t>(&self, text: &'t str) -> Option<&'t str> {
        text.strip_prefix(PREFIX)
    }
}
