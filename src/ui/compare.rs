//! Comparing in the window: a record before and after its edit ("Compare with original"), and
//! the loaded files against another file or folder (File › Compare with…), both computed on
//! worker threads and shown with the diff view.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::diff::{FieldDiff, RecordDiff, Side, Totals, diff_values, outcome_at, record_view};
use crate::edits::AppliedEdits;

use super::state::{App, Msg};

/// Most differing records a comparison keeps to list (the counts cover every record).
pub const LIST_MAX: usize = 5000;

/// What the compare windows ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum CompareCommand {
    /// Show a record's mapped event before its edit and after.
    WithOriginal(u32),
    /// Close the record diff window.
    CloseRecordDiff,
    /// Stop the running comparison of files.
    Cancel,
    /// Close the Compare window.
    Close,
    /// Show the diff of one listed record of the comparison (by its position in the list).
    Show(usize),
}

/// A worker's answer.
#[derive(Debug)]
pub enum CompareMsg {
    /// A record's diff (its request's token).
    RecordDiff(u64, Result<Vec<FieldDiff>, String>),
    /// A comparison of files ended (its request's token).
    Compared(u64, Result<Compared, String>),
}

/// Where a computation is.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress<T> {
    /// Running.
    Running,
    /// Done.
    Done(T),
    /// Failed, with the reason.
    Failed(String),
}

/// The record diff window: a record before and after its edit.
#[derive(Debug)]
pub struct RecordDiffWindow {
    /// The record.
    pub row: u32,
    /// Its place, for the title.
    pub place: String,
    /// The fields that differ, once known.
    pub diffs: Progress<Vec<FieldDiff>>,
    token: u64,
}

/// A comparison of the loaded files with another input.
#[derive(Debug)]
pub struct CompareJob {
    /// What A is (the loaded files).
    pub a_label: String,
    /// B: the chosen file or folder.
    pub b_path: PathBuf,
    /// The result, once known.
    pub result: Progress<Compared>,
    /// The listed record whose diff is shown.
    pub shown: Option<usize>,
    /// Cancel was pressed.
    pub cancelling: bool,
    cancel: Arc<AtomicBool>,
    token: u64,
}

/// The result of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    /// The counts.
    pub totals: Totals,
    /// The differing records, in the order found, at most [`LIST_MAX`].
    pub records: Vec<RecordDiff>,
    /// How long it took.
    pub elapsed: Duration,
}

/// The compare windows' state.
#[derive(Debug, Default)]
pub struct CompareState {
    /// The record diff window, when open.
    pub record: Option<RecordDiffWindow>,
    /// The comparison of files, when its window is open.
    pub job: Option<CompareJob>,
    next_token: u64,
}

impl CompareState {
    /// Whether a worker is computing a diff or a comparison.
    pub fn is_pending(&self) -> bool {
        self.record
            .as_ref()
            .is_some_and(|w| w.diffs == Progress::Running)
            || self
                .job
                .as_ref()
                .is_some_and(|j| matches!(j.result, Progress::Running))
    }

    fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }
}

impl App {
    /// Applies a compare command.
    pub(super) fn apply_compare(&mut self, command: CompareCommand) {
        match command {
            CompareCommand::WithOriginal(row) => self.compare_with_original(row),
            CompareCommand::CloseRecordDiff => self.compare.record = None,
            CompareCommand::Cancel => {
                if let Some(job) = &mut self.compare.job {
                    job.cancel.store(true, Ordering::Relaxed);
                    job.cancelling = true;
                }
            }
            CompareCommand::Close => {
                if let Some(job) = self.compare.job.take() {
                    job.cancel.store(true, Ordering::Relaxed);
                }
            }
            CompareCommand::Show(index) => {
                if let Some(job) = &mut self.compare.job {
                    job.shown = Some(index);
                }
            }
        }
    }

    /// Maps the record's original text (the input file read without edits, with the rules in
    /// force) on a worker thread and diffs it against the record as mapped now.
    fn compare_with_original(&mut self, row: u32) {
        let store = self.records.store();
        let (Some((path, line, column, csv_row)), Some(now)) =
            (store.place_key(row as usize), store.outcome(row as usize))
        else {
            return;
        };
        let after = record_view(&now);
        let engine = self.engine.clone();
        let token = self.compare.token();
        self.compare.record = Some(RecordDiffWindow {
            row,
            place: now.place.to_string(),
            diffs: Progress::Running,
            token,
        });
        let send = self.sender();
        let spawned = crate::thread::spawn_named("feedlens-diff", move || {
            let csv_row = (csv_row > 0).then_some(csv_row);
            let result = match outcome_at(&engine, &path, line, column, csv_row) {
                Ok(Some(before)) => Ok(diff_values(&record_view(&before), &after)),
                Ok(None) => Err(format!(
                    "{}:{line}:{column}: no record there any more (the file changed?)",
                    path.display()
                )),
                Err(failure) => Err(failure.error.to_string()),
            };
            send(Msg::Compare(CompareMsg::RecordDiff(token, result)));
        });
        if let Err(error) = spawned {
            self.compare.record = None;
            self.errors
                .push(crate::thread::start_failed("feedlens-diff", &error));
        }
    }

    /// Compares the loaded files (with the window's rules and edits) with `b` (a file or a
    /// folder, with the same rules, no edits) on a worker thread.
    pub(super) fn start_compare(&mut self, b: PathBuf) {
        let files_a: Vec<PathBuf> = self.files.iter().map(|f| f.path.to_path_buf()).collect();
        if files_a.is_empty() {
            self.errors
                .push("nothing to compare: open the files to compare first (File › Open)".into());
            return;
        }
        let files_b = crate::clevertap::expand_paths(std::slice::from_ref(&b));
        if files_b.is_empty() {
            self.errors.push(format!(
                "cannot compare with {}: the folder holds no CleverTap files",
                b.display()
            ));
            return;
        }
        if let Some(old) = self.compare.job.take() {
            old.cancel.store(true, Ordering::Relaxed);
        }
        let engine = self.engine.clone();
        let edits = self.edits.clone();
        let cancel = Arc::new(AtomicBool::new(false));
        let token = self.compare.token();
        let a_label = format!(
            "{} with the window's edits ({})",
            super::prefs::file_set_label(&files_a),
            edits.edits().len()
        );
        self.compare.job = Some(CompareJob {
            a_label,
            b_path: b.clone(),
            result: Progress::Running,
            shown: None,
            cancelling: false,
            cancel: Arc::clone(&cancel),
            token,
        });
        let send = self.sender();
        let spawned = crate::thread::spawn_named("feedlens-compare", move || {
            let result = run_compare(&files_a, &files_b, &engine, &edits, &cancel);
            send(Msg::Compare(CompareMsg::Compared(token, result)));
        });
        if let Err(error) = spawned {
            self.compare.job = None;
            self.errors
                .push(crate::thread::start_failed("feedlens-compare", &error));
        }
    }

    /// A worker's answer (an older request's is dropped).
    pub(super) fn on_compare(&mut self, msg: CompareMsg) {
        match msg {
            CompareMsg::RecordDiff(token, result) => {
                if let Some(window) = &mut self.compare.record
                    && window.token == token
                {
                    window.diffs = match result {
                        Ok(diffs) => Progress::Done(diffs),
                        Err(error) => Progress::Failed(error),
                    };
                }
            }
            CompareMsg::Compared(token, result) => {
                if let Some(job) = &mut self.compare.job
                    && job.token == token
                {
                    if let Ok(done) = &result {
                        let t = &done.totals;
                        self.status = format!(
                            "compared with {}: {} same, {} changed, {} only in A, {} only in B",
                            job.b_path.display(),
                            t.same,
                            t.changed,
                            t.only_a,
                            t.only_b
                        );
                    }
                    job.result = match result {
                        Ok(done) => Progress::Done(done),
                        Err(error) => Progress::Failed(error),
                    };
                }
            }
        }
    }
}

/// The name of each file in keys of records without an id: nothing when both sides are one
/// file (compared place by place), else the file's name (the same file in two folders).
fn names(files: &[PathBuf], both_single: bool) -> Vec<String> {
    files
        .iter()
        .map(|file| {
            if both_single {
                String::new()
            } else {
                file.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            }
        })
        .collect()
}

/// Runs the comparison: A with the window's edits, B without.
fn run_compare(
    files_a: &[PathBuf],
    files_b: &[PathBuf],
    engine: &crate::mapping::Engine,
    edits: &crate::edits::EditsFile,
    cancel: &AtomicBool,
) -> Result<Compared, String> {
    let started = Instant::now();
    let applied = if edits.edits().is_empty() {
        None
    } else {
        Some(AppliedEdits::resolve(edits, files_a).map_err(|e| e.to_string())?)
    };
    let both_single = files_a.len() == 1 && files_b.len() == 1;
    let (names_a, names_b) = (names(files_a, both_single), names(files_b, both_single));
    let a = Side {
        files: files_a,
        names: &names_a,
        engine,
        edits: applied.as_ref(),
    };
    let b = Side {
        files: files_b,
        names: &names_b,
        engine,
        edits: None,
    };
    let mut records = Vec::new();
    let totals = crate::diff::compare_cancellable(a, b, cancel, |diff| {
        if records.len() < LIST_MAX {
            records.push(diff.clone());
        }
        Ok(())
    })
    .map_err(|error| error.to_string())?;
    Ok(Compared {
        totals,
        records,
        elapsed: started.elapsed(),
    })
}

/// A location as `file:line` with the file's name only.
pub fn short_location(location: Option<&crate::diff::Location>) -> String {
    match location {
        Some(location) => {
            let name = Path::new(&location.file).file_name().map_or_else(
                || location.file.clone(),
                |n| n.to_string_lossy().into_owned(),
            );
            format!("{name}:{}", location.line)
        }
        None => "—".into(),
    }
}
