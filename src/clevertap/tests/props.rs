//! Property tests: no input makes the reader panic, and in line mode every non-blank line is
//! accounted for exactly once.

use proptest::prelude::*;

use super::support::{Fixture, gzip, outcome};
use crate::clevertap::{ReadItem, open};

/// Reads everything a file gives (if it opens at all) and parses every record.
fn read_and_parse(bytes: &[u8]) -> usize {
    let fx = Fixture::new();
    let path = fx.file("input", bytes);
    let Ok(reader) = open(&path) else {
        return 0;
    };
    reader.map(outcome).count()
}

fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    let alphabet = b"{}[]\":,/ \n\r\t\\ab01-.e\xff\xc3".to_vec();
    prop::collection::vec(prop::sample::select(alphabet), 0..600)
}

const PAGE: &str = "{\n  \"status\": \"success\", // page\n  \"next_cursor\": \"c\",\n  \"records\": [\n    {\"ts\": 1, \"a\": \"x//y\"},\n    {\n      \"ts\": 2,\n      \"b\": [1, {\"c\": \"]}\"}]\n    }\n  ]\n}\n";
const CSV: &str = "ts,eventName,profile.all_identities,eventProps.CT Source\n1,A,\"[a, b]\",Mobile\n2,\"B\nB\",,\n";
const NDJSON: &str = "App Launched\n{\"ts\":1}\n\n[{\"ts\":2},{\"ts\":3}]\n{\"status\":\"success\",\"records\":[{\"ts\":4}]}\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        read_and_parse(&bytes);
        read_and_parse(&gzip(&bytes));
    }

    #[test]
    fn json_like_bytes_never_panic(bytes in jsonish()) {
        read_and_parse(&bytes);
        let mut framed = b"[\n".to_vec();
        framed.extend_from_slice(&bytes);
        read_and_parse(&framed);
    }

    #[test]
    fn truncations_never_panic(cut in 0.0f64..1.0, sample in 0usize..3, zipped in any::<bool>()) {
        let text = [PAGE, CSV, NDJSON][sample].as_bytes();
        let bytes = if zipped { gzip(text) } else { text.to_vec() };
        let end = (bytes.len() as f64 * cut) as usize;
        read_and_parse(&bytes[..end]);
    }

    #[test]
    fn every_non_blank_line_gives_one_item(kinds in prop::collection::vec((0u8..4, 1usize..40, "[a-zA-Z0-9 ,:;!?.\"-]{1,20}"), 0..40)) {
        let good = |n: usize| format!("{{\"ts\":{n},\"eventName\":\"E {n}\"}}");
        let mut lines = vec![good(0)];
        for (kind, cut, garbage) in &kinds {
            let line = match kind {
                0 => good(*cut),
                1 => {
                    let whole = good(*cut);
                    whole[..cut % (whole.len() - 1) + 1].to_string()
                }
                2 if !garbage.trim().is_empty() => format!(" {garbage}"),
                _ => "  ".to_string(),
            };
            lines.push(line);
        }
        let fx = Fixture::new();
        let path = fx.file("lines.jsonl", lines.join("\n"));
        let reader = open(&path).expect("open");
        let items: Vec<ReadItem> = reader.collect();
        let expected: Vec<(u64, bool)> = lines
            .iter()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(at, line)| (at as u64 + 1, line.starts_with("{\"ts\"") && line.ends_with('}')))
            .collect();
        let got: Vec<(u64, bool)> = items
            .into_iter()
            .map(|item| match outcome(item) {
                Ok((place, _)) => (place.line, true),
                Err((place, _)) => (place.line, false),
            })
            .collect();
        prop_assert_eq!(got, expected);
    }
}
