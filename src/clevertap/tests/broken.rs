//! Broken input: every bad line or record is reported once, with its place, and the good records
//! around it still come out.

use serde_json::json;

use super::support::{Fixture, errors, gzip, places, read_items, read_outcomes};
use crate::clevertap::{ReadItem, Shape, open};

#[test]
fn broken_lines_among_good_ones() {
    let fx = Fixture::new();
    let lines = [
        r#"{"ts":1}"#,
        r#"{"ts": 2, "eventName": }"#,
        r#"{"ts":3}"#,
        "hello world",
        "",
        r#"  {"ts":5}"#,
        r#"{"ts":"#,
        r#"[7, {"ts":7}]"#,
        r#"{"ts":8} // trailing comment"#,
        r#"{"status":"success","records":[{"ts":9},{"ts":9"#,
        r#"{"ts":10}"#,
    ];
    let path = fx.file("mixed.jsonl", lines.join("\n"));
    let (info, outcomes) = read_outcomes(&path);
    assert_eq!(info.shape, Shape::Ndjson);
    let good: Vec<u64> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok())
        .map(|(p, _)| p.line)
        .collect();
    assert_eq!(good, [1, 3, 6, 8, 10, 11]);
    let bad = errors(&outcomes);
    let bad_lines: Vec<u64> = bad.iter().map(|(line, _)| *line).collect();
    assert_eq!(bad_lines, [2, 4, 7, 8, 9, 10]);
    assert!(
        bad[0]
            .1
            .starts_with("line 2, column 24: expected value (the line is not complete JSON"),
        "{}",
        bad[0].1
    );
    assert!(bad[1].1.contains("not JSON: `hello world`"), "{}", bad[1].1);
    assert!(bad[2].1.contains("EOF while parsing"), "{}", bad[2].1);
    assert!(
        bad[3].1.contains("must be a JSON object, found a number"),
        "{}",
        bad[3].1
    );
    assert!(
        bad[4]
            .1
            .starts_with("line 9, column 10: trailing characters"),
        "{}",
        bad[4].1
    );
    assert!(
        bad[5].1.contains("the line ends inside this record"),
        "{}",
        bad[5].1
    );
}

#[test]
fn invalid_utf8() {
    let fx = Fixture::new();
    let path = fx.file(
        "bad.jsonl",
        b"{\"ts\":1}\n{\"name\":\"\xff\xfe\"}\n{\"ts\":3}\n",
    );
    let (_, outcomes) = read_outcomes(&path);
    assert_eq!(places(&outcomes), [(1, 1), (2, 1), (3, 1)]);
    let bad = errors(&outcomes);
    assert_eq!(bad.len(), 1);
    assert!(
        bad[0]
            .1
            .starts_with("line 2, column 10: the text is not valid UTF-8 (byte 0xff)"),
        "{}",
        bad[0].1
    );

    let csv = fx.file("bad.csv", b"ts,name\n1,ok\n2,\xff\n3,ok\n");
    let (_, outcomes) = read_outcomes(&csv);
    let bad = errors(&outcomes);
    assert_eq!((outcomes.len(), bad.len()), (3, 1));
    assert!(
        bad[0]
            .1
            .contains("row 2, column `name`: the text is not valid UTF-8"),
        "{}",
        bad[0].1
    );

    let doc = fx.file(
        "bad.json",
        b"[\n  {\"a\": \"\xc3\"},\n  {\"a\": \"\xc3\xa9\"}\n]\n",
    );
    let (_, outcomes) = read_outcomes(&doc);
    assert_eq!(errors(&outcomes).len(), 1);
    assert_eq!(
        outcomes[1].as_ref().ok().map(|(_, v)| v.clone()),
        Some(json!({"a": "é"}))
    );

    let name = fx.file("name.json", b"App \xffLaunched\n{}\n");
    let (info, _) = read_items(&name);
    assert_eq!(
        info.first_line_event_name.as_deref(),
        Some("App \u{fffd}Launched")
    );
}

#[test]
fn truncated_and_corrupt_gzip() {
    let fx = Fixture::new();
    let text: String = (0..20_000)
        .map(|i| {
            format!(
                "{{\"ts\":{i},\"eventName\":\"App Launched {}\"}}\n",
                i * 7919
            )
        })
        .collect();
    let full = gzip(text.as_bytes());
    let path = fx.file("cut.jsonl.gz", &full[..full.len() / 2]);
    let (info, items) = read_items(&path);
    assert!(info.gzip);
    let (last, before) = items.split_last().expect("items");
    assert!(before.len() > 100);
    assert!(
        before
            .iter()
            .all(|item| matches!(item, ReadItem::Record(_)))
    );
    match last {
        ReadItem::Unreadable { place, message } => {
            assert!(message.contains("truncated"), "{message}");
            assert_eq!(place.line, before.len() as u64 + 1);
        }
        ReadItem::Record(_) => panic!("the cut is not reported"),
    }

    // A pretty page cut inside a gzip stream.
    let page: String = std::iter::once("{\n\"records\": [\n".to_string())
        .chain((0..5000).map(|i| format!("  {{\"ts\": {i}, \"x\": \"{}\"}},\n", i * 31)))
        .collect();
    let full = gzip(page.as_bytes());
    let (_, items) = read_items(&fx.file("cut.json.gz", &full[..full.len() * 2 / 3]));
    let unreadable = items
        .iter()
        .filter(|i| matches!(i, ReadItem::Unreadable { .. }))
        .count();
    assert_eq!(unreadable, 1);
    assert!(
        matches!(items.last(), Some(ReadItem::Unreadable { message, .. }) if message.contains("truncated"))
    );

    let mut corrupt = gzip(text.as_bytes());
    for byte in corrupt.iter_mut().skip(40).take(64) {
        *byte = 0x55;
    }
    let (_, items) = read_items(&fx.file("corrupt.gz", corrupt));
    let messages: Vec<&str> = items
        .iter()
        .filter_map(|i| match i {
            ReadItem::Unreadable { message, .. } => Some(message.as_str()),
            ReadItem::Record(_) => None,
        })
        .collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("gzip"), "{}", messages[0]);
}

#[test]
fn document_recovers_after_a_broken_record() {
    let fx = Fixture::new();
    let text = "{\n  \"status\": \"success\",\n  \"records\": [\n    {\n      \"ts\": 1\n    },\n    {\n      \"ts\": 2,\n      \"name\": \"cut off\n    },\n    {\n      \"ts\": 3\n    },\n    {\n      \"ts\": 4]\n    },\n    {\"ts\": 5}\n  ]\n}\n";
    let path = fx.file("page.json", text);
    let (info, outcomes) = read_outcomes(&path);
    assert_eq!(info.shape, Shape::EventsPage);
    let good: Vec<u64> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok())
        .map(|(p, _)| p.line)
        .collect();
    assert_eq!(good, [4, 11, 17]);
    let bad = errors(&outcomes);
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert_eq!(bad[0].0, 7);
    assert!(
        bad[0]
            .1
            .starts_with("line 9, column 23: a string is not closed"),
        "{}",
        bad[0].1
    );
    assert!(bad[0].1.contains("lines 7–10 were skipped"), "{}", bad[0].1);
    assert_eq!(bad[1].0, 14);
    assert!(
        bad[1].1.contains("`]` where `}` closes an object"),
        "{}",
        bad[1].1
    );
}

#[test]
fn document_garbage_and_truncation() {
    let fx = Fixture::new();
    let text = "{\n  \"ts\": 1\n}\nnot json at all\nmore garbage\n{\n  \"ts\": 2\n}\n";
    let (info, outcomes) = read_outcomes(&fx.file("docs.json", text));
    assert_eq!(info.shape, Shape::JsonDocument);
    assert_eq!(places(&outcomes), [(1, 1), (4, 1), (6, 1)]);
    let bad = errors(&outcomes);
    assert!(
        bad[0].1.contains("unexpected `n` outside any JSON value"),
        "{}",
        bad[0].1
    );
    assert!(bad[0].1.contains("lines 4–5 were skipped"), "{}", bad[0].1);

    let cut = "[\n  {\"ts\": 1},\n  {\"ts\": 2},\n  {\"ts\": 3, \"profile\": {\"a\"";
    let (_, outcomes) = read_outcomes(&fx.file("cut.json", cut));
    assert_eq!(places(&outcomes), [(2, 3), (3, 3), (4, 3)]);
    let bad = errors(&outcomes);
    assert!(
        bad[0].1.contains("the file ends inside this record"),
        "{}",
        bad[0].1
    );

    let unclosed = "[\n  {\"ts\": 1}\n";
    let (_, outcomes) = read_outcomes(&fx.file("unclosed.json", unclosed));
    assert_eq!(places(&outcomes), [(2, 3), (3, 1)]);
    assert!(errors(&outcomes)[0].1.contains("`]` missing"));

    let slash = "{\n  \"ts\": 1 / 2\n}\n{\n  \"ts\": 2\n}\n";
    let (_, outcomes) = read_outcomes(&fx.file("slash.json", slash));
    assert_eq!(places(&outcomes), [(1, 1), (4, 1)]);
    assert!(errors(&outcomes)[0].1.contains("unexpected `/`"));
}

#[test]
fn deep_nesting_does_not_overflow() {
    let fx = Fixture::new();
    let depth = 100_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let cases = [
        format!("{{\"a\": {deep}}}\n{{\"ts\": 2}}\n"),
        format!("[\n  {deep},\n  {{\"ts\": 2}}\n]\n"),
        format!("{deep_object}\n"),
        format!("{{\n\"a\": {deep_object}\n}}\n"),
        "[".repeat(depth),
        format!("{{\"status\":\"success\",\"records\":[{deep}]}}\n"),
    ];
    for (n, text) in cases.iter().enumerate() {
        let (_, outcomes) = read_outcomes(&fx.file(&format!("deep{n}.json"), text));
        let bad = errors(&outcomes);
        assert_eq!(bad.len(), 1, "case {n}: {bad:?}");
    }
}

/// A first line of 100 MB (read in document mode, as its end is not in the first 8 MiB): one
/// unreadable item with its size, not a record held in memory; the next line still reads.
#[test]
fn a_huge_line() {
    let fx = Fixture::new();
    let big = "x".repeat(100 * 1024 * 1024);
    let first_line = format!("{{\"ts\":1,\"big\":\"{big}\"}}");
    drop(big);
    let path = fx.file("big.jsonl", format!("{first_line}\n{{\"ts\":2}}\n"));
    let mut reader = open(&path).expect("open");
    match reader.next() {
        Some(ReadItem::Unreadable { place, message }) => {
            assert_eq!((place.line, place.column), (1, 1));
            let expected = crate::clevertap::limit::too_long("record", first_line.len() as u64);
            assert_eq!(message, format!("line 1, column 1: {expected}"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(reader.next(), Some(ReadItem::Record(r)) if r.place.line == 2));
    assert!(reader.next().is_none());
}

/// A line over the record limit that a truncated gzip cuts off: reported once, with the reason
/// and the bytes seen, after the good line before it.
#[test]
fn a_long_line_cut_off_by_truncated_gzip() {
    use crate::clevertap::MAX_RECORD_BYTES;
    let fx = Fixture::new();
    let mut text = b"{\"ts\":1}\n{\"ts\":2,\"big\":\"".to_vec();
    text.resize(text.len() + MAX_RECORD_BYTES + 4096, b'x');
    let zipped = gzip(&text);
    let path = fx.file(
        "cut.jsonl.gz",
        zipped.get(..zipped.len() - 8).unwrap_or_default(),
    );
    let (_, items) = read_items(&path);
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(matches!(&items[0], ReadItem::Record(r) if r.place.line == 1));
    match &items[1] {
        ReadItem::Unreadable { place, message } => {
            assert_eq!((place.line, place.column), (2, 1));
            assert!(
                message.starts_with("line 2: the gzip data ends early"),
                "{message}"
            );
            assert!(
                message.contains("bytes so far, longer than any CleverTap record) and the rest of the file could not be read"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// Brackets nested deeper than the record limit: the scanner's stack stops growing there (it is
/// one byte per level), the broken element is reported once and the next element reads.
#[test]
fn nesting_deeper_than_the_record_limit() {
    use crate::clevertap::MAX_RECORD_BYTES;
    let fx = Fixture::new();
    let mut text = b"[\n  {\"ts\":1},\n  ".to_vec();
    text.resize(text.len() + MAX_RECORD_BYTES + 10, b'[');
    text.extend_from_slice(b"\n  {\"ts\":3}\n]\n");
    let path = fx.file("deep.json", &text);
    let (_, outcomes) = read_outcomes(&path);
    assert_eq!(places(&outcomes), [(2, 3), (3, 3), (4, 3)]);
    let bad = errors(&outcomes);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].1.starts_with(&format!(
            "line 3, column {}: the JSON is nested more than {MAX_RECORD_BYTES} levels deep",
            // The top-level `[` is the first level: the limit is reached on this line's
            // MAX_RECORD_BYTES-th bracket, after two spaces.
            MAX_RECORD_BYTES + 2
        )),
        "{}",
        bad[0].1
    );
    assert!(
        bad[0].1.ends_with("line 3 was skipped: fix the JSON there"),
        "{}",
        bad[0].1
    );
}
