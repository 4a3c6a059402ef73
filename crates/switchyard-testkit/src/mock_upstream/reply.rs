//! How the mock answers one call: a small builder, cloned for the default reply.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::random::RandomReply;

/// A scripted answer. Build one with [`Reply::ok`], [`Reply::json`],
/// [`Reply::error`], [`Reply::sse`] or [`Reply::chat_stream`], then adjust it
/// with [`header`](Reply::header), [`delay`](Reply::delay),
/// [`chunk_delay`](Reply::chunk_delay), [`first_chunk_delay`](Reply::first_chunk_delay),
/// [`drop_after`](Reply::drop_after), [`stall_after`](Reply::stall_after) or
/// [`hang`](Reply::hang). For chaos tests,
/// [`Reply::random`] picks one of several replies per call, reproducibly.
#[derive(Debug, Clone)]
pub struct Reply {
    pub(crate) kind: ReplyKind,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) delay: Duration,
    pub(crate) chunk_delay: Duration,
    pub(crate) first_chunk_delay: Duration,
    pub(crate) drop_after: Option<usize>,
    pub(crate) stall_after: Option<usize>,
    pub(crate) hang: bool,
    /// Set by [`Reply::random`]: the actual reply is chosen per call.
    pub(crate) random: Option<Arc<RandomReply>>,
}

/// What the body is made of; rendered per request so it can echo the model.
#[derive(Debug, Clone)]
pub(crate) enum ReplyKind {
    /// A valid answer for the endpoint hit (a stream when the request asks for one).
    Ok,
    /// A fixed JSON body with a status.
    Json { status: u16, body: Value },
    /// Raw `data:` payloads, then `[DONE]`.
    Sse { events: Vec<String> },
    /// A chat.completion.chunk stream carrying these content pieces.
    ChatStream { pieces: Vec<String> },
}

impl Reply {
    fn of(kind: ReplyKind) -> Self {
        Self {
            kind,
            headers: Vec::new(),
            delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            first_chunk_delay: Duration::ZERO,
            drop_after: None,
            stall_after: None,
            hang: false,
            random: None,
        }
    }

    /// One of `choices`, picked per call with probability weight / total weight
    /// (weights of 0 are never picked). The pick for the mock's `n`-th call
    /// (1-based, counting every call the mock receives) depends only on `seed`
    /// and `n`, so a run is reproducible whatever the timing. Use it as the
    /// default ([`MockUpstream::set_default`](super::MockUpstream::set_default))
    /// or push it. Modifiers set on the random reply itself (a header, a delay...)
    /// apply on top of the choice.
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchyard_testkit::Reply;
    /// let chaos = Reply::random(7, vec![
    ///     (70, Reply::ok()),
    ///     (10, Reply::error(500, "boom")),
    ///     (10, Reply::error(429, "slow down")),
    ///     (5, Reply::ok().delay(Duration::from_secs(2))), // past a short timeout
    ///     (5, Reply::ok().drop_after(0)),                 // connection dropped
    /// ]);
    /// # let _ = chaos;
    /// ```
    ///
    /// # Panics
    /// If no choice has a weight above 0.
    pub fn random(seed: u64, choices: Vec<(u32, Reply)>) -> Self {
        let mut reply = Self::ok();
        reply.random = Some(Arc::new(RandomReply::new(seed, choices)));
        reply
    }

    /// The concrete reply for the call with this serial: a random reply's pick
    /// (recursively), with this reply's own modifiers laid over it.
    pub(crate) fn resolve(self, serial: u64) -> Reply {
        let Some(random) = self.random.clone() else {
            return self;
        };
        let mut chosen = random.pick(serial).clone().resolve(serial);
        chosen.headers.extend(self.headers);
        if !self.delay.is_zero() {
            chosen.delay = self.delay;
        }
        if !self.chunk_delay.is_zero() {
            chosen.chunk_delay = self.chunk_delay;
        }
        if !self.first_chunk_delay.is_zero() {
            chosen.first_chunk_delay = self.first_chunk_delay;
        }
        if self.drop_after.is_some() {
            chosen.drop_after = self.drop_after;
        }
        if self.stall_after.is_some() {
            chosen.stall_after = self.stall_after;
        }
        chosen.hang |= self.hang;
        chosen
    }

    /// A valid 200 answer for the endpoint hit, echoing the request's `model`
    /// with the content `"Hello from mock"`: a `chat.completion`,
    /// `text_completion`, embedding list or image list. When the request has
    /// `"stream": true` (chat and text completions), an SSE stream of chunks
    /// ending with `data: [DONE]`.
    pub fn ok() -> Self {
        Self::of(ReplyKind::Ok)
    }

    /// A fixed JSON body with this status.
    pub fn json(status: u16, body: Value) -> Self {
        Self::of(ReplyKind::Json { status, body })
    }

    /// An OpenAI-shaped error: `{"error":{"message","type","param","code"}}`,
    /// with the `type` and `code` OpenAI uses for that status.
    pub fn error(status: u16, message: &str) -> Self {
        let (kind, code) = match status {
            400 | 404 | 413 | 422 => ("invalid_request_error", Value::Null),
            401 => ("invalid_request_error", json!("invalid_api_key")),
            403 => ("permission_denied", Value::Null),
            429 => ("rate_limit_error", json!("rate_limit_exceeded")),
            _ => ("server_error", Value::Null),
        };
        Self::json(
            status,
            json!({ "error": { "message": message, "type": kind, "param": null, "code": code } }),
        )
    }

    /// A 200 SSE stream of these raw payloads, each sent as
    /// `data: {payload}\n\n`, then `data: [DONE]\n\n`.
    pub fn sse(events: Vec<String>) -> Self {
        Self::of(ReplyKind::Sse { events })
    }

    /// A realistic 200 `chat.completion.chunk` stream: a role chunk, one chunk
    /// per piece, a `finish_reason: "stop"` chunk, a usage chunk when the
    /// request sets `stream_options.include_usage`, then `[DONE]`.
    pub fn chat_stream(pieces: &[&str]) -> Self {
        Self::of(ReplyKind::ChatStream {
            pieces: pieces.iter().map(|p| (*p).to_owned()).collect(),
        })
    }

    /// Adds a response header (e.g. `Retry-After`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Waits this long before sending the response headers.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Waits this long between SSE events (0: all events written back to back).
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }

    /// Waits this long after the response headers before the first body chunk
    /// (the first SSE event): an upstream that answers at once but is slow to
    /// start streaming.
    pub fn first_chunk_delay(mut self, delay: Duration) -> Self {
        self.first_chunk_delay = delay;
        self
    }

    /// Closes the connection abruptly after `n` SSE events (no `[DONE]`). On a
    /// non-streamed reply, closes the connection without sending any response.
    pub fn drop_after(mut self, n: usize) -> Self {
        self.drop_after = Some(n);
        self
    }

    /// Sends the first `n` SSE events (or body chunks), then goes silent with the
    /// connection open: an upstream that sent its role chunk and stalled. The call
    /// stays in flight until the client gives up, and is then counted as cancelled.
    pub fn stall_after(mut self, n: usize) -> Self {
        self.stall_after = Some(n);
        self
    }

    /// Never answers: the call stays in flight until the client gives up, and
    /// is then counted as cancelled.
    pub fn hang(mut self) -> Self {
        self.hang = true;
        self
    }
}

impl Default for Reply {
    fn default() -> Self {
        Self::ok()
    }
}
