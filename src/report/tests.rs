use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::clevertap::Place;

fn unreadable(lines: std::ops::Range<u64>) -> Vec<Outcome> {
    let file: Arc<Path> = Arc::from(Path::new("x.jsonl"));
    lines
        .map(|line| Outcome::unreadable(Place::at(file.clone(), line, 1), format!("bad {line}")))
        .collect()
}

#[test]
fn chunks_merge_into_complete_counts_and_the_first_examples_in_input_order() {
    let mut data = ReportData::default();
    for range in [1..4, 4..4, 4..20] {
        data.merge(ReportData::of_chunk(&unreadable(range)));
    }
    let summary = &data.findings[&FindingKind::Unreadable];
    assert_eq!((summary.count, summary.errors), (19, 19));
    let places: Vec<&str> = summary.examples.iter().map(|e| e.place.as_str()).collect();
    assert_eq!(
        places,
        [
            "x.jsonl:1:1",
            "x.jsonl:2:1",
            "x.jsonl:3:1",
            "x.jsonl:4:1",
            "x.jsonl:5:1"
        ]
    );
    assert_eq!(data.accounting.records_read, 19);
    assert_eq!(data.accounting.unreadable, 19);
}

#[test]
fn long_example_text_is_cut() {
    let file: Arc<Path> = Arc::from(Path::new("x.jsonl"));
    let long = "é".repeat(1000);
    let outcome = Outcome::unreadable(Place::at(file, 1, 1), long);
    let data = ReportData::of_chunk(&[outcome]);
    let message = &data.findings[&FindingKind::Unreadable].examples[0].message;
    assert_eq!(message.chars().count(), EXAMPLE_CHARS + 1);
}
