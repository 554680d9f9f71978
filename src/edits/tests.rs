use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::file::write_atomic_with;
use super::*;
use crate::clevertap::{Place, RawPayload, RawRecord, ReadItem};

fn edit(file: &Path, line: u64, text: &str) -> Edit {
    Edit {
        file: file.to_path_buf(),
        file_sha256: file_sha256(file).unwrap(),
        line,
        column: 1,
        csv_row: None,
        id: Some(format!("id-{line}")),
        original_sha256: None,
        text: text.to_string(),
    }
}

fn input(dir: &Path) -> PathBuf {
    let path = dir.join("input.jsonl");
    std::fs::write(&path, "{\"a\":1}\nbroken\n{\"a\":3}\n").unwrap();
    path
}

#[test]
fn an_edit_replaces_the_previous_edit_of_the_same_record_and_survives_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let file = input(dir.path());
    let path = dir.path().join("edits.ndjson");
    let mut edits = EditsFile::load(&path).unwrap();
    assert!(
        edits.edits().is_empty(),
        "a missing edits file holds no edits"
    );
    edits.apply(edit(&file, 1, r#"{"a":10}"#)).unwrap();
    edits.apply(edit(&file, 2, r#"{"a":20}"#)).unwrap();
    edits.apply(edit(&file, 1, r#"{"a":11}"#)).unwrap();
    let reloaded = EditsFile::load(&path).unwrap();
    assert_eq!(reloaded, edits);
    let texts: Vec<&str> = reloaded.edits().iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts, [r#"{"a":11}"#, r#"{"a":20}"#]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap().lines().count(),
        2,
        "one line per edited record"
    );
}

#[test]
fn revert_one_and_revert_all_are_written_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = input(dir.path());
    let path = dir.path().join("edits.ndjson");
    let mut edits = EditsFile::load(&path).unwrap();
    edits.apply(edit(&file, 1, r#"{"a":10}"#)).unwrap();
    edits.apply(edit(&file, 3, r#"{"a":30}"#)).unwrap();
    assert!(edits.revert(&file, 1, 1, None).unwrap());
    assert!(
        !edits.revert(&file, 1, 1, None).unwrap(),
        "nothing left to revert"
    );
    let reloaded = EditsFile::load(&path).unwrap();
    assert_eq!(reloaded.edits().len(), 1);
    assert_eq!(reloaded.edits()[0].line, 3);
    assert_eq!(edits.revert_all().unwrap(), 1);
    assert!(EditsFile::load(&path).unwrap().edits().is_empty());
}

#[test]
fn an_edit_that_is_not_a_json_object_is_refused_and_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = input(dir.path());
    let path = dir.path().join("edits.ndjson");
    let mut edits = EditsFile::load(&path).unwrap();
    let error = edits.apply(edit(&file, 1, r#"{"a":"#)).unwrap_err();
    assert!(error.to_string().contains("line 1, column"), "{error}");
    assert!(edits.apply(edit(&file, 1, "[1]")).is_err());
    assert!(!path.exists());
}

#[test]
fn a_malformed_line_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edits.ndjson");
    std::fs::write(&path, "\n{\"file\":\"x\"}\n").unwrap();
    let error = EditsFile::load(&path).unwrap_err().to_string();
    assert!(error.contains("edits.ndjson:2: not an edit"), "{error}");
}

#[test]
fn a_write_that_fails_before_the_rename_leaves_the_previous_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let file = input(dir.path());
    let path = dir.path().join("edits.ndjson");
    let mut edits = EditsFile::load(&path).unwrap();
    edits.apply(edit(&file, 1, r#"{"a":10}"#)).unwrap();
    let before = std::fs::read(&path).unwrap();
    edits.replace_for_test(edit(&file, 3, r#"{"a":30}"#));
    let crashed = write_atomic_with(&path, &edits.to_ndjson(), || {
        Err(std::io::Error::other("killed"))
    });
    assert!(crashed.is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
}

fn record(file: &Path, line: u64, text: &str) -> ReadItem {
    ReadItem::Record(RawRecord {
        place: Place::at(Arc::from(file), line, 1),
        payload: RawPayload::Json(text.as_bytes().to_vec()),
    })
}

fn text_of(item: &ReadItem) -> Option<&[u8]> {
    match item {
        ReadItem::Record(raw) => {
            let RawPayload::Json(text) = &raw.payload;
            Some(text)
        }
        ReadItem::Unreadable { .. } => None,
    }
}

#[test]
fn edits_apply_by_place_and_an_unreadable_line_becomes_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let file = input(dir.path());
    let path = dir.path().join("edits.ndjson");
    let mut edits = EditsFile::load(&path).unwrap();
    let mut first = edit(&file, 1, r#"{"a":10}"#);
    first.original_sha256 = Some(sha256_hex(br#"{"a":1}"#));
    edits.apply(first).unwrap();
    edits.apply(edit(&file, 2, r#"{"a":2}"#)).unwrap();
    let applied = AppliedEdits::resolve(&edits, std::slice::from_ref(&file)).unwrap();
    assert!(applied.not_applicable.is_empty());
    let set = applied.for_file(&file).unwrap();
    assert_eq!(set.len(), 2);
    let edited = set.edited(record(&file, 1, r#"{"a":1}"#));
    assert_eq!(text_of(&edited), Some(&br#"{"a":10}"#[..]));
    let untouched = set.edited(record(&file, 3, r#"{"a":3}"#));
    assert_eq!(text_of(&untouched), Some(&br#"{"a":3}"#[..]));
    let repaired = set.edited(ReadItem::Unreadable {
        place: Place::at(Arc::from(file.as_path()), 2, 1),
        message: "broken".into(),
    });
    assert_eq!(text_of(&repaired), Some(&br#"{"a":2}"#[..]));
    // A record whose text is not the one edited keeps its own text.
    let other = set.edited(record(&file, 1, r#"{"a":99}"#));
    assert_eq!(text_of(&other), Some(&br#"{"a":99}"#[..]));
}

#[test]
fn edits_of_a_changed_file_are_not_applicable_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = input(dir.path());
    let path = dir.path().join("edits.ndjson");
    let mut edits = EditsFile::load(&path).unwrap();
    edits.apply(edit(&file, 1, r#"{"a":10}"#)).unwrap();
    std::fs::write(&file, "{\"a\":1}\n").unwrap();
    let applied = AppliedEdits::resolve(&edits, std::slice::from_ref(&file)).unwrap();
    assert!(applied.for_file(&file).is_none());
    assert_eq!(applied.not_applicable.len(), 1);
    let reason = &applied.not_applicable[0].reason;
    assert!(
        reason.contains("changed since the edit was made"),
        "{reason}"
    );
}

#[test]
fn a_moved_file_finds_its_edits_by_name_and_hash() {
    let dir = tempfile::tempdir().unwrap();
    let file = input(dir.path());
    let path = dir.path().join("edits.ndjson");
    let mut edits = EditsFile::load(&path).unwrap();
    edits.apply(edit(&file, 1, r#"{"a":10}"#)).unwrap();
    let other = dir.path().join("moved");
    std::fs::create_dir(&other).unwrap();
    let moved = other.join("input.jsonl");
    std::fs::rename(&file, &moved).unwrap();
    let applied = AppliedEdits::resolve(&edits, std::slice::from_ref(&moved)).unwrap();
    assert_eq!(applied.for_file(&moved).map(EditSet::len), Some(1));
    // Another file of the same name, with other content, gets none.
    std::fs::write(&moved, "{}\n").unwrap();
    let applied = AppliedEdits::resolve(&edits, std::slice::from_ref(&moved)).unwrap();
    assert!(applied.is_empty());
}
