//! The window's uses of the comparison: an edited record's original, and a comparison stopped.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::*;
use crate::mapping::{Engine, MapOptions, RecordStatus, Rules};

fn engine() -> Engine {
    Engine::new(
        Arc::new(Rules::default_rules().unwrap()),
        MapOptions::default(),
    )
}

fn input(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("input.jsonl");
    std::fs::write(
        &path,
        concat!(
            "{\"ts\": 20220301100000, \"eventName\": \"App Launched\", \"profile\": {\"identity\": \"a\"}}\n",
            "not json\n",
            "{\"ts\": 20220301100002, \"eventName\": \"App Uninstalled\", \"profile\": {\"identity\": \"c\"}}\n",
        ),
    )
    .unwrap();
    path
}

#[test]
fn the_record_at_a_place_is_found_as_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = input(dir.path());
    let engine = engine();
    let third = outcome_at(&engine, &path, 3, 1, None).unwrap().unwrap();
    assert_eq!(third.place.line, 3);
    assert_eq!(third.source_event_name.as_deref(), Some("App Uninstalled"));
    let second = outcome_at(&engine, &path, 2, 1, None).unwrap().unwrap();
    assert_eq!(second.status, RecordStatus::Unreadable);
    assert!(outcome_at(&engine, &path, 9, 1, None).unwrap().is_none());
    let missing = dir.path().join("gone.jsonl");
    let failure = outcome_at(&engine, &missing, 1, 1, None).unwrap_err();
    assert!(
        failure.error.to_string().contains("gone.jsonl"),
        "{}",
        failure.error
    );
}

#[test]
fn a_cancelled_comparison_says_so_and_lists_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files = vec![input(dir.path())];
    let names = vec![String::new()];
    let engine = engine();
    let side = Side {
        files: &files,
        names: &names,
        engine: &engine,
        edits: None,
    };
    let mut listed = 0;
    let result = compare_cancellable(side, side, &AtomicBool::new(true), |_| {
        listed += 1;
        Ok(())
    });
    assert!(matches!(result, Err(CompareError::Cancelled)), "{result:?}");
    assert_eq!(listed, 0);
    let same = compare_cancellable(side, side, &AtomicBool::new(false), |_| Ok(())).unwrap();
    assert!(same.is_same());
    assert_eq!(same.same, 3);
}

#[test]
fn each_sample_record_is_found_at_its_place_as_the_pipeline_maps_it() {
    let engine = engine();
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let files = crate::clevertap::expand_paths(&[samples]);
    assert!(files.len() >= 5, "{files:?}");
    let (outcomes, summary) = crate::pipeline::load(&files, &engine);
    assert!(summary.failures.is_empty());
    for outcome in &outcomes {
        let place = &outcome.place;
        let found = outcome_at(
            &engine,
            &place.file,
            place.line,
            place.column,
            place.csv_row,
        )
        .unwrap()
        .unwrap_or_else(|| panic!("nothing at {place}"));
        assert_eq!(record_view(&found), record_view(outcome), "{place}");
    }
}
