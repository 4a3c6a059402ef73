//! The deployment id LiteLLM gives a deployment without `model_info.id`.
//!
//! LiteLLM's `Router.generate_model_id(model_group, litellm_params)` (litellm/router.py):
//! the model group, then for each `litellm_params` entry in order its key and its value
//! (a `str` as is, a `dict` as `json.dumps(v)`, anything else as `str(v)`), concatenated
//! and hashed with SHA-256, hex-encoded. The proxy hashes the params after resolving
//! `os.environ/` references in them (string values, dicts, and dicts inside lists; strings
//! directly inside lists stay as written), so the id is a hash of the resolved secret,
//! never the secret itself. This module reproduces Python's `str`, `repr` and `json.dumps`
//! for the values a YAML file can hold.

use sha2::{Digest, Sha256};

use super::env::Env;
use super::yaml::Node;

/// LiteLLM's id for a deployment of `model_group` with `litellm_params` as written.
pub(crate) fn litellm_model_id(
    model_group: &str,
    litellm_params: &[(String, Node)],
    env: &Env<'_>,
) -> String {
    let mut text = String::from(model_group);
    for (key, value) in litellm_params {
        text.push_str(key);
        let value = resolve_like_litellm(value, env);
        match &value {
            Node::Str(s) => text.push_str(s),
            Node::Map(_) => json_dumps(&value, &mut text),
            other => py_str(other, &mut text),
        }
    }
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `os.environ/NAME` → its value, where the LiteLLM proxy resolves it: a string value, and
/// recursively in mappings and in mappings inside lists. A missing variable hashes as `None`
/// (the loader reports it as an error anyway).
fn resolve_like_litellm(node: &Node, env: &Env<'_>) -> Node {
    match node {
        Node::Str(s) => match env.reference(s) {
            Some(name) => env.get(name).map_or(Node::Null, Node::Str),
            None => node.clone(),
        },
        Node::Map(entries) => Node::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), resolve_like_litellm(v, env)))
                .collect(),
        ),
        Node::Seq(items) => Node::Seq(
            items
                .iter()
                .map(|item| match item {
                    Node::Map(_) => resolve_like_litellm(item, env),
                    _ => item.clone(),
                })
                .collect(),
        ),
        _ => node.clone(),
    }
}

/// Python's `str(value)`.
fn py_str(node: &Node, out: &mut String) {
    match node {
        Node::Str(s) => out.push_str(s),
        other => py_repr(other, out),
    }
}

/// Python's `repr(value)`.
fn py_repr(node: &Node, out: &mut String) {
    match node {
        Node::Null => out.push_str("None"),
        Node::Bool(true) => out.push_str("True"),
        Node::Bool(false) => out.push_str("False"),
        Node::Int(i) => out.push_str(&i.to_string()),
        Node::Float(f) => out.push_str(&py_float_repr(*f)),
        Node::Str(s) => crate::python::py_str_repr(s, out),
        Node::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                py_repr(item, out);
            }
            out.push(']');
        }
        Node::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                crate::python::py_str_repr(k, out);
                out.push_str(": ");
                py_repr(v, out);
            }
            out.push('}');
        }
    }
}

/// Python's `json.dumps(value)` with its defaults (`ensure_ascii`, `", "` and `": "`).
fn json_dumps(node: &Node, out: &mut String) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(true) => out.push_str("true"),
        Node::Bool(false) => out.push_str("false"),
        Node::Int(i) => out.push_str(&i.to_string()),
        Node::Float(f) if f.is_nan() => out.push_str("NaN"),
        Node::Float(f) if f.is_infinite() => {
            out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Node::Float(f) => out.push_str(&py_float_repr(*f)),
        Node::Str(s) => json_str(s, out),
        Node::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_dumps(item, out);
            }
            out.push(']');
        }
        Node::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_str(k, out);
                out.push_str(": ");
                json_dumps(v, out);
            }
            out.push('}');
        }
    }
}

fn json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr(float)`: the shortest round-trip digits, fixed notation for exponents
/// in -4..16, else scientific with a signed two-digit exponent (`1e-05`, `1.5e+16`).
pub(crate) fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits too: `-1.2345e-7`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exp) {
        if exp < 0 {
            let zeros = "0".repeat((-exp - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                let zeros = "0".repeat(int_len - digits.len());
                format!("{sign}{digits}{zeros}.0")
            } else {
                format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
            }
        }
    } else {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        for (f, want) in [
            (0.5, "0.5"),
            (1.0, "1.0"),
            (30.5, "30.5"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e20, "1.5e+20"),
            (-2.25, "-2.25"),
            (123456.789, "123456.789"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(py_float_repr(f), want, "{f}");
        }
    }

    #[test]
    fn str_of_values_matches_python() {
        let mut out = String::new();
        py_str(
            &Node::Seq(vec![
                Node::Str("a".into()),
                Node::Str("it's".into()),
                Node::Str("\n".into()),
                Node::Null,
                Node::Bool(true),
                Node::Map(vec![("k".into(), Node::Float(2.0))]),
            ]),
            &mut out,
        );
        assert_eq!(out, r#"['a', "it's", '\n', None, True, {'k': 2.0}]"#);
        let mut out = String::new();
        json_dumps(
            &Node::Map(vec![
                ("team".into(), Node::Str("é\"".into())),
                (
                    "l".into(),
                    Node::Seq(vec![Node::Int(1), Node::Float(2.5), Node::Null]),
                ),
            ]),
            &mut out,
        );
        assert_eq!(out, r#"{"team": "\u00e9\"", "l": [1, 2.5, null]}"#);
    }
}
