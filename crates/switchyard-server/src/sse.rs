//! Streams routed SSE events to the client.
//!
//! Events already available are written together (never waiting for one
//! to batch it with the next), a clean end is marked with `data: [DONE]`, and
//! an upstream failure after the first event ends the stream with an error
//! event: it is never retried, the client has already seen output.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::Stream;
use switchyard_providers::{ByteStream, ProviderError};
use switchyard_types::ErrorBody;

const DONE: &[u8] = b"data: [DONE]\n\n";

/// Adapts an upstream event stream to the bytes sent to the client.
pub(crate) struct SseOut {
    inner: Option<ByteStream>,
}

impl SseOut {
    pub(crate) fn new(inner: ByteStream) -> Self {
        Self { inner: Some(inner) }
    }
}

fn error_event(error: &ProviderError) -> Bytes {
    let body = ErrorBody::new(
        format!("litellm.{}: {}", error.kind.litellm_name(), error.message),
        error.kind.openai_type(),
        None,
        Some(error.http_status().to_string()),
    );
    let mut out = b"data: ".to_vec();
    serde_json::to_writer(&mut out, &body).expect("an error body serialises");
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

impl Stream for SseOut {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let mut first: Option<Bytes> = None;
        let mut gathered: Option<BytesMut> = None;
        let mut push =
            |chunk: Bytes, first: &mut Option<Bytes>| match (first.take(), gathered.as_mut()) {
                (None, None) => *first = Some(chunk),
                (Some(prev), None) => {
                    let mut buf = BytesMut::with_capacity(prev.len() + chunk.len());
                    buf.extend_from_slice(&prev);
                    buf.extend_from_slice(&chunk);
                    gathered = Some(buf);
                }
                (_, Some(buf)) => buf.extend_from_slice(&chunk),
            };
        let mut finished = false;
        loop {
            match inner.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => push(chunk, &mut first),
                Poll::Ready(Some(Err(error))) => {
                    tracing::warn!(error = %error, "upstream stream failed after its first event");
                    push(error_event(&error), &mut first);
                    self.inner = None;
                    break;
                }
                Poll::Ready(None) => {
                    push(Bytes::from_static(DONE), &mut first);
                    finished = true;
                    break;
                }
                Poll::Pending => break,
            }
        }
        if finished {
            self.inner = None;
        }
        let ready = gathered.map(BytesMut::freeze).or(first);
        match ready {
            Some(bytes) => Poll::Ready(Some(Ok(bytes))),
            None if self.inner.is_none() => Poll::Ready(None),
            None => Poll::Pending,
        }
    }
}
