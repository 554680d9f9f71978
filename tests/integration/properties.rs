//! Property tests: random and truncated input never panics and every record is accounted for.

use std::io::Write;
use std::sync::Arc;

use feedlens::mapping::{Engine, MapOptions, Rules};
use feedlens::pipeline::{self, Accounting};
use proptest::prelude::*;

fn engine() -> Engine {
    Engine::new(
        Arc::new(Rules::default_rules().unwrap()),
        MapOptions::default(),
    )
}

fn account(bytes: &[u8], name: &str) -> (Accounting, usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    let (outcomes, summary) = pipeline::load(&[path], &engine());
    let mut accounting = Accounting::default();
    outcomes.iter().for_each(|o| accounting.add(o));
    (accounting, summary.failures.len())
}

fn sample_lines() -> Vec<String> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/events.jsonl"))
            .unwrap();
    text.lines().map(str::to_string).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_and_always_balance(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let (accounting, _) = account(&bytes, "random.jsonl");
        prop_assert!(accounting.balanced());
    }

    #[test]
    fn truncated_exports_keep_every_complete_line(cut in 0usize..20_000) {
        let text = sample_lines().join("\n") + "\n";
        let cut = cut.min(text.len());
        let (accounting, failures) = account(&text.as_bytes()[..cut], "cut.jsonl");
        prop_assert_eq!(failures, 0);
        prop_assert!(accounting.balanced());
        let complete = text[..cut].matches('\n').count() as u64;
        // every complete line is one record; a cut-off last line is one unreadable record
        let partial = u64::from(!text[..cut].ends_with('\n') && !text[..cut].trim().is_empty());
        prop_assert_eq!(accounting.records_read, complete + partial);
        prop_assert!(accounting.unreadable <= partial);
    }

    #[test]
    fn garbage_lines_among_good_ones_lose_no_good_record(
        garbage in proptest::collection::vec("[^\n\r{\\[]{1,40}", 1..6),
        at in proptest::collection::vec(0usize..26, 1..6),
    ) {
        let mut lines = sample_lines();
        let good = lines.len() as u64;
        for (junk, position) in garbage.iter().zip(&at) {
            let position = (*position).min(lines.len());
            lines.insert(position.max(1), format!("{{{junk}"));
        }
        let (accounting, _) = account((lines.join("\n") + "\n").as_bytes(), "mixed.jsonl");
        prop_assert!(accounting.balanced());
        prop_assert_eq!(accounting.records_read - accounting.unreadable, good);
    }

    #[test]
    fn random_csv_never_panics(rows in proptest::collection::vec("[a-z0-9 ,\"]{0,30}", 0..20)) {
        let text = format!("ts,eventName,profile.identity,eventProps.CT Source\n{}\n", rows.join("\n"));
        let (accounting, _) = account(text.as_bytes(), "random.csv");
        prop_assert!(accounting.balanced());
    }
}
