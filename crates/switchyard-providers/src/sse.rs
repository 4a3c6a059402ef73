//! Incremental, size-capped SSE decoder.
//!
//! Network reads are fed in as they arrive; whole events come out as the raw
//! bytes that were received (terminating blank line included), so an
//! OpenAI-dialect stream can be forwarded byte for byte without re-encoding.
//! Only the framing is parsed here; [`SseEvent::data`] reads the `data:` field
//! when a caller needs to look inside (the `[DONE]` marker, an error object).
//!
//! Line endings may be `\n`, `\r\n` or `\r` (the SSE specification allows all
//! three), and an event may be split anywhere across reads.

use std::borrow::Cow;
use std::sync::LazyLock;

use bytes::{Bytes, BytesMut};
use memchr::memchr2;

/// Default bound on one event. OpenAI chunks are a few hundred bytes; images
/// or audio deltas can be large, but an event beyond this is a broken upstream.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// OpenAI's end-of-stream data, searched for in every read (built once:
/// `memmem::find` builds a searcher per call, dearer than the search).
static DONE_MARKER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"[DONE]"));

/// Why the byte stream is not acceptable SSE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// One event grew past the cap without being terminated.
    #[error("SSE event larger than {max} bytes")]
    EventTooLarge {
        /// The cap that was exceeded.
        max: usize,
    },
}

/// Turns network chunks into complete SSE events.
#[derive(Debug)]
pub struct SseDecoder {
    /// Bytes received and not yet returned as events.
    buf: BytesMut,
    /// Where scanning resumes: everything before it has been looked at.
    pos: usize,
    /// Start of the line being scanned.
    line_start: usize,
    max_event_bytes: usize,
}

impl SseDecoder {
    /// A decoder that rejects events larger than `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            pos: 0,
            line_start: 0,
            max_event_bytes,
        }
    }

    /// Appends one network read.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes held that do not yet form a complete event.
    pub fn pending_len(&self) -> usize {
        self.buf.len()
    }

    /// The next complete event, `None` when more bytes are needed.
    ///
    /// A stray blank line comes out as an event of its own with no fields
    /// ([`SseEvent::is_empty`]); it is harmless to forward and keeps the
    /// output identical to the input.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, SseError> {
        let Some(end) = next_event_end(&self.buf, &mut self.pos, &mut self.line_start) else {
            if self.buf.len() > self.max_event_bytes {
                return Err(self.too_large());
            }
            return Ok(None);
        };
        let raw = self.buf.split_to(end).freeze();
        self.pos = 0;
        self.line_start = 0;
        if raw.len() > self.max_event_bytes {
            return Err(self.too_large());
        }
        Ok(Some(SseEvent { raw }))
    }

    /// Feeds one network read and returns every complete event in it, raw
    /// and contiguous, up to the `data: [DONE]` event (which is not
    /// included): what a proxy forwards once the stream is committed.
    ///
    /// Unlike [`next_event`](Self::next_event) it hands the events over as
    /// one slice of `chunk` when the read starts on an event boundary (the
    /// usual case), so nothing is copied or split per event; only an
    /// unterminated tail is kept.
    pub fn forward(&mut self, chunk: Bytes) -> Result<Forwarded, SseError> {
        if self.buf.is_empty() {
            let (mut pos, mut line_start) = (0, 0);
            let (end, done) = self.complete_prefix(&chunk, &mut pos, &mut line_start)?;
            if !done {
                self.buf.extend_from_slice(&chunk[end..]);
                self.pos = pos - end;
                self.line_start = line_start - end;
            }
            return Ok(Forwarded::new(chunk.slice(..end), done));
        }
        self.buf.extend_from_slice(&chunk);
        let (mut pos, mut line_start) = (self.pos, self.line_start);
        let (end, done) = self.complete_prefix(&self.buf, &mut pos, &mut line_start)?;
        let events = self.buf.split_to(end).freeze();
        if done {
            // Whatever follows `[DONE]` is not part of the stream.
            self.buf.clear();
            (self.pos, self.line_start) = (0, 0);
        } else {
            self.pos = pos - end;
            self.line_start = line_start - end;
        }
        Ok(Forwarded::new(events, done))
    }

    /// Where the complete events at the start of `buf` end, and whether the
    /// scan stopped at a `[DONE]` event (then the end is where it starts).
    fn complete_prefix(
        &self,
        buf: &[u8],
        pos: &mut usize,
        line_start: &mut usize,
    ) -> Result<(usize, bool), SseError> {
        // Most reads hold no `[DONE]` at all, and where one does, only the
        // event that holds it needs looking into.
        let mut marker = DONE_MARKER.find(buf);
        let mut event_start = 0;
        while let Some(end) = next_event_end(buf, pos, line_start) {
            if end - event_start > self.max_event_bytes {
                return Err(self.too_large());
            }
            if marker.is_some_and(|at| at < end) {
                if is_done_event(&buf[event_start..end]) {
                    return Ok((event_start, true));
                }
                // The marker was inside a chunk's JSON: look for the next one.
                marker = DONE_MARKER.find(&buf[end..]).map(|at| end + at);
            }
            event_start = end;
        }
        if buf.len() - event_start > self.max_event_bytes {
            return Err(self.too_large());
        }
        Ok((event_start, false))
    }

    fn too_large(&self) -> SseError {
        SseError::EventTooLarge {
            max: self.max_event_bytes,
        }
    }

    /// At end of input: whatever was left unterminated, as an event, if it
    /// holds anything other than whitespace. Some servers omit the final
    /// blank line after `data: [DONE]`.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if self.buf.iter().all(u8::is_ascii_whitespace) {
            self.buf.clear();
            return None;
        }
        self.pos = 0;
        self.line_start = 0;
        Some(SseEvent {
            raw: self.buf.split().freeze(),
        })
    }
}

/// What [`SseDecoder::forward`] hands over from one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    /// The complete events before `[DONE]`, as received; `None` if there were none.
    pub events: Option<Bytes>,
    /// Whether the `[DONE]` event was reached (the stream is over).
    pub done: bool,
}

impl Forwarded {
    fn new(events: Bytes, done: bool) -> Self {
        Self {
            events: (!events.is_empty()).then_some(events),
            done,
        }
    }
}

/// The end of the next event in `buf` (just past its blank line), resuming
/// the scan at `pos` inside a line that starts at `line_start`; `None` when
/// the event is not complete yet (both are then where to resume).
fn next_event_end(buf: &[u8], pos: &mut usize, line_start: &mut usize) -> Option<usize> {
    loop {
        let end = match buf.get(*pos) {
            // The blank line that ends an event starts right where the
            // previous line ended: no search needed for it.
            Some(b'\n' | b'\r') => *pos,
            Some(_) => *pos + memchr2(b'\n', b'\r', &buf[*pos..])?,
            None => return None,
        };
        let terminator_len = if buf[end] == b'\r' {
            match buf.get(end + 1) {
                Some(b'\n') => 2,
                Some(_) => 1,
                // A `\r` at the end of what we have may be the first half of
                // `\r\n`: wait for the next byte before deciding.
                None => return None,
            }
        } else {
            1
        };
        let blank_line = end == *line_start;
        *pos = end + terminator_len;
        *line_start = *pos;
        if blank_line {
            return Some(*pos);
        }
    }
}

/// The raw events of a run of complete events (what [`SseDecoder::forward`] hands
/// over), in order, without copying.
pub fn events_of(run: &[u8]) -> impl Iterator<Item = &[u8]> {
    let (mut pos, mut line_start, mut start) = (0, 0, 0);
    std::iter::from_fn(move || {
        if start >= run.len() {
            return None;
        }
        // The run holds complete events only: what no blank line ends is the last one
        // (its `\r` terminator was settled by the byte that followed it in the read).
        let end = next_event_end(run, &mut pos, &mut line_start).unwrap_or(run.len());
        let event = &run[start..end];
        start = end;
        Some(event)
    })
}

/// The `data` field of one raw event, as [`SseEvent::data`] reads it.
pub fn event_data(raw: &[u8]) -> Option<Cow<'_, [u8]>> {
    data_of(raw)
}

/// Whether the raw event is the terminal `data: [DONE]`.
fn is_done_event(raw: &[u8]) -> bool {
    data_of(raw).is_some_and(|d| is_done(&d))
}

/// The `data` field of a raw event (see [`SseEvent::data`]).
fn data_of(raw: &[u8]) -> Option<Cow<'_, [u8]>> {
    let mut data: Option<Cow<'_, [u8]>> = None;
    for line in lines(raw) {
        let Some(value) = field_value(line, b"data") else {
            continue;
        };
        data = Some(match data {
            None => Cow::Borrowed(value),
            Some(prev) => {
                let mut joined = prev.into_owned();
                joined.push(b'\n');
                joined.extend_from_slice(value);
                Cow::Owned(joined)
            }
        });
    }
    data
}

/// One complete event, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    raw: Bytes,
}

impl SseEvent {
    /// The event's bytes exactly as received, terminating blank line included.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// Consumes the event, returning its raw bytes.
    pub fn into_raw(self) -> Bytes {
        self.raw
    }

    /// The `data` field: several `data:` lines joined with `\n`, as the SSE
    /// specification says. `None` when the event has no `data` line (a
    /// comment, a blank line, only `event:`/`id:`).
    pub fn data(&self) -> Option<Cow<'_, [u8]>> {
        data_of(&self.raw)
    }

    /// Whether this is the terminal `data: [DONE]` event.
    pub fn is_done(&self) -> bool {
        is_done_event(&self.raw)
    }

    /// Whether the event carries no field at all (blank lines, comments only).
    pub fn is_empty(&self) -> bool {
        lines(&self.raw).all(|line| line.is_empty() || line[0] == b':')
    }
}

/// Whether a `data` value is OpenAI's end-of-stream marker `[DONE]`.
pub fn is_done(data: &[u8]) -> bool {
    data.trim_ascii() == b"[DONE]"
}

/// The lines of an event, without their terminators.
fn lines(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = raw;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr2(b'\n', b'\r', rest) {
            Some(i) => {
                let line = &rest[..i];
                let skip = if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                rest = &rest[i + skip..];
                Some(line)
            }
            None => {
                let line = rest;
                rest = &[];
                Some(line)
            }
        }
    })
}

/// The value of `line` when it sets field `name`: `name: value`, `name:value`
/// (one leading space is not part of the value) or a bare `name` (empty value).
fn field_value<'a>(line: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let rest = line.strip_prefix(name)?;
    match rest.first() {
        None => Some(rest),
        Some(b':') => Some(rest[1..].strip_prefix(b" ").unwrap_or(&rest[1..])),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<Bytes> {
        let mut dec = SseDecoder::new(DEFAULT_MAX_EVENT_BYTES);
        let mut out = Vec::new();
        for chunk in chunks {
            dec.push(chunk);
            while let Some(ev) = dec.next_event().unwrap() {
                out.push(ev.into_raw());
            }
        }
        out
    }

    #[test]
    fn several_events_in_one_chunk() {
        let evs = decode_all(&[b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n"]);
        assert_eq!(evs.len(), 3);
        assert_eq!(&evs[0][..], b"data: {\"a\":1}\n\n");
        assert_eq!(&evs[1][..], b"data: {\"b\":2}\n\n");
        assert!(
            SseEvent {
                raw: evs[2].clone()
            }
            .is_done()
        );
    }

    #[test]
    fn crlf_and_cr_line_endings() {
        let evs = decode_all(&[b"data: x\r\n\r\ndata: y\r\rdata: z\n\n"]);
        assert_eq!(evs.len(), 3);
        assert_eq!(&evs[0][..], b"data: x\r\n\r\n");
        assert_eq!(&evs[1][..], b"data: y\r\r");
    }

    #[test]
    fn cr_at_chunk_end_waits_for_possible_lf() {
        let mut dec = SseDecoder::new(1024);
        dec.push(b"data: x\r\n\r");
        assert_eq!(dec.next_event().unwrap(), None);
        dec.push(b"\n");
        assert_eq!(
            &dec.next_event().unwrap().unwrap().raw()[..],
            b"data: x\r\n\r\n"
        );
        assert_eq!(dec.pending_len(), 0);
    }

    #[test]
    fn data_field_forms() {
        let ev = |s: &'static [u8]| SseEvent {
            raw: Bytes::from_static(s),
        };
        assert_eq!(ev(b"data: a\n\n").data().as_deref(), Some(&b"a"[..]));
        assert_eq!(ev(b"data:a\n\n").data().as_deref(), Some(&b"a"[..]));
        assert_eq!(ev(b"data:  a\n\n").data().as_deref(), Some(&b" a"[..]));
        assert_eq!(ev(b"data\n\n").data().as_deref(), Some(&b""[..]));
        assert_eq!(
            ev(b"data: a\ndata: b\n\n").data().as_deref(),
            Some(&b"a\nb"[..])
        );
        assert_eq!(ev(b": keep-alive\n\n").data(), None);
        assert!(ev(b": keep-alive\n\n").is_empty());
        assert!(!ev(b"event: ping\n\n").is_empty());
        assert_eq!(ev(b"dataset: a\n\n").data(), None);
        assert!(ev(b"data:[DONE]\n\n").is_done());
        assert!(ev(b"event: x\ndata: [DONE]\r\n\r\n").is_done());
        assert!(!ev(b"data: {\"x\":\"[DONE]\"}\n\n").is_done());
    }

    #[test]
    fn size_cap_on_unterminated_and_terminated_events() {
        let mut dec = SseDecoder::new(16);
        dec.push(b"data: 0123456789abcdef");
        assert_eq!(dec.next_event(), Err(SseError::EventTooLarge { max: 16 }));

        let mut dec = SseDecoder::new(16);
        dec.push(b"data: 0123456789\n\n");
        assert_eq!(dec.next_event(), Err(SseError::EventTooLarge { max: 16 }));

        // Many small events in one read are fine even if their sum is large.
        let mut dec = SseDecoder::new(16);
        dec.push(&b"data: 1\n\n".repeat(10));
        let mut n = 0;
        while dec.next_event().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 10);
    }

    #[test]
    fn finish_returns_unterminated_tail() {
        let mut dec = SseDecoder::new(1024);
        dec.push(b"data: a\n\ndata: [DONE]");
        assert!(dec.next_event().unwrap().is_some());
        assert_eq!(dec.next_event().unwrap(), None);
        assert!(dec.finish().unwrap().is_done());
        dec.push(b"\n\n ");
        assert_eq!(dec.finish(), None);
    }

    /// A small deterministic generator so the split test needs no dependency.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    const STREAM: &[u8] = b": comment\n\ndata: {\"id\":1,\"c\":\"h\xc3\xa9\"}\n\n\
        data:{\"id\":2}\r\n\r\nevent: x\ndata: a\ndata: b\n\ndata: {\"id\":3}\r\rdata: [DONE]\n\n";

    #[test]
    fn every_two_and_three_way_split_gives_the_same_events() {
        let expected = decode_all(&[STREAM]);
        assert_eq!(expected.len(), 6);
        assert_eq!(expected.concat(), STREAM);
        for i in 0..=STREAM.len() {
            assert_eq!(
                decode_all(&[&STREAM[..i], &STREAM[i..]]),
                expected,
                "split at {i}"
            );
            for j in i..=STREAM.len() {
                let parts = [&STREAM[..i], &STREAM[i..j], &STREAM[j..]];
                assert_eq!(decode_all(&parts), expected, "split at {i},{j}");
            }
        }
    }

    /// Feeds `parts` through [`SseDecoder::forward`]: everything forwarded,
    /// joined, and whether `[DONE]` was reached.
    fn forward_all(parts: &[&[u8]], max: usize) -> Result<(Vec<u8>, bool), SseError> {
        let mut dec = SseDecoder::new(max);
        let mut out = Vec::new();
        for part in parts {
            let forwarded = dec.forward(Bytes::copy_from_slice(part))?;
            out.extend_from_slice(forwarded.events.as_deref().unwrap_or_default());
            if forwarded.done {
                return Ok((out, true));
            }
        }
        Ok((out, false))
    }

    #[test]
    fn forward_hands_over_every_event_before_done_whatever_the_splits() {
        let done_at = STREAM.len() - b"data: [DONE]\n\n".len();
        let expected = (STREAM[..done_at].to_vec(), true);
        let tail = b"data: {\"after\":1}\n\n";
        let stream = [STREAM, tail].concat();
        for i in 0..=stream.len() {
            for j in i..=stream.len() {
                let parts = [&stream[..i], &stream[i..j], &stream[j..]];
                assert_eq!(
                    forward_all(&parts, DEFAULT_MAX_EVENT_BYTES).unwrap(),
                    expected,
                    "split at {i},{j}"
                );
            }
        }
    }

    #[test]
    fn forward_keeps_incomplete_events_and_ignores_done_inside_json() {
        let mut dec = SseDecoder::new(1024);
        let f = dec
            .forward(Bytes::from_static(
                b"data: {\"x\":\"[DONE]\"}\n\ndata: {\"y\"",
            ))
            .unwrap();
        assert_eq!(
            f.events.as_deref(),
            Some(&b"data: {\"x\":\"[DONE]\"}\n\n"[..])
        );
        assert!(!f.done);
        assert_eq!(dec.pending_len(), b"data: {\"y\"".len());
        let f = dec.forward(Bytes::from_static(b":1}\r\n\r\n")).unwrap();
        assert_eq!(f.events.as_deref(), Some(&b"data: {\"y\":1}\r\n\r\n"[..]));
        let f = dec
            .forward(Bytes::from_static(b"data: [DONE]\n\n"))
            .unwrap();
        assert_eq!((f.events, f.done), (None, true));
    }

    #[test]
    fn forward_finds_the_real_done_after_markers_inside_chunks_of_the_same_read() {
        let read = b"data: {\"x\":\"[DONE]\"}\n\ndata: {\"y\":1}\n\ndata: {\"z\":\"[DONE] [DONE]\"}\n\ndata: [DONE]\n\ndata: {\"after\":1}\n\n";
        let done_at = read.len() - b"data: [DONE]\n\ndata: {\"after\":1}\n\n".len();
        let f = SseDecoder::new(1024)
            .forward(Bytes::copy_from_slice(read))
            .unwrap();
        assert_eq!(f.events.as_deref(), Some(&read[..done_at]));
        assert!(f.done);
    }

    #[test]
    fn forward_caps_event_size() {
        assert_eq!(
            forward_all(&[b"data: 0123456789abcdef"], 16),
            Err(SseError::EventTooLarge { max: 16 })
        );
        assert_eq!(
            forward_all(&[b"data: 1\n\n", b"data: 0123456789\n\n"], 16),
            Err(SseError::EventTooLarge { max: 16 })
        );
        let many = b"data: 1\n\n".repeat(10);
        assert_eq!(forward_all(&[&many], 16), Ok((many.clone(), false)));
    }

    #[test]
    fn random_splits_give_the_same_events() {
        let expected = decode_all(&[STREAM]);
        let mut seed = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            let mut parts = Vec::new();
            let mut at = 0;
            while at < STREAM.len() {
                let len = 1 + (xorshift(&mut seed) % 7) as usize;
                let end = (at + len).min(STREAM.len());
                parts.push(&STREAM[at..end]);
                at = end;
            }
            assert_eq!(decode_all(&parts), expected);
        }
    }
}
