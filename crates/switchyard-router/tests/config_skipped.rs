//! Configs LiteLLM loads that Switchyard loads too, leaving out (with a warning naming the
//! path) the deployments it cannot route to: an `api_base` that is not a usable URL, a
//! provider without an adapter.
//! (Duplicate ids: `config_ids.rs`.)

use switchyard_router::Router;
use switchyard_router::config::{Loaded, load_str};

fn env(name: &str) -> Option<String> {
    match name {
        // An `.env` that left the variable as a bare word, or as the literal placeholder.
        "OLLAMA_BASE" => Some("ollama".to_owned()),
        "EMBED_BASE" => Some("http://nomic-embed-v1.5:8080/v1".to_owned()),
        "API_KEY" => Some("sk-very-secret".to_owned()),
        _ => None,
    }
}

fn load(yaml: &str) -> Loaded {
    load_str(yaml, &env).unwrap_or_else(|e| panic!("{e}"))
}

fn warnings(loaded: &Loaded) -> Vec<String> {
    loaded.warnings.iter().map(ToString::to_string).collect()
}

const YAML: &str = r#"
model_list:
  - model_name: chat
    litellm_params:
      model: openai/llama3
      api_base: "${OLLAMA_API_BASE}/v1"
      api_key: os.environ/API_KEY
  - model_name: chat
    litellm_params:
      model: hosted_vllm/llama3
      api_base: os.environ/OLLAMA_BASE
  - model_name: chat
    litellm_params:
      model: openai/llama3
      api_base: http://127.0.0.1:11434/v1
  - model_name: embed
    litellm_params:
      model: openai/nomic-embed-text
      api_base: os.environ/EMBED_BASE
  - model_name: docker
    litellm_params:
      model: openai/x
      api_base: http://ollama-0.1:11434
  - model_name: broken
    litellm_params:
      model: openai/x
      api_base: "http://user:sk-very-secret@${HOST}:99/v1?key=sk-very-secret"
  - model_name: mocked
    litellm_params:
      model: openai/x
      api_base: not a url
      mock_response: hi
  - model_name: elsewhere
    litellm_params:
      model: bedrock/anthropic.claude-v2
      api_base: not a url
"#;

#[test]
fn unusable_api_bases_are_skipped_with_a_warning_naming_the_path() {
    let loaded = load(YAML);
    assert_eq!(
        warnings(&loaded),
        [
            "model_list[0].litellm_params.api_base: not a usable URL: it is not an absolute URL \
             (expected http://host or https://host); this deployment is not routed to",
            "model_list[1].litellm_params.api_base: not a usable URL: it is not an absolute URL \
             (expected http://host or https://host); this deployment is not routed to",
            "model_list[5].litellm_params.api_base: not a usable URL: the host \"${HOST}\" has \
             '{', which a host name cannot hold; this deployment is not routed to",
            "model_list[7].litellm_params.model: provider of \"bedrock/anthropic.claude-v2\" is not \
             supported by Switchyard yet; this deployment is not routed to",
        ]
    );
    let skipped: Vec<(&str, &str)> = loaded
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.model_name.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("model_list[0]", "chat"),
            ("model_list[1]", "chat"),
            ("model_list[5]", "broken"),
            ("model_list[7]", "elsewhere"),
        ]
    );
    let kept: Vec<&str> = loaded
        .config
        .model_list
        .iter()
        .map(|d| d.model_name.as_str())
        .collect();
    assert_eq!(kept, ["chat", "embed", "docker", "mocked"]);
}

#[test]
fn warnings_about_api_bases_never_show_secrets() {
    let loaded = load(YAML);
    for w in warnings(&loaded) {
        assert!(!w.contains("sk-very-secret"), "{w}");
    }
}

#[test]
fn the_router_builds_and_routes_only_what_is_left() {
    let loaded = load(YAML);
    let router = Router::from_config(loaded.config).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(router.deployments("chat").len(), 1);
    assert_eq!(router.deployments("embed").len(), 1);
    assert_eq!(router.deployments("docker").len(), 1);
    assert!(router.deployments("broken").is_empty());
    assert!(router.deployments("elsewhere").is_empty());
    // Every skip was the loader's, with its YAML path: the router (which numbers only the
    // deployments it is given) has nothing left to warn about.
    assert!(router.warnings().is_empty(), "{:?}", router.warnings());
}

#[test]
fn other_provider_problems_are_errors_with_their_path() {
    let err = load_str(
        "model_list:\n  - model_name: a\n    litellm_params: {model: bedrock/x}\n  - model_name: b\n    litellm_params: {model: azure/gpt-4o}\n",
        &env,
    )
    .unwrap_err();
    let messages: Vec<String> = err.issues.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "model_list[1].litellm_params.model: model \"azure/gpt-4o\": azure/ needs an api_base in litellm_params"
        ]
    );
}

#[test]
fn a_duplicate_of_a_skipped_deployment_is_not_reported_against_it() {
    // The first has an unusable api_base; the second shares its explicit id and is kept.
    let loaded = load(
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_base: \"${BASE}\"}\n    model_info: {id: one}\n  - model_name: a\n    litellm_params: {model: openai/x, api_base: \"http://127.0.0.1:1\"}\n    model_info: {id: one}\n",
    );
    let w = warnings(&loaded);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("model_list[0].litellm_params.api_base: "),
        "{w:?}"
    );
    assert_eq!(loaded.config.model_list.len(), 1);
    assert_eq!(loaded.config.model_list[0].id, "one");
}
