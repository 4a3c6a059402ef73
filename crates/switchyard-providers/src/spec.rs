//! From a deployment's `litellm_params` to a ready [`Provider`].

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::Provider;
use crate::client::HttpClient;
use crate::openai::OpenAiCompatible;
use crate::openai::quirks::{self, AZURE_DEFAULT_API_VERSION, PathStyle};

/// The provider-relevant part of one deployment's `litellm_params`.
#[derive(Debug, Clone, Default)]
pub struct ProviderSpec {
    /// `litellm_params.model` as written, e.g. `azure/gpt-4o` or `gpt-4o`.
    pub model: String,
    /// Overrides the host's default base URL (required for `azure/` and
    /// `hosted_vllm/`).
    pub api_base: Option<String>,
    /// The key; sent as the host expects it, never logged.
    pub api_key: Option<SecretString>,
    /// Azure's `api-version`; LiteLLM's default when absent.
    pub api_version: Option<String>,
}

/// A provider and the model name it expects in the body.
#[derive(Debug, Clone)]
pub struct BuiltProvider {
    /// The adapter, shared by every request to this deployment.
    pub provider: Arc<dyn Provider>,
    /// The name to put in the body's `model`, e.g. `gpt-4o` for `openai/gpt-4o`
    /// (for Azure, the deployment name).
    pub upstream_model: String,
}

/// Why a [`ProviderSpec`] cannot make a provider (see [`check_provider`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// Switchyard has no adapter for the model's provider prefix (`bedrock/`, ...).
    UnsupportedProvider,
    /// `api_base` is not a usable URL: what is wrong with it (never the user info, the
    /// path or the query).
    UnusableApiBase(String),
    /// Anything else: a message naming the model, for a human fixing the config.
    Invalid(String),
}

/// Checks `spec` as [`build_provider`] would build it, without a client: what the config
/// loader reads before any HTTP client exists.
pub fn check_provider(spec: &ProviderSpec) -> Result<(), SpecError> {
    let plan = plan(spec)?;
    let model = spec.model.trim();
    crate::openai::Endpoints::new(
        plan.quirks,
        plan.api_base,
        plan.upstream_model,
        plan.api_version,
        plan.api_key,
    )
    .map(|_| ())
    .map_err(|e| match e {
        crate::openai::EndpointsError::ApiBase(e) => SpecError::UnusableApiBase(e),
        crate::openai::EndpointsError::Other(e) => {
            SpecError::Invalid(format!("model {model:?}: {e}"))
        }
    })
}

/// What a spec resolves to before anything is built.
struct Plan<'s> {
    quirks: &'static quirks::Quirks,
    upstream_model: &'s str,
    api_base: &'s str,
    api_version: &'s str,
    api_key: Option<&'s str>,
}

fn plan(spec: &ProviderSpec) -> Result<Plan<'_>, SpecError> {
    let model = spec.model.trim();
    let (quirks, upstream_model) = match model.split_once('/') {
        None => (quirks::openai(), model),
        Some((prefix, rest)) => match quirks::lookup(prefix) {
            Some(quirks) => (quirks, rest),
            None => return Err(SpecError::UnsupportedProvider),
        },
    };
    if upstream_model.is_empty() {
        return Err(SpecError::Invalid(format!(
            "model {model:?} has no model name after the provider prefix"
        )));
    }
    let api_base = match spec
        .api_base
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        Some(base) => base,
        None => quirks.default_api_base.ok_or_else(|| {
            SpecError::Invalid(format!(
                "model {model:?}: {}/ needs an api_base in litellm_params",
                quirks.prefix
            ))
        })?,
    };
    let api_version = match quirks.path {
        PathStyle::AzureDeployment => spec
            .api_version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(AZURE_DEFAULT_API_VERSION),
        PathStyle::Append => "",
    };
    Ok(Plan {
        quirks,
        upstream_model,
        api_base,
        api_version,
        api_key: spec.api_key.as_ref().map(|k| k.expose_secret()),
    })
}

/// Builds the provider for `spec`, sharing `client`'s connection pool.
///
/// The prefix before the first `/` picks the host (`openai/`, `azure/`,
/// `hosted_vllm/`, `groq/`, ...); a model without `/` is OpenAI's. The rest is
/// the upstream model name, kept whole (`openai/meta-llama/Llama-3` sends
/// `meta-llama/Llama-3`). Errors are messages for a human fixing the config.
pub fn build_provider(spec: &ProviderSpec, client: &HttpClient) -> Result<BuiltProvider, String> {
    let model = spec.model.trim();
    let plan = plan(spec).map_err(|e| match e {
        SpecError::UnsupportedProvider => {
            let prefix = model.split_once('/').map_or(model, |(p, _)| p);
            format!(
                "unknown provider prefix {prefix:?} in model {model:?} (supported: {})",
                quirks::supported_prefixes()
            )
        }
        SpecError::UnusableApiBase(e) => format!("model {model:?}: invalid api_base: {e}"),
        SpecError::Invalid(e) => e,
    })?;
    let provider = OpenAiCompatible::new(
        plan.quirks,
        plan.api_base,
        plan.upstream_model,
        plan.api_version,
        plan.api_key,
        client.clone(),
    )
    .map_err(|e| format!("model {model:?}: {e}"))?;
    Ok(BuiltProvider {
        provider: Arc::new(provider),
        upstream_model: plan.upstream_model.to_owned(),
    })
}

/// Whether Switchyard has an adapter for `model`'s provider prefix (a model
/// without a prefix is OpenAI's). Deployments of other providers are skipped
/// with a warning rather than failing the whole config.
pub fn is_supported_provider(model: &str) -> bool {
    match model.trim().split_once('/') {
        None => true,
        Some((prefix, _)) => quirks::lookup(prefix).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Endpoint;
    use crate::client::{HttpClientOptions, build_http_client};

    fn test_client() -> HttpClient {
        build_http_client(&HttpClientOptions::default())
    }

    fn spec(model: &str, api_base: Option<&str>) -> ProviderSpec {
        ProviderSpec {
            model: model.into(),
            api_base: api_base.map(Into::into),
            ..Default::default()
        }
    }

    fn chat_url(spec: &ProviderSpec) -> String {
        let client = test_client();
        let built = build_provider(spec, &client).unwrap();
        let base = built.provider.api_base().unwrap().to_owned();
        // The URL is not on the trait; rebuild through the public type.
        let quirks = quirks::lookup(spec.model.split_once('/').map_or("openai", |p| p.0)).unwrap();
        let version = spec
            .api_version
            .as_deref()
            .unwrap_or(AZURE_DEFAULT_API_VERSION);
        OpenAiCompatible::new(quirks, &base, &built.upstream_model, version, None, client)
            .unwrap()
            .url(Endpoint::ChatCompletions)
            .to_string()
    }

    #[test]
    fn prefixes_and_default_bases() {
        let cases = [
            (
                "gpt-4o",
                "openai",
                "gpt-4o",
                "https://api.openai.com/v1/chat/completions",
            ),
            (
                "openai/gpt-4o",
                "openai",
                "gpt-4o",
                "https://api.openai.com/v1/chat/completions",
            ),
            (
                "groq/llama3-8b",
                "groq",
                "llama3-8b",
                "https://api.groq.com/openai/v1/chat/completions",
            ),
            (
                "together_ai/m/x",
                "together_ai",
                "m/x",
                "https://api.together.xyz/v1/chat/completions",
            ),
            (
                "mistral/mistral-large",
                "mistral",
                "mistral-large",
                "https://api.mistral.ai/v1/chat/completions",
            ),
            (
                "deepseek/deepseek-chat",
                "deepseek",
                "deepseek-chat",
                "https://api.deepseek.com/beta/chat/completions",
            ),
            (
                "fireworks_ai/f",
                "fireworks_ai",
                "f",
                "https://api.fireworks.ai/inference/v1/chat/completions",
            ),
            (
                "openrouter/a/b",
                "openrouter",
                "a/b",
                "https://openrouter.ai/api/v1/chat/completions",
            ),
        ];
        for (model, name, upstream, url) in cases {
            let s = spec(model, None);
            let built = build_provider(&s, &test_client()).unwrap();
            assert_eq!(built.provider.name(), name, "{model}");
            assert_eq!(built.upstream_model, upstream, "{model}");
            assert_eq!(chat_url(&s), url, "{model}");
        }
    }

    #[test]
    fn api_base_is_used_as_given() {
        assert_eq!(
            chat_url(&spec("hosted_vllm/m", Some("http://127.0.0.1:8000/v1/"))),
            "http://127.0.0.1:8000/v1/chat/completions"
        );
        assert_eq!(
            chat_url(&spec("openai/m", Some("http://h:1234"))),
            "http://h:1234/chat/completions"
        );
    }

    #[test]
    fn azure_url_and_default_version() {
        let s = spec("azure/my-gpt4o", Some("https://res.openai.azure.com/"));
        let built = build_provider(&s, &test_client()).unwrap();
        assert_eq!(built.provider.name(), "azure");
        assert_eq!(built.upstream_model, "my-gpt4o");
        assert_eq!(
            chat_url(&s),
            "https://res.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=2025-02-01-preview"
        );
    }

    #[test]
    fn config_errors() {
        let err = |s: ProviderSpec| build_provider(&s, &test_client()).unwrap_err();
        let e = err(spec("foo/bar", None));
        assert!(
            e.contains("unknown provider prefix \"foo\"") && e.contains("azure"),
            "{e}"
        );
        assert!(err(spec("azure/x", None)).contains("api_base"));
        assert!(err(spec("hosted_vllm/x", None)).contains("api_base"));
        assert!(err(spec("openai/", None)).contains("no model name"));
        assert!(err(spec("openai/x", Some("ftp://h"))).contains("http or https"));
        let e = err(ProviderSpec {
            api_key: Some("sk-secret\nX".into()),
            ..spec("openai/x", None)
        });
        assert!(!e.contains("sk-secret"), "{e}");
    }

    #[test]
    fn debug_output_has_no_key() {
        let s = ProviderSpec {
            api_key: Some("sk-very-secret".into()),
            ..spec("openai/x", None)
        };
        let built = build_provider(&s, &test_client()).unwrap();
        let text = format!("{built:?} {s:?}");
        assert!(!text.contains("sk-very-secret"), "{text}");
    }
}
