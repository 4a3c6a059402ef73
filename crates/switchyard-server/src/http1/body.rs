//! Reading a request body to its end (RFC 9112 §6): by its length or its
//! chunks, never past the cap.

use bytes::{Bytes, BytesMut};
use switchyard_providers::client::{ChunkedState, Decoded};

use super::conn::Conn;
use super::head::BodyLength;

/// Why a body could not be read; the connection is answered (when it still
/// can be) and closed, since what is left of the body cannot be skipped.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Larger than the cap: 413.
    TooLarge,
    /// Broken chunked encoding: 400.
    Malformed,
    /// The client went away (or the socket failed) before the end.
    Gone,
}

/// Reads the body the head announced, up to `cap` bytes.
pub(crate) async fn read(
    conn: &mut Conn,
    length: BodyLength,
    cap: usize,
) -> Result<Bytes, BodyError> {
    match length {
        BodyLength::Known(0) => Ok(Bytes::new()),
        BodyLength::Known(n) if n > cap as u64 => Err(BodyError::TooLarge),
        BodyLength::Known(n) => {
            let n = n as usize;
            while conn.buf.len() < n {
                if !conn.fill(n - conn.buf.len()).await {
                    return Err(BodyError::Gone);
                }
            }
            Ok(conn.buf.split_to(n).freeze())
        }
        BodyLength::Chunked => {
            let mut state = ChunkedState::Size;
            let mut body = BytesMut::new();
            loop {
                match state.decode(&mut conn.buf) {
                    Ok(Decoded::Data(data)) => {
                        if body.len() + data.len() > cap {
                            return Err(BodyError::TooLarge);
                        }
                        body.extend_from_slice(&data);
                    }
                    Ok(Decoded::NeedMore) => {
                        if !conn.fill(1).await {
                            return Err(BodyError::Gone);
                        }
                    }
                    Ok(Decoded::End) => return Ok(body.freeze()),
                    Err(_) => return Err(BodyError::Malformed),
                }
            }
        }
    }
}
