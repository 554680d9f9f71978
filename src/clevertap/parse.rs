//! Parsing one record's text, with errors placed in the file (not in the record).

use memchr::{memchr, memrchr};
use serde_json::Value;

use super::Place;

/// Parses a record's JSON text (which starts at `place`). A record must be a JSON object.
pub(crate) fn parse_record(place: &Place, text: &[u8]) -> Result<Value, String> {
    match serde_json::from_slice::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(other) => Err(format!(
            "line {}, column {}: a record must be a JSON object, found {} (fix or remove it)",
            place.line,
            place.column,
            kind_of(&other)
        )),
        Err(err) => Err(describe(place, text, &err)),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The parser's complaint, at the file's line and column, with what to do.
fn describe(place: &Place, text: &[u8], err: &serde_json::Error) -> String {
    // Invalid UTF-8 is the more basic problem, and the parser's wording for it is obscure.
    if let Err(utf8) = std::str::from_utf8(text) {
        let at = utf8.valid_up_to();
        let (line, column) = position_of(place, text, at);
        let byte = text.get(at).copied().unwrap_or_default();
        return format!(
            "line {line}, column {column}: the text is not valid UTF-8 (byte 0x{byte:02x}); CleverTap exports are UTF-8: convert the file to UTF-8, or fix or remove the record"
        );
    }
    let (err_line, err_column) = (err.line() as u64, err.column() as u64);
    let line = place.line + err_line.saturating_sub(1);
    let column = if err_line <= 1 {
        place.column + err_column.saturating_sub(1)
    } else {
        err_column.max(1)
    };
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let reason = full.strip_suffix(&suffix).unwrap_or(&full);
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
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let text = format!("{{\"a\": {deep}}}");
        let msg = parse_record(&place(1, 1), text.as_bytes()).unwrap_err();
        assert!(msg.contains("recursion limit"), "{msg}");
    }
}
