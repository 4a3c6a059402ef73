//! One request/response exchange on one connection, driven by the caller's
//! own task: write the request, read the head, hand the body over.
//!
//! Why not hyper's client: it runs every connection as a task of its own and
//! talks to it through channels (request in, response head out, body frames
//! out), which on the proxy's hot path cost about a quarter of its user CPU
//! per request (`bench/`). A gateway only ever sends a `POST` with a body in
//! memory and reads one response, so the exchange is done where the request
//! already runs.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

use super::body::Body;
use super::connect::UpstreamIo;
use super::framing::{self, ProtocolError};
use super::request::PreparedRequest;
use crate::UpstreamHeaders;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What one upstream connection reads and writes through.
type Io = TokioIo<hyper_rustls::MaybeHttpsStream<UpstreamIo>>;

/// Bytes asked of the socket per read.
pub(crate) const READ_CHUNK: usize = 8 * 1024;

/// Bodies up to this size are copied behind the head, so the request leaves
/// in one write; larger ones are written after it.
const COPY_BODY_UP_TO: usize = 64 * 1024;

/// An open upstream connection and what was read from it but not consumed.
///
/// The socket is boxed: with its TLS state it is over a kilobyte, and a
/// `Conn` moves through the pool, the exchange and the body on every request
/// (each move a memcpy of the whole, and every future holding one that big).
pub(crate) struct Conn {
    io: Box<Io>,
    pub(crate) buf: BytesMut,
    /// What the next request is written from: kept with the connection so each
    /// request reuses it rather than allocating its own.
    out: Vec<u8>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl Conn {
    pub(crate) fn new(io: Io) -> Self {
        Self {
            io: Box::new(io),
            buf: BytesMut::with_capacity(READ_CHUNK),
            out: Vec::new(),
        }
    }

    /// Reads more into `buf`; `Ok(0)` at the end of the stream.
    pub(crate) fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 2 {
            self.buf.reserve(READ_CHUNK);
        }
        tokio_util::io::poll_read_buf(Pin::new(&mut *self.io), cx, &mut self.buf)
    }

    /// A read while idle: anything but `Pending` means the connection is done.
    pub(crate) fn poll_idle_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut probe = [0u8; 1];
        let mut probe = ReadBuf::new(&mut probe);
        Pin::new(&mut *self.io).poll_read(cx, &mut probe)
    }
}

/// Why no response head arrived.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No connection could be opened (refused, DNS, TLS, proxy, connect timeout).
    #[error("connection failed")]
    Connect(#[source] BoxError),
    /// The request could not be written.
    #[error("error writing the request")]
    Write(#[source] io::Error),
    /// The connection failed while waiting for the response head.
    #[error("error reading the response head")]
    Read(#[source] io::Error),
    /// The upstream closed (or reset) the connection without sending a byte
    /// of its answer.
    #[error("the upstream closed the connection before answering")]
    Closed,
    /// The response head is not valid HTTP/1.1.
    #[error(transparent)]
    Protocol(ProtocolError),
}

impl SendError {
    /// Whether the failure was opening the connection.
    pub fn is_connect(&self) -> bool {
        matches!(self, SendError::Connect(_))
    }
}

/// An upstream response: status, head and a body to be read by the caller.
#[derive(Debug)]
pub struct Response {
    status: u16,
    headers: UpstreamHeaders,
    body: Body,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// `Content-Type`, if the upstream sent one in visible ASCII (one that
    /// is not counts as absent).
    pub fn content_type(&self) -> Option<&str> {
        let value = self.headers.get("content-type")?;
        let visible = value
            .iter()
            .all(|b| *b == b'\t' || (b' '..=b'~').contains(b));
        visible.then(|| std::str::from_utf8(value).ok()).flatten()
    }

    /// Every header of the response (classification reads `Retry-After`
    /// and friends; a proxy passes rate-limit headers on).
    pub fn headers(&self) -> &UpstreamHeaders {
        &self.headers
    }

    /// The headers, taken out of the response.
    pub fn take_headers(&mut self) -> UpstreamHeaders {
        std::mem::take(&mut self.headers)
    }

    /// The body, to be read.
    pub fn body_mut(&mut self) -> &mut Body {
        &mut self.body
    }

    /// The body, owned (for streams).
    pub fn into_body(self) -> Body {
        self.body
    }
}

/// Writes `body` as one request on `conn` and reads the response head.
pub(crate) async fn exchange(
    mut conn: Conn,
    request: &PreparedRequest,
    body: &Bytes,
) -> Result<Response, SendError> {
    let copy = body.len() <= COPY_BODY_UP_TO;
    let mut out = std::mem::take(&mut conn.out);
    request.write_head(body.len(), &mut out);
    if copy {
        out.extend_from_slice(body);
    }
    let written = async {
        conn.io.write_all(&out).await?;
        if !copy {
            conn.io.write_all(body).await?;
        }
        conn.io.flush().await
    };
    written.await.map_err(SendError::Write)?;
    // Kept for the next request, unless one unusually large body grew it.
    if out.capacity() <= 2 * COPY_BODY_UP_TO {
        conn.out = out;
    }
    let head = loop {
        if !conn.buf.is_empty() {
            match framing::parse_head(&conn.buf).map_err(SendError::Protocol)? {
                // Informational answers (100 Continue, 103 Early Hints) precede the real one.
                Some(head) if (100..200).contains(&head.status) && head.status != 101 => {
                    conn.buf.advance(head.len);
                    continue;
                }
                Some(head) => break head,
                None => {}
            }
        }
        if conn.buf.capacity() - conn.buf.len() < READ_CHUNK / 2 {
            conn.buf.reserve(READ_CHUNK);
        }
        match conn.io.read_buf(&mut conn.buf).await {
            Ok(0) if conn.buf.is_empty() => return Err(SendError::Closed),
            Ok(0) => return Err(SendError::Read(io::ErrorKind::UnexpectedEof.into())),
            Ok(_) => {}
            Err(e) if conn.buf.is_empty() && is_reset(&e) => return Err(SendError::Closed),
            Err(e) => return Err(SendError::Read(e)),
        }
    };
    let headers = UpstreamHeaders::from_head(&conn.buf[..head.len], head.lines);
    conn.buf.advance(head.len);
    Ok(Response {
        status: head.status,
        headers,
        body: Body::new(conn, head.framing, head.keep_alive, request.pool.clone()),
    })
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
    )
}
