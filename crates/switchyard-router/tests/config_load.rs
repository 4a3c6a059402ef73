//! The config loader on LiteLLM's YAML quirks: leniency, `os.environ/`, every error at
//! once with its path, warnings for keys Switchyard does not act on.

use std::time::Duration;

use secrecy::ExposeSecret;
use switchyard_router::config::{ConfigError, Loaded, load_file, load_str};

fn env(name: &str) -> Option<String> {
    match name {
        "AZURE_API_KEY" => Some("sk-azure-very-secret".to_owned()),
        "MASTER" => Some("sk-master-very-secret".to_owned()),
        "RPM" => Some("60".to_owned()),
        "NOT_A_NUMBER" => Some("sk-looks-secret".to_owned()),
        "HUGE" => Some("1e20".to_owned()),
        _ => None,
    }
}

fn load(yaml: &str) -> Loaded {
    load_str(yaml, &env).unwrap_or_else(|e| panic!("{e}"))
}

fn fail(yaml: &str) -> Vec<String> {
    match load_str(yaml, &env) {
        Ok(_) => panic!("expected an error"),
        Err(ConfigError { issues }) => issues.iter().map(ToString::to_string).collect(),
    }
}

fn warnings(loaded: &Loaded) -> Vec<String> {
    loaded.warnings.iter().map(ToString::to_string).collect()
}

#[test]
fn empty_file_and_null_model_list_are_an_empty_config() {
    for yaml in [
        "",
        "\n# just a comment\n",
        "model_list: null\n",
        "model_list:\n",
        "---\n",
    ] {
        let loaded = load(yaml);
        assert!(loaded.config.model_list.is_empty(), "{yaml:?}");
        assert!(
            loaded.warnings.is_empty(),
            "{yaml:?}: {:?}",
            loaded.warnings
        );
    }
}

#[test]
fn numbers_and_booleans_written_as_strings() {
    let loaded = load(
        r#"
model_list:
  - model_name: 4
    litellm_params:
      model: gpt-4o
      rpm: "10"
      tpm: 1000.0
      weight: "0.5"
      timeout: "2.5"
      stream_timeout: 10
router_settings:
  set_verbose: "True"
  timeout: 30
litellm_settings:
  set_verbose: false
  request_timeout: "600"
"#,
    );
    let d = &loaded.config.model_list[0];
    assert_eq!(d.model_name, "4");
    let p = &d.litellm_params;
    assert_eq!((p.rpm, p.tpm, p.weight), (Some(10), Some(1000), Some(0.5)));
    assert_eq!(p.timeout, Some(Duration::from_millis(2500)));
    assert_eq!(p.stream_timeout, Some(Duration::from_secs(10)));
    assert_eq!(loaded.config.router_settings.set_verbose, Some(true));
    assert_eq!(
        loaded.config.router_settings.timeout,
        Some(Duration::from_secs(30))
    );
    assert_eq!(loaded.config.litellm_settings.set_verbose, Some(false));
    assert_eq!(
        loaded.config.litellm_settings.request_timeout,
        Some(Duration::from_secs(600))
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

/// Integers written as strings, or read from the environment, wherever a number goes:
/// what real configs do (`rpm: "100"`, `redis_port: os.environ/REDIS_PORT`), read as
/// pydantic's lax mode reads them (LiteLLM's `LiteLLM_Params`).
#[test]
fn integers_as_strings_and_from_the_environment_everywhere() {
    let env = |name: &str| {
        let v = match name {
            "REDIS_PORT" => "6380",
            "RPM" => " 1_000 ",
            "RETRIES" => "3",
            "COOLDOWN" => "30.0",
            _ => return None,
        };
        Some(v.to_owned())
    };
    let loaded = load_str(
        r#"
model_list:
  - model_name: a
    litellm_params:
      model: gpt-4o
      rpm: os.environ/RPM
      tpm: "100.0"
      max_parallel_requests: " 7"
      order: "+2"
      weight: "3"
      timeout: "1_0"
      stream_timeout: os.environ/COOLDOWN
    model_info:
      max_input_tokens: "128_000"
router_settings:
  redis_port: os.environ/REDIS_PORT
  num_retries: os.environ/RETRIES
  allowed_fails: "2"
  cooldown_time: os.environ/COOLDOWN
  max_fallbacks: "4.00"
  default_max_parallel_requests: "9"
  timeout: "60"
litellm_settings:
  num_retries: "1"
  allowed_fails: "5"
"#,
        &env,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let p = &loaded.config.model_list[0].litellm_params;
    assert_eq!((p.rpm, p.tpm), (Some(1000), Some(100)));
    assert_eq!((p.max_parallel_requests, p.order), (Some(7), Some(2)));
    assert_eq!(p.weight, Some(3.0));
    assert_eq!(p.timeout, Some(Duration::from_secs(10)));
    assert_eq!(p.stream_timeout, Some(Duration::from_secs(30)));
    let info = &loaded.config.model_list[0].model_info;
    assert_eq!(info.max_input_tokens, Some(128_000));
    let r = &loaded.config.router_settings;
    assert_eq!(r.redis_port, Some(6380));
    assert_eq!((r.num_retries, r.allowed_fails), (Some(3), Some(2)));
    assert_eq!(r.cooldown_time, Some(Duration::from_secs(30)));
    assert_eq!(r.max_fallbacks, Some(4));
    assert_eq!(r.default_max_parallel_requests, Some(9));
    assert_eq!(r.timeout, Some(Duration::from_secs(60)));
    let l = &loaded.config.litellm_settings;
    assert_eq!((l.num_retries, l.allowed_fails), (Some(1), Some(5)));

    // What pydantic refuses in an `int` field is an error naming the path and the text.
    let errors = fail(
        "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o, rpm: \"1e2\", tpm: \"100.5\", order: \"1.\"}\n",
    );
    assert_eq!(
        errors,
        [
            "model_list[0].litellm_params.rpm: expected an integer, got \"1e2\"",
            "model_list[0].litellm_params.tpm: expected an integer, got \"100.5\"",
            "model_list[0].litellm_params.order: expected an integer, got \"1.\"",
        ]
    );
}

#[test]
fn null_means_not_set() {
    let loaded = load(
        "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o, rpm: null, api_base: ~}\n    model_info: null\nrouter_settings:\n  num_retries: null\n  fallbacks: null\n",
    );
    let d = &loaded.config.model_list[0];
    assert_eq!(
        (d.litellm_params.rpm, d.litellm_params.api_base.as_deref()),
        (None, None)
    );
    assert_eq!(loaded.config.router_settings.num_retries, None);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn every_error_is_reported_at_once_with_its_path() {
    let errors = fail(
        r#"
model_list:
  - model_name: a
    litellm_params: {model: gpt-4o, rpm: ten}
  - litellm_params: {model: gpt-4o}
  - model_name: c
    litellm_params: {api_base: "http://x", tpm: -5}
  - model_name: d
  - model_name: e
    litellm_params:
      model: azure/gpt-4o
      api_key: os.environ/MISSING_KEY
      timeout: soon
router_settings:
  routing_strategy: fastest
  num_retries: many
  redis_port: 70000
general_settings:
  master_key: [not, a, string]
"#,
    );
    assert_eq!(
        errors,
        [
            "model_list[0].litellm_params.rpm: expected an integer, got \"ten\"",
            "model_list[1].model_name: is required",
            "model_list[2].litellm_params.tpm: must not be negative, got -5",
            "model_list[2].litellm_params.model: is required",
            "model_list[3].litellm_params: is required",
            "model_list[4].litellm_params.api_key: environment variable MISSING_KEY is not set",
            "model_list[4].litellm_params.timeout: expected a number, got \"soon\"",
            "router_settings.routing_strategy: unknown routing strategy \"fastest\"; valid: simple-shuffle, least-busy, usage-based-routing, usage-based-routing-v2, latency-based-routing, cost-based-routing, provider-budget-routing, lar1",
            "router_settings.num_retries: expected an integer, got \"many\"",
            "router_settings.redis_port: must be at most 65535, got 70000",
            "general_settings.master_key: expected a string, got a list",
        ]
    );
}

#[test]
fn seconds_out_of_range_are_errors_with_their_paths() {
    let errors = fail(
        r#"
model_list:
  - model_name: a
    litellm_params:
      model: gpt-4o
      timeout: 1e20
      stream_timeout: "1e19"
      cooldown_time: 31536001
      mock_delay: -1
    model_info:
      cooldown_time: 1.0e+30
router_settings:
  timeout: 1e300
  stream_timeout: 31536000.5
  retry_after: 1e19
  cooldown_time: 1e20
  default_litellm_params: {mock_delay: "1e20"}
litellm_settings:
  request_timeout: 1e19
  cooldown_time: 99999999999
"#,
    );
    let range = "a number of seconds from 0 to 31536000 (365 days)";
    assert_eq!(
        errors,
        [
            format!(
                "model_list[0].litellm_params.timeout: must be {range}, got 100000000000000000000"
            ),
            format!(
                "model_list[0].litellm_params.stream_timeout: must be {range}, got 10000000000000000000"
            ),
            format!("model_list[0].litellm_params.cooldown_time: must be {range}"),
            format!("model_list[0].litellm_params.mock_delay: must be {range}"),
            format!("model_list[0].model_info.cooldown_time: must be {range}"),
            format!("router_settings.timeout: must be {range}, got {}", 1e300),
            format!("router_settings.stream_timeout: must be {range}, got 31536000.5"),
            format!("router_settings.retry_after: must be {range}, got 10000000000000000000"),
            format!("router_settings.cooldown_time: must be {range}, got 100000000000000000000"),
            format!("router_settings.default_litellm_params.mock_delay: must be {range}"),
            format!("litellm_settings.request_timeout: must be {range}, got 10000000000000000000"),
            format!("litellm_settings.cooldown_time: must be {range}, got 99999999999"),
        ]
    );
    // The maximum itself, a year, is accepted.
    let loaded = load(
        "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o, timeout: 31536000, cooldown_time: 31536000}\nrouter_settings:\n  cooldown_time: 31536000\n",
    );
    assert_eq!(
        loaded.config.model_list[0].litellm_params.timeout,
        Some(Duration::from_secs(31_536_000))
    );
    assert_eq!(
        loaded.config.router_settings.cooldown_time,
        Some(Duration::from_secs(31_536_000))
    );
}

#[test]
fn a_number_of_seconds_from_the_environment_is_not_echoed() {
    let errors = fail(
        "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o, timeout: os.environ/HUGE}\n",
    );
    assert_eq!(
        errors,
        [
            "model_list[0].litellm_params.timeout: must be a number of seconds from 0 to 31536000 (365 days), got the value of its environment variable"
        ]
    );
}

#[test]
fn os_environ_resolves_anywhere_and_secrets_stay_secret() {
    let loaded = load(
        r#"
model_list:
  - model_name: a
    litellm_params:
      model: azure/gpt-4o
      api_base: https://eu.example.com
      api_key: os.environ/AZURE_API_KEY
      rpm: os.environ/RPM
      extra_headers: {x-key: os.environ/AZURE_API_KEY}
      fallback_keys: [os.environ/AZURE_API_KEY]
general_settings:
  master_key: os.environ/MASTER
"#,
    );
    let d = &loaded.config.model_list[0];
    let p = &d.litellm_params;
    assert_eq!(
        p.api_key.as_ref().map(|k| k.expose_secret()),
        Some("sk-azure-very-secret")
    );
    assert_eq!(p.rpm, Some(60));
    assert_eq!(p.extra["extra_headers"]["x-key"], "sk-azure-very-secret");
    assert_eq!(p.extra["fallback_keys"][0], "sk-azure-very-secret");
    let master = loaded.config.general_settings.master_key.as_ref().unwrap();
    assert_eq!(master.expose_secret(), "sk-master-very-secret");

    let debug = format!("{:?}", loaded.config.general_settings);
    assert!(!debug.contains("sk-master-very-secret"), "{debug}");
    let debug = format!("{:?}", p.api_key);
    assert!(!debug.contains("sk-azure"), "{debug}");
}

#[test]
fn errors_never_show_secret_values() {
    let errors = fail(
        r#"
model_list:
  - model_name: a
    litellm_params:
      model: gpt-4o
      api_key: {literal: sk-inline-secret}
      rpm: os.environ/NOT_A_NUMBER
router_settings:
  redis_password: [sk-redis-secret]
"#,
    );
    let all = errors.join("\n");
    for secret in ["sk-inline-secret", "sk-looks-secret", "sk-redis-secret"] {
        assert!(!all.contains(secret), "{all}");
    }
    assert_eq!(
        errors,
        [
            "model_list[0].litellm_params.api_key: expected a string, got a mapping",
            "model_list[0].litellm_params.rpm: expected an integer, got the value of environment variable NOT_A_NUMBER",
            "router_settings.redis_password: expected a string, got a list",
        ]
    );
}

#[test]
fn environment_variables_are_visible_to_os_environ() {
    let loaded = load(
        r#"
environment_variables:
  MY_BASE: https://example.openai.azure.com
  MY_KEY: os.environ/AZURE_API_KEY
  PORT: 6379
model_list:
  - model_name: a
    litellm_params:
      model: azure/gpt-4o
      api_base: os.environ/MY_BASE
      api_key: os.environ/MY_KEY
router_settings:
  redis_port: os.environ/PORT
"#,
    );
    let p = &loaded.config.model_list[0].litellm_params;
    assert_eq!(
        p.api_base.as_deref(),
        Some("https://example.openai.azure.com")
    );
    assert_eq!(
        p.api_key.as_ref().unwrap().expose_secret(),
        "sk-azure-very-secret"
    );
    assert_eq!(loaded.config.router_settings.redis_port, Some(6379));
}

#[test]
fn duplicate_top_level_key_last_wins() {
    let loaded = load(
        "router_settings:\n  num_retries: 1\nmodel_list: []\nrouter_settings:\n  num_retries: 3\n",
    );
    assert_eq!(loaded.config.router_settings.num_retries, Some(3));
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let loaded = load(
        r#"
x-azure: &azure
  api_base: https://eu.example.com
  api_version: "2024-06-01"
  api_key: os.environ/AZURE_API_KEY
model_list:
  - model_name: gpt-4o
    litellm_params:
      <<: *azure
      model: azure/gpt-4o-eu
  - model_name: gpt-4o
    litellm_params:
      <<: *azure
      model: azure/gpt-4o-us
      api_base: https://us.example.com
"#,
    );
    let [a, b] = &loaded.config.model_list[..] else {
        panic!()
    };
    assert_eq!(
        a.litellm_params.api_base.as_deref(),
        Some("https://eu.example.com")
    );
    assert_eq!(
        b.litellm_params.api_base.as_deref(),
        Some("https://us.example.com")
    );
    assert_eq!(b.litellm_params.api_version.as_deref(), Some("2024-06-01"));
    assert_ne!(a.id, b.id);
    assert_eq!(warnings(&loaded), ["x-azure: unknown key; ignored"]);
}

#[test]
fn litellm_params_fields_extras_and_costs() {
    let loaded = load(
        r#"
model_list:
  - model_name: claude
    tpm: 100000
    rpm: 10
    litellm_params:
      model: bedrock/anthropic.claude-3
      aws_region_name: us-east-1
      temperature: 0.2
      max_tokens: 512
      input_cost_per_token: 0.000003
      output_cost_per_token: "0.000015"
      rpm: 20
      mock_response: {choices: []}
    model_info:
      id: claude-1
      base_model: claude-3
      max_input_tokens: "200000"
      mode: chat
"#,
    );
    let d = &loaded.config.model_list[0];
    let p = &d.litellm_params;
    // litellm_params wins over the deployment's top level; the top level fills the rest.
    assert_eq!((p.rpm, p.tpm), (Some(20), Some(100_000)));
    assert_eq!(p.extra["aws_region_name"], "us-east-1");
    assert_eq!(p.extra["temperature"], 0.2);
    assert_eq!(p.extra["max_tokens"], 512);
    assert_eq!(p.extra["input_cost_per_token"], 0.000003);
    assert_eq!(p.mock_response, Some(serde_json::json!({"choices": []})));
    assert_eq!(d.model_info.input_cost_per_token, Some(0.000003));
    assert_eq!(d.model_info.output_cost_per_token, Some(0.000015));
    assert_eq!(d.model_info.max_input_tokens, Some(200_000));
    assert_eq!(d.model_info.base_model.as_deref(), Some("claude-3"));
    assert_eq!(d.model_info.extra["mode"], "chat");
    assert_eq!(d.id, "claude-1");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn model_info_costs_win_over_litellm_params() {
    let loaded = load(
        "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o, input_cost_per_token: 1.0}\n    model_info: {input_cost_per_token: 2.0}\n",
    );
    assert_eq!(
        loaded.config.model_list[0].model_info.input_cost_per_token,
        Some(2.0)
    );
}

#[test]
fn unknown_and_unimplemented_keys_warn_with_exact_paths() {
    let loaded = load(
        r#"
model_list:
  - model_name: a
    litellm_params: {model: gpt-4o, order: 1, tags: [free], region_name: eu, max_parallel_requests: 4}
    deployment_notes: hi
router_settings:
  routing_strategy: provider-budget-routing
  num_retries: 3
  provider_budget_config: {openai: {budget_limit: 10}}
  polling_interval: 5
  retry_policy: {RateLimitErrorRetries: 3, TypoRetries: 1}
  not_a_router_key: 1
litellm_settings:
  drop_params: true
  json_logs: true
  success_callback: ["langfuse"]
  not_a_litellm_key: 1
general_settings:
  master_key: sk-1234
  database_url: postgres://x
  alerting: ["slack"]
  not_a_general_key: 1
include: [other.yaml]
callback_settings: {}
unknown_top: 1
"#,
    );
    assert_eq!(
        warnings(&loaded),
        [
            "model_list[0].deployment_notes: unknown key; ignored",
            "router_settings.routing_strategy: routing strategy \"provider-budget-routing\" is not implemented by Switchyard yet; simple-shuffle is used",
            "router_settings.provider_budget_config: not implemented by Switchyard yet; ignored",
            "router_settings.polling_interval: not implemented by Switchyard yet; ignored",
            "router_settings.retry_policy.TypoRetries: unknown key; ignored",
            "router_settings.not_a_router_key: unknown key; ignored",
            "litellm_settings.drop_params: parsed but not implemented by Switchyard yet",
            "litellm_settings.json_logs: not implemented by Switchyard yet; ignored",
            "litellm_settings.success_callback: parsed but not implemented by Switchyard yet",
            "litellm_settings.not_a_litellm_key: unknown key; ignored",
            "general_settings.database_url: not implemented by Switchyard yet; ignored",
            "general_settings.alerting: not implemented by Switchyard yet; ignored",
            "general_settings.not_a_general_key: unknown key; ignored",
            "include: not implemented by Switchyard yet; ignored",
            "callback_settings: not implemented by Switchyard yet; ignored",
            "unknown_top: unknown key; ignored",
        ]
    );
    let r = &loaded.config.router_settings;
    assert_eq!(
        r.routing_strategy.as_deref(),
        Some("provider-budget-routing")
    );
    assert_eq!(r.retry_policy.get("RateLimitErrorRetries"), Some(&3));
    assert_eq!(loaded.config.litellm_settings.callbacks, ["langfuse"]);
}

#[test]
fn fallbacks_aliases_and_policies() {
    let loaded = load(
        r#"
model_list:
  - {model_name: gpt-4o, litellm_params: {model: gpt-4o}}
  - {model_name: gpt-3.5-turbo, litellm_params: {model: gpt-3.5-turbo}}
  - {model_name: "openai/*", litellm_params: {model: "openai/*"}}
router_settings:
  fallbacks: [{"gpt-4o": ["gpt-3.5-turbo", "openai/gpt-4.1"]}, {"gpt-3.5-turbo": "gpt-4o"}]
  context_window_fallbacks: [{"gpt-3.5-turbo": ["gpt-5"]}]
  default_fallbacks: [gpt-4o]
  model_group_alias:
    gpt4: gpt-4o
    hidden-one: {model: gpt-3.5-turbo, hidden: "true"}
    stale: gpt-2
  allowed_fails_policy: {RateLimitErrorAllowedFails: 100}
  model_group_retry_policy: {gpt-4o: {TimeoutErrorRetries: 2}}
litellm_settings:
  fallbacks: [{gpt4: [gpt-3.5-turbo]}]
  num_retries: 2
"#,
    );
    let r = &loaded.config.router_settings;
    assert_eq!(
        r.fallbacks,
        [
            (
                "gpt-4o".to_owned(),
                vec!["gpt-3.5-turbo".to_owned(), "openai/gpt-4.1".to_owned()]
            ),
            ("gpt-3.5-turbo".to_owned(), vec!["gpt-4o".to_owned()]),
        ]
    );
    assert_eq!(r.default_fallbacks, ["gpt-4o"]);
    assert_eq!(r.model_group_alias["gpt4"].model, "gpt-4o");
    assert!(!r.model_group_alias["gpt4"].hidden);
    assert!(r.model_group_alias["hidden-one"].hidden);
    assert_eq!(r.allowed_fails_policy["RateLimitErrorAllowedFails"], 100);
    assert_eq!(
        r.model_group_retry_policy["gpt-4o"]["TimeoutErrorRetries"],
        2
    );
    assert_eq!(loaded.config.litellm_settings.fallbacks[0].0, "gpt4");
    assert_eq!(loaded.config.litellm_settings.num_retries, Some(2));
    let w = warnings(&loaded);
    assert!(w.contains(&"router_settings.context_window_fallbacks[0][\"gpt-3.5-turbo\"][0]: model group \"gpt-5\" is not in model_list".to_owned()), "{w:#?}");
    assert!(
        w.contains(
            &"router_settings.model_group_alias.stale: model group \"gpt-2\" is not in model_list"
                .to_owned()
        ),
        "{w:#?}"
    );
    assert!(
        !w.iter()
            .any(|w| w.contains("openai/gpt-4.1") || w.contains("\"gpt4\"")),
        "{w:#?}"
    );
}

#[test]
fn partial_weights_are_a_footgun() {
    let loaded = load(
        r#"
model_list:
  - {model_name: g, litellm_params: {model: a, weight: 2}}
  - {model_name: g, litellm_params: {model: b}}
  - {model_name: g, litellm_params: {model: c, weight: 1}}
  - {model_name: h, litellm_params: {model: a, rpm: 10}}
  - {model_name: h, litellm_params: {model: b, rpm: 20}}
"#,
    );
    assert_eq!(
        warnings(&loaded),
        [
            "model_list[1]: model group \"g\" sets `weight` on some deployments but not on model_list[1]: LiteLLM's simple-shuffle gives those weight 0, so they are never picked"
        ]
    );
}

#[test]
fn bad_alias_and_strategy_values_are_errors() {
    let errors = fail(
        "router_settings:\n  model_group_alias: {a: {hidden: true}, b: null}\n  debug_level: TRACE\n  caching_groups: [[a, b], c]\n",
    );
    assert_eq!(
        errors,
        [
            "router_settings.model_group_alias.a.model: is required",
            "router_settings.model_group_alias.b: expected a model group name or {model, hidden}, got null",
            "router_settings.debug_level: expected \"DEBUG\" or \"INFO\", got \"TRACE\"",
        ]
    );
}

#[test]
fn yaml_syntax_errors_and_wrong_shapes() {
    let errors = fail("model_list: [\n");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("invalid YAML"), "{errors:?}");
    assert_eq!(
        fail("- a\n- b\n"),
        ["expected a mapping at the top level, got a list"]
    );
    assert_eq!(
        fail("model_list: {a: 1}\n"),
        ["model_list: expected a list, got a mapping"]
    );
    assert_eq!(
        fail("model_list: [gpt-4o]\n"),
        ["model_list[0]: expected a mapping with model_name and litellm_params, got a string"]
    );
}

#[test]
fn load_file_names_the_file() {
    let err = load_file(std::path::Path::new("/nonexistent/switchyard.yaml")).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/switchyard.yaml"),
        "{err}"
    );
}

#[test]
fn yaml_syntax_errors_do_not_quote_the_source() {
    let errors = fail(
        "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o, api_key: sk-literal-secret\n",
    );
    assert!(
        !errors.join("\n").contains("sk-literal-secret"),
        "{errors:?}"
    );
    let errors = fail("general_settings:\n  master_key: \"sk-literal-secret\n");
    assert!(
        !errors.join("\n").contains("sk-literal-secret"),
        "{errors:?}"
    );
}

#[test]
fn request_timeout_comes_from_the_environment_unless_the_config_sets_it() {
    // LiteLLM's `constants.py`: `request_timeout = float(os.getenv("REQUEST_TIMEOUT", 6000))`.
    let with = |value: &'static str| {
        move |name: &str| (name == "REQUEST_TIMEOUT").then(|| value.to_owned())
    };
    let loaded = load_str("model_list: []\n", &with("12.5")).unwrap();
    assert_eq!(
        loaded.config.litellm_settings.request_timeout,
        Some(Duration::from_millis(12_500))
    );
    let loaded = load_str("litellm_settings:\n  request_timeout: 3\n", &with("12.5")).unwrap();
    assert_eq!(
        loaded.config.litellm_settings.request_timeout,
        Some(Duration::from_secs(3)),
        "the config wins"
    );
    let err = load_str("model_list: []\n", &with("soon")).unwrap_err();
    assert!(
        err.to_string().contains("REQUEST_TIMEOUT"),
        "names the variable: {err}"
    );
}

#[test]
fn switchyard_settings_is_read_and_its_unknown_keys_are_warned() {
    let loaded = load("switchyard_settings:\n  request_deadline: 30\n  colour: blue\n");
    assert_eq!(
        loaded.config.switchyard_settings.request_deadline,
        Some(Duration::from_secs(30))
    );
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        ["switchyard_settings.colour: unknown key; ignored"],
        "{warnings:?}"
    );
    assert!(
        fail("switchyard_settings:\n  request_deadline: -1\n")[0]
            .starts_with("switchyard_settings.request_deadline:")
    );
}

#[test]
fn timeouts_by_service_tier_are_read_and_checked_per_tier() {
    let loaded = load(
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: k, timeout_by_service_tier: {flex: \"900\"}, stream_timeout_by_service_tier: {flex: 60}}\n",
    );
    let p = &loaded.config.model_list[0].litellm_params;
    assert_eq!(p.timeout_by_service_tier["flex"], Duration::from_secs(900));
    assert_eq!(
        p.stream_timeout_by_service_tier["flex"],
        Duration::from_secs(60)
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let issues = fail(
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: k, timeout_by_service_tier: {flex: soon}}\n",
    );
    assert!(
        issues[0].starts_with("model_list[0].litellm_params.timeout_by_service_tier.flex:"),
        "{issues:?}"
    );
}
