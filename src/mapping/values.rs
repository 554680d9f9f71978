//! Small helpers over source records: dotted-path lookup and value coercion.

use sonic_rs::{JsonContainerTrait, JsonValueTrait};

use crate::clevertap::{Json, JsonObject};

/// A source value by kind, for matching.
pub enum View<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, in its JSON text.
    Number(String),
    /// A string.
    String(&'a str),
    /// An array.
    Array(&'a [Json]),
    /// An object.
    Object(&'a JsonObject),
}

/// What a source value is.
pub fn view(value: &Json) -> View<'_> {
    if let Some(text) = value.as_str() {
        View::String(text)
    } else if let Some(object) = value.as_object() {
        View::Object(object)
    } else if let Some(items) = value.as_array() {
        View::Array(items.as_slice())
    } else if let Some(flag) = value.as_bool() {
        View::Bool(flag)
    } else if value.is_number() {
        View::Number(number_text(value).unwrap_or_default())
    } else {
        View::Null
    }
}

/// A number's JSON text, as written in the source.
pub fn number_text(value: &Json) -> Option<String> {
    match value.as_raw_number() {
        Some(raw) => Some(raw.as_str().to_string()),
        None => value.as_number().map(|number| number.to_string()),
    }
}

/// `pieces` one after another in a string sized once: messages, paths and keys that every
/// record builds. `format!` goes through the formatter, and `[..].concat()` (or this, not
/// inlined) measured about 1 % more of `check`'s instructions for these few call sites.
#[inline]
pub(super) fn joined(pieces: &[&str]) -> String {
    let mut text = String::with_capacity(pieces.iter().map(|piece| piece.len()).sum());
    for piece in pieces {
        text.push_str(piece);
    }
    text
}

/// Compact JSON text of a source value (written straight to a string: its `Display` writes
/// the same text to a string first and then through the formatter).
pub fn json_text(value: &Json) -> String {
    // A parsed value always writes (its `Display` expects as much).
    sonic_rs::to_string(value).unwrap_or_default()
}

/// An object's members gathered once, so that the many lookups of one record do not walk
/// sonic-rs's nodes each time. Of duplicate keys the last counts.
pub struct Members<'a>(Vec<(&'a str, &'a Json)>);

impl<'a> Members<'a> {
    /// The members of an object, in order.
    pub fn of(object: &'a JsonObject) -> Self {
        // Sized first: sonic-rs's iterator does not tell its length, and collecting would grow
        // the vector a few times for every record.
        let mut members = Vec::with_capacity(object.len());
        members.extend(object.iter());
        Members(members)
    }

    /// The value of `key` (the last, if written twice).
    pub fn get(&self, key: &str) -> Option<&'a Json> {
        self.0
            .iter()
            .rev()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| *value)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(name, _)| *name == key)
    }

    /// Members in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a Json)> + '_ {
        self.0.iter().copied()
    }

    /// Keys written more than once, each once.
    pub fn duplicates(&self) -> Vec<&'a str> {
        let mut repeated: Vec<&'a str> = Vec::new();
        let keys = || self.0.iter().map(|(key, _)| *key);
        if self.0.len() <= 16 {
            // Pairwise for the few keys of a CleverTap object.
            for (at, key) in keys().enumerate() {
                if keys().take(at).any(|seen| seen == key) && !repeated.contains(&key) {
                    repeated.push(key);
                }
            }
        } else {
            // Hashed for a large (or hostile) one.
            let mut seen = std::collections::HashSet::with_capacity(self.0.len());
            let mut reported = std::collections::HashSet::new();
            for key in keys() {
                if !seen.insert(key) && reported.insert(key) {
                    repeated.push(key);
                }
            }
        }
        repeated
    }
}

/// A source record with its top level, `profile` and `deviceInfo` gathered for lookups.
pub struct Record<'a> {
    /// The record as parsed.
    pub object: &'a JsonObject,
    top: Members<'a>,
    profile: Option<Members<'a>>,
    device: Option<Members<'a>>,
}

impl<'a> Record<'a> {
    /// Gathers a record's members.
    pub fn new(object: &'a JsonObject) -> Self {
        let top = Members::of(object);
        let nested = |key: &str| top.get(key).and_then(Json::as_object).map(Members::of);
        let (profile, device) = (nested("profile"), nested("deviceInfo"));
        Record {
            object,
            top,
            profile,
            device,
        }
    }

    /// The members of a top-level object gathered with the record (`profile`, `deviceInfo`).
    pub fn gathered(&self, key: &str) -> Option<&Members<'a>> {
        match key {
            "profile" => self.profile.as_ref(),
            "deviceInfo" => self.device.as_ref(),
            _ => None,
        }
    }

    /// The top-level members.
    pub fn top(&self) -> &Members<'a> {
        &self.top
    }

    /// The value of a top-level key.
    pub fn get(&self, key: &str) -> Option<&'a Json> {
        self.top.get(key)
    }

    /// Whether a top-level key is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.top.contains_key(key)
    }

    /// Looks up a dotted path (`profile.identity`). Each path segment is one key.
    pub fn lookup(&self, path: &str) -> Option<&'a Json> {
        let (first, rest) = split_dot(path);
        let Some(rest) = rest else {
            return self.top.get(first);
        };
        match self.gathered(first) {
            Some(members) => {
                let (second, rest) = split_dot(rest);
                let value = members.get(second)?;
                match rest {
                    Some(rest) => lookup(value.as_object()?, rest),
                    None => Some(value),
                }
            }
            None => lookup(self.top.get(first)?.as_object()?, rest),
        }
    }

    /// The first present, non-empty value among paths, with the path that held it.
    pub fn first_present<'p>(&self, paths: &'p [String]) -> Option<(&'p str, &'a Json)> {
        paths.iter().find_map(|path| {
            let value = self.lookup(path)?;
            (!is_blank(value)).then_some((path.as_str(), value))
        })
    }
}

/// A dotted path's first segment and the rest. Paths are a few bytes long: a plain scan is
/// faster than a general string search (a record is looked up a dozen times).
fn split_dot(path: &str) -> (&str, Option<&str>) {
    match path.bytes().position(|b| b == b'.') {
        Some(at) => (&path[..at], Some(&path[at + 1..])),
        None => (path, None),
    }
}

/// The value of `key` in an object. Of duplicate keys the last one counts, as JavaScript and
/// most JSON readers take them; the engine reports duplicates.
pub fn get<'a>(object: &'a JsonObject, key: &str) -> Option<&'a Json> {
    object
        .iter()
        .filter(|(name, _)| *name == key)
        .last()
        .map(|(_, value)| value)
}

/// The keys that occur more than once in an object, each once, in order of first repeat.
pub fn duplicate_keys(object: &JsonObject) -> Vec<&str> {
    if object.len() > 16 {
        return Members::of(object).duplicates();
    }
    // Pairwise over the object itself for the few keys of a CleverTap object: nothing to
    // allocate unless a key is repeated.
    let mut repeated: Vec<&str> = Vec::new();
    for (at, (key, _)) in object.iter().enumerate() {
        if object.iter().take(at).any(|(seen, _)| seen == key) && !repeated.contains(&key) {
            repeated.push(key);
        }
    }
    repeated
}

/// Looks up a dotted path (`profile.identity`) in a record. Each path segment is one key.
pub fn lookup<'a>(record: &'a JsonObject, path: &str) -> Option<&'a Json> {
    let mut segments = path.split('.');
    let mut current = get(record, segments.next()?)?;
    for segment in segments {
        current = get(current.as_object()?, segment)?;
    }
    Some(current)
}

/// Null, an empty string, an empty array or object.
pub fn is_blank(value: &Json) -> bool {
    // A number first, without [`view`]'s copy of its text: every identity and profile
    // property looked up goes through here.
    if value.is_number() {
        return false;
    }
    match view(value) {
        View::Null => true,
        View::String(text) => text.trim().is_empty(),
        View::Array(items) => items.is_empty(),
        View::Object(map) => map.is_empty(),
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

/// A property value as it becomes the string mParticle receives, its kind read once.
pub enum AttributeText<'a> {
    /// A string, sent as it is.
    Str(&'a str),
    /// A number as written in the source.
    Raw(sonic_rs::RawNumber),
    /// `true` / `false`.
    Bool(bool),
    /// Sent as its compact JSON text (a list, an object, a number not kept as written).
    Json(&'a Json),
}

impl AttributeText<'_> {
    /// Appends the string mParticle receives.
    pub fn write(&self, out: &mut String) {
        match self {
            AttributeText::Str(text) => out.push_str(text),
            AttributeText::Raw(raw) => out.push_str(raw.as_str()),
            AttributeText::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
            AttributeText::Json(value) => out.push_str(&json_text(value)),
        }
    }
}

/// How a property value becomes the string mParticle receives, and that string; `None` for
/// null (not sent).
pub fn attribute_text(value: &Json) -> Option<(Coercion, AttributeText<'_>)> {
    if let Some(text) = value.as_str() {
        Some((Coercion::None, AttributeText::Str(text)))
    } else if let Some(raw) = value.as_raw_number() {
        Some((Coercion::Number, AttributeText::Raw(raw)))
    } else if value.is_number() {
        Some((Coercion::Number, AttributeText::Json(value)))
    } else if let Some(flag) = value.as_bool() {
        Some((Coercion::Bool, AttributeText::Bool(flag)))
    } else if value.is_array() || value.is_object() {
        Some((Coercion::Json, AttributeText::Json(value)))
    } else {
        None
    }
}

/// A scalar as text (identities, device fields); `None` for null, arrays and objects.
pub fn scalar_text(value: &Json) -> Option<String> {
    scalar_str(value).map(std::borrow::Cow::into_owned)
}

/// [`scalar_text`], borrowed from the value when it is a string.
pub fn scalar_str(value: &Json) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    match view(value) {
        View::String(text) => Some(Cow::Borrowed(text.trim())).filter(|t| !t.is_empty()),
        View::Number(text) => Some(Cow::Owned(text)),
        View::Bool(flag) => Some(Cow::Borrowed(if flag { "true" } else { "false" })),
        _ => None,
    }
}

/// A number or numeric string as f64.
pub fn to_f64(value: &Json) -> Option<f64> {
    match view(value) {
        View::Number(text) => text.parse().ok(),
        View::String(text) => text.trim().parse().ok(),
        _ => None,
    }
    .filter(|number: &f64| number.is_finite())
}

/// A boolean, from `true`/`false` or their string spellings (any case), or 1/0.
pub fn to_bool(value: &Json) -> Option<bool> {
    match view(value) {
        View::Bool(flag) => Some(flag),
        View::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        View::Number(text) => match text.as_str() {
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
pub fn list_entries(value: &Json) -> Vec<String> {
    match view(value) {
        View::Array(items) => items.iter().filter_map(scalar_text).collect(),
        View::String(text) => text_list_entries(text),
        _ => Vec::new(),
    }
}

/// The entries of CSV's `"[a@x.com, 645676746]"` list text (or one plain value).
pub fn text_list_entries(text: &str) -> Vec<String> {
    text_list_items(text).map(str::to_string).collect()
}

/// The entries of a comma-joined or bracketed text list, borrowed from it.
pub fn text_list_items(text: &str) -> impl Iterator<Item = &str> {
    text.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonic_rs::json;

    fn to_attribute_string(value: &Json) -> Option<(String, Coercion)> {
        let (coercion, written) = attribute_text(value)?;
        let mut text = String::new();
        written.write(&mut text);
        Some((text, coercion))
    }

    fn parse(text: &str) -> Json {
        let place =
            crate::clevertap::Place::at(std::sync::Arc::from(std::path::Path::new("t")), 1, 1);
        crate::clevertap::parse_record(&place, text.as_bytes()).unwrap()
    }

    #[test]
    fn numbers_keep_their_json_text_and_structures_become_compact_json() {
        let value = parse(r#"{"a": 1.10, "b": 12345678901234567890123, "c": [1, "x"], "d": true}"#);
        let text = |k: &str| to_attribute_string(value.get(k).unwrap()).unwrap();
        assert_eq!(text("a"), ("1.10".to_string(), Coercion::Number));
        assert_eq!(text("b").0, "12345678901234567890123");
        assert_eq!(text("c"), (r#"[1,"x"]"#.to_string(), Coercion::Json));
        assert_eq!(text("d"), ("true".to_string(), Coercion::Bool));
        assert_eq!(to_attribute_string(&json!(null)), None);
    }

    #[test]
    fn lookup_follows_dotted_paths() {
        let record = json!({"profile": {"identity": "42", "profileData": {"Name": "Jo"}}});
        let record = record.as_object().unwrap();
        assert_eq!(
            lookup(record, "profile.identity").and_then(|v| v.as_str()),
            Some("42")
        );
        assert_eq!(
            lookup(record, "profile.profileData.Name").and_then(|v| v.as_str()),
            Some("Jo")
        );
        assert!(lookup(record, "profile.missing").is_none());
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
