//! `load_str` / `load_file`: YAML → [`Loaded`], or every problem at once.

use std::path::Path;

use super::env::Env;
use super::litellm_keys::{TOP_LEVEL_KEYS, contains};
use super::model::{Config, ConfigError, ConfigIssue, Loaded, SkippedDeployment};
use super::reader::{Reader, child};
use super::yaml::{self, Node};
use super::{model_list, settings, validate};

/// Loads a LiteLLM `config.yaml` from text. `env` looks up the variables that
/// `os.environ/NAME` values name (after the config's own `environment_variables`).
///
/// Every problem is reported in one [`ConfigError`], each with its YAML path. Keys Switchyard
/// does not act on, and footguns, come back as [`Loaded::warnings`]; under `--strict` the
/// server treats each of those as an error too.
pub fn load_str(yaml: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Loaded, ConfigError> {
    let root = yaml::parse(yaml).map_err(|e| ConfigError {
        issues: vec![ConfigIssue {
            path: String::new(),
            message: format!("invalid YAML: {e}"),
        }],
    })?;
    let entries: &[(String, Node)] = match &root {
        Node::Null => &[],
        Node::Map(entries) => entries,
        other => {
            return Err(ConfigError {
                issues: vec![ConfigIssue {
                    path: String::new(),
                    message: format!("expected a mapping at the top level, got {}", other.kind()),
                }],
            });
        }
    };

    let mut r = Reader::new(Env::new(env));
    if let Some(vars) = root.get("environment_variables") {
        environment_variables(&mut r, vars);
    }

    let mut config = Config::default();
    let mut deployments = match root.get("model_list") {
        Some(list) => model_list::read(&mut r, list, "model_list"),
        None => Vec::new(),
    };
    let mut refs = Vec::new();
    for (key, value) in entries {
        let path = child("", key);
        match key.as_str() {
            "model_list" | "environment_variables" => {}
            "router_settings" => {
                settings::read_router(&mut r, &mut refs, value, &mut config.router_settings)
            }
            "litellm_settings" => {
                settings::read_litellm(&mut r, &mut refs, value, &mut config.litellm_settings)
            }
            "general_settings" => {
                settings::read_general(&mut r, value, &mut config.general_settings)
            }
            "switchyard_settings" => {
                settings::read_switchyard(&mut r, value, &mut config.switchyard_settings)
            }
            "include" => r.warn(&path, "not implemented by Switchyard yet; ignored"),
            other => r.untyped(contains(TOP_LEVEL_KEYS, other), &path),
        }
    }

    if config.litellm_settings.request_timeout.is_none() {
        config.litellm_settings.request_timeout = request_timeout_from_env(&mut r);
    }

    // Unusable deployments first, so a duplicate id is reported against one that is kept.
    validate::providers(&mut r, &mut deployments);
    validate::duplicate_ids(&mut r, &mut deployments);
    validate::group_refs(&mut r, &refs, &deployments, &config.router_settings);
    validate::partial_weights(&mut r, &deployments);

    if !r.issues.is_empty() {
        return Err(ConfigError { issues: r.issues });
    }
    let (skipped, kept): (Vec<_>, Vec<_>) = deployments.into_iter().partition(|d| d.skipped);
    config.model_list = kept.into_iter().map(|d| d.deployment).collect();
    Ok(Loaded {
        config,
        warnings: r.warnings,
        skipped: skipped
            .into_iter()
            .map(|d| SkippedDeployment {
                path: d.path,
                model_name: d.deployment.model_name,
                id: d.deployment.id,
            })
            .collect(),
    })
}

/// LiteLLM reads its `request_timeout` from the `REQUEST_TIMEOUT` environment variable
/// (`litellm/constants.py`) unless `litellm_settings.request_timeout` sets it. A value that
/// is not a number of seconds stops LiteLLM at import; here it is an error naming it.
fn request_timeout_from_env(r: &mut Reader<'_>) -> Option<std::time::Duration> {
    let text = r.env.get("REQUEST_TIMEOUT")?;
    r.seconds(&Node::Str(text), "REQUEST_TIMEOUT (environment variable)")
}

/// Reads the file at `path` (errors name it) and loads it with the process environment.
pub fn load_file(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        issues: vec![ConfigIssue {
            path: String::new(),
            message: format!("cannot read {}: {e}", path.display()),
        }],
    })?;
    load_str(&text, &|name| std::env::var(name).ok()).map_err(|mut e| {
        for issue in &mut e.issues {
            if issue.path.is_empty() {
                issue.message = format!("{}: {}", path.display(), issue.message);
            }
        }
        e
    })
}

/// `environment_variables`: set before anything else is read, so `os.environ/` sees them.
/// Values are taken as Python's `str()` shows them; `os.environ/` in a value reads the
/// process environment.
fn environment_variables(r: &mut Reader<'_>, node: &Node) {
    let path = "environment_variables";
    let Some(vars) = r.map(node, path) else {
        return;
    };
    for (name, value) in vars {
        let p = child(path, name);
        let text = match value {
            Node::Null => continue,
            Node::Bool(true) => Some("True".to_owned()),
            Node::Bool(false) => Some("False".to_owned()),
            Node::Float(f) => Some(super::deployment_id::py_float_repr(*f)),
            Node::Int(_) | Node::Str(_) => r.string(value, &p),
            Node::Seq(_) | Node::Map(_) => {
                r.error(&p, format!("expected a string, got {}", value.kind()));
                None
            }
        };
        if let Some(text) = text {
            r.env.set(name.clone(), text);
        }
    }
}
