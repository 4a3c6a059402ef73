//! A typed reader over [`Node`] that records every problem with its YAML path and keeps
//! going, so one load reports all of them.
//!
//! Leniency follows LiteLLM (PyYAML + pydantic's lax mode): `null` means "not set",
//! numbers may be written as strings, booleans as `"true"`/`"True"`/`"yes"`/`1`, and an
//! `os.environ/NAME` reference is accepted wherever a scalar is. Messages never quote a
//! value that came from the environment or sits in a secret field.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Map, Number, Value};
use switchyard_types::seconds;

use super::env::Env;
use super::implemented::is_implemented;
use super::model::{ConfigIssue, ConfigWarning};
use super::yaml::Node;

/// The path of `key` inside `path`: `a.b`, or `a["x.y"]` when the key is not a plain word.
pub(crate) fn child(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (path.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", Value::String(key.to_owned())),
    }
}

/// The path of item `i` inside `path`: `a[3]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// A scalar's text after `os.environ/` resolution.
struct Text {
    value: String,
    /// The variable it came from, if any: then the value is never echoed.
    from_env: Option<String>,
}

/// Collects issues and warnings while reading typed values.
pub(crate) struct Reader<'e> {
    pub(crate) env: Env<'e>,
    pub(crate) issues: Vec<ConfigIssue>,
    pub(crate) warnings: Vec<ConfigWarning>,
}

impl<'e> Reader<'e> {
    pub(crate) fn new(env: Env<'e>) -> Self {
        Reader {
            env,
            issues: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, path: &str, message: impl Into<String>) {
        self.issues.push(ConfigIssue {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    pub(crate) fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.warnings.push(ConfigWarning {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// Notes that the typed key `key` is set at `path`; warns when Switchyard does not act on it.
    pub(crate) fn typed(&mut self, key: &str, path: &str) {
        if !is_implemented(key) {
            self.warn(path, "parsed but not implemented by Switchyard yet");
        }
    }

    /// Warns about a key LiteLLM knows in this section (`known`) or not at all.
    pub(crate) fn untyped(&mut self, known: bool, path: &str) {
        if known {
            self.warn(path, "not implemented by Switchyard yet; ignored");
        } else {
            self.warn(path, "unknown key; ignored");
        }
    }

    /// `os.environ/NAME` → the variable's value (an error naming it when unset).
    fn resolve(&mut self, s: &str, path: &str) -> Option<Text> {
        match self.env.reference(s) {
            None => Some(Text {
                value: s.to_owned(),
                from_env: None,
            }),
            Some("") => {
                self.error(path, "`os.environ/` needs a variable name");
                None
            }
            Some(name) => match self.env.get(name) {
                Some(value) => Some(Text {
                    value,
                    from_env: Some(name.to_owned()),
                }),
                None => {
                    self.error(path, format!("environment variable {name} is not set"));
                    None
                }
            },
        }
    }

    /// A scalar as text (numbers as written); `None` for null, lists and mappings.
    fn scalar(&mut self, node: &Node, path: &str) -> Option<Text> {
        match node {
            Node::Str(s) => self.resolve(s, path),
            Node::Int(i) => Some(Text {
                value: i.to_string(),
                from_env: None,
            }),
            Node::Float(f) => Some(Text {
                value: f.to_string(),
                from_env: None,
            }),
            Node::Bool(b) => Some(Text {
                value: b.to_string(),
                from_env: None,
            }),
            Node::Null | Node::Seq(_) | Node::Map(_) => None,
        }
    }

    fn type_error(&mut self, expected: &str, node: &Node, text: Option<&Text>, path: &str) {
        let got = match text {
            Some(Text {
                from_env: Some(name),
                ..
            }) => format!("the value of environment variable {name}"),
            Some(Text { value, .. }) if matches!(node, Node::Str(_)) => quoted(value),
            Some(Text { value, .. }) => value.clone(),
            None => node.kind().to_owned(),
        };
        self.error(path, format!("expected {expected}, got {got}"));
    }

    /// A string; numbers are taken as written (`model_name: 4`), booleans are an error.
    pub(crate) fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match node {
            Node::Null => None,
            Node::Str(_) | Node::Int(_) | Node::Float(_) => {
                self.scalar(node, path).map(|t| t.value)
            }
            _ => {
                self.type_error("a string", node, None, path);
                None
            }
        }
    }

    /// A secret string: like [`Self::string`], but no message ever shows the value.
    pub(crate) fn secret(&mut self, node: &Node, path: &str) -> Option<SecretString> {
        match node {
            Node::Null => None,
            Node::Str(_) | Node::Int(_) | Node::Float(_) => {
                self.scalar(node, path).map(|t| SecretString::from(t.value))
            }
            _ => {
                self.error(path, format!("expected a string, got {}", node.kind()));
                None
            }
        }
    }

    /// A non-negative integer no larger than `max`.
    pub(crate) fn uint(&mut self, node: &Node, path: &str, max: u64) -> Option<u64> {
        if matches!(node, Node::Null) {
            return None;
        }
        let text = self.scalar(node, path);
        let parsed: Option<i128> = match (node, &text) {
            (Node::Int(i), _) => Some(*i),
            (Node::Float(f), _) if f.fract() == 0.0 && f.is_finite() => Some(*f as i128),
            (Node::Bool(b), _) => Some(i128::from(*b)),
            (Node::Str(_), Some(t)) => lax_int(&t.value),
            _ => None,
        };
        if matches!(node, Node::Str(_)) && text.is_none() {
            return None; // the unset variable is already reported
        }
        match parsed {
            None => {
                self.type_error("an integer", node, text.as_ref(), path);
                None
            }
            Some(n) if n < 0 => {
                self.error(
                    path,
                    format!("must not be negative, got {}", shown(n, text.as_ref())),
                );
                None
            }
            Some(n) if n > i128::from(max) => {
                self.error(
                    path,
                    format!("must be at most {max}, got {}", shown(n, text.as_ref())),
                );
                None
            }
            Some(n) => u64::try_from(n).ok(),
        }
    }

    pub(crate) fn u64(&mut self, node: &Node, path: &str) -> Option<u64> {
        self.uint(node, path, u64::MAX)
    }

    pub(crate) fn u32(&mut self, node: &Node, path: &str) -> Option<u32> {
        self.uint(node, path, u64::from(u32::MAX))
            .and_then(|n| u32::try_from(n).ok())
    }

    pub(crate) fn u16(&mut self, node: &Node, path: &str) -> Option<u16> {
        self.uint(node, path, u64::from(u16::MAX))
            .and_then(|n| u16::try_from(n).ok())
    }

    /// A finite, non-negative number.
    pub(crate) fn non_negative(&mut self, node: &Node, path: &str) -> Option<f64> {
        if matches!(node, Node::Null) {
            return None;
        }
        let text = self.scalar(node, path);
        if matches!(node, Node::Str(_)) && text.is_none() {
            return None;
        }
        let parsed = match (node, &text) {
            (Node::Int(i), _) => Some(*i as f64),
            (Node::Float(f), _) => Some(*f),
            (Node::Bool(b), _) => Some(f64::from(u8::from(*b))),
            (Node::Str(_), Some(t)) => lax_float(&t.value),
            _ => None,
        };
        match parsed.filter(|f| f.is_finite()) {
            None => {
                self.type_error("a number", node, text.as_ref(), path);
                None
            }
            Some(f) if f < 0.0 => {
                let got = match &text {
                    Some(Text {
                        from_env: Some(name),
                        ..
                    }) => format!("the value of environment variable {name}"),
                    _ => f.to_string(),
                };
                self.error(path, format!("must not be negative, got {got}"));
                None
            }
            Some(f) => Some(f),
        }
    }

    /// Seconds (a float is fine) as a [`Duration`], at most [`seconds::MAX`] (a year).
    pub(crate) fn seconds(&mut self, node: &Node, path: &str) -> Option<Duration> {
        let from_env = matches!(node, Node::Str(s) if self.env.reference(s).is_some());
        let secs = self.non_negative(node, path)?;
        let d = seconds::duration_from_secs(secs);
        if d.is_none() {
            let got = if from_env {
                "the value of its environment variable".to_owned()
            } else {
                secs.to_string()
            };
            self.error(path, format!("must be {}, got {got}", seconds::RANGE));
        }
        d
    }

    /// Checks a JSON value kept as written (a deployment's `cooldown_time` or
    /// `mock_delay`, read later as seconds): a number, or a numeric string, out of
    /// [`seconds::RANGE`] is an error at `path`. Other values are not seconds and are
    /// left to their reader. The value is not echoed: it may come from the environment.
    pub(crate) fn check_json_seconds(&mut self, value: &Value, path: &str) {
        let secs = match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        if secs.is_some_and(|s| seconds::duration_from_secs(s).is_none()) {
            self.error(path, format!("must be {}", seconds::RANGE));
        }
    }

    /// A boolean, written as pydantic accepts one: `true`, `"True"`, `"yes"`, `1`, ...
    pub(crate) fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        if matches!(node, Node::Null) {
            return None;
        }
        if let Node::Bool(b) = node {
            return Some(*b);
        }
        let text = self.scalar(node, path);
        if matches!(node, Node::Str(_)) && text.is_none() {
            return None;
        }
        let parsed = match (node, &text) {
            (Node::Int(0), _) => Some(false),
            (Node::Int(1), _) => Some(true),
            (Node::Str(_), Some(t)) => match t.value.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
                "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if parsed.is_none() {
            self.type_error("a boolean", node, text.as_ref(), path);
        }
        parsed
    }

    /// A mapping's entries; `None` (and no issue) for null.
    pub(crate) fn map<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [(String, Node)]> {
        match node {
            Node::Map(entries) => Some(entries),
            Node::Null => None,
            other => {
                self.error(path, format!("expected a mapping, got {}", other.kind()));
                None
            }
        }
    }

    /// A list's items; `None` (and no issue) for null.
    pub(crate) fn seq<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Node]> {
        match node {
            Node::Seq(items) => Some(items),
            Node::Null => None,
            other => {
                self.error(path, format!("expected a list, got {}", other.kind()));
                None
            }
        }
    }

    /// A list of strings; a bare string is a list of one.
    pub(crate) fn string_list(&mut self, node: &Node, path: &str) -> Vec<String> {
        match node {
            Node::Null => Vec::new(),
            Node::Str(_) | Node::Int(_) | Node::Float(_) => {
                self.string(node, path).into_iter().collect()
            }
            _ => {
                let Some(items) = self.seq(node, path) else {
                    return Vec::new();
                };
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| {
                        let p = index(path, i);
                        if matches!(item, Node::Null) {
                            self.error(&p, "expected a string, got null");
                            return None;
                        }
                        self.string(item, &p)
                    })
                    .collect()
            }
        }
    }

    /// Any value as JSON, `os.environ/` references resolved at every depth.
    pub(crate) fn json(&mut self, node: &Node, path: &str) -> Value {
        match node {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => i64::try_from(*i)
                .map(Number::from)
                .or_else(|_| u64::try_from(*i).map(Number::from))
                .map_or_else(|_| Value::String(i.to_string()), Value::Number),
            Node::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Node::Str(s) => self
                .resolve(s, path)
                .map_or(Value::Null, |t| Value::String(t.value)),
            Node::Seq(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.json(item, &index(path, i)))
                    .collect(),
            ),
            Node::Map(entries) => Value::Object(self.json_entries(entries, path)),
        }
    }

    /// A mapping as a JSON object; `{}` (and an issue) when it is not a mapping.
    pub(crate) fn json_map(&mut self, node: &Node, path: &str) -> Map<String, Value> {
        match self.map(node, path) {
            Some(entries) => self.json_entries(entries, path),
            None => Map::new(),
        }
    }

    pub(crate) fn json_entries(
        &mut self,
        entries: &[(String, Node)],
        path: &str,
    ) -> Map<String, Value> {
        entries
            .iter()
            .map(|(k, v)| (k.clone(), self.json(v, &child(path, k))))
            .collect()
    }
}

/// An integer written as a string, as pydantic's lax mode reads one into an `int` field
/// (LiteLLM's `litellm_params.rpm`, `tpm`, ...; checked against pydantic 2.14): surrounding
/// whitespace, a sign, `_` between digits, and a fraction of zeros are fine (`" +1_000.00 "`
/// is 1000); an exponent, a non-zero fraction, a bare `.` or other digits are not (`"1e2"`,
/// `"100.5"`, `"100."`, `"0x10"`). Too many digits saturate, so the range check reports them.
pub(crate) fn lax_int(text: &str) -> Option<i128> {
    let s = text.trim();
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, fraction) = match s.split_once('.') {
        Some((int, fraction)) => (int, Some(fraction)),
        None => (s, None),
    };
    if fraction.is_some_and(|f| f.is_empty() || f.bytes().any(|b| b != b'0')) {
        return None;
    }
    let digits = without_underscores(int)?;
    let magnitude = digits.parse::<i128>().unwrap_or(i128::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

/// A number written as a string, as pydantic's lax mode reads one into a `float` field:
/// surrounding whitespace and `_` between digits are fine, the rest is Rust's (and
/// Python's) float syntax (`"1e2"`, `".5"`, `"inf"`).
pub(crate) fn lax_float(text: &str) -> Option<f64> {
    let s = text.trim();
    if s.contains('_') {
        // Only between two digits, as in Python's literals.
        let b = s.as_bytes();
        let ok = (0..b.len()).all(|i| {
            b[i] != b'_'
                || (i > 0
                    && b[i - 1].is_ascii_digit()
                    && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        });
        return if ok {
            s.replace('_', "").parse().ok()
        } else {
            None
        };
    }
    s.parse().ok()
}

/// ASCII digits with single `_`s between them, the `_`s removed; `None` otherwise.
fn without_underscores(s: &str) -> Option<String> {
    let ok = !s.is_empty()
        && !s.starts_with('_')
        && !s.ends_with('_')
        && !s.contains("__")
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    ok.then(|| s.replace('_', ""))
}

/// A string value for a message: JSON-quoted and cut at 80 characters.
pub(crate) fn quoted(s: &str) -> String {
    let cut: String = s.chars().take(80).collect();
    let mut q = Value::String(cut).to_string();
    if s.chars().count() > 80 {
        q.push('…');
    }
    q
}

fn shown(n: i128, text: Option<&Text>) -> String {
    match text {
        Some(Text {
            from_env: Some(name),
            ..
        }) => format!("the value of environment variable {name}"),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(child("", "model_list"), "model_list");
        assert_eq!(index("model_list", 2), "model_list[2]");
        assert_eq!(
            child("model_list[2]", "litellm_params"),
            "model_list[2].litellm_params"
        );
        assert_eq!(
            child("router_settings.model_group_alias", "gpt-3.5"),
            "router_settings.model_group_alias[\"gpt-3.5\"]"
        );
    }

    /// What pydantic 2.14 (LiteLLM 1.106.12's) makes of a string in an `int` field
    /// (`LiteLLM_Params(model="x", rpm=...)`), and in a `float` field.
    #[test]
    fn strings_read_as_pydantic_reads_them() {
        for (text, want) in [
            ("100", Some(100)),
            (" 100 ", Some(100)),
            ("100\n", Some(100)),
            ("\t100", Some(100)),
            ("\u{a0}100", Some(100)),
            ("\u{2003}100", Some(100)),
            ("100\u{85}", Some(100)),
            ("100.0", Some(100)),
            ("100.00", Some(100)),
            ("0100.000", Some(100)),
            ("+100", Some(100)),
            ("+100.0", Some(100)),
            ("-5", Some(-5)),
            ("-0", Some(0)),
            ("00", Some(0)),
            ("1_000", Some(1000)),
            ("1_0.0", Some(10)),
            ("100.5", None),
            ("100.", None),
            (".5", None),
            ("1e2", None),
            ("1E2", None),
            ("100.0e0", None),
            ("100.0_0", None),
            ("1__000", None),
            ("_100", None),
            ("100_", None),
            ("0x10", None),
            ("0b11", None),
            ("", None),
            ("- 5", None),
            ("+-5", None),
            ("10 0", None),
            ("1.0.0", None),
            ("inf", None),
            ("nan", None),
            ("\u{1c}100", None),
            ("１００", None),
            ("١٠٠", None),
        ] {
            assert_eq!(lax_int(text), want, "{text:?}");
        }
        assert_eq!(
            lax_int("99999999999999999999999999999999999999999"),
            Some(i128::MAX)
        );
        for (text, want) in [
            ("1e2", Some(100.0)),
            (" 1.5 ", Some(1.5)),
            ("1_0.5", Some(10.5)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("+.5", Some(0.5)),
            ("1__0", None),
            ("_1", None),
            ("1,5", None),
            ("0x1p3", None),
        ] {
            assert_eq!(lax_float(text), want, "{text:?}");
        }
        assert!(lax_float("inf").is_some_and(f64::is_infinite));
    }

    #[test]
    fn lenient_scalars() {
        let lookup = |name: &str| (name == "N").then(|| "12".to_owned());
        let mut r = Reader::new(Env::new(&lookup));
        assert_eq!(r.u64(&Node::Str("10".into()), "a"), Some(10));
        assert_eq!(r.u64(&Node::Float(10.0), "a"), Some(10));
        assert_eq!(r.u64(&Node::Str("os.environ/N".into()), "a"), Some(12));
        assert_eq!(r.non_negative(&Node::Str("0.5".into()), "a"), Some(0.5));
        assert_eq!(r.bool(&Node::Str("True".into()), "a"), Some(true));
        assert_eq!(r.bool(&Node::Str("false".into()), "a"), Some(false));
        assert_eq!(r.u64(&Node::Null, "a"), None);
        assert!(r.issues.is_empty(), "{:?}", r.issues);
        assert_eq!(r.u64(&Node::Str("ten".into()), "x.rpm"), None);
        assert_eq!(r.u64(&Node::Int(-5), "x.tpm"), None);
        assert_eq!(r.u64(&Node::Str("os.environ/M".into()), "x.m"), None);
        let messages: Vec<String> = r.issues.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "x.rpm: expected an integer, got \"ten\"",
                "x.tpm: must not be negative, got -5",
                "x.m: environment variable M is not set",
            ]
        );
    }
}
