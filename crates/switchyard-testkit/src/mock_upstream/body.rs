//! The response body: scripted chunks, optional pacing, optional abrupt end,
//! and the [`CallGuard`] that notices a client leaving before the end.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

use super::shared::CallGuard;

#[derive(Debug)]
pub(crate) struct ReplyBody {
    chunks: VecDeque<Bytes>,
    chunk_delay: Duration,
    /// Before the first chunk (`first_chunk_delay`).
    first_delay: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    sent_any: bool,
    /// After the chunks, fail the body so hyper closes the connection (`drop_after`).
    then_cut: bool,
    /// A cut first yields once so hyper flushes the events already written.
    yielded_before_cut: bool,
    /// Chunks still to send before going silent for good (`stall_after`).
    stall_in: Option<usize>,
    /// Whether `size_hint` is exact (so hyper sends `content-length`), false for SSE.
    sized: bool,
    guard: CallGuard,
}

impl ReplyBody {
    pub(crate) fn new(
        chunks: Vec<Bytes>,
        chunk_delay: Duration,
        first_delay: Duration,
        then_cut: bool,
        sized: bool,
        guard: CallGuard,
    ) -> Self {
        Self {
            chunks: chunks.into(),
            chunk_delay,
            first_delay,
            sleep: None,
            sent_any: false,
            then_cut,
            yielded_before_cut: false,
            stall_in: None,
            sized: sized && !then_cut,
            guard,
        }
    }
}

impl ReplyBody {
    /// After `n` chunks, never yields again (the connection stays open).
    pub(crate) fn stall_after(mut self, n: Option<usize>) -> Self {
        self.stall_in = n;
        if n.is_some() {
            self.sized = false;
        }
        self
    }
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if this.stall_in == Some(0) || (this.stall_in.is_some() && this.chunks.is_empty()) {
            // Silent until the client gives up; dropping the body counts the cancellation.
            return Poll::Pending;
        }
        if !this.chunks.is_empty() {
            let delay = if this.sent_any {
                this.chunk_delay
            } else {
                this.first_delay
            };
            if !delay.is_zero() {
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.sleep = None;
            }
            let chunk = this.chunks.pop_front().expect("checked non-empty");
            this.sent_any = true;
            if let Some(left) = &mut this.stall_in {
                *left -= 1;
            }
            if this.chunks.is_empty() && !this.then_cut && this.stall_in.is_none() {
                // hyper may not poll again once `is_end_stream` says so.
                this.guard.done();
            }
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if this.then_cut {
            if !this.yielded_before_cut {
                this.yielded_before_cut = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            this.guard.cut();
            return Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "mock: drop_after",
            ))));
        }
        this.guard.done();
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty() && !self.then_cut && self.stall_in.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        if self.sized {
            SizeHint::with_exact(self.chunks.iter().map(|c| c.len() as u64).sum())
        } else {
            SizeHint::default()
        }
    }
}
