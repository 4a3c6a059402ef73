//! Token accounting for a stream whose tokens count against a tpm limit.
//!
//! The final usage event (asked for with `stream_options.include_usage`) replaces the
//! reservation when it passes by. An upstream that sends none has its completion counted
//! instead when the stream ends: the text of every delta, under the model's encoding, plus
//! the request's input tokens. A stream the client drops early keeps its reservation.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use switchyard_providers::ByteStream;

use crate::state::StateStore;
use crate::usage::{self, UsageKeys};

/// Events held for counting at most this many bytes; past it the estimate stands.
const MAX_HELD_BYTES: usize = 8 << 20;

/// What a counted stream needs to settle its reservation.
pub(super) struct Tally {
    pub(super) store: Arc<dyn StateStore>,
    pub(super) keys: Arc<UsageKeys>,
    /// Model name whose encoding counts the completion.
    pub(super) model: String,
    /// Tokens reserved when the call was sent.
    pub(super) reserved: u64,
    /// The request's input tokens, part of the total when the upstream reports none.
    pub(super) input_tokens: u64,
    /// Drop the usage-only event the router asked for itself.
    pub(super) hide_usage_event: bool,
}

struct Running {
    events: ByteStream,
    tally: Tally,
    /// Events seen so far (cheap clones of the chunks), kept until a usage event shows up.
    held: Vec<Bytes>,
    held_bytes: usize,
    settled: bool,
}

/// Wraps `events` so the reservation is settled by the reported usage, else by a count.
pub(super) fn wrap(events: ByteStream, tally: Tally) -> ByteStream {
    let running = Running {
        events,
        tally,
        held: Vec::new(),
        held_bytes: 0,
        settled: false,
    };
    futures::stream::unfold(Some(running), |running| async move {
        let mut run = running?;
        match run.events.next().await {
            Some(Ok(bytes)) => {
                let bytes = run.observe(bytes).await;
                Some((Ok(bytes), Some(run)))
            }
            Some(Err(error)) => Some((Err(error), Some(run))),
            None => {
                run.finish().await;
                None
            }
        }
    })
    .boxed()
}

impl Running {
    async fn observe(&mut self, bytes: Bytes) -> Bytes {
        if self.settled {
            return bytes;
        }
        if let Some(actual) = usage_in_events(&bytes) {
            self.settled = true;
            self.held = Vec::new();
            let t = &self.tally;
            usage::reconcile(&*t.store, &t.keys, t.reserved, actual).await;
            return if t.hide_usage_event {
                without_usage_only_events(bytes)
            } else {
                bytes
            };
        }
        self.held_bytes += bytes.len();
        if self.held_bytes <= MAX_HELD_BYTES {
            self.held.push(bytes.clone());
        } else {
            self.held = Vec::new();
        }
        bytes
    }

    /// The stream ended without a usage event: count what it said.
    async fn finish(&mut self) {
        if self.settled || self.held_bytes > MAX_HELD_BYTES {
            return;
        }
        self.settled = true;
        let t = &self.tally;
        let output = completion_tokens(&t.model, &self.held);
        let actual = t.input_tokens.saturating_add(output);
        usage::reconcile(&*t.store, &t.keys, t.reserved, actual).await;
    }
}

/// Tokens of the text the events carry: chat deltas (`content`, `refusal`,
/// `reasoning_content`, tool-call arguments) and completion `text`.
fn completion_tokens(model: &str, chunks: &[Bytes]) -> u64 {
    #[derive(serde::Deserialize)]
    struct Event {
        #[serde(default)]
        choices: Vec<Choice>,
    }
    #[derive(serde::Deserialize)]
    struct Choice {
        delta: Option<Delta>,
        text: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Delta {
        content: Option<String>,
        refusal: Option<String>,
        reasoning_content: Option<String>,
        #[serde(default)]
        tool_calls: Vec<ToolCall>,
    }
    #[derive(serde::Deserialize)]
    struct ToolCall {
        function: Option<Function>,
    }
    #[derive(serde::Deserialize)]
    struct Function {
        name: Option<String>,
        arguments: Option<String>,
    }
    let mut text = String::new();
    for data in chunks.iter().flat_map(data_lines) {
        let Ok(event) = serde_json::from_slice::<Event>(data) else {
            continue; // `[DONE]`, or an event that is not a completion chunk
        };
        for choice in event.choices {
            text.extend(choice.text);
            if let Some(delta) = choice.delta {
                text.extend(delta.content);
                text.extend(delta.refusal);
                text.extend(delta.reasoning_content);
                for call in delta.tool_calls.into_iter().filter_map(|c| c.function) {
                    text.extend(call.name);
                    text.extend(call.arguments);
                }
            }
        }
    }
    if text.is_empty() {
        0
    } else {
        crate::tokens::count_text(model, &text)
    }
}

/// The payloads of the `data:` lines in `bytes`.
fn data_lines(bytes: &Bytes) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|b| *b == b'\n')
        .filter_map(|line| line.strip_prefix(b"data:"))
        .map(<[u8]>::trim_ascii)
}

/// The `usage.total_tokens` of the event in `bytes` that carries one.
fn usage_in_events(bytes: &Bytes) -> Option<u64> {
    crate::usage::USAGE_KEY.find(bytes)?;
    data_lines(bytes).find_map(usage::total_tokens)
}

/// Drops the usage-only event (`"choices": []` with `usage`) that the router asked
/// for itself, keeping every other event byte for byte.
fn without_usage_only_events(bytes: Bytes) -> Bytes {
    let is_usage_only = |event: &[u8]| {
        let Some(data) = event.strip_prefix(b"data:") else {
            return false;
        };
        #[derive(serde::Deserialize)]
        struct Event {
            choices: Option<Vec<serde_json::Value>>,
            usage: Option<serde_json::Value>,
        }
        serde_json::from_slice::<Event>(data.trim_ascii())
            .is_ok_and(|e| e.usage.is_some() && e.choices.is_none_or(|c| c.is_empty()))
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest: &[u8] = &bytes;
    while !rest.is_empty() {
        let end = memchr::memmem::find(rest, b"\n\n").map_or(rest.len(), |i| i + 2);
        let (event, tail) = rest.split_at(end);
        if !is_usage_only(event.trim_ascii()) {
            out.extend_from_slice(event);
        }
        rest = tail;
    }
    if out.len() == bytes.len() {
        bytes
    } else {
        Bytes::from(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryStore;

    #[test]
    fn only_the_usage_only_event_is_dropped() {
        let input = Bytes::from_static(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"total_tokens\":9}}\n\n",
        );
        let out = without_usage_only_events(input);
        assert_eq!(
            &out[..],
            b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n"
        );
        assert_eq!(
            usage_in_events(&Bytes::from_static(
                b"data: {\"choices\":[],\"usage\":{\"total_tokens\":9}}\n\n"
            )),
            Some(9)
        );
    }

    #[test]
    fn completion_text_of_chat_and_text_chunks_is_counted() {
        let chunks = [
            Bytes::from_static(b"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"),
            Bytes::from_static(
                b"data: {\"choices\":[{\"delta\":{\"content\":\"Hello there\"}}]}\n\ndata: {\"choices\":[{\"text\":\", world\"}]}\n\n",
            ),
            Bytes::from_static(
                b"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\"{}\"}}]}}]}\n\n",
            ),
            Bytes::from_static(b"data: [DONE]\n\n"),
        ];
        let expected = crate::tokens::count_text("gpt-4o", "Hello there, world{}");
        assert!(expected >= 4);
        assert_eq!(completion_tokens("gpt-4o", &chunks), expected);
        assert_eq!(completion_tokens("gpt-4o", &chunks[3..]), 0);
    }

    fn stream_of(chunks: &'static [&'static [u8]]) -> ByteStream {
        futures::stream::iter(chunks.iter().map(|c| Ok(Bytes::from_static(c)))).boxed()
    }

    async fn tpm_after(chunks: &'static [&'static [u8]], hide: bool) -> (u64, Vec<Bytes>) {
        let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        let keys = Arc::new(UsageKeys::new("d"));
        usage::reserve(&*store, &keys, 100).await;
        let tally = Tally {
            store: Arc::clone(&store),
            keys: Arc::clone(&keys),
            model: "gpt-4o".into(),
            reserved: 100,
            input_tokens: 10,
            hide_usage_event: hide,
        };
        let out: Vec<Bytes> = wrap(stream_of(chunks), tally)
            .map(Result::unwrap)
            .collect()
            .await;
        (usage::read(&*store, &[&*keys]).await[0].1, out)
    }

    #[tokio::test]
    async fn a_reported_usage_settles_the_reservation_and_may_be_hidden() {
        let (tpm, out) = tpm_after(
            &[
                b"data: {\"choices\":[{\"delta\":{\"content\":\"Hello there\"}}]}\n\n",
                b"data: {\"choices\":[],\"usage\":{\"total_tokens\":42}}\n\n",
                b"data: [DONE]\n\n",
            ],
            true,
        )
        .await;
        assert_eq!(tpm, 42);
        assert_eq!(out.len(), 3);
        assert!(out[1].is_empty(), "the usage-only event is hidden");
    }

    #[tokio::test]
    async fn without_usage_the_input_plus_the_counted_completion_is_recorded() {
        let (tpm, out) = tpm_after(
            &[
                b"data: {\"choices\":[{\"delta\":{\"content\":\"Hello there\"}}]}\n\n",
                b"data: [DONE]\n\n",
            ],
            true,
        )
        .await;
        assert_eq!(tpm, 10 + crate::tokens::count_text("gpt-4o", "Hello there"));
        assert_eq!(&out[1][..], b"data: [DONE]\n\n");
    }
}
