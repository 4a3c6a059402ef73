//! The mock's response bodies, built from the wire types so they look like
//! what an OpenAI upstream sends.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use serde::Serialize;
use serde_json::{Map, Value};
use switchyard_types::{
    ChatChoice, ChatChunk, ChatChunkChoice, ChatCompletion, ChatDelta, ChatMessage, Embedding,
    EmbeddingResponse, ImageData, ImageResponse, TextChoice, TextCompletion, Usage,
};

use super::{DEFAULT_MOCK_RESPONSE, MID_STREAM_MESSAGE, MockParams, error};
use crate::{ByteStream, ErrorKind};

/// LiteLLM's `DEFAULT_MOCK_RESPONSE_PROMPT_TOKEN_COUNT`.
const PROMPT_TOKENS: u64 = 10;
/// LiteLLM's `DEFAULT_MOCK_RESPONSE_COMPLETION_TOKEN_COUNT`.
const COMPLETION_TOKENS: u64 = 20;
/// LiteLLM's mock streams cut the text into pieces of this many characters.
const CHARS_PER_CHUNK: usize = 3;
/// LiteLLM's mock embedding when `mock_response` gives no vector.
const EMBEDDING_DIMENSIONS: usize = 1536;
/// Returned for image requests whose `mock_response` is not a URL string.
const DEFAULT_IMAGE_URL: &str = "https://example.com/mock-image.png";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A fresh random id (`chatcmpl-` + 32 hex digits). `RandomState` is seeded
/// randomly per instance, so this needs no RNG dependency and no shared state.
fn new_id(prefix: &str) -> String {
    let word = || RandomState::new().build_hasher().finish();
    format!("{prefix}{:016x}{:016x}", word(), word())
}

fn to_bytes<T: Serialize>(value: &T) -> Bytes {
    // Serialising these plain structs cannot fail.
    Bytes::from(serde_json::to_vec(value).expect("mock response serialises"))
}

fn sse_event<T: Serialize>(value: &T) -> Bytes {
    let mut event = BytesMut::from(&b"data: "[..]);
    event.extend_from_slice(&to_bytes(value));
    event.extend_from_slice(b"\n\n");
    event.freeze()
}

fn choices(params: &MockParams) -> u32 {
    params.n.unwrap_or(1).max(1)
}

/// The answer text: `mock_response` as a string, the content of a response
/// object, or LiteLLM's default.
fn answer_text(params: &MockParams) -> String {
    match &params.mock_response {
        None | Some(Value::Null) => DEFAULT_MOCK_RESPONSE.to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(obj @ Value::Object(_)) => obj
            .pointer("/choices/0/message/content")
            .or_else(|| obj.pointer("/choices/0/text"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Some(other) => other.to_string(),
    }
}

fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let cut = rest
            .char_indices()
            .nth(CHARS_PER_CHUNK)
            .map_or(rest.len(), |(i, _)| i);
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

fn usage() -> Usage {
    Usage::new(PROMPT_TOKENS, COMPLETION_TOKENS)
}

/// `chat.completion`, or the `mock_response` object itself (LiteLLM builds a
/// `ModelResponse` from it) with the envelope fields it lacks filled in.
pub(super) fn chat(model: &str, params: &MockParams) -> Bytes {
    if let Some(Value::Object(obj)) = &params.mock_response {
        let mut obj = obj.clone();
        let defaults: [(&str, Value); 4] = [
            ("id", new_id("chatcmpl-").into()),
            ("object", "chat.completion".into()),
            ("created", now().into()),
            ("model", model.into()),
        ];
        for (key, value) in defaults {
            obj.entry(key).or_insert(value);
        }
        return to_bytes(&obj);
    }
    let content = answer_text(params);
    let mut extra = Map::new();
    if let Some(calls) = &params.mock_tool_calls {
        extra.insert("tool_calls".into(), Value::Array(calls.clone()));
    }
    let response = ChatCompletion {
        id: new_id("chatcmpl-"),
        object: "chat.completion".into(),
        created: now(),
        model: model.into(),
        choices: (0..choices(params))
            .map(|index| ChatChoice {
                index,
                message: ChatMessage {
                    role: "assistant".into(),
                    content: Value::String(content.clone()),
                    extra: extra.clone(),
                },
                finish_reason: Some("stop".into()),
            })
            .collect(),
        usage: Some(usage()),
        extra: Map::new(),
    };
    to_bytes(&response)
}

/// `chat.completion.chunk` events: a role chunk, the text in pieces, a final
/// chunk with `finish_reason: "stop"`, and a usage chunk when
/// `stream_options.include_usage` asks for one. No `[DONE]`.
pub(super) fn chat_stream(model: &str, params: &MockParams) -> Vec<Bytes> {
    let (id, created, n) = (new_id("chatcmpl-"), now(), choices(params));
    let chunk = |delta: ChatDelta, finish: Option<&str>| ChatChunk {
        id: id.clone(),
        object: "chat.completion.chunk".into(),
        created,
        model: model.into(),
        choices: (0..n)
            .map(|index| ChatChunkChoice {
                index,
                delta: delta.clone(),
                finish_reason: finish.map(Into::into),
            })
            .collect(),
        usage: None,
    };
    let content = answer_text(params);
    let mut events = vec![sse_event(&chunk(
        ChatDelta {
            role: Some("assistant".into()),
            content: Some(String::new()),
        },
        None,
    ))];
    for piece in pieces(&content) {
        events.push(sse_event(&chunk(
            ChatDelta {
                role: None,
                content: Some(piece.into()),
            },
            None,
        )));
    }
    events.push(sse_event(&chunk(ChatDelta::default(), Some("stop"))));
    if params.include_usage() {
        let mut last = chunk(ChatDelta::default(), None);
        last.choices.clear();
        last.usage = Some(usage());
        events.push(sse_event(&last));
    }
    events
}

/// `text_completion` for the legacy completions endpoint.
pub(super) fn text(model: &str, params: &MockParams) -> Bytes {
    let content = answer_text(params);
    let response = TextCompletion {
        id: new_id("cmpl-"),
        object: "text_completion".into(),
        created: now(),
        model: model.into(),
        choices: (0..choices(params))
            .map(|index| TextChoice {
                text: content.clone(),
                index,
                finish_reason: Some("stop".into()),
                logprobs: None,
            })
            .collect(),
        usage: Some(usage()),
    };
    to_bytes(&response)
}

/// Streamed `text_completion` events (OpenAI uses the same object name).
pub(super) fn text_stream(model: &str, params: &MockParams) -> Vec<Bytes> {
    let (id, created, n) = (new_id("cmpl-"), now(), choices(params));
    let chunk = |piece: &str, finish: Option<&str>| TextCompletion {
        id: id.clone(),
        object: "text_completion".into(),
        created,
        model: model.into(),
        choices: (0..n)
            .map(|index| TextChoice {
                text: piece.into(),
                index,
                finish_reason: finish.map(Into::into),
                logprobs: None,
            })
            .collect(),
        usage: None,
    };
    let content = answer_text(params);
    let mut events: Vec<Bytes> = pieces(&content)
        .into_iter()
        .map(|p| sse_event(&chunk(p, None)))
        .collect();
    let mut last = chunk("", Some("stop"));
    if params.include_usage() {
        last.usage = Some(usage());
    }
    events.push(sse_event(&last));
    events
}

/// How many vectors the `input` asks for: one for a string or a token list,
/// one per element for a list of strings or of token lists.
fn input_count(input: Option<&Value>) -> usize {
    match input {
        Some(Value::Array(items)) if items.iter().all(Value::is_number) => 1,
        Some(Value::Array(items)) => items.len().max(1),
        _ => 1,
    }
}

/// LiteLLM's mock embedding: the `mock_response` vector, or 1536 zeros; here
/// one per input so clients that zip inputs with vectors keep working.
pub(super) fn embeddings(model: &str, params: &MockParams) -> Bytes {
    let vector = match &params.mock_response {
        Some(Value::Array(v)) if v.iter().all(Value::is_number) => Value::Array(v.clone()),
        _ => Value::Array(vec![Value::from(0.0); EMBEDDING_DIMENSIONS]),
    };
    let response = EmbeddingResponse {
        object: "list".into(),
        data: (0..input_count(params.input.as_ref()))
            .map(|index| Embedding {
                object: "embedding".into(),
                index: index as u32,
                embedding: vector.clone(),
            })
            .collect(),
        model: model.into(),
        usage: Usage::new(PROMPT_TOKENS, 0),
    };
    to_bytes(&response)
}

/// LiteLLM's mock image: `mock_response` is the URL.
pub(super) fn images(params: &MockParams) -> Bytes {
    let url = params
        .mock_response
        .as_ref()
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_IMAGE_URL);
    let response = ImageResponse {
        created: now(),
        data: (0..choices(params))
            .map(|_| ImageData {
                url: Some(url.into()),
                ..Default::default()
            })
            .collect(),
    };
    to_bytes(&response)
}

/// The events as a stream: all of them in one item (they are all ready, and
/// ready events leave together), or for `mock_streaming_error` the first
/// event and then the error.
pub(super) fn into_stream(events: Vec<Bytes>, mid_stream_error: bool) -> ByteStream {
    if mid_stream_error {
        let first = events.into_iter().next().unwrap_or_default();
        let err = error(ErrorKind::InternalServer, 529, MID_STREAM_MESSAGE);
        return Box::pin(futures::stream::iter([Ok(first), Err(err)]));
    }
    Box::pin(futures::stream::iter([Ok(Bytes::from(events.concat()))]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_respect_char_boundaries() {
        assert_eq!(pieces("abcdefg"), ["abc", "def", "g"]);
        assert_eq!(pieces("héllo"), ["hél", "lo"]);
        assert!(pieces("").is_empty());
    }

    #[test]
    fn ids_differ() {
        let (a, b) = (new_id("chatcmpl-"), new_id("chatcmpl-"));
        assert_ne!(a, b);
        assert_eq!(a.len(), "chatcmpl-".len() + 32);
    }

    #[test]
    fn input_counts() {
        let count = |v: Value| input_count(Some(&v));
        assert_eq!(count(serde_json::json!("a")), 1);
        assert_eq!(count(serde_json::json!(["a", "b"])), 2);
        assert_eq!(count(serde_json::json!([1, 2, 3])), 1);
        assert_eq!(count(serde_json::json!([[1], [2]])), 2);
        assert_eq!(input_count(None), 1);
    }
}
