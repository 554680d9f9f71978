//! Comparing two inputs record by record, streamed, in memory bounded by the smaller side.
//!
//! The smaller side (by size on disk) is mapped first: each record is kept as its key (its
//! `source_message_id`, or for an edited record its original's, or for a record without one
//! its file name and place), a 128-bit hash of its mapped side ([`super::view`]), its place and
//! category, while the mapped side's JSON text goes to a temporary file (an offset is kept).
//! The other side is then streamed: each record is looked up by key; for a changed one the
//! first side's text is read back from the temporary file and the two are diffed field by
//! field on the mapping threads. Memory: about 80 bytes per record of the smaller side.

use std::collections::BTreeMap;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::fields::{FieldDiff, diff_values};
use super::view::write_record_view;
use crate::clevertap::FileInfo;
use crate::edits::AppliedEdits;
use crate::mapping::{Engine, Outcome};
use crate::pipeline::{self, OpenFailure, category_label};

/// One side of a comparison: its files, rules and edits.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// The files, in order.
    pub files: &'a [PathBuf],
    /// The name of each file in keys of records without an id (its path under the folder
    /// given, or its file name), so that the same file under two folders matches.
    pub names: &'a [String],
    /// The engine (rules) to map with.
    pub engine: &'a Engine,
    /// Edits to apply, if any.
    pub edits: Option<&'a AppliedEdits>,
}

/// Whether a record differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Matched, with a different mapped side.
    Changed,
    /// Only in A.
    OnlyA,
    /// Only in B.
    OnlyB,
}

/// Where a record is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Its file.
    pub file: String,
    /// Its line.
    pub line: u64,
}

/// A record that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordDiff {
    /// Its `source_message_id` (an edited record's original's), `None` for a record without
    /// one (unreadable, or no event name): those are matched by file name and place.
    pub id: Option<String>,
    /// Changed, only in A or only in B.
    pub status: Status,
    /// Where it is in A.
    pub a: Option<Location>,
    /// Where it is in B.
    pub b: Option<Location>,
    /// The fields that differ (changed records).
    pub fields: Vec<FieldDiff>,
}

/// Counts of one category (A's category for matched records).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CategoryCounts {
    /// Records of A in this category.
    pub a: u64,
    /// Records of B in this category.
    pub b: u64,
    /// Matched and the same.
    pub same: u64,
    /// Matched and changed.
    pub changed: u64,
    /// Only in A.
    pub only_a: u64,
    /// Only in B.
    pub only_b: u64,
}

/// The counts of a comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Matched and the same.
    pub same: u64,
    /// Matched and changed.
    pub changed: u64,
    /// Only in A.
    pub only_a: u64,
    /// Only in B.
    pub only_b: u64,
    /// Per category.
    pub by_category: BTreeMap<String, CategoryCounts>,
}

impl Totals {
    /// Whether A and B map the same.
    pub fn is_same(&self) -> bool {
        self.changed == 0 && self.only_a == 0 && self.only_b == 0
    }
}

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// Input files that could not be opened.
    #[error("{}", .0.iter().map(|f| f.error.to_string()).collect::<Vec<_>>().join("; "))]
    Open(Vec<OpenFailure>),
    /// The temporary file holding the first side's mapped records.
    #[error("temporary file in {}: {source} (set TMPDIR to a folder with room)", .dir.display())]
    Spill {
        /// Its folder.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The caller's `each` failed (e.g. writing the report).
    #[error("{0}")]
    Output(std::io::Error),
    /// Cancelled before the end (see [`compare_cancellable`]).
    #[error("the comparison was cancelled")]
    Cancelled,
}

/// One record of the first side.
struct Entry {
    hash: u128,
    offset: u64,
    len: u32,
    seq: u32,
    file: u32,
    count: u32,
    matched: AtomicU32,
    line: u64,
    category: u8,
    has_id: bool,
}

/// What the mapping threads make of one record.
struct Digested {
    key: u128,
    has_id: bool,
    hash: u128,
    category: &'static str,
    line: u64,
    /// First side: the view's length in the chunk's buffer. Other side: the fields that differ
    /// from the matched record of the first side, when the hashes differ.
    len: u32,
    fields: Option<Vec<FieldDiff>>,
}

/// Compares `a` and `b` record by record, handing each record that differs to `each` (changed
/// and only-in-the-larger-side records in that side's order, then the others in theirs), and
/// returns the counts.
pub fn compare(
    a: Side<'_>,
    b: Side<'_>,
    each: impl FnMut(&RecordDiff) -> std::io::Result<()>,
) -> Result<Totals, CompareError> {
    compare_cancellable(a, b, &AtomicBool::new(false), each)
}

/// [`compare`], stopped (with [`CompareError::Cancelled`]) soon after `cancel` is set: the
/// window's Compare with… runs on a worker thread with a Cancel button.
pub fn compare_cancellable(
    a: Side<'_>,
    b: Side<'_>,
    cancel: &AtomicBool,
    mut each: impl FnMut(&RecordDiff) -> std::io::Result<()>,
) -> Result<Totals, CompareError> {
    let size = |side: &Side<'_>| -> u64 {
        side.files
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    };
    // The smaller side is kept; `swapped` when that is B.
    let swapped = size(&b) < size(&a);
    let (first, second) = if swapped { (b, a) } else { (a, b) };
    let dir = std::env::temp_dir();
    let spill_error = |source| CompareError::Spill {
        dir: dir.clone(),
        source,
    };
    let spill = tempfile::tempfile().map_err(spill_error)?;
    let mut totals = Totals::default();
    let mut categories: Vec<&'static str> = Vec::new();
    let mut intern = |label: &'static str| -> u8 {
        match categories.iter().position(|c| *c == label) {
            Some(index) => index as u8,
            None => {
                categories.push(label);
                (categories.len() - 1) as u8
            }
        }
    };

    // The first side: keys, hashes and places in memory, mapped sides in the temporary file.
    let mut entries: foldhash::HashMap<u128, Entry> = foldhash::HashMap::default();
    let mut writer = BufWriter::with_capacity(1 << 20, &spill);
    let (mut offset, mut seq, mut written) = (0u64, 0u32, Ok(()));
    let (first_label, second_label) = if swapped { ("b", "a") } else { ("a", "b") };
    let summary = run_side(
        first,
        cancel,
        |file, outcomes, buffer| digest(first, file, outcomes, buffer, true, |_, _| None),
        |file, (digested, buffer)| {
            let mut at = 0usize;
            for record in digested {
                let len = record.len as usize;
                if written.is_ok() {
                    written = writer.write_all(&buffer[at..at + len]);
                }
                at += len;
                count_side(&mut totals, record.category, first_label);
                let category = intern(record.category);
                entries
                    .entry(record.key)
                    .and_modify(|entry| entry.count += 1)
                    .or_insert(Entry {
                        hash: record.hash,
                        offset,
                        len: record.len,
                        seq,
                        file,
                        count: 1,
                        matched: AtomicU32::new(0),
                        line: record.line,
                        category,
                        has_id: record.has_id,
                    });
                offset += len as u64;
                seq += 1;
            }
        },
    );
    check_failures(summary)?;
    written.and_then(|()| writer.flush()).map_err(spill_error)?;
    drop(writer);

    // The other side, streamed: looked up, and diffed where changed.
    let mut failed = Ok(());
    let location = |side: &Side<'_>, file: u32, line: u64| Location {
        file: side
            .files
            .get(file as usize)
            .map_or_else(String::new, |p| p.display().to_string()),
        line,
    };
    let summary = run_side(
        second,
        cancel,
        |file, outcomes, buffer| {
            digest(second, file, outcomes, buffer, false, |record, view| {
                let entry = entries.get(&record.key)?;
                if entry.hash == record.hash {
                    return None;
                }
                let mut kept = vec![0; entry.len as usize];
                read_at(&spill, &mut kept, entry.offset).ok()?;
                let kept: serde_json::Value = serde_json::from_slice(&kept).ok()?;
                let other: serde_json::Value = serde_json::from_slice(view).ok()?;
                Some(if swapped {
                    diff_values(&other, &kept)
                } else {
                    diff_values(&kept, &other)
                })
            })
        },
        |file, (digested, _)| {
            for record in digested {
                count_side(&mut totals, record.category, second_label);
                let matched = entries
                    .get(&record.key)
                    .filter(|entry| entry.matched.load(Ordering::Relaxed) < entry.count);
                let here = location(&second, file, record.line);
                let diff = match matched {
                    Some(entry) => {
                        entry.matched.fetch_add(1, Ordering::Relaxed);
                        // Matched records count under A's category.
                        let a_category = if swapped {
                            record.category
                        } else {
                            categories[entry.category as usize]
                        };
                        let counts = totals.by_category.entry(a_category.into()).or_default();
                        if entry.hash == record.hash {
                            counts.same += 1;
                            totals.same += 1;
                            continue;
                        }
                        counts.changed += 1;
                        totals.changed += 1;
                        let there = location(&first, entry.file, entry.line);
                        let (a, b) = if swapped {
                            (here, there)
                        } else {
                            (there, here)
                        };
                        RecordDiff {
                            id: id_text(record.key, record.has_id),
                            status: Status::Changed,
                            a: Some(a),
                            b: Some(b),
                            fields: record.fields.unwrap_or_default(),
                        }
                    }
                    None => only(
                        &mut totals,
                        !swapped,
                        record.category,
                        record.key,
                        record.has_id,
                        here,
                    ),
                };
                if failed.is_ok() {
                    failed = each(&diff);
                }
            }
        },
    );
    check_failures(summary)?;
    failed.map_err(CompareError::Output)?;

    // What the other side did not match, in the first side's order.
    let mut left: Vec<(&u128, &Entry)> = entries
        .iter()
        .filter(|(_, entry)| entry.matched.load(Ordering::Relaxed) < entry.count)
        .collect();
    left.sort_by_key(|(_, entry)| entry.seq);
    for (key, entry) in left {
        let unmatched = entry.count - entry.matched.load(Ordering::Relaxed);
        for _ in 0..unmatched {
            let here = location(&first, entry.file, entry.line);
            let category = categories[entry.category as usize];
            let diff = only(&mut totals, swapped, category, *key, entry.has_id, here);
            each(&diff).map_err(CompareError::Output)?;
        }
    }
    Ok(totals)
}

/// A record only in A (`in_a`) or only in B, counted.
fn only(
    totals: &mut Totals,
    in_b: bool,
    category: &str,
    key: u128,
    has_id: bool,
    here: Location,
) -> RecordDiff {
    let counts = totals.by_category.entry(category.into()).or_default();
    if in_b {
        counts.only_b += 1;
        totals.only_b += 1;
    } else {
        counts.only_a += 1;
        totals.only_a += 1;
    }
    RecordDiff {
        id: id_text(key, has_id),
        status: if in_b { Status::OnlyB } else { Status::OnlyA },
        a: (!in_b).then(|| here.clone()),
        b: in_b.then_some(here),
        fields: Vec::new(),
    }
}

fn count_side(totals: &mut Totals, category: &str, side: &str) {
    let counts = totals.by_category.entry(category.into()).or_default();
    if side == "a" {
        counts.a += 1;
    } else {
        counts.b += 1;
    }
}

fn id_text(key: u128, has_id: bool) -> Option<String> {
    has_id.then(|| Uuid::from_u128(key).to_string())
}

fn check_failures(summary: pipeline::RunSummary) -> Result<(), CompareError> {
    if summary.cancelled {
        Err(CompareError::Cancelled)
    } else if summary.failures.is_empty() {
        Ok(())
    } else {
        Err(CompareError::Open(summary.failures))
    }
}

/// Runs one side through the pipeline; `digest` gets the file's index.
fn run_side(
    side: Side<'_>,
    cancel: &AtomicBool,
    digest: impl Fn(u32, Vec<Outcome>, &mut Vec<u8>) -> Vec<Digested> + Sync,
    mut sink: impl FnMut(u32, (Vec<Digested>, Vec<u8>)),
) -> pipeline::RunSummary {
    let index = |info: &FileInfo| -> u32 {
        side.files
            .iter()
            .position(|p| p.as_path() == &*info.path)
            .unwrap_or(0) as u32
    };
    pipeline::run_edited(
        side.files,
        side.engine,
        side.edits,
        cancel,
        |_| {},
        |info, outcomes| {
            let mut buffer = Vec::new();
            let file = index(info);
            (file, digest(file, outcomes, &mut buffer), buffer)
        },
        |_, (file, digested, buffer)| sink(file, (digested, buffer)),
    )
}

/// Keys, hashes and views of a chunk of one side's outcomes. With `keep`, the views stay in
/// `buffer`, one after the other; without, `fields` is asked for each record's differences
/// (given its view) and the view is dropped.
fn digest(
    side: Side<'_>,
    file: u32,
    outcomes: Vec<Outcome>,
    buffer: &mut Vec<u8>,
    keep: bool,
    fields: impl Fn(&Digested, &[u8]) -> Option<Vec<FieldDiff>>,
) -> Vec<Digested> {
    let path = side.files.get(file as usize);
    let edits = side
        .edits
        .zip(path)
        .and_then(|(edits, path)| edits.for_file(path));
    let name = side.names.get(file as usize).map_or("", String::as_str);
    let mut out = Vec::with_capacity(outcomes.len());
    for outcome in &outcomes {
        let edit = edits.and_then(|set| set.get(&outcome.place));
        let id = match edit {
            Some(edit) => edit.id.as_deref().and_then(|id| Uuid::parse_str(id).ok()),
            None => outcome.mapped.as_ref().map(|m| m.record_id),
        };
        let (key, has_id) = match id {
            Some(id) => (id.as_u128(), true),
            None => {
                let place = &outcome.place;
                let text = format!(
                    "{name}\n{}\n{}\n{:?}",
                    place.line, place.column, place.csv_row
                );
                (hash128(text.as_bytes()), false)
            }
        };
        let start = buffer.len();
        write_record_view(outcome, buffer);
        let view = &buffer[start..];
        let mut record = Digested {
            key,
            has_id,
            hash: hash128(view),
            category: category_label(outcome),
            line: outcome.place.line,
            len: view.len() as u32,
            fields: None,
        };
        if !keep {
            record.fields = fields(&record, view);
            buffer.truncate(start);
        }
        out.push(record);
    }
    out
}

/// A 128-bit hash of `bytes` (two 64-bit hashes with fixed seeds): the same in every run.
fn hash128(bytes: &[u8]) -> u128 {
    let half = |seed: u64| {
        let mut hasher = foldhash::fast::FixedState::with_seed(seed).build_hasher();
        hasher.write(bytes);
        hasher.finish()
    };
    (u128::from(half(0x9e37_79b9_7f4a_7c15)) << 64) | u128::from(half(0xc2b2_ae3d_27d4_eb4f))
}

/// Reads `buffer.len()` bytes of `file` at `offset`, without moving a shared position.
#[cfg(unix)]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buffer, offset)
}

/// Reads `buffer.len()` bytes of `file` at `offset`.
#[cfg(not(unix))]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file.try_clone()?;
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buffer)
}
