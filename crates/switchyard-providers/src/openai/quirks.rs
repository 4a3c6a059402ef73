//! The hosts that speak OpenAI's dialect, and the little that differs between
//! them: default base URL, how the key is sent, how the URL is built.
//!
//! Default bases are LiteLLM's (`get_llm_provider_logic.py`,
//! `_get_openai_compatible_provider_info`, and each provider's config class).
//! LiteLLM also reads each host's `*_API_KEY` / `*_API_BASE` environment
//! variables; Switchyard does not: keys and bases come only from the config.

/// How the API key travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStyle {
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// `api-key: KEY` (Azure OpenAI).
    ApiKeyHeader,
}

/// How the request URL is built from the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathStyle {
    /// `{api_base}{endpoint}`, e.g. `https://api.openai.com/v1/chat/completions`.
    Append,
    /// `{api_base}/openai/deployments/{deployment}{endpoint}?api-version={v}`.
    AzureDeployment,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Quirks {
    /// The `provider/` prefix of `litellm_params.model` (without the slash).
    pub prefix: &'static str,
    /// Provider name used in errors and logs.
    pub name: &'static str,
    /// Base URL when the config gives none; `None` means `api_base` is required.
    pub default_api_base: Option<&'static str>,
    /// How the key is sent.
    pub auth: AuthStyle,
    /// How the URL is built.
    pub path: PathStyle,
}

/// LiteLLM's default `api_version` for Azure when none is configured
/// (`litellm/__init__.py`: `AZURE_DEFAULT_API_VERSION`).
pub const AZURE_DEFAULT_API_VERSION: &str = "2025-02-01-preview";

const fn bearer(prefix: &'static str, default_api_base: Option<&'static str>) -> Quirks {
    Quirks {
        prefix,
        name: prefix,
        default_api_base,
        auth: AuthStyle::Bearer,
        path: PathStyle::Append,
    }
}

/// Every supported prefix. A model without a prefix is OpenAI's.
pub static QUIRKS: &[Quirks] = &[
    bearer("openai", Some("https://api.openai.com/v1")),
    Quirks {
        prefix: "azure",
        name: "azure",
        default_api_base: None,
        auth: AuthStyle::ApiKeyHeader,
        path: PathStyle::AzureDeployment,
    },
    bearer("hosted_vllm", None),
    bearer("groq", Some("https://api.groq.com/openai/v1")),
    bearer("together_ai", Some("https://api.together.xyz/v1")),
    bearer("mistral", Some("https://api.mistral.ai/v1")),
    // LiteLLM's default is the beta base (it serves the same endpoints as /v1
    // plus the beta features).
    bearer("deepseek", Some("https://api.deepseek.com/beta")),
    bearer(
        "fireworks_ai",
        Some("https://api.fireworks.ai/inference/v1"),
    ),
    bearer("openrouter", Some("https://openrouter.ai/api/v1")),
];

/// The row for a prefix.
pub fn lookup(prefix: &str) -> Option<&'static Quirks> {
    QUIRKS.iter().find(|q| q.prefix == prefix)
}

/// The OpenAI row, used for models written without a prefix.
pub fn openai() -> &'static Quirks {
    &QUIRKS[0]
}

/// The supported prefixes, for error messages.
pub fn supported_prefixes() -> String {
    QUIRKS
        .iter()
        .map(|q| q.prefix)
        .collect::<Vec<_>>()
        .join(", ")
}
