//! A response body read straight off its connection.
//!
//! The connection goes back to its pool as soon as the body's last byte is
//! read, and only then; a body dropped before its end closes the connection
//! (that is how a client that goes away cancels the upstream call), unless
//! what is left of it has already arrived and can be skipped.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures::Stream;

use super::exchange::Conn;
use super::framing::{Decoded, Framing, ProtocolError};
use super::pool::OriginPool;

/// Why a body could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The connection closed before the body's declared end.
    #[error("the upstream closed the connection before the response ended")]
    Incomplete,
    /// The connection failed.
    #[error("error reading the response body")]
    Io(#[source] io::Error),
    /// The chunked encoding is broken.
    #[error(transparent)]
    Protocol(ProtocolError),
}

/// The body of a [`Response`](super::Response), as a stream of byte chunks.
#[derive(Debug)]
pub struct Body {
    /// `None` once the body is over (the connection is pooled or closed).
    conn: Option<Conn>,
    framing: Framing,
    keep_alive: bool,
    pool: Arc<OriginPool>,
}

impl Body {
    pub(crate) fn new(
        conn: Conn,
        framing: Framing,
        keep_alive: bool,
        pool: Arc<OriginPool>,
    ) -> Self {
        let mut body = Self {
            conn: Some(conn),
            framing,
            keep_alive,
            pool,
        };
        if body.framing == Framing::Length(0) {
            body.finish();
        }
        body
    }

    /// The length the head declared, when it declared one.
    pub fn declared_len(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(n) => Some(n),
            _ => None,
        }
    }

    /// The next chunk; `None` at the end.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, BodyError>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// The next chunk, without waiting when nothing is buffered (`Pending`).
    pub fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>> {
        loop {
            match self.take_buffered() {
                Ok(Some(chunk)) => return Poll::Ready(Some(Ok(chunk))),
                Ok(None) => {}
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
            let Some(conn) = self.conn.as_mut() else {
                return Poll::Ready(None);
            };
            match conn.poll_fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => {
                    self.conn = None;
                    return Poll::Ready(match self.framing {
                        Framing::Close => None,
                        _ => Some(Err(BodyError::Incomplete)),
                    });
                }
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => {
                    self.conn = None;
                    return Poll::Ready(Some(Err(BodyError::Io(e))));
                }
            }
        }
    }

    /// The next chunk among the bytes already read, finishing the body when
    /// its end is among them. `Ok(None)`: more must be read (or it is over).
    fn take_buffered(&mut self) -> Result<Option<Bytes>, BodyError> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(None);
        };
        let chunk = match &mut self.framing {
            Framing::Length(left) => {
                if conn.buf.is_empty() || *left == 0 {
                    return Ok(None);
                }
                let n = (*left).min(conn.buf.len() as u64) as usize;
                *left -= n as u64;
                let chunk = conn.buf.split_to(n).freeze();
                if *left == 0 {
                    self.finish();
                }
                chunk
            }
            Framing::Chunked(state) => match state.decode(&mut conn.buf) {
                Ok(Decoded::Data(chunk)) => chunk,
                Ok(Decoded::NeedMore) => return Ok(None),
                Ok(Decoded::End) => {
                    self.finish();
                    return Ok(None);
                }
                Err(e) => {
                    self.conn = None;
                    return Err(BodyError::Protocol(e));
                }
            },
            Framing::Close => {
                if conn.buf.is_empty() {
                    return Ok(None);
                }
                conn.buf.split().freeze()
            }
        };
        Ok(Some(chunk))
    }

    /// The body is over: the connection goes back to the pool if it can carry
    /// another request.
    fn finish(&mut self) {
        if let Some(conn) = self.conn.take()
            && self.keep_alive
            && conn.buf.is_empty()
        {
            self.pool.checkin(conn);
        }
    }
}

impl Stream for Body {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx)
    }
}

impl Drop for Body {
    /// A stream's reader stops at `data: [DONE]`, just before the chunked
    /// body's terminating chunk: when that end has already arrived, skip to
    /// it and keep the connection rather than open a new one next time.
    fn drop(&mut self) {
        if self.conn.is_none() || !self.keep_alive {
            return;
        }
        let mut cx = Context::from_waker(Waker::noop());
        // Bounded: a body whose rest is still large is not worth reading here.
        let mut budget: usize = 16 * 1024;
        while self.conn.is_some() && budget > 0 {
            match self.poll_chunk(&mut cx) {
                Poll::Ready(Some(Ok(chunk))) => budget = budget.saturating_sub(chunk.len().max(1)),
                Poll::Ready(Some(Err(_))) | Poll::Ready(None) | Poll::Pending => break,
            }
        }
    }
}
