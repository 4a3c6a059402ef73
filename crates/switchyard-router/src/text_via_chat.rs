//! `/completions` on an OpenAI chat model, as LiteLLM's `text_completion`
//! serves it: OpenAI answers its chat models (gpt-4o...) only on
//! `/chat/completions`, so the prompt goes there as user messages and the
//! chat answer comes back as a text completion (`convert_chat_to_text_completion`,
//! `TextCompletionStreamWrapper`). Models OpenAI serves on `/completions`
//! (gpt-3.5-turbo-instruct) and every other OpenAI-compatible server keep
//! the native endpoint.

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use serde_json::{Map, Value, json};
use switchyard_providers::ByteStream;

use crate::pricing::PriceTable;

/// Completion-only parameters a chat request would be refused for.
const COMPLETION_ONLY: [&str; 4] = ["echo", "best_of", "suffix", "logprobs"];

/// Whether `/completions` on this deployment goes to `/chat/completions`:
/// an `openai/` (or bare) model the price table knows as one of OpenAI's
/// chat models, as LiteLLM's `open_ai_chat_completion_models` lists them.
pub(crate) fn applies(provider: &str, model: &str, prices: &PriceTable) -> bool {
    provider == "openai"
        && prices.lookup(model).is_some_and(|entry| {
            entry.mode.as_deref() == Some("chat") && entry.provider.as_deref() == Some("openai")
        })
}

/// The chat request for a completion request's body: the prompt as user
/// messages (one per prompt of a list), the rest as it is.
pub(crate) fn chat_body(completion: &[u8]) -> Option<Bytes> {
    let mut body: Map<String, Value> = serde_json::from_slice(completion).ok()?;
    let prompt = body.remove("prompt").unwrap_or(Value::Null);
    let messages: Vec<Value> = match prompt {
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .into_iter()
            .map(|p| json!({"role": "user", "content": p}))
            .collect(),
        other => vec![json!({"role": "user", "content": other})],
    };
    for key in COMPLETION_ONLY {
        body.remove(key);
    }
    body.insert("messages".to_owned(), Value::Array(messages));
    serde_json::to_vec(&body).ok().map(Bytes::from)
}

/// A chat completion as a text completion.
pub(crate) fn text_answer(chat: &[u8]) -> Option<Bytes> {
    let chat: Value = serde_json::from_slice(chat).ok()?;
    let choices: Vec<Value> = chat["choices"]
        .as_array()?
        .iter()
        .map(|choice| {
            json!({
                "text": choice["message"]["content"],
                "index": choice["index"],
                "logprobs": null,
                "finish_reason": choice["finish_reason"],
            })
        })
        .collect();
    let mut text = json!({
        "id": chat["id"],
        "object": "text_completion",
        "created": chat["created"],
        "model": chat["model"],
        "choices": choices,
    });
    if let Some(usage) = chat.get("usage") {
        text["usage"] = usage.clone();
    }
    serde_json::to_vec(&text).ok().map(Bytes::from)
}

/// A chat stream as a text-completion stream.
pub(crate) fn text_stream(chat: ByteStream) -> ByteStream {
    chat.map(|batch| batch.map(|events| text_events(&events)))
        .boxed()
}

/// Each `data:` event of a batch as its text-completion chunk; other lines
/// as they are.
fn text_events(events: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(events.len());
    for line in events.split_inclusive(|b| *b == b'\n') {
        let payload = line
            .strip_prefix(b"data:")
            .map(|p| p.strip_prefix(b" ").unwrap_or(p).trim_ascii_end());
        let converted = payload
            .filter(|p| p.first() == Some(&b'{'))
            .and_then(text_chunk);
        match converted {
            Some(chunk) => {
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(&chunk);
                out.extend_from_slice(b"\n");
            }
            None => out.extend_from_slice(line),
        }
    }
    out.freeze()
}

/// One chat chunk as a text-completion chunk.
fn text_chunk(chunk: &[u8]) -> Option<Vec<u8>> {
    let chunk: Value = serde_json::from_slice(chunk).ok()?;
    let choices: Vec<Value> = chunk["choices"]
        .as_array()?
        .iter()
        .map(|choice| {
            json!({
                "text": choice["delta"]["content"].as_str().unwrap_or_default(),
                "index": choice["index"],
                "logprobs": null,
                "finish_reason": choice["finish_reason"],
            })
        })
        .collect();
    let mut text = json!({
        "id": chunk["id"],
        "object": "text_completion",
        "created": chunk["created"],
        "model": chunk["model"],
        "choices": choices,
    });
    if let Some(usage) = chunk.get("usage").filter(|u| !u.is_null()) {
        text["usage"] = usage.clone();
    }
    serde_json::to_vec(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_becomes_user_messages_and_completion_only_fields_go() {
        let body = chat_body(
            br#"{"model":"gpt-4o","prompt":"Say hi","max_tokens":5,"echo":false,"logprobs":2}"#,
        )
        .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body["messages"],
            json!([{"role": "user", "content": "Say hi"}])
        );
        assert_eq!(body["max_tokens"], 5);
        assert!(body.get("prompt").is_none() && body.get("echo").is_none());
        assert!(body.get("logprobs").is_none());
        let body = chat_body(br#"{"prompt":["a","b"]}"#).unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["messages"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn chat_answers_and_chunks_become_text_completions() {
        let chat = br#"{"id":"c1","object":"chat.completion","created":7,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#;
        let text: Value = serde_json::from_slice(&text_answer(chat).unwrap()).unwrap();
        assert_eq!(text["object"], "text_completion");
        assert_eq!(text["choices"][0]["text"], "Hi!");
        assert_eq!(text["choices"][0]["finish_reason"], "stop");
        assert_eq!(text["usage"]["total_tokens"], 5);
        assert_eq!(text["id"], "c1");

        let events = b"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n: keep-alive\n\n";
        let out = text_events(events);
        let text = std::str::from_utf8(&out).unwrap();
        let first: Value =
            serde_json::from_str(text.lines().next().unwrap().strip_prefix("data: ").unwrap())
                .unwrap();
        assert_eq!(first["object"], "text_completion");
        assert_eq!(first["choices"][0]["text"], "Hi");
        assert!(text.ends_with("\n\n: keep-alive\n\n"), "{text}");
    }
}
