//! Deployment ids: `model_info.id` when given, else LiteLLM's own hash, byte for byte.
//!
//! The expected ids below were computed by LiteLLM 1.106.2 itself
//! (`litellm.Router(model_list=...)` on this YAML loaded with PyYAML, `MY_KEY=sk-secret-123`,
//! then `router.model_list[i]["model_info"]["id"]`).

use switchyard_router::config::{Loaded, load_str};

const YAML: &str = r#"
defaults: &defaults
  api_base: https://eu.example.com
  api_version: "2024-06-01"
  rpm: 100
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: azure/gpt-4o-eu
      api_base: https://eu.example.com
      api_key: os.environ/MY_KEY
      api_version: "2024-06-01"
      rpm: 100
      timeout: 30.5
      temperature: 0.00001
      stop: ["a", "it's", "\n"]
      metadata: {team: "é", n: 1, ok: true, none: null, f: 1.0, l: [1, 2.5]}
      drop_params: true
      seed: null
  - model_name: "42"
    litellm_params:
      model: gpt-4o-mini
      tpm: "1000"
      max_tokens: 1000000000000000000
      weight: 2.0
  - model_name: merged
    litellm_params:
      <<: *defaults
      model: azure/x
      rpm: 5
  - model_name: dup
    litellm_params:
      model: openai/first
      api_base: http://a
      model: openai/second
"#;

fn load(yaml: &str) -> Loaded {
    let env = |name: &str| (name == "MY_KEY").then(|| "sk-secret-123".to_owned());
    load_str(yaml, &env).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn ids_match_litellm() {
    let loaded = load(YAML);
    let ids: Vec<(&str, &str)> = loaded
        .config
        .model_list
        .iter()
        .map(|d| (d.model_name.as_str(), d.id.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            (
                "gpt-4o",
                "49829526c4f006647f60972ed52902bdc5756107bc5411775d6b0d46156d42bd"
            ),
            (
                "42",
                "92e442346a9c22812ee7fa858e0c51d2ec6cc4ef4af96d30db6ca1b33b524480"
            ),
            (
                "merged",
                "9036e160366288cd287edd84d90d2a73923b2ad0a3159b721e88446bbd58565e"
            ),
            (
                "dup",
                "38a83a44bf44e5c1252a039cd8bf58f711e6768442b4a6be90b9fbb98a73d716"
            ),
        ]
    );
    // The merge key and the duplicate key resolved as PyYAML does.
    let merged = &loaded.config.model_list[2].litellm_params;
    assert_eq!((merged.model.as_str(), merged.rpm), ("azure/x", Some(5)));
    assert_eq!(
        loaded.config.model_list[3].litellm_params.model,
        "openai/second"
    );
}

#[test]
fn ids_are_stable_and_depend_on_the_resolved_secret() {
    let a = load(YAML);
    let b = load(YAML);
    assert_eq!(a.config.model_list[0].id, b.config.model_list[0].id);
    let other = |name: &str| (name == "MY_KEY").then(|| "sk-other".to_owned());
    let c = load_str(YAML, &other).unwrap();
    assert_ne!(a.config.model_list[0].id, c.config.model_list[0].id);
    assert!(!a.config.model_list[0].id.contains("sk-secret-123"));
}

#[test]
fn explicit_id_wins_and_numbers_are_coerced() {
    let loaded = load(
        "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o}\n    model_info: {id: 7}\n",
    );
    assert_eq!(loaded.config.model_list[0].id, "7");
    assert_eq!(
        loaded.config.model_list[0].model_info.id.as_deref(),
        Some("7")
    );
}

fn warnings(loaded: &Loaded) -> Vec<String> {
    loaded.warnings.iter().map(ToString::to_string).collect()
}

#[test]
fn a_later_deployment_with_an_explicit_id_already_used_is_skipped_with_both_paths() {
    // LiteLLM 1.106.12's `Router.set_model_list` keeps both under the one id (its id index
    // points at the last); Switchyard keeps the first and says so (docs/litellm-differences.md).
    let loaded = load(
        "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o}\n    model_info: {id: x}\n  - model_name: b\n    litellm_params: {model: gpt-4o}\n  - model_name: a\n    litellm_params: {model: gpt-4o-mini}\n    model_info: {id: x}\n",
    );
    assert_eq!(
        warnings(&loaded),
        [
            "model_list[2]: same deployment id \"x\" as model_list[0] (identical params or \
             model_info.id); only model_list[0] is routed to, this deployment is skipped"
        ]
    );
    let kept: Vec<(&str, &str)> = loaded
        .config
        .model_list
        .iter()
        .map(|d| (d.model_name.as_str(), d.litellm_params.model.as_str()))
        .collect();
    assert_eq!(kept, [("a", "gpt-4o"), ("b", "gpt-4o")]);
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].path, "model_list[2]");
    assert_eq!(loaded.skipped[0].model_name, "a");
}

#[test]
fn identical_deployments_load_and_the_first_is_kept() {
    // Identical params hash to one id, as in LiteLLM; found in real configs (a copy-pasted
    // entry), so the config loads: one warning per later copy, naming the first.
    let loaded = load(
        "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4o, api_key: os.environ/MY_KEY}\n  - model_name: a\n    litellm_params: {model: gpt-4o, api_key: os.environ/MY_KEY}\n  - model_name: a\n    litellm_params: {model: gpt-4o, api_key: os.environ/MY_KEY}\n",
    );
    let w = warnings(&loaded);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("model_list[1]: same deployment id \""),
        "{w:?}"
    );
    assert!(w[0].contains(" as model_list[0] "), "{w:?}");
    assert!(
        w[1].starts_with("model_list[2]: same deployment id \""),
        "{w:?}"
    );
    assert!(w[1].contains("only model_list[0] is routed to"), "{w:?}");
    // The id is a hash of the resolved key, never the key.
    assert!(w.iter().all(|w| !w.contains("sk-secret-123")), "{w:?}");
    assert_eq!(loaded.config.model_list.len(), 1);
    let skipped: Vec<&str> = loaded.skipped.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(skipped, ["model_list[1]", "model_list[2]"]);
}

#[test]
fn full_example_ids_match_litellm() {
    // LiteLLM 1.106.2's ids for config/litellm-proxy-full.yaml with every variable set to
    // "dummy" (ports "6379") and the file's `environment_variables` exported first (which
    // Switchyard applies itself), from `litellm.Router(model_list=...)`.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/litellm-proxy-full.yaml"
    ))
    .unwrap();
    let env = |name: &str| {
        Some(
            if name.ends_with("_PORT") {
                "6379"
            } else {
                "dummy"
            }
            .to_owned(),
        )
    };
    let loaded = load_str(&text, &env).unwrap();
    // Skipped deployments (with a warning) have their ids all the same: here
    // `api_base: os.environ/AZURE_EU_API_BASE` is "dummy", not a URL, and two providers
    // have no adapter yet.
    let mut all: Vec<(usize, &str)> = loaded
        .skipped
        .iter()
        .map(|s| {
            let i = s.path["model_list[".len()..s.path.len() - 1]
                .parse()
                .unwrap();
            (i, s.id.as_str())
        })
        .collect();
    let mut kept = loaded.config.model_list.iter().map(|d| d.id.as_str());
    for i in 0..all.len() + loaded.config.model_list.len() {
        if !all.iter().any(|(at, _)| *at == i) {
            all.push((i, kept.next().unwrap()));
        }
    }
    all.sort();
    let ids: Vec<&str> = all.into_iter().map(|(_, id)| id).collect();
    assert_eq!(
        ids,
        [
            "gpt-4o-eu",
            "gpt-4o-openai",
            "f9dcfdf855e47254a38fce68b28301aa519dc37a7926c6ee62a9f8bd21baa005",
            "f8bdbb558cc14cd70a31111ea93b2c79e0fa6f85bc5c20accfef082152864bbb",
            "820063f56bf0f63bcc730bff7a2012af7e5ae8b0d83d5cb9bec04966e88a8d16",
            "65c0d311f5a2ef06d7b211b5f0331c7521208682c59096dcbadbb8ccbd32d1c5",
        ]
    );
}
