//! A request body as an ordered list of top-level keys and their raw JSON.
//!
//! Parsing only the top level keeps the cost per request low and lets fields
//! the gateway does not know about reach the upstream byte for byte. A body
//! read with [`RequestBody::from_bytes`] keeps its values as slices of the
//! received buffer: a prompt of any size is never copied to be routed.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use bytestring::ByteString;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// Why a request body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError(pub String);

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BodyError {}

/// A field name: the common OpenAI ones borrowed from a static table, others owned
/// (one allocation per key saved on nearly every request).
type Key = Cow<'static, str>;

/// Field names of OpenAI requests, kept without allocating (a `match` on the
/// name: it compiles to a length switch, cheaper than the allocation it saves).
macro_rules! intern {
    ($name:expr, [$($known:literal),* $(,)?]) => {
        match $name {
            $($known => Cow::Borrowed($known),)*
            other => Cow::Owned(other.to_owned()),
        }
    };
}

fn key(name: &str) -> Key {
    intern!(
        name,
        [
            "model",
            "messages",
            "stream",
            "stream_options",
            "temperature",
            "top_p",
            "n",
            "max_tokens",
            "max_completion_tokens",
            "stop",
            "user",
            "seed",
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "response_format",
            "frequency_penalty",
            "presence_penalty",
            "logprobs",
            "top_logprobs",
            "logit_bias",
            "metadata",
            "prompt",
            "suffix",
            "echo",
            "best_of",
            "input",
            "encoding_format",
            "dimensions",
            "size",
            "quality",
            "style",
            "reasoning_effort",
        ]
    )
}

/// A value's raw JSON text: a slice of the received body, or owned when set later.
type Raw = ByteString;

/// A JSON object whose values are kept as raw JSON text, in their original order.
#[derive(Clone, Default)]
pub struct RequestBody {
    fields: Vec<(Key, Raw)>,
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only key names: values may hold prompts or keys and do not belong in logs.
        f.debug_struct("RequestBody")
            .field(
                "keys",
                &self.fields.iter().map(|(k, _)| &**k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl RequestBody {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a JSON object; anything else is an error.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, BodyError> {
        Self::from_bytes(Bytes::copy_from_slice(bytes))
    }

    /// Parses a JSON object, keeping each value as a slice of `bytes`.
    pub fn from_bytes(bytes: Bytes) -> Result<Self, BodyError> {
        let text = ByteString::try_from(bytes)
            .map_err(|e| BodyError(format!("invalid JSON body: {e}")))?;
        let mut parser = serde_json::Deserializer::from_str(&text);
        let fields = de::DeserializeSeed::deserialize(Fields(&text), &mut parser)
            .and_then(|fields| parser.end().map(|()| fields))
            .map_err(|e| BodyError(format!("invalid JSON body: {e}")))?;
        Ok(Self { fields })
    }

    /// Builds a body from any serialisable value that serialises to an object.
    pub fn from_serialize<T: serde::Serialize>(value: &T) -> Result<Self, BodyError> {
        let bytes = serde_json::to_vec(value).map_err(|e| BodyError(e.to_string()))?;
        Self::from_slice(&bytes)
    }

    /// The raw JSON text of a top-level field.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| &**v)
    }

    /// The raw JSON text of a top-level field as shared bytes (no copy when
    /// the body was read with [`from_bytes`](Self::from_bytes)), to keep
    /// after the body is handed on.
    pub fn get_bytes(&self, key: &str) -> Option<Bytes> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_bytes().clone())
    }

    /// Whether a top-level field is present (even as `null`).
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Deserialises a top-level field; `None` when absent, `null` or of another type.
    pub fn get_as<'a, T: Deserialize<'a>>(&'a self, key: &str) -> Option<T> {
        self.get(key).and_then(|raw| serde_json::from_str(raw).ok())
    }

    /// A top-level string field (borrowed when it needs no unescaping).
    pub fn get_str(&self, key: &str) -> Option<std::borrow::Cow<'_, str>> {
        let raw = self.get(key)?;
        // serde's `Cow<str>` always allocates: borrow first, unescape only when needed.
        match serde_json::from_str::<&str>(raw) {
            Ok(text) => Some(Cow::Borrowed(text)),
            Err(_) => serde_json::from_str::<String>(raw).ok().map(Cow::Owned),
        }
    }

    /// A top-level boolean field.
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.get_as(key)
    }

    /// A top-level number field, as f64.
    pub fn get_f64(&self, key: &str) -> Option<f64> {
        self.get_as(key)
    }

    /// Sets a field to raw JSON, replacing it in place or appending it.
    pub fn set_raw(&mut self, key: &str, value: Box<RawValue>) {
        let text: Box<str> = value.into();
        self.put(self::key(key), ByteString::from(String::from(text)));
    }

    /// Replaces the value of `key` in place, or appends the field.
    fn put(&mut self, key: Key, value: Raw) {
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.fields.push((key, value)),
        }
    }

    /// Sets a field to a serialisable value.
    pub fn set<T: serde::Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        let raw = serde_json::value::to_raw_value(value).expect("serialising a plain value");
        self.set_raw(key, raw);
    }

    /// Sets a field only when the body does not already have it.
    pub fn set_default_raw(&mut self, key: &str, value: &RawValue) {
        if !self.contains(key) {
            self.fields.push((self::key(key), owned(value.get())));
        }
    }

    /// Removes a field, returning its raw JSON text.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let pos = self.fields.iter().position(|(k, _)| k == key)?;
        Some(self.fields.remove(pos).1.to_string())
    }

    /// The field names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(k, _)| &**k)
    }

    /// The fields with their raw JSON, in order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(k, v)| (&**k, &**v))
    }

    /// The length of the JSON text [`to_bytes`](Self::to_bytes) would write, or close to it
    /// (keys needing escapes grow): a capacity hint for writers of derived bodies.
    pub fn json_len_hint(&self) -> usize {
        2 + self
            .fields
            .iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum::<usize>()
    }

    /// Serialises back to JSON bytes, values copied verbatim.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(self.json_len_hint());
        out.push(b'{');
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, k).expect("writing to a Vec");
            out.push(b':');
            out.extend_from_slice(v.as_bytes());
        }
        out.push(b'}');
        Bytes::from(out)
    }
}

/// A raw value set after parsing: owned text.
fn owned(json: &str) -> Raw {
    ByteString::from(json.to_owned())
}

/// Reads the top level of `self.0`: field names and their raw JSON, each
/// value a slice of the text being parsed.
struct Fields<'t>(&'t ByteString);

impl<'de> de::DeserializeSeed<'de> for Fields<'_> {
    type Value = Vec<(Key, Raw)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Fields<'_> {
    type Value = Vec<(Key, Raw)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields: Vec<(Key, Raw)> = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value: &'de RawValue = map.next_value()?;
            let value = self.0.slice_ref(value.get());
            // Duplicate keys: the later one wins, in place, as in Python's json module.
            match fields.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => *v = value,
                None => fields.push((key, value)),
            }
        }
        Ok(fields)
    }
}

/// Reads a field name straight into a [`Key`]: deserialising a `Cow<str>` would
/// always allocate, even for the names [`key`] keeps static.
struct KeySeed;

impl<'de> de::DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
        Ok(key(name))
    }
}

impl serde::Serialize for RequestBody {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (k, v) in &self.fields {
            // Valid JSON by construction: borrowing it as a raw value cannot fail.
            let raw: &RawValue = serde_json::from_str(v).map_err(serde::ser::Error::custom)?;
            map.serialize_entry(k, raw)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_unknown_fields_verbatim() {
        let src = br#"{"model":"gpt-4","x_custom":{"nested":[1,2.50,"\u00e9"]},"stream":true}"#;
        let body = RequestBody::from_slice(src).unwrap();
        assert_eq!(&body.to_bytes()[..], &src[..]);
        assert_eq!(body.get_str("model").as_deref(), Some("gpt-4"));
        assert_eq!(body.get_bool("stream"), Some(true));
    }

    #[test]
    fn set_replaces_in_place_and_defaults_do_not_override() {
        let mut body = RequestBody::from_slice(br#"{"model":"a","temperature":0.1}"#).unwrap();
        body.set("model", "b");
        let raw = serde_json::value::to_raw_value(&0.9).unwrap();
        body.set_default_raw("temperature", &raw);
        body.set_default_raw("max_tokens", &serde_json::value::to_raw_value(&5).unwrap());
        assert_eq!(
            &body.to_bytes()[..],
            br#"{"model":"b","temperature":0.1,"max_tokens":5}"#
        );
    }

    #[test]
    fn values_read_from_bytes_are_slices_of_them() {
        let src =
            Bytes::from_static(br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
        let range = src.as_ptr() as usize..src.as_ptr() as usize + src.len();
        let body = RequestBody::from_bytes(src.clone()).unwrap();
        let messages = body.get("messages").unwrap();
        assert_eq!(messages, r#"[{"role":"user","content":"hi"}]"#);
        assert!(
            range.contains(&(messages.as_ptr() as usize)),
            "copied, not sliced"
        );
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            std::str::from_utf8(&src).unwrap()
        );
    }

    #[test]
    fn rejects_bodies_that_are_not_utf8() {
        let err = RequestBody::from_slice(b"{\"model\":\"\xff\"}").unwrap_err();
        assert!(err.0.starts_with("invalid JSON body: "), "{err}");
    }

    #[test]
    fn strings_are_borrowed_unless_they_need_unescaping() {
        let body = RequestBody::from_slice(br#"{"a":"plain","b":"qu\"ote","c":1}"#).unwrap();
        assert!(matches!(body.get_str("a"), Some(Cow::Borrowed("plain"))));
        assert!(matches!(body.get_str("b"), Some(Cow::Owned(s)) if s == "qu\"ote"));
        assert_eq!(body.get_str("c"), None);
        assert_eq!(body.get_str("missing"), None);
    }

    #[test]
    fn rejects_non_objects() {
        assert!(RequestBody::from_slice(b"[1,2]").is_err());
        assert!(RequestBody::from_slice(b"{").is_err());
    }

    #[test]
    fn duplicate_keys_keep_the_later_value() {
        let body = RequestBody::from_slice(br#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(body.get_f64("a"), Some(2.0));
        assert_eq!(body.keys().count(), 1);
    }

    #[test]
    fn escaped_and_repeated_names_read_like_python_json() {
        let body =
            RequestBody::from_slice(br#"{"mo\u0064el":"a","x\"y":1,"model":"b","stream":true}"#)
                .unwrap();
        assert_eq!(body.keys().collect::<Vec<_>>(), ["model", "x\"y", "stream"]);
        assert_eq!(body.get_str("model").as_deref(), Some("b"));
        assert_eq!(
            &body.to_bytes()[..],
            br#"{"model":"b","x\"y":1,"stream":true}"#
        );
    }
}
