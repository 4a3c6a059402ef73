//! The bounds of a committed stream.
//!
//! LiteLLM hands `timeout` / `stream_timeout` to httpx as its read timeout, so a
//! stream whose upstream falls silent for longer than the attempt's timeout
//! fails. After the first event nothing is retried: the stream ends with a
//! timeout error, which the server writes as the stream's error event (the
//! shape of any mid-stream failure), and dropping the stream releases its
//! parallel-request slot and in-flight count. The request's deadline
//! (`x-switchyard-timeout`, the body's `timeout`, the router's `timeout`) ends
//! a committed stream the same way when it passes.
//!
//! Cheap on the hot path: the inner stream is polled first, so events already
//! there never touch a timer; the one timer is armed at the first wait, and then
//! only moved (one clock read after each batch, a reset when it fires early),
//! never re-created per event.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use switchyard_providers::{ByteStream, ErrorKind, ProviderError};
use tokio::time::{Instant, Sleep};

/// `events` ended by a timeout error after `idle` without an event, or at `deadline`.
pub(super) fn bound(
    events: ByteStream,
    provider: &'static str,
    idle: Duration,
    deadline: Option<Instant>,
) -> ByteStream {
    Box::pin(Bounded {
        events: Some(events),
        provider,
        idle,
        deadline,
        timer: None,
        idle_from: None,
        progressed: false,
    })
}

struct Bounded {
    /// `None` once the stream has ended (dropping it closes the upstream connection).
    events: Option<ByteStream>,
    provider: &'static str,
    idle: Duration,
    deadline: Option<Instant>,
    /// Armed at the first wait, then only moved.
    timer: Option<Pin<Box<Sleep>>>,
    /// When the current silence began (the first wait after the last event).
    idle_from: Option<Instant>,
    /// An event arrived since `idle_from` was set.
    progressed: bool,
}

/// When a silence that began at `idle_from` ends the stream: `idle` later, or at the
/// deadline. `None`: never (an `idle` too long to add, which no config produces: the
/// addition is checked rather than bounded, as a library caller's `Duration` may be anything).
fn due(idle_from: Instant, idle: Duration, deadline: Option<Instant>) -> Option<Instant> {
    match (idle_from.checked_add(idle), deadline) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Bounded {
    fn timed_out(&self, now: Instant) -> ProviderError {
        let message = if self.deadline.is_some_and(|d| now >= d) {
            "the request deadline passed while the stream was waiting for its next event".to_owned()
        } else {
            format!(
                "no stream event within {:?} of the last one (the attempt's timeout)",
                self.idle
            )
        };
        ProviderError::new(ErrorKind::Timeout, self.provider, message)
    }
}

impl Stream for Bounded {
    type Item = Result<bytes::Bytes, ProviderError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(events) = this.events.as_mut() else {
            return Poll::Ready(None);
        };
        match events.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                this.progressed = true;
                return Poll::Ready(Some(Ok(bytes)));
            }
            Poll::Ready(other) => {
                // The end, or the upstream's own error: the stream is over either way.
                this.events = None;
                this.timer = None;
                return Poll::Ready(other);
            }
            Poll::Pending => {}
        }
        // Waiting: a silence begins now if an event came since the last one began.
        if this.idle_from.is_none() || this.progressed {
            this.progressed = false;
            let now = Instant::now();
            this.idle_from = Some(now);
            if this.timer.is_none() {
                let Some(due) = due(now, this.idle, this.deadline) else {
                    return Poll::Pending;
                };
                this.timer = Some(Box::pin(tokio::time::sleep_until(due)));
            }
            // An armed timer keeps its earlier due time; it is moved when it fires.
        }
        let Some(timer) = this.timer.as_mut() else {
            return Poll::Pending;
        };
        loop {
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let now = Instant::now();
            match this
                .idle_from
                .and_then(|from| due(from, this.idle, this.deadline))
            {
                Some(due) if due > now => timer.as_mut().reset(due),
                None => {
                    this.timer = None;
                    return Poll::Pending;
                }
                Some(_) => {
                    let error = this.timed_out(now);
                    this.events = None;
                    this.timer = None;
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures::StreamExt;
    use tokio::sync::mpsc;

    use super::*;

    /// A stream fed by hand: each `send` is one event.
    fn fed() -> (mpsc::UnboundedSender<Bytes>, ByteStream) {
        let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
        let events =
            futures::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|b| (Ok(b), rx)) },
            );
        (tx, Box::pin(events))
    }

    #[tokio::test(start_paused = true)]
    async fn a_silence_longer_than_idle_ends_the_stream_with_a_timeout() {
        let (tx, events) = fed();
        let mut bounded = bound(events, "test", Duration::from_secs(2), None);
        tx.send(Bytes::from_static(b"a")).unwrap();
        assert_eq!(bounded.next().await.unwrap().unwrap(), "a");
        let started = Instant::now();
        let err = bounded.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Timeout);
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        assert!(bounded.next().await.is_none(), "over after the error");
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn each_silence_is_bounded_not_the_whole_stream() {
        let (tx, events) = fed();
        let mut bounded = bound(events, "test", Duration::from_secs(2), None);
        let feeder = tokio::spawn(async move {
            for piece in ["a", "b", "c", "d"] {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                tx.send(Bytes::from(piece)).unwrap();
            }
            // `tx` dropped: the stream ends.
        });
        let started = Instant::now();
        let got: Vec<_> = (&mut bounded).collect().await;
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got.iter().all(Result::is_ok), "{got:?}");
        assert_eq!(started.elapsed(), Duration::from_secs(6));
        feeder.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_ends_a_stream_whose_events_keep_coming() {
        let (tx, events) = fed();
        let started = Instant::now();
        let deadline = started + Duration::from_secs(3);
        let mut bounded = bound(events, "test", Duration::from_secs(2), Some(deadline));
        let feeder = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if tx.send(Bytes::from_static(b"x")).is_err() {
                    return;
                }
            }
        });
        let mut events = 0;
        let err = loop {
            match bounded.next().await.unwrap() {
                Ok(_) => events += 1,
                Err(err) => break err,
            }
        };
        assert_eq!(err.kind, ErrorKind::Timeout);
        assert!(err.message.contains("deadline"), "{}", err.message);
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        assert!((2..=3).contains(&events), "{events}");
        drop(bounded);
        feeder.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_that_ends_in_time_is_passed_through() {
        let events = futures::stream::iter([Ok(Bytes::from_static(b"a"))]).boxed();
        let got: Vec<_> = bound(events, "test", Duration::from_secs(1), None)
            .collect()
            .await;
        assert_eq!(got.len(), 1);
    }
}
