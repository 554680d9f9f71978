//! A pulled record as one NDJSON line: whitespace between tokens removed (a page may be pretty
//! printed; strings and numbers are kept byte for byte) and `eventName` put first, because the
//! Get Events API's records carry no event name and the saved file must map on its own.

/// Prefix `{"eventName":<name>` for one event, made once per event.
pub(crate) fn event_prefix(event_name: &str) -> Vec<u8> {
    let mut prefix = b"{\"eventName\":".to_vec();
    // A string always serialises.
    prefix.extend_from_slice(
        serde_json::to_string(event_name)
            .unwrap_or_default()
            .as_bytes(),
    );
    prefix
}

/// Appends `record` (one JSON value as received) to `out` as a single line ending in `\n`. An
/// object without a top-level `eventName` gets `prefix` ([`event_prefix`]) as its first key; any
/// other value is written as it is (the reader then reports it where it stands).
pub(crate) fn push_record_line(out: &mut Vec<u8>, record: &[u8], prefix: &[u8]) {
    let record = record.trim_ascii();
    let needs_name = record.first() == Some(&b'{') && !has_top_level_event_name(record);
    if needs_name {
        out.extend_from_slice(prefix);
        let body = &record[1..];
        // `{}` becomes `{"eventName":…}`; anything else gets a comma after the name.
        if body.trim_ascii_start().first() != Some(&b'}') {
            out.push(b',');
        }
        push_compact(out, body);
    } else {
        push_compact(out, record);
    }
    out.push(b'\n');
}

/// Copies JSON text without the whitespace between tokens.
fn push_compact(out: &mut Vec<u8>, text: &[u8]) {
    // Fast path: nothing to remove.
    if !text
        .iter()
        .any(|&b| matches!(b, b'\n' | b'\r' | b'\t' | b' '))
    {
        out.extend_from_slice(text);
        return;
    }
    out.reserve(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for &byte in text {
        if in_string {
            out.push(byte);
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if byte == b'"' {
            in_string = true;
            out.push(byte);
        } else if !matches!(byte, b'\n' | b'\r' | b'\t' | b' ') {
            out.push(byte);
        }
    }
}

/// Whether the object has an `eventName` key of its own (checked only when the text holds the
/// word at all, so the common case costs one substring search).
fn has_top_level_event_name(record: &[u8]) -> bool {
    if memchr::memmem::find(record, b"\"eventName\"").is_none() {
        return false;
    }
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "eventName")]
        event_name: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(record).is_ok_and(|probe| probe.event_name.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(record: &str) -> String {
        let mut out = Vec::new();
        push_record_line(
            &mut out,
            record.as_bytes(),
            &event_prefix("App \"Launched\""),
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_name_goes_first_and_the_record_fits_one_line() {
        let pretty = "{\n  \"ts\": 20240301101010,\n  \"profile\": {\"identity\": \"a b\\\" c\"},\n  \"n\": 1.50\n}";
        assert_eq!(
            line(pretty),
            "{\"eventName\":\"App \\\"Launched\\\"\",\"ts\":20240301101010,\"profile\":{\"identity\":\"a b\\\" c\"},\"n\":1.50}\n"
        );
        assert_eq!(line("{ }"), "{\"eventName\":\"App \\\"Launched\\\"\"}\n");
    }

    #[test]
    fn a_record_with_its_own_name_keeps_it() {
        assert_eq!(
            line("{\"eventName\": \"Charged\", \"ts\": 1}"),
            "{\"eventName\":\"Charged\",\"ts\":1}\n"
        );
        // The word inside a nested object or a value is not the record's name.
        assert_eq!(
            line("{\"p\": {\"eventName\": 1}}"),
            "{\"eventName\":\"App \\\"Launched\\\"\",\"p\":{\"eventName\":1}}\n"
        );
        assert_eq!(line("[1, 2]"), "[1,2]\n");
    }
}
