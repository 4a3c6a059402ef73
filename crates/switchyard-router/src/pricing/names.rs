//! Model-name normalisation for price-table lookups, after LiteLLM 1.106's
//! `get_potential_model_names` and `_strip_model_name` (`litellm/utils.py`) and
//! `get_bedrock_base_model` (`litellm/llms/bedrock/common_utils.py`).

/// LiteLLM provider prefixes that may start a `litellm_params.model` value.
/// Anything else before the first `/` (`meta-llama/...`) is part of the model name.
const PROVIDERS: &[&str] = &[
    "openai",
    "text-completion-openai",
    "azure",
    "azure_text",
    "azure_ai",
    "anthropic",
    "gemini",
    "vertex_ai",
    "vertex_ai_beta",
    "mistral",
    "codestral",
    "bedrock",
    "bedrock_converse",
    "sagemaker",
    "cohere",
    "cohere_chat",
    "groq",
    "together_ai",
    "fireworks_ai",
    "deepseek",
    "xai",
    "perplexity",
    "openrouter",
    "ollama",
    "ollama_chat",
    "hosted_vllm",
    "vllm",
    "deepinfra",
    "databricks",
    "cerebras",
    "nvidia_nim",
    "watsonx",
    "huggingface",
    "replicate",
    "litellm_proxy",
    "github",
    "dashscope",
    "moonshot",
];

/// Geography prefixes of Bedrock cross-region inference profiles
/// (`get_bedrock_cross_region_inference_regions`).
const BEDROCK_GEOS: &[&str] = &["global", "us", "eu", "apac", "jp", "au", "us-gov"];

/// Bedrock routing prefixes (`strip_bedrock_routing_prefix`), tried in this order.
const BEDROCK_ROUTES: &[&str] = &[
    "bedrock/",
    "chat_completions/",
    "converse/",
    "invoke/",
    "openai/",
    "mantle/",
    "nova-2/",
    "nova/",
];

/// Splits `provider/model` when the prefix is a LiteLLM provider; `vertex_ai_beta` reads as
/// `vertex_ai`, as in `_get_model_info_helper`.
pub(crate) fn split_provider(model: &str) -> (Option<&str>, &str) {
    match model.split_once('/') {
        Some((p, rest)) if PROVIDERS.contains(&p) => {
            let p = if p == "vertex_ai_beta" {
                "vertex_ai"
            } else {
                p
            };
            (Some(p), rest)
        }
        _ => (None, model),
    }
}

/// Whether a table entry of `entry_provider` may answer for a model routed through `provider`
/// (`_check_provider_match`).
pub(crate) fn provider_matches(provider: Option<&str>, entry_provider: Option<&str>) -> bool {
    let (Some(p), Some(e)) = (provider, entry_provider) else {
        return true;
    };
    p == e
        || (p == "vertex_ai" && e.starts_with("vertex_ai"))
        || (p.starts_with("bedrock") && e.starts_with("bedrock"))
        || p == "litellm_proxy"
        || p == "github"
        || (p == "azure_ai" && (e == "azure" || e == "openai"))
        // `text-completion-openai/gpt-3.5-turbo-instruct` and the like.
        || (p == "text-completion-openai" && e == "openai")
}

/// `strip_bedrock_routing_prefix`.
pub(crate) fn strip_bedrock_routes(mut model: &str) -> &str {
    for route in BEDROCK_ROUTES {
        if let Some(rest) = model.strip_prefix(route) {
            model = rest;
        }
    }
    model
}

/// The name LiteLLM falls back to after the exact names (`_strip_model_name`): Bedrock's base
/// model, Gemini/Vertex without a trailing `-NNN` version, an OpenAI fine-tune without its
/// org/suffix/id, or any other model without a `-YYYY-MM-DD` snapshot date.
pub(crate) fn strip_model_name<'a>(model: &'a str, provider: Option<&str>) -> &'a str {
    match provider {
        Some("bedrock" | "bedrock_converse") => bedrock_base_model(model),
        Some("vertex_ai" | "gemini" | "databricks") => strip_trailing_number(model),
        _ if model.contains("ft:") => strip_finetune(model),
        _ => strip_snapshot_date(model),
    }
}

/// `get_bedrock_base_model`: routing prefixes, ARNs, throughput suffixes (`:51k`, `[1m]`),
/// then the cross-region geography (`us.`) or a region path (`us-east-1/`).
fn bedrock_base_model(model: &str) -> &str {
    let mut m = strip_bedrock_routes(model);
    if m.to_ascii_lowercase().contains("arn") {
        m = m.rsplit('/').next().unwrap_or(m);
    }
    m = strip_throughput(m);
    if let Some((geo, rest)) = m.split_once('.')
        && BEDROCK_GEOS.contains(&geo)
    {
        return rest;
    }
    if let Some((region, rest)) = m.split_once('/')
        && is_aws_region(region)
    {
        return rest;
    }
    m
}

/// `(:\d+):\d+k$` → `$1`, then `\[\w+\]$` → ``.
fn strip_throughput(m: &str) -> &str {
    let mut m = m;
    if let Some((head, tail)) = m.rsplit_once(':')
        && let Some(num) = tail.strip_suffix('k')
        && is_digits(num)
        && let Some((_, version)) = head.rsplit_once(':')
        && is_digits(version)
    {
        m = head;
    }
    if let Some(head) = m.strip_suffix(']')
        && let Some((head, inner)) = head.rsplit_once('[')
        && !inner.is_empty()
        && inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        m = head;
    }
    m
}

/// An AWS region name such as `us-east-1` or `us-gov-west-1`.
fn is_aws_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    (parts.len() == 3 || parts.len() == 4)
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && is_digits(parts[parts.len() - 1])
}

/// `_strip_stable_vertex_version`: `-\d+$` removed.
fn strip_trailing_number(m: &str) -> &str {
    match m.rsplit_once('-') {
        Some((head, tail)) if is_digits(tail) => head,
        _ => m,
    }
}

/// `_strip_openai_finetune_model_name`: `(:[^:]*){3}$` removed
/// (`ft:gpt-4o-2024-08-06:org:suffix:id` → `ft:gpt-4o-2024-08-06`).
fn strip_finetune(m: &str) -> &str {
    let mut head = m;
    for _ in 0..3 {
        match head.rsplit_once(':') {
            Some((h, _)) => head = h,
            None => return m,
        }
    }
    head
}

/// `_strip_dated_snapshot_suffix`: `-\d{4}-\d{2}-\d{2}$` removed.
fn strip_snapshot_date(m: &str) -> &str {
    let b = m.as_bytes();
    if b.len() < 11 {
        return m;
    }
    let tail = &b[b.len() - 11..];
    let shape_ok = tail[0] == b'-'
        && tail[5] == b'-'
        && tail[8] == b'-'
        && [1, 2, 3, 4, 6, 7, 9, 10]
            .iter()
            .all(|&i| tail[i].is_ascii_digit());
    if shape_ok { &m[..m.len() - 11] } else { m }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_prefixes() {
        assert_eq!(split_provider("azure/gpt-4o"), (Some("azure"), "gpt-4o"));
        assert_eq!(
            split_provider("vertex_ai_beta/gemini-2.5-pro"),
            (Some("vertex_ai"), "gemini-2.5-pro")
        );
        assert_eq!(
            split_provider("meta-llama/Llama-3-8b"),
            (None, "meta-llama/Llama-3-8b")
        );
        assert_eq!(split_provider("gpt-4o"), (None, "gpt-4o"));
    }

    #[test]
    fn stripping_follows_litellm() {
        assert_eq!(strip_model_name("gpt-4o-2099-01-31", None), "gpt-4o");
        assert_eq!(
            strip_model_name("gpt-4o-2099-1-31", None),
            "gpt-4o-2099-1-31"
        );
        assert_eq!(
            strip_model_name("ft:gpt-4o-2024-08-06:my-org::abc123", Some("openai")),
            "ft:gpt-4o-2024-08-06"
        );
        assert_eq!(
            strip_model_name("gemini-1.5-flash-001", Some("gemini")),
            "gemini-1.5-flash"
        );
        assert_eq!(
            strip_model_name("us.anthropic.claude-opus-4-7", Some("bedrock")),
            "anthropic.claude-opus-4-7"
        );
        assert_eq!(
            strip_model_name(
                "converse/eu.meta.llama3-3-70b-instruct-v1:0",
                Some("bedrock")
            ),
            "meta.llama3-3-70b-instruct-v1:0"
        );
        assert_eq!(
            strip_model_name("us-east-1/anthropic.claude-v2:1", Some("bedrock")),
            "anthropic.claude-v2:1"
        );
        assert_eq!(
            strip_model_name(
                "anthropic.claude-3-5-sonnet-20241022-v2:0:51k",
                Some("bedrock")
            ),
            "anthropic.claude-3-5-sonnet-20241022-v2:0"
        );
        assert_eq!(
            strip_model_name("us.anthropic.claude-opus-4-6-v1[1m]", Some("bedrock")),
            "anthropic.claude-opus-4-6-v1"
        );
        assert_eq!(
            strip_model_name(
                "arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic.claude-opus-4-7",
                Some("bedrock")
            ),
            "anthropic.claude-opus-4-7"
        );
    }

    #[test]
    fn provider_match_rules() {
        assert!(provider_matches(Some("openai"), Some("openai")));
        assert!(!provider_matches(Some("azure"), Some("openai")));
        assert!(provider_matches(
            Some("vertex_ai"),
            Some("vertex_ai-language-models")
        ));
        assert!(provider_matches(Some("bedrock"), Some("bedrock_converse")));
        assert!(provider_matches(Some("azure_ai"), Some("azure")));
        assert!(provider_matches(None, Some("anthropic")));
        assert!(provider_matches(Some("anthropic"), None));
    }
}
