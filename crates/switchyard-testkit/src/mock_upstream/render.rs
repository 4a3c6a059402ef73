//! Turns a [`Reply`](super::Reply) into status, content type and body chunks for one request.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::{Value, json};

use super::reply::ReplyKind;

const HELLO_PIECES: &[&str] = &["Hello", " from", " mock"];
const HELLO: &str = "Hello from mock";
const DONE: &[u8] = b"data: [DONE]\n\n";

/// The endpoint a request hit; decides the shape of [`Reply::ok`](super::Reply::ok).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Chat,
    Completions,
    Embeddings,
    Images,
}

impl Endpoint {
    /// Path suffixes, as they follow `/v1/`, `/` or `/openai/deployments/{d}/`.
    pub(crate) const ALL: [(&'static str, Endpoint); 4] = [
        ("chat/completions", Endpoint::Chat),
        ("completions", Endpoint::Completions),
        ("embeddings", Endpoint::Embeddings),
        ("images/generations", Endpoint::Images),
    ];
}

/// What the request asked for, as far as the default replies care.
#[derive(Debug)]
pub(crate) struct RequestView {
    pub(crate) endpoint: Endpoint,
    /// The request body as JSON (`Null` when it is not JSON).
    pub(crate) body: Value,
    /// `model` from the body, else the Azure deployment, else `"mock-model"`.
    pub(crate) model: String,
    /// Serial number of the call, for ids.
    pub(crate) serial: u64,
    /// The mock's name, if started with one: also put in ids.
    pub(crate) name: Option<String>,
}

impl RequestView {
    /// `{prefix}-mock-{serial}`, or `{prefix}-mock-{name}-{serial}` for a named mock.
    fn id(&self, prefix: &str) -> String {
        match &self.name {
            Some(name) => format!("{prefix}-mock-{name}-{}", self.serial),
            None => format!("{prefix}-mock-{}", self.serial),
        }
    }

    pub(crate) fn wants_stream(&self) -> bool {
        self.body
            .get("stream")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    fn include_usage(&self) -> bool {
        self.body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// A reply rendered for one request.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    /// SSE: one chunk per event, `[DONE]` last. Otherwise a single chunk.
    pub(crate) chunks: Vec<Bytes>,
    pub(crate) is_sse: bool,
}

impl Rendered {
    fn json(status: u16, body: &Value) -> Self {
        let bytes = serde_json::to_vec(body).expect("a JSON value serialises");
        Self {
            status,
            content_type: "application/json",
            chunks: vec![Bytes::from(bytes)],
            is_sse: false,
        }
    }

    fn sse(payloads: impl IntoIterator<Item = String>) -> Self {
        let mut chunks: Vec<Bytes> = payloads
            .into_iter()
            .map(|p| Bytes::from(format!("data: {p}\n\n")))
            .collect();
        chunks.push(Bytes::from_static(DONE));
        Self {
            status: 200,
            content_type: "text/event-stream",
            chunks,
            is_sse: true,
        }
    }
}

pub(crate) fn render(kind: &ReplyKind, req: &RequestView) -> Rendered {
    match kind {
        ReplyKind::Json { status, body } => Rendered::json(*status, body),
        ReplyKind::Sse { events } => Rendered::sse(events.iter().cloned()),
        ReplyKind::ChatStream { pieces } => {
            Rendered::sse(chat_chunks(req, pieces.iter().map(String::as_str)))
        }
        ReplyKind::Ok => match req.endpoint {
            Endpoint::Chat if req.wants_stream() => {
                Rendered::sse(chat_chunks(req, HELLO_PIECES.iter().copied()))
            }
            Endpoint::Chat => Rendered::json(200, &chat_completion(req)),
            Endpoint::Completions if req.wants_stream() => Rendered::sse(text_chunks(req)),
            Endpoint::Completions => Rendered::json(200, &text_completion(req)),
            Endpoint::Embeddings => Rendered::json(200, &embeddings(req)),
            Endpoint::Images => Rendered::json(200, &images(req)),
        },
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn usage(completion_tokens: usize) -> Value {
    json!({ "prompt_tokens": 10, "completion_tokens": completion_tokens, "total_tokens": 10 + completion_tokens })
}

fn chat_completion(req: &RequestView) -> Value {
    json!({
        "id": req.id("chatcmpl"),
        "object": "chat.completion",
        "created": now(),
        "model": req.model,
        "system_fingerprint": null,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": HELLO, "refusal": null },
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": usage(HELLO_PIECES.len()),
    })
}

fn chat_chunks<'a>(req: &RequestView, pieces: impl Iterator<Item = &'a str>) -> Vec<String> {
    let id = req.id("chatcmpl");
    let created = now();
    let chunk = |delta: Value, finish: Value| {
        json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": req.model,
            "system_fingerprint": null,
            "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }]
        })
        .to_string()
    };
    let mut out = vec![chunk(
        json!({ "role": "assistant", "content": "" }),
        Value::Null,
    )];
    let mut count = 0;
    for piece in pieces {
        out.push(chunk(json!({ "content": piece }), Value::Null));
        count += 1;
    }
    out.push(chunk(json!({}), json!("stop")));
    if req.include_usage() {
        out.push(
            json!({
                "id": id, "object": "chat.completion.chunk", "created": created, "model": req.model,
                "system_fingerprint": null, "choices": [], "usage": usage(count)
            })
            .to_string(),
        );
    }
    out
}

fn text_completion(req: &RequestView) -> Value {
    json!({
        "id": req.id("cmpl"),
        "object": "text_completion",
        "created": now(),
        "model": req.model,
        "choices": [{ "text": HELLO, "index": 0, "logprobs": null, "finish_reason": "stop" }],
        "usage": usage(HELLO_PIECES.len()),
    })
}

fn text_chunks(req: &RequestView) -> Vec<String> {
    let id = req.id("cmpl");
    let created = now();
    let chunk = |text: &str, finish: Value| {
        json!({
            "id": id, "object": "text_completion", "created": created, "model": req.model,
            "choices": [{ "text": text, "index": 0, "logprobs": null, "finish_reason": finish }]
        })
        .to_string()
    };
    let mut out: Vec<String> = HELLO_PIECES.iter().map(|p| chunk(p, Value::Null)).collect();
    out.push(chunk("", json!("stop")));
    out
}

/// One embedding per input: a string or a token array is one input, an array of either is many.
fn embeddings(req: &RequestView) -> Value {
    let inputs = match req.body.get("input") {
        Some(Value::Array(items)) if items.iter().all(Value::is_number) => 1,
        Some(Value::Array(items)) => items.len(),
        _ => 1,
    };
    let data: Vec<Value> = (0..inputs)
        .map(|i| json!({ "object": "embedding", "index": i, "embedding": [0.0023, -0.0091, 0.0154, 0.0312, -0.0208, 0.0077, -0.0045, 0.0119] }))
        .collect();
    json!({
        "object": "list",
        "data": data,
        "model": req.model,
        "usage": { "prompt_tokens": 10, "total_tokens": 10 },
    })
}

/// `n` images (default 1), as URLs or base64 per `response_format`.
fn images(req: &RequestView) -> Value {
    let n = req.body.get("n").and_then(Value::as_u64).unwrap_or(1);
    let b64 = req.body.get("response_format").and_then(Value::as_str) == Some("b64_json");
    let data: Vec<Value> = (0..n)
        .map(|i| {
            if b64 {
                // A 1x1 transparent PNG.
                json!({ "b64_json": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=", "revised_prompt": HELLO })
            } else {
                json!({ "url": format!("https://mock.invalid/image-{}-{i}.png", req.serial), "revised_prompt": HELLO })
            }
        })
        .collect();
    json!({ "created": now(), "data": data })
}
