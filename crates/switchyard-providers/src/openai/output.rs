//! Whether a streamed chunk carries output: the commit point of a stream.
//!
//! Upstreams often open a stream with events that say nothing yet: a role-only
//! delta, an empty `content`, Azure's `prompt_filter_results` with no choices.
//! An upstream can send those and then stall. Until an event carries output
//! (content, a tool or function call, a refusal, reasoning, audio, or a text
//! completion's `text`), the stream can still be abandoned and tried elsewhere,
//! so those events are held back rather than sent.

use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    choices: Option<Vec<Choice<'a>>>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
    /// A text completion's piece.
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tool_calls: Option<&'a RawValue>,
    #[serde(borrow, default)]
    function_call: Option<&'a RawValue>,
    #[serde(borrow, default)]
    refusal: Option<&'a RawValue>,
    #[serde(borrow, default)]
    reasoning_content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    reasoning: Option<&'a RawValue>,
    #[serde(borrow, default)]
    audio: Option<&'a RawValue>,
}

/// Whether this `data:` payload carries output. A payload that is not a chunk
/// (not JSON, or no `choices` at all) cannot be judged and counts as output, so
/// it is never held back.
pub(crate) fn carries_output(data: &[u8]) -> bool {
    let Ok(Chunk {
        choices: Some(choices),
    }) = serde_json::from_slice::<Chunk<'_>>(data)
    else {
        return true;
    };
    choices.iter().any(|choice| {
        let delta = choice.delta.as_ref();
        let fields = [
            choice.text,
            delta.and_then(|d| d.content),
            delta.and_then(|d| d.tool_calls),
            delta.and_then(|d| d.function_call),
            delta.and_then(|d| d.refusal),
            delta.and_then(|d| d.reasoning_content),
            delta.and_then(|d| d.reasoning),
            delta.and_then(|d| d.audio),
        ];
        fields.into_iter().flatten().any(non_empty)
    })
}

/// Anything but `null`, `""`, `[]` and `{}`.
fn non_empty(value: &RawValue) -> bool {
    let text = value.get().as_bytes();
    let empty_pair = |open: u8, close: u8| {
        text.first() == Some(&open)
            && text.last() == Some(&close)
            && text[1..text.len() - 1].trim_ascii().is_empty()
    };
    !(text == b"null" || text == b"\"\"" || empty_pair(b'[', b']') || empty_pair(b'{', b'}'))
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
        ] {
            assert!(!carries_output(quiet.as_bytes()), "{quiet}");
        }
    }

    #[test]
    fn the_first_token_of_any_kind_is_output() {
        for loud in [
            r#"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#,
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
            r#"{"choices":null}"#,
            r#"[1,2]"#,
        ] {
            assert!(carries_output(loud.as_bytes()), "{loud}");
        }
    }
}
