//! One client connection: read a request, answer it, and again while the
//! client keeps the connection.
//!
//! Every wait on the client is bounded (`ServerOptions`): the head, the idle
//! time between requests, each read of a body, each write of an answer.
//! While a request is being answered the connection is still watched: a
//! client that goes away cancels its call (the upstream request with it),
//! and one that sends its next request early (pipelining) has it kept for
//! later.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use bytes::BytesMut;
use futures::future::{Either, select};
use futures::{FutureExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::body::{self, BodyError};
use super::head::{BodyLength, HeadError, RequestHead};
use super::write::{self, Framing};
use super::{Shared, linger, refusal};
use crate::answer::{Answer, AnswerBody};
use crate::api_error::ApiError;
use crate::front_door::Plan;
use crate::logging::RequestLine;

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 8 * 1024;

/// Bytes a client may send ahead (its next requests) while one is answered.
const MAX_AHEAD: usize = 1024 * 1024;

/// The largest body a request whose route takes none may carry (it is read
/// and dropped); a larger one is refused with 413.
const NO_BODY_CAP: usize = 64 * 1024;

/// Bodies up to this size are copied behind the head, so the answer leaves
/// in one write.
const COPY_BODY_UP_TO: usize = 64 * 1024;

/// Buffers larger than this are not kept from one exchange to the next.
const KEEP_UP_TO: usize = 128 * 1024;

/// A client connection and what was read from it but not used yet.
pub(crate) struct Conn {
    io: TcpStream,
    peer: SocketAddr,
    pub(crate) buf: BytesMut,
    out: Vec<u8>,
    send_timeout: Duration,
}

/// What a bounded read found.
pub(crate) enum Filled {
    /// At least one more byte.
    More,
    /// The client closed the connection (or it failed).
    Closed,
    /// Nothing arrived in time.
    TimedOut,
}

/// How a connection goes on after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// Ready for the next request.
    Keep,
    /// Closed as it is (the exchange is complete, or the client is gone).
    Close,
    /// Closed gracefully: the client may still be sending what was not read.
    Linger,
}

impl Conn {
    fn new(io: TcpStream, peer: SocketAddr, send_timeout: Duration) -> Self {
        Self {
            io,
            peer,
            buf: BytesMut::with_capacity(READ_CHUNK),
            out: Vec::with_capacity(READ_CHUNK),
            send_timeout,
        }
    }

    /// Reads at least one more byte (with room for up to `want`, capped at
    /// a megabyte a read); false at the end of the stream or on an error.
    async fn fill(&mut self, want: usize) -> bool {
        self.buf.reserve(want.clamp(READ_CHUNK / 2, 1024 * 1024));
        matches!(self.io.read_buf(&mut self.buf).await, Ok(n) if n > 0)
    }

    /// [`fill`](Self::fill), unless `deadline` passes first. A read that is
    /// ready at once never arms the timer.
    pub(crate) async fn fill_by(&mut self, want: usize, deadline: Instant) -> Filled {
        match tokio::time::timeout_at(deadline, self.fill(want)).await {
            Ok(true) => Filled::More,
            Ok(false) => Filled::Closed,
            Err(_) => Filled::TimedOut,
        }
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

    /// Writes `bytes`, unless the client reads nothing of them for the send
    /// timeout (then it is dropped: logged, and an error returned).
    async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        send_within(&mut self.io, self.peer, self.send_timeout, bytes).await
    }

    /// Writes `out` and empties it.
    async fn flush_out(&mut self) -> io::Result<()> {
        let sent = send_within(&mut self.io, self.peer, self.send_timeout, &self.out).await;
        self.out.clear();
        sent
    }

    /// Closes the connection gracefully (see `linger.rs`); at once when
    /// the server needs the room (at its connection limit, or shutting down).
    async fn linger(mut self, shared: &Shared) {
        self.out.clear();
        self.out.resize(READ_CHUNK, 0);
        let evicted = shared.evict.notified();
        tokio::select! {
            () = linger::close(self.io, &mut self.out) => {}
            () = evicted => {}
        }
    }
}

/// Writes `bytes` to `io`, unless the client reads nothing of them for
/// `timeout` (nginx's `send_timeout`: the bound is on each write's progress,
/// not on the whole answer). What the socket takes at once is written
/// without arming a timer: most answers fit its buffer.
async fn send_within(
    io: &mut TcpStream,
    peer: SocketAddr,
    timeout: Duration,
    bytes: &[u8],
) -> io::Result<()> {
    let mut written = match io.try_write(bytes) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
        Err(e) => return Err(e),
    };
    while written < bytes.len() {
        match tokio::time::timeout(timeout, io.write(&bytes[written..])).await {
            Ok(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(Ok(n)) => written += n,
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                refusal::log(peer, "the client read nothing of its answer in time");
                return Err(io::ErrorKind::TimedOut.into());
            }
        }
    }
    Ok(())
}

/// The timer of a connection's idle waits, armed once and moved lazily: a
/// wait that wants a later deadline than the armed one leaves it, and when it
/// fires early the wait re-arms it. A busy keep-alive connection then touches
/// the timer wheel about once per timeout, not once per request.
#[derive(Default)]
struct IdleTimer(Option<Pin<Box<tokio::time::Sleep>>>);

impl IdleTimer {
    /// Resolves at `deadline` (never before).
    async fn until(&mut self, deadline: Instant) {
        let timer = self
            .0
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() > deadline {
            timer.as_mut().reset(deadline);
        }
        loop {
            timer.as_mut().await;
            if Instant::now() >= deadline {
                return;
            }
            timer.as_mut().reset(deadline);
        }
    }
}

/// Serves one connection until the client closes it, it fails, a limit ends
/// it, or shutdown begins (then an idle connection or a half-sent head closes
/// at once and a busy one after its current answer).
pub(crate) async fn serve(io: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let mut conn = Conn::new(io, peer, shared.options.send_timeout);
    let mut idle = IdleTimer::default();
    let mut first = Some(Instant::now());
    loop {
        let head = match next_head(&mut conn, &mut idle, &shared, first.take()).await {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(error) => {
                refusal::log(peer, error.reason());
                let answer = ApiError::with_status(error.status(), error.reason()).into_answer();
                if send_full(&mut conn, answer, true, true).await.is_ok() {
                    conn.linger(&shared).await;
                }
                return;
            }
        };
        match answer_one(&mut conn, &shared, head).await {
            After::Keep => conn.shrink(),
            After::Close => return,
            After::Linger => return conn.linger(&shared).await,
        }
    }
}

/// Reads the next request head; `None` when the connection is over (closed
/// by the client, idle too long, asked to make room, or shutting down).
/// `accepted` is when the connection began, for its first request: the head
/// timeout runs from there.
async fn next_head(
    conn: &mut Conn,
    idle: &mut IdleTimer,
    shared: &Shared,
    accepted: Option<Instant>,
) -> Result<Option<RequestHead>, HeadError> {
    let options = &shared.options;
    if conn.buf.is_empty() {
        let idle_for = match accepted {
            Some(_) => options.head_timeout,
            None => options.keepalive_timeout,
        };
        match wait_while_idle(conn, idle, shared, idle_for).await {
            Idle::Arrived => {}
            Idle::TimedOut if accepted.is_some() => {
                refusal::log(conn.peer, "no request within the head timeout");
                return Ok(None);
            }
            Idle::TimedOut | Idle::Closed | Idle::Evicted => return Ok(None),
        }
    }
    let mut deadline = None;
    loop {
        if let Some(head) = RequestHead::take(&mut conn.buf)? {
            return Ok(Some(head));
        }
        let deadline = *deadline
            .get_or_insert_with(|| accepted.unwrap_or_else(Instant::now) + options.head_timeout);
        // A head that has begun to arrive: a client sends one whole, so one
        // that trickles is read only until the head timeout, and never holds
        // shutdown.
        let fill = pin!(conn.fill_by(READ_CHUNK, deadline));
        let stopped = pin!(shared.stop.cancelled());
        match select(fill, stopped).await {
            Either::Left((Filled::More, _)) => {}
            Either::Left((Filled::Closed, _)) | Either::Right(_) => return Ok(None),
            Either::Left((Filled::TimedOut, _)) => return Err(HeadError::TimedOut),
        }
    }
}

/// How a wait on a connection with nothing to do ended.
enum Idle {
    /// The first bytes of a request came.
    Arrived,
    /// The client closed the connection.
    Closed,
    /// Nothing came in time.
    TimedOut,
    /// The server needs the room (at its connection limit this is the
    /// longest-idle connection), or shutdown began.
    Evicted,
}

/// Waits for the first bytes of a request on a connection with nothing to do.
async fn wait_while_idle(
    conn: &mut Conn,
    idle: &mut IdleTimer,
    shared: &Shared,
    idle_for: Duration,
) -> Idle {
    let evicted = shared.evict.notified();
    let mut evicted = pin!(evicted);
    // Registered before the check, so a shutdown that begins after it still
    // wakes this connection.
    evicted.as_mut().enable();
    if shared.stop.is_cancelled() {
        return Idle::Evicted;
    }
    let deadline = Instant::now() + idle_for;
    tokio::select! {
        biased;
        more = conn.fill(READ_CHUNK) => if more { Idle::Arrived } else { Idle::Closed },
        () = evicted => Idle::Evicted,
        () = idle.until(deadline) => Idle::TimedOut,
    }
}

/// Answers one request; how the connection goes on afterwards.
async fn answer_one(conn: &mut Conn, shared: &Shared, head: RequestHead) -> After {
    let door = &shared.door;
    let line = RequestLine::start(head.method(), head.path());
    let plan = door.plan(&head);
    let proxied = plan.is_proxied();
    let mut after = if head.keep_alive {
        After::Keep
    } else {
        After::Close
    };
    let answer = match plan {
        Plan::Proxied { .. } => {
            // A client waiting to be told to send its body is told only
            // when the body may be sent (one over the cap gets its 413 now).
            let within_cap = match head.body {
                BodyLength::Known(n) => n <= door.max_body_bytes() as u64,
                BodyLength::Chunked => true,
            };
            if head.expect_continue && within_cap && !body_buffered(conn, &head) {
                conn.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                if conn.flush_out().await.is_err() {
                    return After::Close;
                }
            }
            let read = body::read(
                conn,
                head.body,
                door.max_body_bytes(),
                shared.options.body_timeout,
            )
            .await;
            match read {
                Ok(body) => {
                    let respond = door.respond(&head, plan, body);
                    match until_closed(conn, respond).await {
                        Some(answer) => answer,
                        // The client left: its call was dropped with it.
                        None => return After::Close,
                    }
                }
                Err(BodyError::Gone) => return After::Close,
                Err(error) => {
                    refusal::log(conn.peer, error.reason());
                    after = After::Linger;
                    body_refusal(error, door.max_body_bytes())
                }
            }
        }
        plan => {
            // The route takes no body, or the request is refused from its head:
            // its body is not buffered.
            let refused = !matches!(plan, Plan::Other);
            let skipped = skip_body(conn, &head, refused, shared.options.body_timeout).await;
            let unread = match skipped {
                Ok(true) => None,
                Ok(false) => Some(None),
                Err(BodyError::Gone) => return After::Close,
                Err(error) => {
                    refusal::log(conn.peer, error.reason());
                    Some(Some(error))
                }
            };
            if unread.is_some() {
                after = After::Linger;
            }
            match (plan, unread) {
                (Plan::Answer(answer) | Plan::Refused(answer), _) => answer,
                (_, Some(Some(error))) => body_refusal(error, NO_BODY_CAP),
                (plan, _) => door.respond(&head, plan, bytes::Bytes::new()).await,
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
    if shared.stop.is_cancelled() || (streamed && !head.http11) {
        after = after.max_close();
    }
    let close = after != After::Keep;
    let head_only = head.method() == "HEAD";
    let sent = if streamed {
        send_stream(conn, answer, close, head.http11).await
    } else {
        send_full(conn, answer, close, !head_only).await
    };
    if sent.is_err() { After::Close } else { after }
}

impl After {
    /// This, but never keeping the connection.
    fn max_close(self) -> After {
        match self {
            After::Keep => After::Close,
            other => other,
        }
    }
}

/// The answer to a body that could not be read.
fn body_refusal(error: BodyError, cap: usize) -> Answer {
    match error {
        BodyError::TooLarge => ApiError::payload_too_large(cap),
        BodyError::TimedOut => ApiError::with_status(StatusCode::REQUEST_TIMEOUT, error.reason()),
        BodyError::Malformed | BodyError::Gone => {
            ApiError::bad_request("The chunked request body is malformed", None)
        }
    }
    .into_answer()
}

/// Whether the whole body is already in the buffer.
fn body_buffered(conn: &Conn, head: &RequestHead) -> bool {
    match head.body {
        BodyLength::Known(n) => conn.buf.len() as u64 >= n,
        BodyLength::Chunked => false,
    }
}

/// Drops the body of a request whose body is not needed: `Ok(true)` when it
/// was read (or there was none), `Ok(false)` when it was left unread (the
/// connection then closes gracefully). A refused request's body is never
/// read, only dropped when it already arrived with its head; another's is
/// read when it is small and the client is not waiting for `100 Continue`
/// (a body over [`NO_BODY_CAP`] is a 413, `Err(TooLarge)`).
async fn skip_body(
    conn: &mut Conn,
    head: &RequestHead,
    refused: bool,
    timeout: Duration,
) -> Result<bool, BodyError> {
    if let BodyLength::Known(n) = head.body {
        if n == 0 {
            return Ok(true);
        }
        if n > NO_BODY_CAP as u64 {
            return if refused {
                Ok(false)
            } else {
                Err(BodyError::TooLarge)
            };
        }
        if body_buffered(conn, head) {
            let _ = conn.buf.split_to(n as usize);
            return Ok(true);
        }
    }
    if refused || head.expect_continue {
        return Ok(false);
    }
    body::read(conn, head.body, NO_BODY_CAP, timeout)
        .await
        .map(|_| true)
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
        conn.send(&body).await
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
