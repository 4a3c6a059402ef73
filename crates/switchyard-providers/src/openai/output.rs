//! Whether a streamed chunk carries output: the commit point of a stream.
//!
//! Upstreams often open a stream with events that say nothing yet: a role-only
//! delta, an empty `content`, Azure's `prompt_filter_results` with no choices.
//! An upstream can send those and then stall. Until an event carries output
//! (content, a tool or function call, a refusal, reasoning, audio, or a text
//! completion's `text`), the stream can still be abandoned and tried elsewhere,
//! so those events are held back rather than sent.

/// Whether this `data:` payload carries output: one of the fields that carry it (a
/// delta's `content`, `tool_calls`, `function_call`, `refusal`, `reasoning_content`,
/// `reasoning` or `audio`, a text completion's `text`) holds a value other than `null`,
/// `""`, `[]` or `{}`. A payload without a `choices` key is not a chunk and cannot be
/// judged, so it counts as output and is never held back.
///
/// One pass over the payload's strings rather than a parse: it runs on the first events
/// of every stream, and a full parse cost a quarter of a streamed request's CPU. It is
/// exact on valid JSON, where a string followed by `:` is a key. (A key of one of those
/// names elsewhere in a chunk, such as `logprobs.content`, only ever comes with output.)
pub(crate) fn carries_output(data: &[u8]) -> bool {
    judge(data) != Judged::Quiet
}

/// What [`carries_output`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Judged {
    /// No `choices`: not a chunk (an error object, a vendor's own event).
    NotAChunk,
    /// A chunk without output.
    Quiet,
    /// A chunk with output.
    Output,
}

/// [`carries_output`], saying whether the payload was a chunk at all.
pub(crate) fn judge(data: &[u8]) -> Judged {
    // What comes before `choices` (`id`, `model`...) never holds output: skipped at once.
    let Some(mut at) = choices_key_end(data) else {
        return Judged::NotAChunk;
    };
    // The strings after it, by hand: they are a few bytes each, too short for
    // `memchr`'s set-up to pay.
    while let Some(open) = data[at..].iter().position(|&b| b == b'"') {
        let start = at + open + 1;
        let Some(end) = string_end(data, start) else {
            break;
        };
        at = end + 1;
        let rest = data[at..].trim_ascii_start();
        let Some((b':', value)) = rest.split_first() else {
            continue;
        };
        if matches!(
            &data[start..end],
            b"content"
                | b"tool_calls"
                | b"function_call"
                | b"refusal"
                | b"reasoning_content"
                | b"reasoning"
                | b"audio"
                | b"text"
        ) && holds_a_value(value.trim_ascii_start())
        {
            return Judged::Output;
        }
    }
    Judged::Quiet
}

/// Just past the first `"choices"` that is a key: followed by `:`, and not the end of
/// a key that holds an escaped quote (`"x\"choices"`, found by fuzzing). Checked cheaply
/// for the first match, which nearly always is the key.
fn choices_key_end(data: &[u8]) -> Option<usize> {
    let is_key = |start: usize| {
        let end = start + CHOICES.needle().len();
        (start == 0 || data[start - 1] != b'\\')
            && data[end..].trim_ascii_start().first() == Some(&b':')
    };
    let first = CHOICES.find(data)?;
    if is_key(first) {
        return Some(first + CHOICES.needle().len());
    }
    CHOICES
        .find_iter(data)
        .find(|&start| is_key(start))
        .map(|start| start + CHOICES.needle().len())
}

static CHOICES: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"choices\""));

/// The index of the `"` that closes the string whose contents start at `start`.
fn string_end(data: &[u8], start: usize) -> Option<usize> {
    let mut escaped = false;
    for (i, &b) in data.get(start..)?.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some(start + i),
            _ => {}
        }
    }
    None
}

/// Whether a key's value (leading whitespace gone) is anything but `null`, `""`, `[]`, `{}`.
fn holds_a_value(value: &[u8]) -> bool {
    match value.first() {
        None => false,
        Some(b'n') => !value.starts_with(b"null"),
        Some(b'"') => value.get(1) != Some(&b'"'),
        Some(&open @ (b'[' | b'{')) => {
            let close = if open == b'[' { b']' } else { b'}' };
            value[1..].trim_ascii_start().first() != Some(&close)
        }
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::carries_output;

    #[test]
    fn events_before_the_first_token_carry_no_output() {
        for quiet in [
            r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":null,"tool_calls":[]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"prompt_filter_results":[{"prompt_index":0}]}"#,
            r#"{"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":0}}"#,
            r#"{"choices":[{"index":0,"text":"","finish_reason":null}]}"#,
            r#"{"choices":[{"delta":{"refusal":null,"reasoning_content":"","audio":{}}}]}"#,
            r#"{"choices" : [ { "delta" : { "role" : "assistant" , "content" : "" , "tool_calls" : [ ] } } ] }"#,
            // Quoted keys inside a string are escaped, so they are never taken for keys.
            r#"{"choices":[{"delta":{"role":"assistant","name":"say \"content\": \"x\""}}]}"#,
            r#"{"choices":null}"#,
            r#"{"choices":[{"delta":{"content":""}}],"x":"\\"}"#,
        ] {
            assert!(!carries_output(quiet.as_bytes()), "{quiet}");
        }
    }

    #[test]
    fn the_first_token_of_any_kind_is_output() {
        for loud in [
            r#"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#,
            r#"{"choices" : [ { "delta" : { "content" :  "Hi" } } ] }"#,
            r#"{"choices":[{"delta":{"content":[{"type":"text","text":"Hi"}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":" "}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"function_call":{"name":"f"}}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"refusal":"I can't"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"Let me think"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning":"Let me think"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"audio":{"id":"a","data":"AAA"}}}]}"#,
            r#"{"choices":[{"index":0,"text":"Once","finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{}},{"index":1,"delta":{"content":"x"}}]}"#,
            // Not a chunk at all: cannot be judged, so never held back.
            "not json",
            r#"{"object":"chat.completion.chunk"}"#,
            // `choices` as a value, not a key.
            r#""choices""#,
            r#"{"id":"choices","object":["choices"]}"#,
            r#"{"\"choices":[{"delta":{}}]}"#,
            r#"[1,2]"#,
        ] {
            assert!(carries_output(loud.as_bytes()), "{loud}");
        }
    }
}

/// The scan against a parse: on chunk-shaped JSON with every output field empty or not,
/// other keys around it and strings full of quotes, backslashes and key look-alikes, the
/// scan says what reading `choices[].delta` and `choices[].text` says.
#[cfg(test)]
mod against_a_parse {
    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    use super::carries_output;
    use crate::fuzzing::DELTA_OUTPUT_FIELDS as FIELDS;

    /// What a full parse of the chunk says (the fuzz target's reference).
    fn parsed(text: &str) -> bool {
        crate::fuzzing::stream_commit(text.as_bytes())
            .1
            .expect("the chunk is JSON")
    }

    /// Strings that try to look like keys: quotes, backslashes, `"content":"x"`.
    fn tricky_string() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just("\"".to_owned()),
                Just("\\".to_owned()),
                Just("\"content\":\"x\"".to_owned()),
                Just("choices".to_owned()),
                Just(" ".to_owned()),
                "[a-z]{0,4}",
            ],
            0..5,
        )
        .prop_map(|parts| parts.concat())
    }

    fn field_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            Just(json!("")),
            Just(json!([])),
            Just(json!({})),
            tricky_string().prop_map(Value::String),
            Just(json!([{"index": 0, "id": "call_1"}])),
            Just(json!({"name": "f"})),
        ]
    }

    fn chunk() -> impl Strategy<Value = Value> {
        let delta =
            prop::collection::vec((0..FIELDS.len(), field_value()), 0..3).prop_map(|fields| {
                let mut d = Map::new();
                d.insert("role".to_owned(), json!("assistant"));
                for (i, v) in fields {
                    d.insert(FIELDS[i].to_owned(), v);
                }
                Value::Object(d)
            });
        let choice = (delta, prop::option::of(field_value()), tricky_string()).prop_map(
            |(delta, text, noise)| {
                let mut c = Map::new();
                c.insert("index".to_owned(), json!(0));
                c.insert("noise".to_owned(), json!(noise));
                c.insert("delta".to_owned(), delta);
                if let Some(text) = text {
                    c.insert("text".to_owned(), text);
                }
                Value::Object(c)
            },
        );
        (prop::collection::vec(choice, 0..3), tricky_string()).prop_map(|(choices, noise)| {
            let mut c = Map::new();
            // Keys are written in sorted order: this one comes before `choices`.
            c.insert("a_noise".to_owned(), json!(noise));
            c.insert("choices".to_owned(), Value::Array(choices));
            Value::Object(c)
        })
    }

    proptest! {
        #[test]
        fn the_scan_agrees_with_a_parse(chunk in chunk(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&chunk).unwrap()
            } else {
                serde_json::to_string(&chunk).unwrap()
            };
            prop_assert_eq!(carries_output(text.as_bytes()), parsed(&text), "{}", text);
        }

        #[test]
        fn any_bytes_are_judged_without_panicking(data in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = carries_output(&data);
        }
    }
}
