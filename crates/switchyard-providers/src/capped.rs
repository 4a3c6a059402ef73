//! Reading upstream bodies with a size cap: no upstream body is read unbounded.

use bytes::{Bytes, BytesMut};

use crate::client::{Body, BodyError, Response};

/// Cap on a non-2xx body: enough for any error object, small enough to keep
/// a misbehaving upstream from costing memory.
pub const ERROR_BODY_CAP: usize = 1024 * 1024;

/// Cap on a complete 2xx body (embeddings of large batches are the big ones).
pub const SUCCESS_BODY_CAP: usize = 64 * 1024 * 1024;

/// A body that went past its cap.
#[derive(Debug)]
pub struct TooLarge;

/// Reads the whole body, failing once it exceeds `cap` bytes.
pub async fn read_body(
    resp: &mut Response,
    cap: usize,
) -> Result<Result<Bytes, TooLarge>, BodyError> {
    if resp
        .body_mut()
        .declared_len()
        .is_some_and(|n| n > cap as u64)
    {
        return Ok(Err(TooLarge));
    }
    let mut body = Accumulator::default();
    while let Some(chunk) = next_chunk(resp.body_mut()).await? {
        if body.len() + chunk.len() > cap {
            return Ok(Err(TooLarge));
        }
        body.push(chunk);
    }
    Ok(Ok(body.finish()))
}

/// Reads at most `cap` bytes of the body and drops the rest: for error
/// bodies, where the beginning is all the classification needs.
pub async fn read_body_truncated(resp: &mut Response, cap: usize) -> Result<Bytes, BodyError> {
    let mut body = Accumulator::default();
    while let Some(chunk) = next_chunk(resp.body_mut()).await? {
        let room = cap - body.len();
        if chunk.len() >= room {
            body.push(chunk.slice(..room));
            break;
        }
        body.push(chunk);
    }
    Ok(body.finish())
}

/// The next chunk of a body; `None` at its end.
pub(crate) async fn next_chunk(body: &mut Body) -> Result<Option<Bytes>, BodyError> {
    body.chunk().await.transpose()
}

/// Joins chunks, copying only when there is more than one (most small bodies
/// arrive in a single read).
#[derive(Debug, Default)]
pub(crate) struct Accumulator {
    first: Option<Bytes>,
    rest: Option<BytesMut>,
}

impl Accumulator {
    /// Bytes gathered so far.
    pub(crate) fn len(&self) -> usize {
        match (&self.first, &self.rest) {
            (_, Some(rest)) => rest.len(),
            (Some(first), None) => first.len(),
            (None, None) => 0,
        }
    }

    /// Whether nothing was gathered.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a chunk.
    pub(crate) fn push(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        match (&mut self.first, &mut self.rest) {
            (_, Some(rest)) => rest.extend_from_slice(&chunk),
            (None, None) => self.first = Some(chunk),
            (Some(first), None) => {
                let mut joined = BytesMut::with_capacity(first.len() + chunk.len());
                joined.extend_from_slice(first);
                joined.extend_from_slice(&chunk);
                self.first = None;
                self.rest = Some(joined);
            }
        }
    }

    /// Everything gathered, as one buffer.
    pub(crate) fn finish(self) -> Bytes {
        match (self.first, self.rest) {
            (_, Some(rest)) => rest.freeze(),
            (Some(first), None) => first,
            (None, None) => Bytes::new(),
        }
    }

    /// Everything gathered, `None` when empty; leaves the accumulator empty.
    pub(crate) fn take(&mut self) -> Option<Bytes> {
        let taken = std::mem::take(self);
        (!taken.is_empty()).then(|| taken.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulator_joins_chunks() {
        let mut acc = Accumulator::default();
        assert!(acc.take().is_none());
        acc.push(Bytes::from_static(b"ab"));
        assert_eq!(acc.len(), 2);
        acc.push(Bytes::new());
        acc.push(Bytes::from_static(b"cd"));
        acc.push(Bytes::from_static(b"e"));
        assert_eq!(acc.len(), 5);
        assert_eq!(&acc.take().unwrap()[..], b"abcde");
        assert!(acc.is_empty());
    }
}
