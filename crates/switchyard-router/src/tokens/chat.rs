//! Chat token counting, after LiteLLM 1.106's `litellm/litellm_core_utils/token_counter.py`.

use super::Encoding;
use super::json::Json;

/// OpenAI's fixed image cost for `detail: low` (and LiteLLM's for `auto`): `calculate_img_tokens`.
const IMAGE_BASE_TOKENS: i64 = 85;
/// LiteLLM's `high`-detail figure for an image it cannot size (300 × 300 px: one 512 px tile).
const IMAGE_HIGH_TOKENS: i64 = IMAGE_BASE_TOKENS + 2 * IMAGE_BASE_TOKENS;

fn count(enc: Encoding, text: &str) -> i64 {
    enc.count(text) as i64
}

/// `_count_messages`.
pub(super) fn count_messages(enc: Encoding, legacy: bool, messages: &[Json<'_>]) -> i64 {
    let (per_message, per_name) = if legacy { (4, -1) } else { (3, 1) };
    let mut total = 0;
    for message in messages {
        let Json::Object(fields) = message else {
            continue;
        };
        total += per_message;
        for (key, value) in fields {
            match (key.as_ref(), value) {
                (_, Json::Null) => {}
                ("tool_calls", Json::Array(calls)) => {
                    for call in calls {
                        if let Some(args) = call.get("function").and_then(|f| f.get("arguments")) {
                            total += count(enc, &args.python_str());
                        }
                    }
                }
                ("function_call", call @ Json::Object(_)) => {
                    if let Some(args) = call.get("arguments") {
                        total += count(enc, &args.python_str());
                    }
                }
                (key, Json::Str(s)) => {
                    total += count(enc, s);
                    if key == "name" {
                        total += per_name;
                    }
                }
                ("content", Json::Array(parts)) => total += count_content_list(enc, parts),
                _ => {}
            }
        }
    }
    total
}

/// `_count_content_list`; part types LiteLLM rejects count 0.
fn count_content_list(enc: Encoding, parts: &[Json<'_>]) -> i64 {
    parts.iter().map(|part| count_part(enc, part)).sum()
}

fn count_part(enc: Encoding, part: &Json<'_>) -> i64 {
    if let Json::Str(s) = part {
        return count(enc, s);
    }
    let text_of = |key: &str| part.get(key).map_or(0, |v| count(enc, &v.python_str()));
    match part.get("type").and_then(Json::as_str) {
        Some("text") => text_of("text"),
        Some("image_url") => image_url_tokens(part.get("image_url")),
        Some("image") => IMAGE_BASE_TOKENS,
        Some("document") => document_tokens(enc, part),
        Some("file") => {
            let file = part.get("file");
            let name = file
                .and_then(|f| f.get("filename"))
                .and_then(Json::as_str)
                .map_or(0, |n| count(enc, n));
            let data = file
                .and_then(|f| f.get("file_data"))
                .and_then(Json::as_str)
                .is_some_and(|d| !d.is_empty());
            name + if data { IMAGE_BASE_TOKENS } else { 0 }
        }
        Some("tool_use" | "tool_result") => anthropic_block_tokens(enc, part),
        Some("thinking" | "redacted_thinking") => text_of("thinking"),
        Some("tool_reference") => part
            .get("tool_name")
            .filter(|n| n.is_truthy())
            .map_or(0, |n| count(enc, &n.python_str())),
        _ => 0,
    }
}

/// `_count_image_tokens` without downloading anything.
fn image_url_tokens(image_url: Option<&Json<'_>>) -> i64 {
    match image_url {
        Some(Json::Str(url)) if !url.trim().is_empty() => IMAGE_BASE_TOKENS,
        Some(obj @ Json::Object(_)) if obj.get("url").is_some_and(Json::is_truthy) => {
            match obj.get("detail").and_then(Json::as_str) {
                Some("high") => IMAGE_HIGH_TOKENS,
                None | Some("low" | "auto") => IMAGE_BASE_TOKENS,
                Some(_) => 0,
            }
        }
        _ => 0,
    }
}

/// `_count_document_tokens`: title and context, then the source's text or one image's worth.
fn document_tokens(enc: Encoding, doc: &Json<'_>) -> i64 {
    let meta: i64 = ["title", "context"]
        .iter()
        .filter_map(|k| doc.get(k).and_then(Json::as_str))
        .filter(|t| !t.is_empty())
        .map(|t| count(enc, t))
        .sum();
    let Some(source) = doc.get("source") else {
        return meta;
    };
    meta + match source.get("type").and_then(Json::as_str) {
        Some("text") => source
            .get("data")
            .and_then(Json::as_str)
            .map_or(0, |d| count(enc, d)),
        Some("content") => match source.get("content") {
            Some(Json::Str(s)) => count(enc, s),
            Some(Json::Array(parts)) => count_content_list(enc, parts),
            _ => 0,
        },
        _ => IMAGE_BASE_TOKENS,
    }
}

/// `_count_anthropic_content`: every field but identifiers and flags.
fn anthropic_block_tokens(enc: Encoding, block: &Json<'_>) -> i64 {
    let Json::Object(fields) = block else {
        return 0;
    };
    const SKIP: &[&str] = &["type", "id", "tool_use_id", "cache_control", "is_error"];
    fields
        .iter()
        .filter(|(k, _)| !SKIP.contains(&k.as_ref()))
        .map(|(_, v)| match v {
            Json::Str(s) => count(enc, s),
            Json::Array(parts) => count_content_list(enc, parts),
            Json::Object(_) => count(enc, &v.python_str()),
            _ => 0,
        })
        .sum()
}

/// `_count_extra`: reply priming, tool definitions, tool choice.
pub(super) fn count_extra(
    enc: Encoding,
    messages: &[Json<'_>],
    tools: &[Json<'_>],
    tool_choice: Option<&Json<'_>>,
) -> i64 {
    let mut total = 3;
    if !tools.is_empty() {
        total += count(enc, &format_function_definitions(tools)) + 9;
        let has_system = messages
            .iter()
            .any(|m| m.get("role").and_then(Json::as_str) == Some("system"));
        if has_system {
            total -= 4;
        }
    }
    match tool_choice {
        Some(Json::Str(s)) if s == "none" => total += 1,
        Some(choice @ Json::Object(_)) => {
            // `{"type": "function", "function": {"name": ...}}`, or legacy `{"name": ...}`.
            let name = choice
                .get("function")
                .and_then(|f| f.get("name"))
                .or_else(|| choice.get("name"));
            total += 7 + name.map_or(0, |n| count(enc, &n.python_str()));
        }
        _ => {}
    }
    total
}

/// `_format_function_definitions`: OpenAI's apparent rendering of tools in the prompt.
pub(super) fn format_function_definitions(tools: &[Json<'_>]) -> String {
    let mut lines: Vec<String> = vec!["namespace functions {".into(), String::new()];
    for tool in tools {
        if !matches!(tool, Json::Object(_)) {
            continue;
        }
        if let Some(function @ Json::Object(_)) = tool.get("function") {
            format_function(
                function.get("name"),
                function.get("description"),
                function.get("parameters"),
                &mut lines,
            );
            continue;
        }
        let declarations = tool
            .get("function_declarations")
            .filter(|d| d.is_truthy())
            .or_else(|| tool.get("functionDeclarations"));
        if let Some(Json::Array(declarations)) = declarations {
            for d in declarations.iter().filter(|d| matches!(d, Json::Object(_))) {
                format_function(
                    d.get("name"),
                    d.get("description"),
                    d.get("parameters"),
                    &mut lines,
                );
            }
            continue;
        }
        // A bare function (legacy `functions`) or an Anthropic tool (`input_schema`).
        let parameters = tool
            .get("input_schema")
            .filter(|p| p.is_truthy())
            .or_else(|| tool.get("parameters"));
        format_function(
            tool.get("name"),
            tool.get("description"),
            parameters,
            &mut lines,
        );
    }
    lines.push("} // namespace functions".into());
    lines.join("\n")
}

/// `_format_single_function_definition`.
fn format_function(
    name: Option<&Json<'_>>,
    description: Option<&Json<'_>>,
    parameters: Option<&Json<'_>>,
    lines: &mut Vec<String>,
) {
    let Some(name) = name.filter(|n| n.is_truthy()) else {
        return;
    };
    let name = name.python_str();
    if let Some(d) = description.filter(|d| d.is_truthy()) {
        lines.push(format!("// {}", d.python_str()));
    }
    let parameters = parameters.filter(|p| matches!(p, Json::Object(_)));
    let has_properties = parameters
        .and_then(|p| p.get("properties"))
        .is_some_and(|p| matches!(p, Json::Object(f) if !f.is_empty()));
    match parameters {
        Some(parameters) if has_properties => {
            lines.push(format!("type {name} = (_: {{"));
            lines.push(format_object_parameters(parameters, 0));
            lines.push("}) => any;".into());
        }
        _ => lines.push(format!("type {name} = () => any;")),
    }
    lines.push(String::new());
}

/// `_format_object_parameters`.
fn format_object_parameters(parameters: &Json<'_>, indent: usize) -> String {
    let Some(Json::Object(properties)) = parameters.get("properties") else {
        return String::new();
    };
    let required: Vec<&str> = match parameters.get("required") {
        Some(Json::Array(r)) => r.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    };
    let pad = " ".repeat(indent);
    let mut lines = Vec::new();
    for (key, props) in properties {
        if !matches!(props, Json::Object(_)) {
            continue;
        }
        if let Some(d) = props.get("description").filter(|d| d.is_truthy()) {
            lines.push(format!("{pad}// {}", d.python_str()));
        }
        let question = if required.contains(&key.as_ref()) {
            ""
        } else {
            "?"
        };
        lines.push(format!(
            "{pad}{key}{question}: {},",
            format_type(props, indent)
        ));
    }
    lines.join("\n")
}

/// `_format_type`.
fn format_type(props: &Json<'_>, indent: usize) -> String {
    let enum_values = || match props.get("enum") {
        Some(Json::Array(items)) => Some(
            items
                .iter()
                .map(|i| format!("\"{}\"", i.python_str()))
                .collect::<Vec<_>>()
                .join(" | "),
        ),
        _ => None,
    };
    match props.get("type").and_then(Json::as_str) {
        Some("string") => enum_values().unwrap_or_else(|| "string".into()),
        Some("array") => match props.get("items") {
            Some(items) => format!("{}[]", format_type(items, indent)),
            // LiteLLM raises (OpenAI requires `items`); count it as `any[]`.
            None => "any[]".into(),
        },
        Some("object") => format!("{{\n{}\n}}", format_object_parameters(props, indent + 2)),
        Some("integer" | "number") => enum_values().unwrap_or_else(|| "number".into()),
        Some("boolean") => "boolean".into(),
        Some("null") => "null".into(),
        _ => "any".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_tools_like_litellm() {
        let tools: Json<'_> = serde_json::from_str(
            r#"[{"type":"function","function":{"name":"get_weather","description":"Weather now",
            "parameters":{"type":"object","properties":{
              "city":{"type":"string","description":"City name"},
              "unit":{"type":"string","enum":["c","f"]},
              "days":{"type":"array","items":{"type":"integer"}},
              "opts":{"type":"object","properties":{"x":{"type":"boolean"}}}},
            "required":["city"]}}},
            {"type":"function","function":{"name":"noop"}}]"#,
        )
        .unwrap();
        let Json::Array(tools) = tools else { panic!() };
        assert_eq!(
            format_function_definitions(&tools),
            "namespace functions {\n\n// Weather now\ntype get_weather = (_: {\n// City name\n\
             city: string,\nunit?: \"c\" | \"f\",\ndays?: number[],\nopts?: {\n  x?: boolean,\n},\n\
             }) => any;\n\ntype noop = () => any;\n\n} // namespace functions"
        );
    }
}
