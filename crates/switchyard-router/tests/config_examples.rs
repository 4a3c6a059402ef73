//! Every example in the repository's `config/` folder loads without errors.

use std::path::PathBuf;

use switchyard_router::config::load_str;

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    files
}

/// A stand-in for every variable the examples read: ports are numbers, base URLs URLs,
/// the rest text. (`REQUEST_TIMEOUT`, which LiteLLM reads by itself, is unset.)
fn dummy_env(name: &str) -> Option<String> {
    if name == "REQUEST_TIMEOUT" {
        return None;
    }
    Some(if name.ends_with("_PORT") {
        "6379".to_owned()
    } else if name.ends_with("_API_BASE") {
        format!(
            "https://{}.example.com",
            name.to_lowercase().replace('_', "-")
        )
    } else {
        format!("dummy-{}", name.to_lowercase())
    })
}

#[test]
fn every_example_loads() {
    let files = examples();
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let loaded =
            load_str(&text, &dummy_env).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!loaded.config.model_list.is_empty(), "{}", file.display());
        let name = file.file_name().unwrap().to_str().unwrap();
        if matches!(name, "quickstart.yaml" | "azure-openai.yaml") {
            assert!(loaded.warnings.is_empty(), "{name}: {:#?}", loaded.warnings);
            assert!(loaded.skipped.is_empty(), "{name}: {:?}", loaded.skipped);
        }
    }
}

#[test]
fn quickstart_is_offline_and_weighted() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/quickstart.yaml"),
    )
    .unwrap();
    let loaded = load_str(&text, &|_| None).unwrap();
    let gpt4o: Vec<_> = loaded
        .config
        .model_list
        .iter()
        .filter(|d| d.model_name == "gpt-4o")
        .collect();
    assert_eq!(gpt4o.len(), 2);
    assert_eq!(gpt4o[0].litellm_params.weight, Some(3.0));
    assert!(
        loaded
            .config
            .model_list
            .iter()
            .all(|d| d.litellm_params.mock_response.is_some())
    );
}

#[test]
fn full_example_warns_about_what_switchyard_skips() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/litellm-proxy-full.yaml"),
    )
    .unwrap();
    let loaded = load_str(&text, &dummy_env).unwrap();
    let paths: Vec<&str> = loaded.warnings.iter().map(|w| w.path.as_str()).collect();
    for expected in [
        "router_settings.redis_host",
        "router_settings.provider_budget_config",
        "litellm_settings.json_logs",
        "general_settings.database_url",
    ] {
        assert!(paths.contains(&expected), "{expected} not in {paths:#?}");
    }
    assert!(
        !paths.contains(&"general_settings.master_key"),
        "{paths:#?}"
    );
    let r = &loaded.config.router_settings;
    assert_eq!(r.redis_port, Some(6379));
    // Anthropic's and Gemini's deployments: no adapter yet.
    let skipped: Vec<&str> = loaded.skipped.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(skipped, ["model_list[2]", "model_list[3]"]);
    assert_eq!(
        loaded.config.model_list[1].litellm_params.tpm,
        Some(200_000)
    );
    assert_eq!(loaded.config.model_list[1].litellm_params.rpm, Some(300));
}
