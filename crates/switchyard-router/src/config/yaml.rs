//! YAML text → [`Node`], a generic tree that keeps mapping order (LiteLLM's deployment id
//! hashes `litellm_params` in the order written) and PyYAML's duplicate-key rule: the last
//! value wins, at the position of the first occurrence (a Python `dict`).

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::options::{DuplicateKeyPolicy, MergeKeyPolicy};

/// A parsed YAML value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` / `false` (YAML 1.1 spellings such as `yes` included, as PyYAML reads them).
    Bool(bool),
    /// An integer (i64 and u64 both fit).
    Int(i128),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in the order written; keys are unique.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The node's kind, for "expected X, got Y" messages that must not echo a value.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    /// The value of `key` when this is a mapping.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Parses one YAML document. An empty document (or one holding only comments) is [`Node::Null`].
pub(crate) fn parse(text: &str) -> Result<Node, String> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Ok(Node::Null);
    }
    let options = serde_saphyr::options! {
        // PyYAML (LiteLLM's parser) keeps the last value of a repeated key.
        duplicate_keys: DuplicateKeyPolicy::LastWins,
        // PyYAML is YAML 1.1: `010` is octal.
        legacy_octal_numbers: true,
        // Only true/True/TRUE/false/...: saphyr's YAML 1.1 mode also reads `y` and `n` as
        // booleans, which PyYAML does not (`n: 2` is OpenAI's `n`). PyYAML's `yes`/`no`/
        // `on`/`off` stay strings here; typed boolean fields still accept them.
        strict_booleans: true,
        // `<<` reaches the visitor, which merges in PyYAML's order (the key order matters
        // to LiteLLM's deployment id).
        merge_keys: MergeKeyPolicy::AsOrdinary,
        // Error messages must not quote the source: it may hold literal secrets.
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_reader_input_bytes: Some(16 * 1024 * 1024),
            max_events: 2_000_000,
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_depth: 64,
            max_documents: 1,
            max_nodes: 500_000,
            max_total_scalar_bytes: 16 * 1024 * 1024,
        },
    };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|e| e.to_string())
}

/// A mapping key as Python's `str()` would show it.
fn key_string(node: Node) -> Result<String, &'static str> {
    Ok(match node {
        Node::Str(s) => s,
        Node::Int(i) => i.to_string(),
        Node::Bool(true) => "True".to_owned(),
        Node::Bool(false) => "False".to_owned(),
        Node::Null => "None".to_owned(),
        Node::Float(f) => crate::config::deployment_id::py_float_repr(f),
        Node::Seq(_) | Node::Map(_) => return Err("a mapping key must be a scalar"),
    })
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        i128::try_from(v)
            .map(Node::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Node, E> {
        Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut merges: Vec<Node> = Vec::new();
        let mut own: Vec<(String, Node)> = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let key = key_string(key).map_err(de::Error::custom)?;
            let value = map.next_value::<Node>()?;
            if key == "<<" {
                merges.push(value);
            } else {
                own.push((key, value));
            }
        }
        // PyYAML's `flatten_mapping`: merged entries go first (of `<<: [a, b]`, b's before
        // a's), the mapping's own entries after, then a dict keeps the last value of each
        // key at its first position, so own keys win, then earlier merge sources.
        let mut merged: Vec<(String, Node)> = Vec::new();
        for source in merges {
            match source {
                Node::Map(entries) => merged.extend(entries),
                Node::Seq(items) => {
                    for item in items.into_iter().rev() {
                        match item {
                            Node::Map(entries) => merged.extend(entries),
                            _ => return Err(de::Error::custom(MERGE_ERROR)),
                        }
                    }
                }
                _ => return Err(de::Error::custom(MERGE_ERROR)),
            }
        }
        let mut entries: Vec<(String, Node)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (key, value) in merged.into_iter().chain(own) {
            match index.get(&key) {
                Some(&at) => entries[at].1 = value,
                None => {
                    index.insert(key.clone(), entries.len());
                    entries.push((key, value));
                }
            }
        }
        Ok(Node::Map(entries))
    }
}

const MERGE_ERROR: &str = "a merge key `<<` needs a mapping or a list of mappings";

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}
