//! Token counts against reference values.
//!
//! Every expected number below was computed offline with LiteLLM 1.106.2's
//! `litellm.token_counter(model=..., messages=..., tools=..., tool_choice=...)` and tiktoken
//! 0.14 (`cl100k_base` / `o200k_base`, `disallowed_special=()`), using the encoding files that
//! ship inside the litellm package (`litellm/litellm_core_utils/tokenizers`).

use switchyard_router::Endpoint;
use switchyard_router::tokens::{
    Encoding, count_chat_tokens, count_prompt_tokens, count_text, encoding_for_model,
    estimate_request_tokens,
};
use switchyard_types::RequestBody;

fn body(json: &str) -> RequestBody {
    RequestBody::from_slice(json.as_bytes()).unwrap()
}

const MIXED: &str = "Hello, world! Ça va? 你好，世界。 Привет мир 🚀🔥  \n\n\tdef f(x):\n    return x**2  # square   \n";

#[test]
fn text_counts_match_tiktoken() {
    // (text, cl100k_base, o200k_base)
    let cases: &[(&str, u64, u64)] = &[
        ("hello world", 2, 2),
        (MIXED, 41, 32),
        (
            "fn main() {\n    let v: Vec<u32> = (0..10).map(|i| i * i).collect();\n    println!(\"{:?}\", v);\n}\n",
            36,
            36,
        ),
        ("a     b\n\n\n   c\t\t d   ", 9, 9),
        ("<|endoftext|> is text here", 10, 10),
        ("1234567890 3.14159 2026-11-24 0xDEADBEEF", 22, 22),
        ("", 0, 0),
    ];
    for &(text, cl, o2) in cases {
        assert_eq!(Encoding::Cl100kBase.count(text), cl, "cl100k {text:?}");
        assert_eq!(Encoding::O200kBase.count(text), o2, "o200k {text:?}");
    }
    let kb = "The quick brown fox jumps over the lazy dog. ".repeat(23);
    let kb = &kb[..1000];
    assert_eq!(Encoding::Cl100kBase.count(kb), 223);
    assert_eq!(Encoding::O200kBase.count(kb), 223);
}

#[test]
fn encoding_by_model_family() {
    use Encoding::*;
    for model in [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4o-2024-08-06",
        "chatgpt-4o-latest",
        "openai/gpt-4o",
        "azure/gpt-4o",
        "ft:gpt-4o-mini-2024-07-18:org::abc",
        "o1",
        "o1-mini",
        "o3",
        "o3-mini-2025-01-31",
        "o4-mini",
        "gpt-4.1",
        "gpt-4.1-nano",
        "gpt-4.5-preview",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5.1",
        "GPT-4o",
    ] {
        assert_eq!(encoding_for_model(model), O200kBase, "{model}");
    }
    for model in [
        "gpt-4",
        "gpt-4-turbo",
        "gpt-3.5-turbo",
        "azure/gpt-35-turbo",
        "text-embedding-3-small",
        "text-embedding-ada-002",
        "claude-sonnet-4-5",
        "anthropic/claude-opus-4-7",
        "gemini/gemini-2.5-pro",
        "mistral/mistral-large-latest",
        "bedrock/anthropic.claude-v2:1",
        "azure/my-deployment",
        "",
    ] {
        assert_eq!(encoding_for_model(model), Cl100kBase, "{model}");
    }
    assert_eq!(count_text("gpt-4o", MIXED), 32);
    assert_eq!(count_text("claude-sonnet-4-5", MIXED), 41);
}

/// (case, body, LiteLLM's count for gpt-4, for gpt-4o)
const CHAT_CASES: &[(&str, &str, u64, u64)] = &[
    (
        "one user message",
        r#"{"messages": [{"role": "user", "content": "hello world"}]}"#,
        9,
        9,
    ),
    (
        "conversation with a name",
        r#"{"messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "name": "alice", "content": "What is the capital of France?"}, {"role": "assistant", "content": "Paris."}, {"role": "user", "content": "Hello, world! \u00c7a va? \u4f60\u597d\uff0c\u4e16\u754c\u3002 \u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440 \ud83d\ude80\ud83d\udd25  \n\n\tdef f(x):\n    return x**2  # square   \n"}]}"#,
        77,
        68,
    ),
    (
        "content parts with low and auto images",
        r#"{"messages": [{"role": "user", "content": [{"type": "text", "text": "Describe this image:"}, {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}}, {"type": "image_url", "image_url": {"url": "https://example.com/dog.png"}}, {"type": "text", "text": "in one word"}]}]}"#,
        184,
        184,
    ),
    (
        "tools, system message, named tool_choice",
        r#"{"messages": [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Paris?"}], "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather now", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}, "unit": {"type": "string", "enum": ["c", "f"]}, "days": {"type": "array", "items": {"type": "integer"}}}, "required": ["city"]}}}], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}"#,
        75,
        73,
    ),
    (
        "tools without system, tool_choice none",
        r#"{"messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}], "tool_choice": "none"}"#,
        43,
        43,
    ),
    (
        "assistant tool_calls and a tool message",
        r#"{"messages": [{"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]}, {"role": "tool", "tool_call_id": "call_1", "content": "22C and sunny"}]}"#,
        32,
        32,
    ),
];

#[test]
fn chat_counts_match_litellm_token_counter() {
    for &(case, json, gpt4, gpt4o) in CHAT_CASES {
        let b = body(json);
        assert_eq!(count_chat_tokens("gpt-4", &b), gpt4, "gpt-4: {case}");
        assert_eq!(count_chat_tokens("gpt-4o", &b), gpt4o, "gpt-4o: {case}");
        // The provider prefix does not change the encoding family.
        assert_eq!(
            count_chat_tokens("azure/gpt-4o", &b),
            gpt4o,
            "azure/gpt-4o: {case}"
        );
    }
}

#[test]
fn chat_overhead_is_three_per_message_plus_three() {
    // "hi" is one token in both encodings, as are the roles.
    let one = body(r#"{"messages":[{"role":"user","content":"hi"}]}"#);
    assert_eq!(count_chat_tokens("gpt-4o", &one), 3 + 1 + 1 + 3);
    let two = body(
        r#"{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hi"}]}"#,
    );
    assert_eq!(count_chat_tokens("gpt-4o", &two), 3 + (3 + 1 + 1) * 2);
    // A name costs its tokens plus one.
    let named = body(r#"{"messages":[{"role":"user","name":"bob","content":"hi"}]}"#);
    assert_eq!(count_chat_tokens("gpt-4o", &named), 3 + 1 + 1 + 1 + 1 + 3);
    // No messages: the reply priming only.
    assert_eq!(count_chat_tokens("gpt-4o", &body(r#"{"model":"x"}"#)), 3);
    // Unknown fields of the body do not count.
    let extra = body(
        r#"{"model":"gpt-4o","temperature":0.2,"messages":[{"role":"user","content":"hi"}],"user":"u-123"}"#,
    );
    assert_eq!(count_chat_tokens("gpt-4o", &extra), 8);
}

#[test]
fn parts_and_images() {
    // A string content and the same text as one text part count the same.
    let s = body(r#"{"messages":[{"role":"user","content":"hello world"}]}"#);
    let p =
        body(r#"{"messages":[{"role":"user","content":[{"type":"text","text":"hello world"}]}]}"#);
    assert_eq!(
        count_chat_tokens("gpt-4", &s),
        count_chat_tokens("gpt-4", &p)
    );
    // Image parts: 85 for low/auto (or a bare URL string), 255 for high (see the module docs).
    let img = |detail: &str| {
        body(&format!(
            r#"{{"messages":[{{"role":"user","content":[{{"type":"image_url","image_url":{{"url":"data:image/png;base64,AAAA"{detail}}}}}]}}]}}"#
        ))
    };
    assert_eq!(count_chat_tokens("gpt-4o", &img("")), 3 + 1 + 85 + 3);
    assert_eq!(
        count_chat_tokens("gpt-4o", &img(r#","detail":"low""#)),
        3 + 1 + 85 + 3
    );
    assert_eq!(
        count_chat_tokens("gpt-4o", &img(r#","detail":"high""#)),
        3 + 1 + 255 + 3
    );
    let bare = body(
        r#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":"https://x/y.png"}]}]}"#,
    );
    assert_eq!(count_chat_tokens("gpt-4o", &bare), 3 + 1 + 85 + 3);
    // Unknown part types count nothing rather than failing the request.
    let audio = body(
        r#"{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}},{"type":"text","text":"hi"}]}]}"#,
    );
    assert_eq!(count_chat_tokens("gpt-4o", &audio), 3 + 1 + 1 + 3);
}

#[test]
fn legacy_functions_count_like_tools() {
    let tools = body(
        r#"{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}],"tool_choice":{"type":"function","function":{"name":"f"}}}"#,
    );
    let functions = body(
        r#"{"messages":[{"role":"user","content":"hi"}],"functions":[{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}],"function_call":{"name":"f"}}"#,
    );
    assert_eq!(
        count_chat_tokens("gpt-4o", &tools),
        count_chat_tokens("gpt-4o", &functions)
    );
    assert!(count_chat_tokens("gpt-4o", &tools) > 8 + 9 + 7);
}

#[test]
fn prompts_and_inputs() {
    let p = body(r#"{"model":"gpt-3.5-turbo-instruct","prompt":"hello world"}"#);
    assert_eq!(count_prompt_tokens("gpt-3.5-turbo-instruct", &p), 2);
    let list = body(r#"{"prompt":["hello world","hello world"]}"#);
    assert_eq!(count_prompt_tokens("gpt-3.5-turbo-instruct", &list), 4);
    let ids = body(r#"{"prompt":[1,2,3]}"#);
    assert_eq!(count_prompt_tokens("gpt-3.5-turbo-instruct", &ids), 3);
    let id_lists = body(r#"{"input":[[1,2],[3,4,5]]}"#);
    assert_eq!(count_prompt_tokens("text-embedding-3-small", &id_lists), 5);
    let emb = body(&format!(
        r#"{{"input":{}}}"#,
        serde_json::to_string(MIXED).unwrap()
    ));
    assert_eq!(count_prompt_tokens("text-embedding-3-small", &emb), 41);
    assert_eq!(count_prompt_tokens("x", &body("{}")), 0);
}

#[test]
fn estimates_add_the_allowed_completion() {
    let chat = body(r#"{"messages":[{"role":"user","content":"hello world"}],"max_tokens":100}"#);
    assert_eq!(
        estimate_request_tokens(Endpoint::ChatCompletions, "gpt-4o", &chat),
        109
    );
    let both = body(
        r#"{"messages":[{"role":"user","content":"hello world"}],"max_tokens":100,"max_completion_tokens":50}"#,
    );
    assert_eq!(
        estimate_request_tokens(Endpoint::ChatCompletions, "o3", &both),
        59
    );
    let none = body(r#"{"messages":[{"role":"user","content":"hello world"}]}"#);
    assert_eq!(
        estimate_request_tokens(Endpoint::ChatCompletions, "gpt-4o", &none),
        9
    );
    let completion = body(r#"{"prompt":"hello world","max_tokens":16}"#);
    assert_eq!(
        estimate_request_tokens(Endpoint::Completions, "gpt-3.5-turbo-instruct", &completion),
        18
    );
    let emb = body(r#"{"input":"hello world","max_tokens":16}"#);
    assert_eq!(
        estimate_request_tokens(Endpoint::Embeddings, "text-embedding-3-small", &emb),
        2
    );
    let image = body(r#"{"prompt":"hello world","n":1}"#);
    assert_eq!(
        estimate_request_tokens(Endpoint::ImageGenerations, "dall-e-3", &image),
        2
    );
}
