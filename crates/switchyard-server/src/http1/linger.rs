//! Closing a connection whose client may still be sending (a refused head,
//! a body too large or too slow): the answer is written, the write side shut
//! (the client reads the answer, then the end), and what still arrives is
//! read and dropped for a moment before the socket closes. Closing at once
//! with unread bytes makes the kernel send a reset, and a client that gets
//! one before it has read the answer never sees it (nginx's lingering
//! close, for the same reason).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long at most a closing connection is read and dropped.
const LINGER: Duration = Duration::from_secs(2);

/// Shuts the write side of `io`, then reads and drops what arrives until the
/// client closes its side or [`LINGER`] passes. Uses `scratch` as the read
/// buffer, so it allocates nothing.
pub(crate) async fn close(mut io: TcpStream, scratch: &mut [u8]) {
    if io.shutdown().await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(LINGER, async {
        while matches!(io.read(scratch).await, Ok(n) if n > 0) {}
    })
    .await;
}
