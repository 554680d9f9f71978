//! Helpers: write inputs to a temporary directory and read them back.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;
use tempfile::TempDir;

use crate::clevertap::{FileInfo, Place, ReadItem, open};

/// A temporary directory for input files.
pub(super) struct Fixture {
    dir: TempDir,
}

impl Fixture {
    pub(super) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file as is.
    pub(super) fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write input");
        path
    }

    /// Writes a gzip-compressed file.
    pub(super) fn gz(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        self.file(name, gzip(bytes.as_ref()))
    }
}

pub(super) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// All items of a file.
pub(super) fn read_items(path: &Path) -> (FileInfo, Vec<ReadItem>) {
    let reader = open(path).expect("open");
    let info = reader.info().clone();
    (info, reader.collect())
}

/// Every item parsed: records as values, parse failures and unreadable input as errors.
pub(super) type Outcome = Result<(Place, Value), (Place, String)>;

pub(super) fn read_outcomes(path: &Path) -> (FileInfo, Vec<Outcome>) {
    let (info, items) = read_items(path);
    (info, items.into_iter().map(outcome).collect())
}

pub(super) fn outcome(item: ReadItem) -> Outcome {
    match item {
        // The tests compare with `serde_json::json!` values: same text, same key order.
        ReadItem::Record(record) => record.parse().map(|(place, value)| {
            let text = value.to_string();
            (
                place,
                serde_json::from_str(&text).expect("sonic-rs writes valid JSON"),
            )
        }),
        ReadItem::Unreadable { place, message } => Err((place, message)),
    }
}

/// The values of a file that must read without any problem.
pub(super) fn read_values(path: &Path) -> (FileInfo, Vec<Value>) {
    let (info, outcomes) = read_outcomes(path);
    let values = outcomes
        .into_iter()
        .map(|o| match o {
            Ok((_, value)) => value,
            Err((place, message)) => panic!("{place}: {message}"),
        })
        .collect();
    (info, values)
}

/// (line, column) of every outcome, good or bad.
pub(super) fn places(outcomes: &[Outcome]) -> Vec<(u64, u64)> {
    outcomes
        .iter()
        .map(|o| match o {
            Ok((place, _)) | Err((place, _)) => (place.line, place.column),
        })
        .collect()
}

/// The error messages with their lines.
pub(super) fn errors(outcomes: &[Outcome]) -> Vec<(u64, String)> {
    outcomes
        .iter()
        .filter_map(|o| o.as_ref().err())
        .map(|(p, m)| (p.line, m.clone()))
        .collect()
}
