//! Chunk and buffer boundaries: the scanner gives the same items however its input is split,
//! and line mode keeps every line across read buffers.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use super::support::{Fixture, read_outcomes};
use crate::clevertap::scan::{Scanner, Scope};
use crate::clevertap::{RawPayload, ReadItem};

/// Items as comparable text: place, and the record bytes or the message.
fn scan(text: &[u8], split: &dyn Fn(usize) -> usize) -> Vec<String> {
    let mut scanner = Scanner::new(Arc::from(Path::new("doc.json")), Scope::File, 1, 1);
    let mut out = VecDeque::new();
    let mut at = 0;
    while at < text.len() {
        let end = (at + split(at).max(1)).min(text.len());
        scanner.feed(&text[at..end], &mut out);
        at = end;
    }
    scanner.finish(&mut out);
    out.into_iter()
        .map(|item| match item {
            ReadItem::Record(r) => {
                let RawPayload::Json(bytes) = &r.payload;
                format!(
                    "{}:{} {}",
                    r.place.line,
                    r.place.column,
                    String::from_utf8_lossy(bytes)
                )
            }
            ReadItem::Unreadable { place, message } => {
                format!("{}:{} ! {message}", place.line, place.column)
            }
        })
        .collect()
}

const TRICKY: &str = "// head\n{\n  \"status\": \"success\", // s\n  \"records\": [\n    {\"a\": \"x\\\\\\\"}//\", // c\n     \"b\": [1, {\"c\": \"]}\"}]},\n    7,\n    {\"broken\": \"no end\n    },\n    {\"ok\": true}\n  ]\n}\n{\n  \"status\": \"success\",\n  \"record\": {\"p\": 1 // q\n  }\n}\n[ {\"z\": 1} ,\"s\"]\ngarbage\n{\"t\": 2}\n{\"cut\": [";

#[test]
fn scanner_items_do_not_depend_on_chunking() {
    let text = TRICKY.as_bytes();
    let whole = scan(text, &|_| usize::MAX);
    assert_eq!(whole.len(), 10, "{whole:#?}");
    assert!(whole[0].contains("\"x\\\\\\\"}//\", \n"), "{}", whole[0]);
    assert!(
        whole[4].starts_with("15:13 {\"p\": 1 \n  }"),
        "{}",
        whole[4]
    );
    for size in 1..=23 {
        assert_eq!(scan(text, &|_| size), whole, "chunks of {size}");
    }
    for seed in 0..200usize {
        let split =
            move |at: usize| (at.wrapping_mul(2654435761).wrapping_add(seed * 40503) >> 7) % 13 + 1;
        assert_eq!(scan(text, &split), whole, "seed {seed}");
    }
}

#[test]
fn many_lines_across_read_buffers() {
    let fx = Fixture::new();
    let mut text = String::new();
    let mut expected = Vec::new();
    for i in 0..60_000u64 {
        text.push_str(&format!(
            "{{\"ts\":{i},\"pad\":\"{}\"}}\r\n",
            "p".repeat((i % 97) as usize)
        ));
        if i % 7 == 6 {
            text.push_str("   \n");
        }
        expected.push(i);
    }
    let (_, outcomes) = read_outcomes(&fx.file("many.jsonl", &text));
    assert_eq!(outcomes.len(), expected.len());
    let mut line = 1;
    for (i, outcome) in outcomes.iter().enumerate() {
        let (place, value) = outcome.as_ref().expect("good line");
        assert_eq!(place.line, line);
        assert_eq!(value["ts"], serde_json::json!(i));
        line += if i % 7 == 6 { 2 } else { 1 };
    }
}

/// A chunk stops at the text budget, so a file of long records is not handed out thousands at a
/// time; ordinary records still come in full chunks.
#[test]
fn chunks_stop_at_the_text_budget() {
    use crate::clevertap::reader::CHUNK_TEXT_BYTES;
    use crate::clevertap::{MAX_RECORD_BYTES, open};
    let fx = Fixture::new();
    // Ten records of 9 MiB, then a hundred small ones.
    let mut text = Vec::new();
    for n in 0..10 {
        text.extend_from_slice(format!("{{\"n\":{n},\"big\":\"").as_bytes());
        text.resize(text.len() + 9 * 1024 * 1024, b'x');
        text.extend_from_slice(b"\"}\n");
    }
    for n in 10..110 {
        text.extend_from_slice(format!("{{\"n\":{n}}}\n").as_bytes());
    }
    let path = fx.file("long_records.jsonl", &text);
    drop(text);
    let mut reader = open(&path).expect("open");
    let mut sizes = Vec::new();
    let mut chunk = Vec::new();
    while reader.next_chunk(4096, &mut chunk) {
        let text_bytes: usize = chunk
            .iter()
            .map(|item| match item {
                ReadItem::Record(r) => {
                    let RawPayload::Json(text) = &r.payload;
                    text.len()
                }
                ReadItem::Unreadable { .. } => 0,
            })
            .sum();
        assert!(
            text_bytes < CHUNK_TEXT_BYTES + MAX_RECORD_BYTES,
            "{text_bytes}"
        );
        sizes.push(chunk.len());
        chunk.clear();
    }
    // Seven 9 MiB records stay under 64 MiB; the eighth crosses it and ends the chunk.
    assert_eq!(sizes, [8, 102]);
}
