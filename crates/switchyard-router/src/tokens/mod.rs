//! Input-token counts of requests, with OpenAI's real tokenizers (`bpe-openai`: `cl100k_base`
//! and `o200k_base`, embedded, no network), for usage reservations and context-window checks.
//!
//! **Encoding** ([`encoding_for_model`]): `o200k_base` for the GPT-4o, o1, o3, o4-mini,
//! GPT-4.1, GPT-4.5, GPT-5 and gpt-oss families (tiktoken's `MODEL_TO_ENCODING` /
//! `MODEL_PREFIX_TO_ENCODING`, plus LiteLLM's `"gpt-4o" in model` rule from
//! `openai_tokenizer_encoding_name`), `cl100k_base` for every other model, OpenAI or not
//! (LiteLLM's default encoding). The provider prefix and an `ft:` fine-tune prefix are
//! ignored (`azure/gpt-4o` and `ft:gpt-4o-mini:org::id` are o200k). *Deviation:* LiteLLM's
//! router calls `token_counter` without a model, so it counts everything with cl100k; and
//! LiteLLM's `token_counter` (`_select_tokenizer`) uses Hugging Face tokenizers for Claude 2,
//! Llama and Cohere models, which are not embedded here: those count with cl100k. For an Azure
//! deployment named freely, pass its `base_model` to pick the encoding.
//!
//! **Chat** ([`count_chat_tokens`]) follows `token_counter(messages=..., tools=...,
//! tool_choice=...)` in `litellm/litellm_core_utils/token_counter.py` (`_count_messages`,
//! `_count_content_list`, `_count_extra`, `_format_function_definitions`), which is OpenAI's
//! cookbook recipe:
//! - 3 tokens per message, plus the tokens of every string field of the message (`role`,
//!   `content`, `name`, `tool_call_id`...), plus 1 when it has a `name` (4 and −1 for
//!   `gpt-3.5-turbo-0301`); of `tool_calls` and `function_call`, only the `arguments` count;
//! - `content` as a list of parts: `text` parts count their text; `image_url` parts count
//!   LiteLLM's fixed 85 tokens for `detail` `low` or `auto` (OpenAI's base image cost) and 255
//!   for `high` (LiteLLM's figure when it cannot read the image's size: 85 + 170 × one tile;
//!   *deviation:* LiteLLM downloads the image to size it, a router must not); Anthropic `image`
//!   85; `file`/`document` their name/title and text, or 85 for opaque data; `thinking` its
//!   text; `tool_use`/`tool_result` their fields; unknown part types count 0 (LiteLLM raises,
//!   and its router then counts the whole request as 0);
//! - 3 for the reply priming (`<|start|>assistant<|message|>`);
//! - `tools` (and the legacy `functions`) rendered as LiteLLM renders them (OpenAI's
//!   TypeScript-like `namespace functions { ... }`) and counted, plus 9, minus 4 when there is
//!   a system message; `tool_choice` (or legacy `function_call`) `"none"` adds 1, a named
//!   function 7 and its name's tokens. *Deviation:* LiteLLM's usage-based strategies count
//!   messages only; tools are part of what the upstream bills, so they count here.
//!
//! **Prompts** ([`count_prompt_tokens`]): `prompt` (`/completions`, `/images/generations`) or
//! `input` (`/embeddings`) as text, a list of texts (each counted on its own, as the upstream
//! does), or token ids (counted as given). No per-message overhead. *Deviation:* LiteLLM's
//! router counts a text completion's prompt as one user message (+7 tokens).
//!
//! Text is counted exactly; LiteLLM encodes long text in 1,024-character chunks (up to one
//! token of drift per chunk) and extrapolates past 4 M characters.
//!
//! The tokenizers are built once, on first use (about 0.1 s); call [`warm_up`] at start-up to
//! keep that off the first request.

mod chat;
mod json;

use std::borrow::Cow;

use switchyard_providers::Endpoint;
use switchyard_types::RequestBody;

use json::Json;

/// An OpenAI BPE encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `cl100k_base`: GPT-3.5, GPT-4, the text-embedding-3 and ada-002 models, and LiteLLM's
    /// default for every non-OpenAI model.
    Cl100kBase,
    /// `o200k_base`: GPT-4o, o1, o3, o4-mini, GPT-4.1, GPT-4.5, GPT-5.
    O200kBase,
}

impl Encoding {
    /// tiktoken's name for the encoding.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Cl100kBase => "cl100k_base",
            Encoding::O200kBase => "o200k_base",
        }
    }

    fn tokenizer(self) -> &'static bpe_openai::Tokenizer {
        match self {
            Encoding::Cl100kBase => bpe_openai::cl100k_base(),
            Encoding::O200kBase => bpe_openai::o200k_base(),
        }
    }

    /// The number of tokens of `text` (special-token text such as `<|endoftext|>` counts as
    /// plain text, as with tiktoken's `disallowed_special=()`).
    pub fn count(self, text: &str) -> u64 {
        if text.is_empty() {
            return 0;
        }
        self.tokenizer().count(text) as u64
    }
}

/// Builds both tokenizers now rather than on the first request.
pub fn warm_up() {
    let _ = Encoding::Cl100kBase.count("a");
    let _ = Encoding::O200kBase.count("a");
}

/// The model name without provider prefixes (`azure/`, `openai/`) or a fine-tune's `ft:`.
fn bare_model(model: &str) -> &str {
    let name = model.rsplit('/').next().unwrap_or(model);
    name.strip_prefix("ft:").unwrap_or(name)
}

/// The encoding for a model, as described in the module docs.
pub fn encoding_for_model(model: &str) -> Encoding {
    let name: Cow<'_, str> = {
        let bare = bare_model(model);
        if bare.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(bare.to_ascii_lowercase())
        } else {
            Cow::Borrowed(bare)
        }
    };
    let name = name.as_ref();
    const EXACT: &[&str] = &["o1", "o3", "o4-mini", "gpt-5", "gpt-4.1", "gpt-4o"];
    const PREFIXES: &[&str] = &[
        "o1-",
        "o3-",
        "o4-mini-",
        "gpt-5",
        "gpt-4.5-",
        "gpt-4.1-",
        "chatgpt-4o-",
        "gpt-4o-",
        "gpt-oss-",
    ];
    if name.contains("gpt-4o")
        || EXACT.contains(&name)
        || PREFIXES.iter().any(|p| name.starts_with(p))
    {
        Encoding::O200kBase
    } else {
        Encoding::Cl100kBase
    }
}

/// The tokens of `text` under `model`'s encoding.
pub fn count_text(model: &str, text: &str) -> u64 {
    encoding_for_model(model).count(text)
}

/// A top-level field parsed into an ordered JSON tree; `None` when absent or invalid.
fn field<'a>(body: &'a RequestBody, key: &str) -> Option<Json<'a>> {
    body.get(key).and_then(|raw| serde_json::from_str(raw).ok())
}

/// Input tokens of a `/chat/completions` request (see the module docs).
pub fn count_chat_tokens(model: &str, body: &RequestBody) -> u64 {
    let enc = encoding_for_model(model);
    let legacy = bare_model(model) == "gpt-3.5-turbo-0301";
    let messages = field(body, "messages");
    let messages: &[Json<'_>] = match &messages {
        Some(Json::Array(items)) => items,
        _ => &[],
    };
    let mut tools = match field(body, "tools") {
        Some(Json::Array(items)) => items,
        _ => Vec::new(),
    };
    // Legacy `functions`: each is what a tool's `function` holds.
    if let Some(Json::Array(functions)) = field(body, "functions") {
        tools.extend(functions);
    }
    let tool_choice = field(body, "tool_choice").or_else(|| field(body, "function_call"));
    let total = chat::count_messages(enc, legacy, messages)
        + chat::count_extra(enc, messages, &tools, tool_choice.as_ref());
    total.max(0) as u64
}

/// Input tokens of a `/completions` (`prompt`), `/embeddings` (`input`) or
/// `/images/generations` (`prompt`) request: text, a list of texts, or token ids.
pub fn count_prompt_tokens(model: &str, body: &RequestBody) -> u64 {
    let enc = encoding_for_model(model);
    let value = field(body, "prompt").or_else(|| field(body, "input"));
    value.map_or(0, |v| prompt_tokens(enc, &v))
}

fn prompt_tokens(enc: Encoding, value: &Json<'_>) -> u64 {
    match value {
        Json::Str(s) => enc.count(s),
        // A token id counts as one token.
        Json::Number(_) => 1,
        Json::Array(items) => items.iter().map(|v| prompt_tokens(enc, v)).sum(),
        _ => 0,
    }
}

/// The tokens a request may use: its input tokens plus the completion it allows
/// (`max_completion_tokens`, else `max_tokens`, when given). Embeddings and images count
/// their input only.
pub fn estimate_request_tokens(endpoint: Endpoint, model: &str, body: &RequestBody) -> u64 {
    let max_output = || {
        body.get_as::<u64>("max_completion_tokens")
            .or_else(|| body.get_as::<u64>("max_tokens"))
            .unwrap_or(0)
    };
    match endpoint {
        Endpoint::ChatCompletions => count_chat_tokens(model, body).saturating_add(max_output()),
        Endpoint::Completions => count_prompt_tokens(model, body).saturating_add(max_output()),
        Endpoint::Embeddings | Endpoint::ImageGenerations => count_prompt_tokens(model, body),
    }
}
