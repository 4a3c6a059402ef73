//! The price table and its lookups.
//!
//! Expected rows were checked against LiteLLM 1.106.2's `litellm.get_model_info(name)` on the
//! same source file (`model_prices_and_context_window_backup.json`), which resolves each name
//! below to the same entry.

use switchyard_router::pricing::{
    DeploymentPrice, PriceTable, UNMAPPED_COST_PER_TOKEN, cost_of, deployment_price,
};

/// (name, provider, max_input, max_output, input $/token, output $/token)
type Row = (
    &'static str,
    &'static str,
    Option<u64>,
    Option<u64>,
    Option<f64>,
    Option<f64>,
);

const ROWS: &[Row] = &[
    (
        "gpt-4o",
        "openai",
        Some(128_000),
        Some(16_384),
        Some(2.5e-6),
        Some(1e-5),
    ),
    (
        "openai/gpt-4o",
        "openai",
        Some(128_000),
        Some(16_384),
        Some(2.5e-6),
        Some(1e-5),
    ),
    (
        "openai/GPT-4O",
        "openai",
        Some(128_000),
        Some(16_384),
        Some(2.5e-6),
        Some(1e-5),
    ),
    (
        "gpt-4o-2099-01-01",
        "openai",
        Some(128_000),
        Some(16_384),
        Some(2.5e-6),
        Some(1e-5),
    ),
    (
        "azure_ai/gpt-4o",
        "openai",
        Some(128_000),
        Some(16_384),
        Some(2.5e-6),
        Some(1e-5),
    ),
    (
        "azure/gpt-4o",
        "azure",
        Some(128_000),
        Some(16_384),
        Some(2.5e-6),
        Some(1e-5),
    ),
    (
        "azure/gpt-4o-mini",
        "azure",
        Some(128_000),
        Some(16_384),
        Some(1.5e-7),
        Some(6e-7),
    ),
    (
        "ft:gpt-4o-2024-08-06:org::id",
        "openai",
        Some(128_000),
        Some(16_384),
        Some(3.75e-6),
        Some(1.5e-5),
    ),
    (
        "text-completion-openai/gpt-3.5-turbo-instruct",
        "text-completion-openai",
        Some(8192),
        Some(4096),
        Some(1.5e-6),
        Some(2e-6),
    ),
    (
        "anthropic/claude-sonnet-4-5",
        "anthropic",
        Some(200_000),
        Some(64_000),
        Some(3e-6),
        Some(1.5e-5),
    ),
    (
        "claude-sonnet-4-5-20250929",
        "anthropic",
        Some(200_000),
        Some(64_000),
        Some(3e-6),
        Some(1.5e-5),
    ),
    (
        "bedrock/anthropic.claude-opus-4-7",
        "bedrock_converse",
        Some(1_000_000),
        Some(128_000),
        Some(5e-6),
        Some(2.5e-5),
    ),
    // A cross-region profile priced above its base model keeps its own row.
    (
        "bedrock/us.anthropic.claude-opus-4-7",
        "bedrock_converse",
        Some(1_000_000),
        Some(128_000),
        Some(5.5e-6),
        Some(2.75e-5),
    ),
    (
        "bedrock/converse/us.anthropic.claude-sonnet-4-6",
        "bedrock_converse",
        Some(1_000_000),
        Some(64_000),
        Some(3.3e-6),
        Some(1.65e-5),
    ),
    (
        "bedrock/us-east-1/anthropic.claude-v2:1",
        "bedrock",
        Some(100_000),
        Some(8191),
        Some(8e-6),
        Some(2.4e-5),
    ),
    (
        "gemini/gemini-2.5-pro",
        "gemini",
        Some(1_048_576),
        Some(65_536),
        Some(1.25e-6),
        Some(1e-5),
    ),
    (
        "vertex_ai/gemini-2.5-pro",
        "vertex_ai-language-models",
        Some(1_048_576),
        Some(65_535),
        Some(1.25e-6),
        Some(1e-5),
    ),
    (
        "vertex_ai/claude-haiku-4-5@20251001",
        "vertex_ai-anthropic_models",
        Some(200_000),
        Some(64_000),
        Some(1e-6),
        Some(5e-6),
    ),
    (
        "mistral/mistral-large-latest",
        "mistral",
        Some(262_144),
        Some(262_144),
        Some(5e-7),
        Some(1.5e-6),
    ),
    (
        "text-embedding-3-small",
        "openai",
        Some(8191),
        None,
        Some(2e-8),
        Some(0.0),
    ),
    (
        "azure/text-embedding-3-small",
        "azure",
        Some(8192),
        None,
        Some(2.2e-8),
        Some(0.0),
    ),
    (
        "vertex_ai/text-embedding-005",
        "vertex_ai-embedding-models",
        Some(2048),
        None,
        Some(1e-7),
        Some(0.0),
    ),
];

#[test]
fn builtin_lookups_match_litellm() {
    let table = PriceTable::builtin();
    for &(name, provider, max_in, max_out, input, output) in ROWS {
        let p = table
            .lookup(name)
            .unwrap_or_else(|| panic!("{name} not found"));
        assert_eq!(p.provider.as_deref(), Some(provider), "{name}");
        assert_eq!(p.max_input_tokens, max_in, "{name}");
        assert_eq!(p.max_output_tokens, max_out, "{name}");
        assert_eq!(p.input_cost_per_token, input, "{name}");
        assert_eq!(p.output_cost_per_token, output, "{name}");
    }
}

#[test]
fn unmapped_and_provider_mismatch() {
    let table = PriceTable::builtin();
    // An Azure deployment name is not a model: that is what `base_model` is for.
    assert!(table.lookup("azure/my-gpt4o-deployment").is_none());
    // An Anthropic model is not priced under Azure (`_check_provider_match`).
    assert!(table.lookup("azure/claude-sonnet-4-5").is_none());
    assert!(table.lookup("no-such-model").is_none());
    assert!(table.lookup("").is_none());
}

#[test]
fn builtin_table_records_its_source_and_covers_the_providers() {
    let table = PriceTable::builtin();
    let src = table.source();
    assert!(
        src.litellm_version
            .as_deref()
            .is_some_and(|v| v.starts_with("1.106.")),
        "{src:?}"
    );
    assert_eq!(src.license.as_deref(), Some("MIT, BerriAI/litellm"));
    assert!(src.generated.as_deref().is_some_and(|d| d.len() == 10));
    assert!(
        (300..2000).contains(&table.len()),
        "{} entries",
        table.len()
    );
    for model in [
        "gpt-4o-mini",
        "o3",
        "gpt-4.1",
        "text-embedding-3-large",
        "azure/gpt-4.1",
        "claude-opus-4-7",
        "gemini/gemini-2.5-flash",
        "vertex_ai/gemini-2.5-flash",
        "mistral/mistral-small-latest",
        "bedrock/amazon.nova-pro-v1:0",
        "bedrock/amazon.titan-embed-text-v2:0",
        "gpt-image-1",
    ] {
        assert!(table.lookup(model).is_some(), "{model}");
    }
}

#[test]
fn user_file_overrides_field_by_field() {
    let user = PriceTable::from_litellm_json(
        r#"{
          "sample_spec": {"max_input_tokens": "max input tokens, if the provider specifies it"},
          "gpt-4o": {"input_cost_per_token": 0.000001},
          "my-model": {"max_tokens": 4096, "max_input_tokens": 32000,
                       "input_cost_per_token": "0.000002", "output_cost_per_token": 0.000004,
                       "litellm_provider": "openai", "mode": "chat", "supports_vision": true},
          "openai/gpt-4o-mini": {"output_cost_per_token": 0.0},
          "broken": 7
        }"#,
    )
    .unwrap();
    assert_eq!(user.len(), 3);
    let mine = user.get("my-model").unwrap();
    assert_eq!(
        mine.max_output_tokens, None,
        "the legacy max_tokens is not read"
    );
    assert_eq!(
        mine.input_cost_per_token,
        Some(2e-6),
        "stringified numbers are read"
    );

    let merged = user.merged_over(PriceTable::builtin());
    let gpt4o = merged.lookup("gpt-4o").unwrap();
    assert_eq!(gpt4o.input_cost_per_token, Some(1e-6));
    assert_eq!(
        gpt4o.output_cost_per_token,
        Some(1e-5),
        "kept from the built-in"
    );
    assert_eq!(
        gpt4o.max_input_tokens,
        Some(128_000),
        "kept from the built-in"
    );
    assert_eq!(
        merged.lookup("openai/my-model").unwrap().max_input_tokens,
        Some(32_000)
    );
    // A new key seeded from what the built-in table resolves it to.
    let mini = merged.get("openai/gpt-4o-mini").unwrap();
    assert_eq!(mini.output_cost_per_token, Some(0.0));
    assert_eq!(mini.max_input_tokens, Some(128_000));
    // The built-in table itself is unchanged, and the merged one keeps its source.
    assert_eq!(
        PriceTable::builtin()
            .lookup("gpt-4o")
            .unwrap()
            .input_cost_per_token,
        Some(2.5e-6)
    );
    assert_eq!(merged.source(), PriceTable::builtin().source());
    assert!(merged.len() >= PriceTable::builtin().len() + 2);

    assert!(PriceTable::from_litellm_json("[1]").is_err());
    assert!(PriceTable::from_litellm_json("{").is_err());
}

#[test]
fn deployment_prices() {
    let table = PriceTable::builtin();
    // Azure with base_model: the deployment name says nothing, base_model selects the entry
    // under the deployment's provider.
    let p = deployment_price("azure/my-deploy", Some("gpt-4o-mini"), (None, None), table);
    assert_eq!(
        p,
        DeploymentPrice {
            input_cost_per_token: Some(1.5e-7),
            output_cost_per_token: Some(6e-7),
            max_input_tokens: Some(128_000),
            max_output_tokens: Some(16_384),
        }
    );
    let p = deployment_price("azure/my-deploy", Some("azure/gpt-4o"), (None, None), table);
    assert_eq!(p.input_cost_per_token, Some(2.5e-6));
    // Without base_model the model is looked up.
    let p = deployment_price("openai/gpt-4o", None, (None, None), table);
    assert_eq!(p.max_input_tokens, Some(128_000));
    // An unknown base_model falls through to the model.
    let p = deployment_price("openai/gpt-4o", Some("no-such-model"), (None, None), table);
    assert_eq!(p.input_cost_per_token, Some(2.5e-6));
    // Overrides win, zero included; the window still comes from the table.
    let p = deployment_price("openai/gpt-4o", None, (Some(0.0), Some(3e-6)), table);
    assert_eq!(p.input_cost_per_token, Some(0.0));
    assert_eq!(p.output_cost_per_token, Some(3e-6));
    assert_eq!(p.max_input_tokens, Some(128_000));
    // Unknown everything.
    let p = deployment_price("azure/my-deploy", None, (None, None), table);
    assert_eq!(p, DeploymentPrice::default());
    assert_eq!(p.routing_cost_per_token(), None);
    // Overrides alone price a deployment the table does not know.
    let p = deployment_price("hosted_vllm/llama", None, (Some(1e-7), Some(2e-7)), table);
    assert_eq!(p.input_cost_per_token, Some(1e-7));
    assert_eq!(p.max_input_tokens, None);
}

#[test]
fn costs() {
    let p = DeploymentPrice {
        input_cost_per_token: Some(2.5e-6),
        output_cost_per_token: Some(1e-5),
        ..Default::default()
    };
    let c = cost_of(&p, 1000, 500).unwrap();
    assert!((c - (0.0025 + 0.005)).abs() < 1e-12, "{c}");
    assert_eq!(cost_of(&p, 0, 0), Some(0.0));
    assert_eq!(p.routing_cost_per_token(), Some(1.25e-5));

    let input_only = DeploymentPrice {
        input_cost_per_token: Some(1e-7),
        ..Default::default()
    };
    // An embedding has no completion tokens, so the missing output price does not matter.
    assert!((cost_of(&input_only, 1000, 0).unwrap() - 1e-4).abs() < 1e-15);
    assert_eq!(cost_of(&input_only, 1000, 1), None);
    assert_eq!(
        input_only.routing_cost_per_token(),
        Some(1e-7 + UNMAPPED_COST_PER_TOKEN)
    );
    assert_eq!(cost_of(&DeploymentPrice::default(), 10, 10), None);
}

#[test]
fn an_answers_usage_is_priced_by_side() {
    use switchyard_router::pricing::{DeploymentPrice, answer_cost};
    let price = DeploymentPrice {
        input_cost_per_token: Some(2.5e-6),
        output_cost_per_token: Some(1e-5),
        ..DeploymentPrice::default()
    };
    // A "usage" inside a string is escaped there and is not taken for the key.
    let json = br#"{"id":"x","choices":[{"message":{"content":"a \"usage\": {}"}}],"usage": {"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}}"#;
    let (input, output) = answer_cost(&price, json).unwrap();
    assert!((input - 9.0 * 2.5e-6).abs() < 1e-12);
    assert!((output - 5.0 * 1e-5).abs() < 1e-12);
    assert_eq!(answer_cost(&price, br#"{"id":"x"}"#), None);
    assert_eq!(answer_cost(&DeploymentPrice::default(), json), None);
}
