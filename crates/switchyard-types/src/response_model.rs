//! Setting the top-level `model` of an answer to the name the client asked
//! for, as LiteLLM's proxy does (`_override_openai_response_model`,
//! `_restamp_streaming_chunk_model`): a client that asked for `my-chat` sees
//! `"model": "my-chat"`, not the upstream's `gpt-4o-mini-2024-07-18`.
//!
//! The answer is not parsed: the top level of the object is scanned up to its
//! `model` key (usually among the first few), and the new value spliced in.
//! Anything that is not an object with a string `model` is left as it is.

use bytes::{Bytes, BytesMut};

/// `json` with its top-level `model` string replaced by `model_json` (a JSON
/// string literal, quotes included, written as it is); `None` when there is
/// nothing to change.
pub fn restamp_model(json: &[u8], model_json: &[u8]) -> Option<Vec<u8>> {
    let (start, end) = model_value_span(json)?;
    if &json[start..end] == model_json {
        return None;
    }
    let mut out = Vec::with_capacity(json.len() + model_json.len());
    out.extend_from_slice(&json[..start]);
    out.extend_from_slice(model_json);
    out.extend_from_slice(&json[end..]);
    Some(out)
}

/// Restamps the events of one stream, batch after batch: every `data:` line
/// that holds a JSON object gets its `model` replaced; everything else stays
/// byte for byte.
///
/// The events of one stream begin alike (`{"id":…,"object":…,"created":…,
/// "model":…` in OpenAI's streams): when an event starts with the very bytes
/// the previous one had up to its `model` value, the value is at the same
/// place, so the scan runs once per stream rather than once per event.
#[derive(Debug, Clone)]
pub struct EventRestamper {
    model_json: Bytes,
    /// The last scanned payload, up to the end of its `model` value.
    prefix: Vec<u8>,
    /// Where that value starts in `prefix`.
    value_start: usize,
}

impl EventRestamper {
    /// Restamps to `model_json`, a JSON string literal (quotes included).
    pub fn new(model_json: Bytes) -> Self {
        Self {
            model_json,
            prefix: Vec::new(),
            value_start: 0,
        }
    }

    /// `events` restamped; `None` when nothing changed.
    pub fn restamp(&mut self, events: &[u8]) -> Option<Bytes> {
        let mut out: Option<BytesMut> = None;
        let mut copied = 0;
        let mut at = 0;
        while at < events.len() {
            if events[at] == b'\n' {
                // The blank line that ends an event: nothing to look at.
                at += 1;
                continue;
            }
            let line_end =
                memchr::memchr(b'\n', &events[at..]).map_or(events.len(), |i| at + i + 1);
            if let Some(payload) = events[at..line_end].strip_prefix(b"data:") {
                let payload_start = at + 5 + usize::from(payload.first() == Some(&b' '));
                let payload = trim_line_end(&events[payload_start..line_end]);
                if let Some((start, end)) = self.model_span(payload)
                    && payload[start..end] != *self.model_json
                {
                    let buf = out.get_or_insert_with(|| BytesMut::with_capacity(events.len() + 64));
                    buf.extend_from_slice(&events[copied..payload_start + start]);
                    buf.extend_from_slice(&self.model_json);
                    copied = payload_start + end;
                }
            }
            at = line_end;
        }
        let mut out = out?;
        out.extend_from_slice(&events[copied..]);
        Some(out.freeze())
    }

    fn model_span(&mut self, payload: &[u8]) -> Option<(usize, usize)> {
        if !self.prefix.is_empty() && payload.starts_with(&self.prefix) {
            return Some((self.value_start, self.prefix.len()));
        }
        let (start, end) = model_value_span(payload)?;
        self.prefix.clear();
        self.prefix.extend_from_slice(&payload[..end]);
        self.value_start = start;
        Some((start, end))
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Byte range of the top-level `model` value (quotes included) of a JSON
/// object, when that value is a string.
///
/// One pass over the bytes up to that value, keeping only the nesting depth
/// and whether a string at depth 1 is a key: this runs on every event of
/// every stream, so it is written as a tight loop rather than a parser.
fn model_value_span(json: &[u8]) -> Option<(usize, usize)> {
    let mut i = skip_ws(json, 0);
    if json.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut depth = 1usize;
    let mut key_next = true;
    while let Some(&b) = json.get(i) {
        match b {
            b'"' => {
                let end = skip_string(json, i)?;
                if depth == 1 && key_next {
                    key_next = false;
                    if &json[i..end] == b"\"model\"" {
                        let mut v = skip_ws(json, end);
                        if json.get(v) != Some(&b':') {
                            return None;
                        }
                        v = skip_ws(json, v + 1);
                        return match json.get(v) {
                            Some(b'"') => Some((v, skip_string(json, v)?)),
                            _ => None,
                        };
                    }
                }
                i = end;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return None;
                }
            }
            b',' if depth == 1 => key_next = true,
            _ => {}
        }
        i += 1;
    }
    None
}

fn skip_ws(json: &[u8], mut i: usize) -> usize {
    while json
        .get(i)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        i += 1;
    }
    i
}

/// The index after the string that opens at `i`.
fn skip_string(json: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        // Strings are most of the bytes before `model` (the id): jump to the
        // next quote or escape rather than stepping through each byte.
        j += memchr::memchr2(b'"', b'\\', json.get(j..)?)?;
        if json[j] == b'"' {
            return Some(j + 1);
        }
        j += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restamped(json: &str, model: &str) -> Option<String> {
        restamp_model(json.as_bytes(), model.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn the_top_level_model_is_replaced_wherever_it_is() {
        assert_eq!(
            restamped(
                r#"{"id":"x","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06","choices":[]}"#,
                r#""my-chat""#
            )
            .unwrap(),
            r#"{"id":"x","object":"chat.completion","created":1,"model":"my-chat","choices":[]}"#
        );
        // After nested values with brackets and quotes inside strings, spaced out.
        let json = r#" { "data" : [ {"e": "a \"}]\\" } , 1.5e3, null ] , "meta":{"model":"inner"}, "model" : "up" } "#;
        assert_eq!(
            restamped(json, r#""mine""#).unwrap(),
            r#" { "data" : [ {"e": "a \"}]\\" } , 1.5e3, null ] , "meta":{"model":"inner"}, "model" : "mine" } "#
        );
    }

    #[test]
    fn nothing_changes_without_a_top_level_string_model() {
        for json in [
            r#"{"data":[{"model":"nested"}]}"#,
            r#"{"model":null}"#,
            r#"{"model":5}"#,
            r#"[{"model":"x"}]"#,
            r#"{"model":"same"}"#,
            r#"{"broken":"#,
            "",
            "not json",
        ] {
            assert_eq!(restamped(json, r#""same""#), None, "{json}");
        }
    }

    #[test]
    fn every_data_event_of_a_batch_is_restamped_and_the_rest_kept() {
        let events = concat!(
            ": comment\n\n",
            "data: {\"id\":\"1\",\"model\":\"up\",\"choices\":[]}\n\n",
            "event: x\r\ndata:{\"model\":\"up\"}\r\n\r\n",
            "data: {\"id\":\"3\",\"model\":\"mine\"}\n\n",
        );
        let mut stamp = EventRestamper::new(Bytes::from_static(br#""mine""#));
        let out = stamp.restamp(events.as_bytes()).unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            concat!(
                ": comment\n\n",
                "data: {\"id\":\"1\",\"model\":\"mine\",\"choices\":[]}\n\n",
                "event: x\r\ndata:{\"model\":\"mine\"}\r\n\r\n",
                "data: {\"id\":\"3\",\"model\":\"mine\"}\n\n",
            )
        );
        assert_eq!(stamp.restamp(b"data: {\"model\":\"mine\"}\n\n"), None);
    }

    #[test]
    fn events_that_begin_alike_reuse_the_scan_and_others_are_scanned_again() {
        let mut stamp = EventRestamper::new(Bytes::from_static(br#""mine""#));
        let batch = |content: &str, model: &str| {
            format!(
                "data: {{\"id\":\"c1\",\"model\":\"{model}\",\"choices\":[{{\"delta\":{{\"content\":\"{content}\"}}}}]}}\n\n"
            )
        };
        for (content, model) in [("a", "up"), ("b", "up"), ("c", "other"), ("d", "up")] {
            let out = stamp.restamp(batch(content, model).as_bytes()).unwrap();
            assert_eq!(
                std::str::from_utf8(&out).unwrap(),
                batch(content, "mine"),
                "{content}"
            );
        }
        // An event whose beginning differs in length is scanned afresh.
        let out = stamp
            .restamp(b"data: {\"id\":\"c1-longer\",\"model\":\"up\"}\n\n")
            .unwrap();
        assert_eq!(
            &out[..],
            b"data: {\"id\":\"c1-longer\",\"model\":\"mine\"}\n\n"
        );
    }
}
