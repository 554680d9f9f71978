//! Small helpers over source records: dotted-path lookup and value coercion.

use serde_json::{Map, Value};

/// Looks up a dotted path (`profile.identity`) in a record. Each path segment is one key.
pub fn lookup<'a>(record: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut segments = path.split('.');
    let mut current = record.get(segments.next()?)?;
    for segment in segments {
        current = current.as_object()?.get(segment)?;
    }
    Some(current)
}

/// The first present, non-empty value among paths, with the path that held it.
pub fn first_present<'a, 'p>(
    record: &'a Map<String, Value>,
    paths: &'p [String],
) -> Option<(&'p str, &'a Value)> {
    paths.iter().find_map(|path| {
        let value = lookup(record, path)?;
        (!is_blank(value)).then_some((path.as_str(), value))
    })
}

/// Null, an empty string, an empty array or object.
pub fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// How a value became a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coercion {
    /// It was a string already.
    None,
    /// A number, written in its JSON text (lossless).
    Number,
    /// A boolean, written `true` / `false`.
    Bool,
    /// An array or object, written as compact JSON.
    Json,
}

/// A property value as the string mParticle receives. `None` for null.
pub fn to_attribute_string(value: &Value) -> Option<(String, Coercion)> {
    match value {
        Value::Null => None,
        Value::String(text) => Some((text.clone(), Coercion::None)),
        Value::Number(number) => Some((number.to_string(), Coercion::Number)),
        Value::Bool(flag) => Some((flag.to_string(), Coercion::Bool)),
        Value::Array(_) | Value::Object(_) => Some((value.to_string(), Coercion::Json)),
    }
}

/// A scalar as text (identities, device fields); `None` for null, arrays and objects.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// A number or numeric string as f64.
pub fn to_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.to_string().parse().ok(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
    .filter(|number: &f64| number.is_finite())
}

/// A boolean, from `true`/`false` or their string spellings (any case), or 1/0.
pub fn to_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        Value::Number(number) => match number.to_string().as_str() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a string looks like an e-mail address.
pub fn looks_like_email(text: &str) -> bool {
    let text = text.trim();
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !text.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// The entries of an identity list: a JSON array, or CSV's `"[a@x.com, 645676746]"` string.
pub fn list_entries(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(scalar_text).collect(),
        Value::String(text) => text
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_keep_their_json_text_and_structures_become_compact_json() {
        let value: Value = serde_json::from_str(
            r#"{"a": 1.10, "b": 12345678901234567890123, "c": [1, "x"], "d": true}"#,
        )
        .unwrap();
        let text = |k: &str| to_attribute_string(&value[k]).unwrap();
        assert_eq!(text("a"), ("1.10".to_string(), Coercion::Number));
        assert_eq!(text("b").0, "12345678901234567890123");
        assert_eq!(text("c"), (r#"[1,"x"]"#.to_string(), Coercion::Json));
        assert_eq!(text("d"), ("true".to_string(), Coercion::Bool));
        assert_eq!(to_attribute_string(&Value::Null), None);
    }

    #[test]
    fn lookup_follows_dotted_paths() {
        let record = json!({"profile": {"identity": "42", "profileData": {"Name": "Jo"}}});
        let record = record.as_object().unwrap();
        assert_eq!(lookup(record, "profile.identity"), Some(&json!("42")));
        assert_eq!(
            lookup(record, "profile.profileData.Name"),
            Some(&json!("Jo"))
        );
        assert_eq!(lookup(record, "profile.missing"), None);
    }

    #[test]
    fn identity_lists_from_json_or_csv_text() {
        assert_eq!(
            list_entries(&json!(["a@x.com", 645])),
            vec!["a@x.com", "645"]
        );
        assert_eq!(
            list_entries(&json!("[a@x.com, 645676746]")),
            vec!["a@x.com", "645676746"]
        );
        assert!(looks_like_email("a@x.com"));
        assert!(!looks_like_email("6102608768475532"));
    }
}
