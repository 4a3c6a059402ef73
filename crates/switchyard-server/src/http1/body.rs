//! Reading a request body to its end (RFC 9112 §6): by its length or its
//! chunks, never past the cap, and never waiting on a stalled client for
//! longer than the body timeout between two reads.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use switchyard_providers::client::{ChunkedState, Decoded};
use tokio::time::Instant;

use super::conn::{Conn, Filled};
use super::head::BodyLength;

/// Why a body could not be read; the connection is answered (when it still
/// can be) and closed, since what is left of the body cannot be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Larger than the cap: 413.
    TooLarge,
    /// Broken chunked encoding: 400.
    Malformed,
    /// No progress within the body timeout: 408.
    TimedOut,
    /// The client went away (or the socket failed) before the end.
    Gone,
}

impl BodyError {
    /// Why, in a few words (for the log line).
    pub(crate) fn reason(self) -> &'static str {
        match self {
            BodyError::TooLarge => "request body too large",
            BodyError::Malformed => "malformed chunked request body",
            BodyError::TimedOut => "the request body stalled past the body timeout",
            BodyError::Gone => "the client left before the end of its body",
        }
    }
}

/// Reads the body the head announced, up to `cap` bytes, each read within
/// `timeout`.
pub(crate) async fn read(
    conn: &mut Conn,
    length: BodyLength,
    cap: usize,
    timeout: Duration,
) -> Result<Bytes, BodyError> {
    match length {
        BodyLength::Known(0) => Ok(Bytes::new()),
        BodyLength::Known(n) if n > cap as u64 => Err(BodyError::TooLarge),
        BodyLength::Known(n) => {
            let n = n as usize;
            while conn.buf.len() < n {
                let want = n - conn.buf.len();
                more(conn.fill_by(want, Instant::now() + timeout).await)?;
            }
            Ok(conn.buf.split_to(n).freeze())
        }
        BodyLength::Chunked => {
            let mut state = ChunkedState::Size;
            let mut body = BytesMut::new();
            while !take_chunks(&mut state, &mut conn.buf, &mut body, cap)? {
                more(conn.fill_by(1, Instant::now() + timeout).await)?;
            }
            Ok(body.freeze())
        }
    }
}

fn more(filled: Filled) -> Result<(), BodyError> {
    match filled {
        Filled::More => Ok(()),
        Filled::Closed => Err(BodyError::Gone),
        Filled::TimedOut => Err(BodyError::TimedOut),
    }
}

/// Decodes what `buf` holds of a chunked body into `body`, never past `cap`
/// bytes: `Ok(true)` once the body (trailers included) has ended, `Ok(false)`
/// when more input is needed.
pub(crate) fn take_chunks(
    state: &mut ChunkedState,
    buf: &mut BytesMut,
    body: &mut BytesMut,
    cap: usize,
) -> Result<bool, BodyError> {
    loop {
        match state.decode(buf) {
            Ok(Decoded::Data(data)) => {
                if body.len() + data.len() > cap {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&data);
            }
            Ok(Decoded::NeedMore) => return Ok(false),
            Ok(Decoded::End) => return Ok(true),
            Err(_) => return Err(BodyError::Malformed),
        }
    }
}
