//! Parsing one record's text, with errors placed in the file (not in the record).
//!
//! Records are parsed with sonic-rs into its [`Json`] value: keys in source order (duplicates
//! kept, so the mapping can report them), numbers kept as their JSON text.

use memchr::{memchr, memrchr};
use sonic_rs::JsonValueTrait;

use super::Place;

/// A parsed source record or part of one.
pub type Json = sonic_rs::Value;
/// A JSON object of a source record, keys in source order.
pub type JsonObject = sonic_rs::Object;

/// Deepest nesting accepted in a record. CleverTap records are three or four levels deep; the
/// limit keeps a hostile file from exhausting the stack.
pub const MAX_DEPTH: usize = 128;

/// Parses a record's JSON text (which starts at `place`). A record must be a JSON object.
/// Errors name the line and column in the file and what to do.
pub fn parse_record(place: &Place, text: &[u8]) -> Result<Json, String> {
    // Invalid UTF-8 is the more basic problem, checked first so that the message says where it
    // is in the file. The check runs on every record: in vector code, with the standard one
    // (which says where) only for text that fails it.
    // The checked text is given to the parser as a `str`, so that it does not check it again.
    let text = match simdutf8::basic::from_utf8(text) {
        Ok(checked) => checked,
        Err(_) => match std::str::from_utf8(text) {
            Ok(checked) => checked,
            Err(utf8) => {
                let at = utf8.valid_up_to();
                let (line, column) = position_of(place, text, at);
                let byte = text.get(at).copied().unwrap_or_default();
                return Err(format!(
                    "line {line}, column {column}: the text is not valid UTF-8 (byte 0x{byte:02x}); CleverTap exports are UTF-8: convert the file to UTF-8, or fix or remove the record"
                ));
            }
        },
    };
    if let Some(at) = too_deep(text.as_bytes()) {
        let (line, column) = position_of(place, text.as_bytes(), at);
        return Err(format!(
            "line {line}, column {column}: recursion limit exceeded: nested more than {MAX_DEPTH} levels deep, where a CleverTap record is a few levels deep; fix or remove it"
        ));
    }
    let mut parser = sonic_rs::Deserializer::from_str(text).use_rawnumber();
    let parsed = parser
        .deserialize::<Json>()
        .and_then(|value| parser.end().map(|()| value));
    match parsed {
        Ok(value) if value.is_object() => Ok(value),
        Ok(other) => Err(format!(
            "line {}, column {}: a record must be a JSON object, found {} (fix or remove it)",
            place.line,
            place.column,
            kind_of(&other)
        )),
        Err(err) => Err(describe(place, text.as_bytes(), &err)),
    }
}

/// A `serde_json` value as a source record value: same text, same key order, numbers as
/// written. For callers that build records with `serde_json::json!` (tests, tools).
pub fn json_from_serde(value: &serde_json::Value) -> Json {
    let text = value.to_string();
    let mut parser = sonic_rs::Deserializer::from_str(&text).use_rawnumber();
    // serde_json writes valid JSON no deeper than its own recursion limit.
    parser.deserialize().unwrap_or_default()
}

/// The position of the first bracket that nests deeper than [`MAX_DEPTH`], if any. Cheap for
/// ordinary records: the exact scan runs only when there are that many brackets at all.
fn too_deep(text: &[u8]) -> Option<usize> {
    // Counted in vector code, and only as far as the limit.
    let brackets = memchr::memchr2_iter(b'[', b'{', text)
        .take(MAX_DEPTH + 1)
        .count();
    if brackets <= MAX_DEPTH {
        return None;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (at, &byte) in text.iter().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(at);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// What kind of JSON value this is, in words.
pub(crate) fn kind_of(value: &Json) -> &'static str {
    if value.is_object() {
        "an object"
    } else if value.is_array() {
        "an array"
    } else if value.is_str() {
        "a string"
    } else if value.is_number() {
        "a number"
    } else if value.is_boolean() {
        "true/false"
    } else {
        "null"
    }
}

/// The parser's complaint, at the file's line and column, with what to do. Failed records are
/// rare, so they are parsed again with serde_json, whose wording is the clearer
/// (``expected `,` or `}` ``); sonic-rs's own message is the fallback.
fn describe(place: &Place, text: &[u8], err: &sonic_rs::Error) -> String {
    let (err_line, err_column, reason) = match serde_json::from_slice::<serde::de::IgnoredAny>(text)
    {
        Err(err) => {
            let full = err.to_string();
            let suffix = format!(" at line {} column {}", err.line(), err.column());
            let reason = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
            (err.line() as u64, err.column() as u64, reason)
        }
        Ok(_) => {
            let full = err.to_string();
            let first = full.lines().next().unwrap_or_default();
            let reason = first
                .split_once(" while parsing")
                .map_or(first, |(reason, _)| reason);
            (
                err.line() as u64,
                err.column() as u64,
                lower_first(reason.trim()),
            )
        }
    };
    let line = place.line + err_line.saturating_sub(1);
    let column = if err_line <= 1 {
        place.column + err_column.saturating_sub(1)
    } else {
        err_column.max(1)
    };
    if memchr(b'\n', text).is_none() {
        format!(
            "line {line}, column {column}: {reason} (the line is not complete JSON; fix or remove it)"
        )
    } else {
        format!(
            "line {line}, column {column}: {reason} (the record starting at line {} is not valid JSON; fix or remove it)",
            place.line
        )
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Line and column in the file of the byte at `at` in a record's text.
fn position_of(place: &Place, text: &[u8], at: usize) -> (u64, u64) {
    let before = text.get(..at).unwrap_or(text);
    let newlines = memchr::memchr_iter(b'\n', before).count() as u64;
    match memrchr(b'\n', before) {
        Some(last) => (place.line + newlines, (at - last) as u64),
        None => (place.line, place.column + at as u64),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;

    fn place(line: u64, column: u64) -> Place {
        Place::at(Arc::from(Path::new("f.json")), line, column)
    }

    #[test]
    fn errors_are_placed_in_the_file() {
        let msg = parse_record(&place(7, 1), br#"{"a": 1, "b": 2 "c": 3}"#).unwrap_err();
        assert_eq!(
            msg,
            "line 7, column 17: expected `,` or `}` (the line is not complete JSON; fix or remove it)"
        );
        let msg = parse_record(&place(7, 5), br#"{"a": 1 x"#).unwrap_err();
        assert!(msg.starts_with("line 7, column 13: "), "{msg}");
        let msg = parse_record(&place(10, 3), b"{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        assert!(msg.starts_with("line 12, column 7: expected `:`"), "{msg}");
        assert!(msg.contains("record starting at line 10"), "{msg}");
    }

    #[test]
    fn non_objects_and_utf8() {
        let msg = parse_record(&place(3, 2), b"[1, 2]").unwrap_err();
        assert_eq!(
            msg,
            "line 3, column 2: a record must be a JSON object, found an array (fix or remove it)"
        );
        let msg = parse_record(&place(3, 1), b"12").unwrap_err();
        assert!(msg.contains("found a number"), "{msg}");
        let msg = parse_record(&place(4, 1), b"{\"a\": \"\xff\"}").unwrap_err();
        assert!(
            msg.starts_with("line 4, column 8: the text is not valid UTF-8 (byte 0xff)"),
            "{msg}"
        );
        let msg = parse_record(&place(4, 3), b"{\n\"a\": \"x\xc3\"}").unwrap_err();
        assert!(
            msg.starts_with("line 5, column 8: the text is not valid UTF-8"),
            "{msg}"
        );
    }

    #[test]
    fn invalid_utf8_anywhere_is_named_before_anything_else() {
        // Whatever the bytes around it, a record holding invalid UTF-8 is reported as such, at
        // the first bad byte, never parsed or described as another error. (sonic-rs alone
        // parses some of these records: the check before parsing is what catches them.)
        let record = br#"{"eventName":"App Launched","ts":20240101000000,"profile":{"identity":"a long identity of more than thirty-two bytes"},"eventProps":{"CT Source":"Push","k\n":["x",1,{"y":"\u00e9"}]}}"#;
        for bad in [
            &b"\xff"[..],
            b"\xc3",
            b"\xc0\x80",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
        ] {
            for at in 0..=record.len() {
                let mut text = record[..at].to_vec();
                text.extend_from_slice(bad);
                text.extend_from_slice(&record[at..]);
                let valid = std::str::from_utf8(&text).unwrap_err().valid_up_to();
                let expected = format!(
                    "line 1, column {}: the text is not valid UTF-8 (byte 0x{:02x})",
                    valid + 1,
                    text[valid]
                );
                match parse_record(&place(1, 1), &text) {
                    Err(msg) => assert!(msg.starts_with(&expected), "{bad:?} at {at}: {msg}"),
                    Ok(_) => panic!("{bad:?} at {at}: parsed"),
                }
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let text = format!("{{\"a\": {deep}}}");
        let msg = parse_record(&place(1, 1), text.as_bytes()).unwrap_err();
        assert!(msg.contains("recursion limit"), "{msg}");
    }
}
