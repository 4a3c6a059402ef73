//! An OpenAI-dialect SSE response → [`ByteStream`].
//!
//! Before the first event that carries output (the commit point, see
//! [`super::output`]) the response can still turn out to be a failure: an error
//! object, a connection closing early, or an upstream that sends its role chunk
//! and stalls (the caller's timeout bounds this part). Those come back as `Err`
//! so the router may retry or fall back; the events before the commit point are
//! held back meanwhile and sent with it, so the client sees one clean stream.
//! After it, events are forwarded exactly as received, gathered
//! so that everything one wake-up finds ready leaves in one `Bytes`, and the
//! stream ends at `data: [DONE]` (not forwarded). A connection that ends or
//! fails before `[DONE]` yields one `StreamInterrupted` error.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::capped::Accumulator;
use crate::classify::{classify_stream_error, is_error_payload, mentions_error, transport_message};
use crate::client::{Body, Response};
use crate::sse::{DEFAULT_MAX_EVENT_BYTES, SseDecoder, event_data, events_of};

use super::output::{Judged, judge};
use crate::{ByteStream, ErrorKind, ProviderError};

/// Stop gathering past this many bytes and hand the batch over, so one fast
/// upstream cannot make a single write grow without bound.
const MAX_BATCH_BYTES: usize = 256 * 1024;

/// Held-back events past this size commit the stream anyway, so an upstream that
/// sends empty deltas without end cannot make the hold grow without bound.
const MAX_HELD_BYTES: usize = 64 * 1024;

/// Reads the response until its first event with output (or its end) and returns
/// the stream. The caller bounds this with the attempt's timeout.
///
/// Each read's complete events are taken as one run ([`SseDecoder::forward`], no copy)
/// and looked at in order; the run that holds the commit point leaves whole, with
/// everything held before it.
pub(crate) async fn open(
    provider: &'static str,
    resp: Response,
) -> Result<ByteStream, ProviderError> {
    let mut body: Body = resp.into_body();
    let mut decoder = SseDecoder::new(DEFAULT_MAX_EVENT_BYTES);
    // Comments, blank lines and events without output that came before the
    // commit point: they are forwarded with it.
    let mut held = Accumulator::default();
    loop {
        let chunk = match body.next().await {
            Some(Ok(chunk)) => chunk,
            Some(Err(e)) => return Err(interrupted(provider, transport_message(&e.into()))),
            None => {
                return match decoder.finish() {
                    Some(tail) if tail.is_done() => Ok(finished(held.take())),
                    _ => Err(interrupted(
                        provider,
                        "upstream closed the stream before its first token",
                    )),
                };
            }
        };
        let forwarded = decoder
            .forward(chunk)
            .map_err(|e| invalid(provider, e.to_string()))?;
        let mut committed = false;
        if let Some(events) = forwarded.events {
            committed = commits(provider, &events)?;
            held.push(events);
            committed |= held.len() > MAX_HELD_BYTES;
        }
        if forwarded.done {
            return Ok(finished(held.take()));
        }
        if committed {
            return Ok(Box::pin(SseBody {
                provider,
                body: Some(body),
                decoder,
                ready: held.take(),
                error: None,
            }));
        }
    }
}

/// Looks at a run of events in order: an error object before any output is the
/// attempt's failure; `true` once an event carries output (the commit point).
fn commits(provider: &'static str, events: &[u8]) -> Result<bool, ProviderError> {
    for raw in events_of(events) {
        // Judged on the raw event: its field names and line breaks hold no quote, so
        // the scan sees the JSON's keys; the `data` field is read out only when needed.
        let judged = judge(raw);
        if judged == Judged::Output {
            return Ok(true);
        }
        // An error object, or a chunk that carries one (OpenRouter's mid-stream errors
        // come with an empty delta).
        if mentions_error(raw)
            && let Some(data) = event_data(raw)
            && is_error_payload(&data)
        {
            return Err(classify_stream_error(provider, &data));
        }
        // Not a chunk: commits, unless it has no data at all (a comment, a blank line).
        if judged == Judged::NotAChunk && event_data(raw).is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A stream that yields what was gathered (if anything) and ends.
fn finished(batch: Option<Bytes>) -> ByteStream {
    Box::pin(futures::stream::iter(batch.map(Ok)))
}

fn interrupted(provider: &'static str, message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorKind::StreamInterrupted, provider, message)
}

fn invalid(provider: &'static str, message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorKind::InvalidResponse, provider, message)
}

/// The committed part of the stream.
struct SseBody {
    provider: &'static str,
    /// `None` once the stream is over; dropping it closes the connection.
    body: Option<Body>,
    decoder: SseDecoder,
    /// Events gathered while waiting for the commit point, yielded first.
    ready: Option<Bytes>,
    /// An error to yield after the last batch.
    error: Option<ProviderError>,
}

impl Stream for SseBody {
    type Item = Result<Bytes, ProviderError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(ready) = this.ready.take() {
            return Poll::Ready(Some(Ok(ready)));
        }
        let Some(body) = this.body.as_mut() else {
            return Poll::Ready(this.error.take().map(Err));
        };
        let mut batch = Accumulator::default();
        let mut over = false;
        // Take every chunk that is already there, never waiting for one more.
        while batch.len() < MAX_BATCH_BYTES {
            match Pin::new(&mut *body).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => match this.decoder.forward(chunk) {
                    Ok(forwarded) => {
                        if let Some(events) = forwarded.events {
                            batch.push(events);
                        }
                        if forwarded.done {
                            over = true;
                            break;
                        }
                    }
                    Err(e) => {
                        this.error = Some(invalid(this.provider, e.to_string()));
                        over = true;
                        break;
                    }
                },
                Poll::Ready(Some(Err(e))) => {
                    this.error = Some(interrupted(this.provider, transport_message(&e.into())));
                    over = true;
                    break;
                }
                Poll::Ready(None) => {
                    if !this.decoder.finish().is_some_and(|tail| tail.is_done()) {
                        this.error = Some(interrupted(
                            this.provider,
                            "upstream closed the stream before [DONE]",
                        ));
                    }
                    over = true;
                    break;
                }
                Poll::Pending if batch.is_empty() => return Poll::Pending,
                Poll::Pending => break,
            }
        }
        if over {
            this.body = None;
        }
        match batch.take() {
            Some(bytes) => Poll::Ready(Some(Ok(bytes))),
            None => Poll::Ready(this.error.take().map(Err)),
        }
    }
}
