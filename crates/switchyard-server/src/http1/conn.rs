//! One client connection: read a request, answer it, and again while the
//! client keeps the connection.
//!
//! While a request is being answered the connection is still watched: a
//! client that goes away cancels its call (the upstream request with it),
//! and one that sends its next request early (pipelining) has it kept for
//! later.

use std::future::Future;
use std::io;
use std::pin::pin;

use axum::http::StatusCode;
use bytes::BytesMut;
use futures::future::{Either, select};
use futures::{FutureExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::body::{self, BodyError};
use super::head::{HeadError, RequestHead};
use super::write::{self, Framing};
use crate::answer::{Answer, AnswerBody};
use crate::api_error::ApiError;
use crate::front_door::{FrontDoor, Plan};
use crate::logging::RequestLine;

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 8 * 1024;

/// Bytes a client may send ahead (its next requests) while one is answered.
const MAX_AHEAD: usize = 1024 * 1024;

/// A body this small that was not needed is read and dropped, to keep the
/// connection; a larger one closes it.
const DISCARD_UP_TO: usize = 64 * 1024;

/// Bodies up to this size are copied behind the head, so the answer leaves
/// in one write.
const COPY_BODY_UP_TO: usize = 64 * 1024;

/// Buffers larger than this are not kept from one exchange to the next.
const KEEP_UP_TO: usize = 128 * 1024;

/// A client connection and what was read from it but not used yet.
pub(crate) struct Conn {
    io: TcpStream,
    pub(crate) buf: BytesMut,
    out: Vec<u8>,
}

impl Conn {
    fn new(io: TcpStream) -> Self {
        Self {
            io,
            buf: BytesMut::with_capacity(READ_CHUNK),
            out: Vec::with_capacity(READ_CHUNK),
        }
    }

    /// Reads at least one more byte (with room for up to `want`, capped at
    /// a megabyte a read); false at the end of the stream or on an error.
    pub(crate) async fn fill(&mut self, want: usize) -> bool {
        self.buf.reserve(want.clamp(READ_CHUNK / 2, 1024 * 1024));
        matches!(self.io.read_buf(&mut self.buf).await, Ok(n) if n > 0)
    }

    /// After an exchange: buffers a large request or answer grew are let go,
    /// so an idle connection holds kilobytes, not megabytes.
    fn shrink(&mut self) {
        if self.out.capacity() > KEEP_UP_TO {
            self.out = Vec::with_capacity(READ_CHUNK);
        }
        if self.buf.is_empty() && self.buf.capacity() > KEEP_UP_TO {
            self.buf = BytesMut::with_capacity(READ_CHUNK);
        }
    }

    /// Waits until the client closes the connection (or it fails), keeping
    /// whatever it sends meanwhile. Never returns while the client is there.
    async fn closed(&mut self) {
        loop {
            if self.io.readable().await.is_err() {
                return;
            }
            if self.buf.len() > MAX_AHEAD {
                // A client flooding a connection it is not reading from.
                return;
            }
            self.buf.reserve(READ_CHUNK);
            match self.io.try_read_buf(&mut self.buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    }

    /// Writes `out` and empties it.
    async fn flush_out(&mut self) -> io::Result<()> {
        self.io.write_all(&self.out).await?;
        self.out.clear();
        Ok(())
    }
}

/// Serves one connection until the client closes it, it fails, or `stop`
/// is cancelled (then an idle connection closes at once and a busy one
/// after its current answer).
pub(crate) async fn serve(io: TcpStream, door: FrontDoor, stop: CancellationToken) {
    let mut conn = Conn::new(io);
    loop {
        let head = match next_head(&mut conn, &stop).await {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(error) => {
                let (status, message) = match error {
                    HeadError::TooLarge => (
                        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                        "The request head is too large",
                    ),
                    HeadError::Malformed(why) => (StatusCode::BAD_REQUEST, why),
                };
                let answer = ApiError::with_status(status, message).into_answer();
                let _ = send_full(&mut conn, answer, true, true).await;
                return;
            }
        };
        if !answer_one(&mut conn, &door, head, &stop).await {
            return;
        }
        conn.shrink();
    }
}

/// Reads the next request head; `None` when the connection is over.
async fn next_head(
    conn: &mut Conn,
    stop: &CancellationToken,
) -> Result<Option<RequestHead>, HeadError> {
    loop {
        if let Some(head) = RequestHead::take(&mut conn.buf)? {
            return Ok(Some(head));
        }
        let idle = conn.buf.is_empty();
        let more = {
            let fill = pin!(conn.fill(READ_CHUNK));
            let stopped = pin!(stop.cancelled());
            match select(fill, stopped).await {
                Either::Left((more, _)) => more,
                // An idle connection closes at shutdown; a request that has
                // begun to arrive is still read.
                Either::Right(_) if idle => false,
                Either::Right((_, fill)) => fill.await,
            }
        };
        if !more {
            return Ok(None);
        }
    }
}

/// Answers one request; false when the connection must close afterwards.
async fn answer_one(
    conn: &mut Conn,
    door: &FrontDoor,
    head: RequestHead,
    stop: &CancellationToken,
) -> bool {
    let line = RequestLine::start(head.method(), head.path());
    let plan = door.plan(&head);
    let proxied = plan.is_proxied();
    let mut keep_alive = head.keep_alive;
    let answer = match plan {
        Plan::Answer(answer) | Plan::Refused(answer) => {
            // The body was not needed: skip it when it is small, else close.
            if !skip_body(conn, &head).await {
                keep_alive = false;
            }
            answer
        }
        plan => {
            // A client waiting to be told to send its body is told only
            // when the body may be sent (one over the cap gets its 413 now).
            let within_cap = match head.body {
                super::head::BodyLength::Known(n) => n <= door.max_body_bytes() as u64,
                super::head::BodyLength::Chunked => true,
            };
            if head.expect_continue && within_cap && !body_buffered(conn, &head) {
                conn.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                if conn.flush_out().await.is_err() {
                    return false;
                }
            }
            match body::read(conn, head.body, door.max_body_bytes()).await {
                Ok(body) => {
                    let respond = door.respond(&head, plan, body);
                    match until_closed(conn, respond).await {
                        Some(answer) => answer,
                        // The client left: its call was dropped with it.
                        None => return false,
                    }
                }
                Err(error) => {
                    keep_alive = false;
                    match error {
                        BodyError::Gone => return false,
                        BodyError::TooLarge => {
                            ApiError::payload_too_large(door.max_body_bytes()).into_answer()
                        }
                        BodyError::Malformed => {
                            ApiError::bad_request("The chunked request body is malformed", None)
                                .into_answer()
                        }
                    }
                }
            }
        }
    };
    let mut answer = answer;
    door.finish(&mut answer, &head, proxied);
    if let Some(line) = line {
        line.finish(answer.status, answer.route.as_deref());
    }
    let streamed = matches!(answer.body, AnswerBody::Stream(_));
    // At shutdown, this answer is the connection's last; a stream to an
    // HTTP/1.0 client ends with the connection.
    let close = !keep_alive || stop.is_cancelled() || (streamed && !head.http11);
    let head_only = head.method() == "HEAD";
    let sent = if streamed {
        send_stream(conn, answer, close, head.http11).await
    } else {
        send_full(conn, answer, close, !head_only).await
    };
    sent.is_ok() && !close
}

/// Whether the whole body is already in the buffer.
fn body_buffered(conn: &Conn, head: &RequestHead) -> bool {
    match head.body {
        super::head::BodyLength::Known(n) => conn.buf.len() as u64 >= n,
        super::head::BodyLength::Chunked => false,
    }
}

/// Reads and drops a body that was not needed; false when it is too large
/// to be worth it (the connection then closes).
async fn skip_body(conn: &mut Conn, head: &RequestHead) -> bool {
    match head.body {
        super::head::BodyLength::Known(0) => true,
        super::head::BodyLength::Known(n) if n as usize <= DISCARD_UP_TO => {
            body::read(conn, head.body, DISCARD_UP_TO).await.is_ok()
        }
        _ => false,
    }
}

/// Runs `respond` while watching the connection: `None` when the client
/// closed it first (dropping `respond` cancels the call).
async fn until_closed(conn: &mut Conn, respond: impl Future<Output = Answer>) -> Option<Answer> {
    let respond = pin!(respond);
    let closed = pin!(conn.closed());
    match select(respond, closed).await {
        Either::Left((answer, _)) => Some(answer),
        Either::Right(_) => None,
    }
}

/// Sends a complete answer: head and body in one write when small.
async fn send_full(
    conn: &mut Conn,
    answer: Answer,
    close: bool,
    with_body: bool,
) -> io::Result<()> {
    let AnswerBody::Full(body) = answer.body else {
        unreachable!("send_full takes complete answers")
    };
    write::head(
        &mut conn.out,
        answer.status,
        answer.headers.as_bytes(),
        Framing::Length(body.len()),
        close,
    );
    if !with_body {
        return conn.flush_out().await;
    }
    if body.len() <= COPY_BODY_UP_TO {
        conn.out.extend_from_slice(&body);
        conn.flush_out().await
    } else {
        conn.flush_out().await?;
        conn.io.write_all(&body).await
    }
}

/// Sends a streamed answer: the head with what is ready of the stream, then
/// whatever is ready each time more comes, while watching for the client to
/// leave. Everything ready leaves in one write (a stream that arrived whole
/// leaves whole, its end included).
async fn send_stream(conn: &mut Conn, answer: Answer, close: bool, http11: bool) -> io::Result<()> {
    let AnswerBody::Stream(mut events) = answer.body else {
        unreachable!("send_stream takes streamed answers")
    };
    // An HTTP/1.0 client cannot read chunks: the body runs until the close.
    let framing = if http11 {
        Framing::Chunked
    } else {
        Framing::UntilClose
    };
    write::head(
        &mut conn.out,
        answer.status,
        answer.headers.as_bytes(),
        framing,
        close,
    );
    let mut item = events.next().now_or_never();
    loop {
        // Take everything that is ready.
        while let Some(ready) = item {
            match ready {
                Some(Ok(batch)) => match framing {
                    Framing::Chunked => write::chunk(&mut conn.out, &batch),
                    _ => conn.out.extend_from_slice(&batch),
                },
                Some(Err(never)) => match never {},
                None => {
                    if framing == Framing::Chunked {
                        conn.out.extend_from_slice(write::LAST_CHUNK);
                    }
                    return conn.flush_out().await;
                }
            }
            item = events.next().now_or_never();
        }
        if !conn.out.is_empty() {
            conn.flush_out().await?;
        }
        let next = pin!(events.next());
        let closed = pin!(conn.closed());
        item = match select(next, closed).await {
            Either::Left((ready, _)) => Some(ready),
            // The client left: dropping the stream cancels the upstream call.
            Either::Right(_) => return Err(io::ErrorKind::ConnectionAborted.into()),
        };
    }
}
