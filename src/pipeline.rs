//! The pipeline: files → records (streamed) → outcomes (parsed and mapped in parallel, in input
//! order) → the caller, with progress, cancel and the accounting that always adds up.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::clevertap::{self, FileInfo, RawPayload, ReadError, ReadItem};
use crate::edits::AppliedEdits;
use crate::mapping::{Category, Engine, Outcome, RecordStatus};

/// Records parsed and mapped together on all cores: enough to amortise the hand-off, few
/// enough that a chunk's records, values and outcomes stay in the processor's caches.
pub const CHUNK_RECORDS: usize = 512;

/// Chunks being mapped at once: enough to keep every core busy while the oldest is handed
/// over, few enough to bound memory.
const CHUNKS_IN_FLIGHT: usize = 8;

/// A chunk handed to the pool: its record count and digested outcomes when mapped, and how far
/// the file had been read.
struct Pending<T> {
    result: std::sync::mpsc::Receiver<(usize, T)>,
    bytes_read: u64,
}

impl<T> Pending<T> {
    fn wait(self) -> (Option<(usize, T)>, u64) {
        // A job that panicked drops its sender: the panic itself is raised by the scope.
        (self.result.recv().ok(), self.bytes_read)
    }
}

/// Progress of a run, reported after each chunk.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// The file being read.
    pub file: Option<PathBuf>,
    /// Index of that file among the inputs.
    pub file_index: usize,
    /// Number of input files.
    pub file_count: usize,
    /// Bytes of that file consumed so far.
    pub file_bytes_read: u64,
    /// Size of that file on disk.
    pub file_bytes_total: u64,
    /// Bytes of all files consumed so far.
    pub bytes_read: u64,
    /// Size of all files on disk.
    pub bytes_total: u64,
    /// Records read so far.
    pub records: u64,
}

/// Counts of how records ended; `records_read` is always the sum of the five statuses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Accounting {
    /// Records read (including unreadable ones).
    pub records_read: u64,
    /// Mapped with no warnings.
    pub mapped: u64,
    /// Mapped with warnings.
    pub warned: u64,
    /// Held back as invalid.
    pub held: u64,
    /// Dropped by policy.
    pub dropped: u64,
    /// Not readable.
    pub unreadable: u64,
    /// Records per category label ([`category_label`]: `Other`, …, `Users` for profile
    /// records, `Unmapped` for records that are not sent or have no category).
    pub by_category: BTreeMap<String, u64>,
    /// Records per event name as sent (or as written, when not mapped).
    pub by_event: BTreeMap<String, u64>,
}

impl Accounting {
    /// Counts one outcome.
    pub fn add(&mut self, outcome: &Outcome) {
        self.records_read += 1;
        match outcome.status {
            RecordStatus::Mapped => self.mapped += 1,
            RecordStatus::Warned => self.warned += 1,
            RecordStatus::Held => self.held += 1,
            RecordStatus::Dropped => self.dropped += 1,
            RecordStatus::Unreadable => self.unreadable += 1,
        }
        bump(&mut self.by_category, category_label(outcome));
        match sent_event_name(outcome) {
            Some(name) => bump(&mut self.by_event, name),
            None => bump(&mut self.by_event, &event_label(outcome)),
        }
    }

    /// Takes one outcome counted before away (a record mapped again in place).
    pub fn remove(&mut self, outcome: &Outcome) {
        self.records_read = self.records_read.saturating_sub(1);
        let count = match outcome.status {
            RecordStatus::Mapped => &mut self.mapped,
            RecordStatus::Warned => &mut self.warned,
            RecordStatus::Held => &mut self.held,
            RecordStatus::Dropped => &mut self.dropped,
            RecordStatus::Unreadable => &mut self.unreadable,
        };
        *count = count.saturating_sub(1);
        unbump(&mut self.by_category, category_label(outcome));
        match sent_event_name(outcome) {
            Some(name) => unbump(&mut self.by_event, name),
            None => unbump(&mut self.by_event, &event_label(outcome)),
        }
    }

    /// Adds the counts of another part of the same run.
    pub fn merge(&mut self, other: Accounting) {
        self.records_read += other.records_read;
        self.mapped += other.mapped;
        self.warned += other.warned;
        self.held += other.held;
        self.dropped += other.dropped;
        self.unreadable += other.unreadable;
        for (counts, more) in [
            (&mut self.by_category, other.by_category),
            (&mut self.by_event, other.by_event),
        ] {
            for (key, count) in more {
                *counts.entry(key).or_default() += count;
            }
        }
    }

    /// Whether the counts add up (they always should).
    pub fn balanced(&self) -> bool {
        self.mapped + self.warned + self.held + self.dropped + self.unreadable == self.records_read
    }

    /// Whether every record mapped (warnings allowed): the command-line exit code 0.
    pub fn all_mapped(&self) -> bool {
        self.held == 0 && self.unreadable == 0
    }
}

/// Counts one more under `key`, allocating the key only the first time it is seen.
/// One less of `key`; a key counted zero times is not listed.
fn unbump(counts: &mut BTreeMap<String, u64>, key: &str) {
    if let Some(count) = counts.get_mut(key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            counts.remove(key);
        }
    }
}

fn bump(counts: &mut BTreeMap<String, u64>, key: &str) {
    match counts.get_mut(key) {
        Some(count) => *count += 1,
        None => {
            counts.insert(key.to_string(), 1);
        }
    }
}

/// The event name as sent, without copying it.
fn sent_event_name(outcome: &Outcome) -> Option<&str> {
    outcome
        .mapped
        .as_ref()?
        .event
        .as_ref()?
        .data
        .event_name
        .as_deref()
}

/// Where a record is counted and shown: `check`'s counts per category, the window's tabs and
/// everything else that groups records by category follow this one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordCategory {
    /// A mapped event of this category.
    Event(Category),
    /// A mapped profile record (user attributes, no event).
    Users,
    /// A record that is not sent (held, dropped or unreadable, whatever its event), or a mapped
    /// event with no category.
    Unmapped,
}

impl RecordCategory {
    /// The category's label (`Other`, …), `Users` or `Unmapped`.
    pub fn label(self) -> &'static str {
        match self {
            RecordCategory::Event(category) => category.label(),
            RecordCategory::Users => "Users",
            RecordCategory::Unmapped => "Unmapped",
        }
    }
}

/// The category an outcome is counted and shown under: a record that is held, dropped or
/// unreadable is `Unmapped` (the window's Unmapped/Held tab), even when its event has a
/// category; a profile record is `Users`; otherwise its event's category.
pub fn record_category(outcome: &Outcome) -> RecordCategory {
    if matches!(
        outcome.status,
        RecordStatus::Held | RecordStatus::Dropped | RecordStatus::Unreadable
    ) {
        return RecordCategory::Unmapped;
    }
    match &outcome.mapped {
        Some(mapped) if mapped.event.is_none() => RecordCategory::Users,
        Some(mapped) => mapped
            .category
            .map_or(RecordCategory::Unmapped, RecordCategory::Event),
        None => RecordCategory::Unmapped,
    }
}

/// The label of [`record_category`]: what `check` counts an outcome under.
pub fn category_label(outcome: &Outcome) -> &'static str {
    record_category(outcome).label()
}

/// The event name to count an outcome under: the name as sent, else as written; `(unreadable)`
/// only for an unreadable record, `(no event name)` for a readable one without a name.
pub fn event_label(outcome: &Outcome) -> String {
    let sent = outcome
        .mapped
        .as_ref()
        .and_then(|m| m.event.as_ref())
        .and_then(|e| e.data.event_name.clone());
    match (&outcome.mapped, sent) {
        (_, Some(name)) => name,
        (Some(mapped), None) if mapped.event.is_none() => "(profile)".to_string(),
        (Some(_), None) => "App Uninstalled".to_string(),
        (None, _) => match (&outcome.source_event_name, outcome.status) {
            (Some(name), _) => name.clone(),
            (None, RecordStatus::Unreadable) => "(unreadable)".to_string(),
            (None, _) => "(no event name)".to_string(),
        },
    }
}

/// A file that could not be opened, with the reason.
#[derive(Debug)]
pub struct OpenFailure {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub error: ReadError,
}

/// What a run read.
#[derive(Debug, Default)]
pub struct RunSummary {
    /// Files opened, with what was detected.
    pub files: Vec<FileInfo>,
    /// Files that could not be opened.
    pub failures: Vec<OpenFailure>,
    /// Whether the run was cancelled before the end.
    pub cancelled: bool,
}

/// Reads and maps files in order, handing each chunk of outcomes (in input order) to `sink`.
/// A file that cannot be opened is reported and skipped; the others are still read.
pub fn run(
    paths: &[PathBuf],
    engine: &Engine,
    cancel: &AtomicBool,
    progress: impl FnMut(&Progress),
    sink: impl FnMut(&FileInfo, Vec<Outcome>),
) -> RunSummary {
    run_with(
        paths,
        engine,
        cancel,
        progress,
        |_, outcomes| outcomes,
        sink,
    )
}

/// [`run`], with each chunk of outcomes first turned by `digest` into what `sink` takes, on
/// the thread that mapped it: work per record (counting, rendering, dropping what is not
/// kept) is shared by all cores rather than done by the one thread that takes chunks in order.
pub fn run_with<T: Send>(
    paths: &[PathBuf],
    engine: &Engine,
    cancel: &AtomicBool,
    progress: impl FnMut(&Progress),
    digest: impl Fn(&FileInfo, Vec<Outcome>) -> T + Sync,
    sink: impl FnMut(&FileInfo, T),
) -> RunSummary {
    run_edited(paths, engine, None, cancel, progress, digest, sink)
}

/// [`run_with`], with record edits: a record (or unreadable line) that has an edit is mapped
/// from its edited text, at its place. Without edits, nothing per record is added; with them,
/// one lookup by place per record.
pub fn run_edited<T: Send>(
    paths: &[PathBuf],
    engine: &Engine,
    edits: Option<&AppliedEdits>,
    cancel: &AtomicBool,
    mut progress: impl FnMut(&Progress),
    digest: impl Fn(&FileInfo, Vec<Outcome>) -> T + Sync,
    mut sink: impl FnMut(&FileInfo, T),
) -> RunSummary {
    let mut summary = RunSummary::default();
    let bytes_total = paths
        .iter()
        .filter_map(|p| crate::clevertap::bucket::input_size(p))
        .sum();
    let mut state = Progress {
        file_count: paths.len(),
        bytes_total,
        ..Progress::default()
    };
    let mut bytes_done = 0;
    for (file_index, path) in paths.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            summary.cancelled = true;
            break;
        }
        let mut reader = match clevertap::open(path) {
            Ok(reader) => reader,
            Err(error) => {
                summary.failures.push(OpenFailure {
                    path: path.clone(),
                    error,
                });
                continue;
            }
        };
        let info = reader.info().clone();
        let file_edits = edits.and_then(|edits| edits.for_file(path));
        let fallback: Option<Arc<str>> = info.event_name_fallback().map(Arc::from);
        state.file = Some(path.clone());
        state.file_index = file_index;
        state.file_bytes_total = info.size_on_disk;
        // The file is read on its own thread, a chunk or two ahead of the mapping. Each chunk is
        // mapped as one job on the thread pool, several chunks in flight, while this thread hands
        // finished chunks to the sink in input order: no core waits for the sink or the reader.
        let cancelled = std::thread::scope(|scope| {
            let (chunks, received) = std::sync::mpsc::sync_channel::<(Vec<ReadItem>, u64, bool)>(2);
            scope.spawn(move || {
                loop {
                    let mut items = Vec::with_capacity(CHUNK_RECORDS);
                    let more = reader.next_chunk(CHUNK_RECORDS, &mut items);
                    if chunks.send((items, reader.bytes_read(), more)).is_err()
                        || !more
                        || cancel.load(Ordering::Relaxed)
                    {
                        break;
                    }
                }
            });
            rayon::in_place_scope(|jobs| {
                let mut in_flight = VecDeque::new();
                let mut deliver = |pending: Pending<T>| {
                    let (done, bytes_read) = pending.wait();
                    if let Some((records, digested)) = done.filter(|(records, _)| *records > 0) {
                        state.records += records as u64;
                        sink(&info, digested);
                    }
                    state.file_bytes_read = bytes_read;
                    state.bytes_read = bytes_done + bytes_read;
                    progress(&state);
                };
                for (items, bytes_read, more) in received {
                    let (done, result) = std::sync::mpsc::sync_channel(1);
                    let fallback = fallback.as_deref();
                    let (info, digest) = (&info, &digest);
                    jobs.spawn(move |_| {
                        let outcomes: Vec<Outcome> = items
                            .into_iter()
                            .map(|item| match file_edits {
                                Some(set) => map_item(engine, set.edited(item), fallback),
                                None => map_item(engine, item, fallback),
                            })
                            .collect();
                        let records = outcomes.len();
                        // The receiver waits for every job it spawned.
                        let _ = done.send((records, digest(info, outcomes)));
                    });
                    in_flight.push_back(Pending { result, bytes_read });
                    if in_flight.len() > CHUNKS_IN_FLIGHT
                        && let Some(oldest) = in_flight.pop_front()
                    {
                        deliver(oldest);
                    }
                    if more && cancel.load(Ordering::Relaxed) {
                        in_flight.into_iter().for_each(deliver);
                        return true;
                    }
                }
                in_flight.into_iter().for_each(deliver);
                false
            })
        });
        summary.cancelled = cancelled;
        bytes_done += info.size_on_disk;
        summary.files.push(info);
        if summary.cancelled {
            break;
        }
    }
    summary
}

/// Parses and maps one item read from a file.
pub fn map_item(engine: &Engine, item: ReadItem, fallback: Option<&str>) -> Outcome {
    match item {
        ReadItem::Record(raw) => {
            let RawPayload::Json(text) = &raw.payload;
            if let Some(masker) = &engine.options().mask {
                // The masked record's own text: its id, and what is kept of it, are the masked
                // record's. The record's text is masked as it is read (not parsed twice).
                return match masker.record_text(&raw.place, text) {
                    Ok((masked, value)) => {
                        let mut outcome = engine.map_text(raw.place, &masked, value, fallback);
                        if engine.options().keep_source {
                            outcome.source = Some(Arc::from(masked));
                        }
                        outcome
                    }
                    Err(message) => unreadable(engine, raw.place, message),
                };
            }
            match clevertap::parse_text(&raw.place, text) {
                Ok(value) => {
                    let mut outcome = engine.map_text(raw.place, text, value, fallback);
                    if engine.options().keep_source {
                        let RawPayload::Json(text) = raw.payload;
                        outcome.source = Some(Arc::from(text));
                    }
                    outcome
                }
                Err(message) => unreadable(engine, raw.place, message),
            }
        }
        ReadItem::Unreadable { place, message } => unreadable(engine, place, message),
    }
}

/// An unreadable record's outcome; when masking, what its message quotes of the record is
/// masked too.
fn unreadable(engine: &Engine, place: clevertap::Place, message: String) -> Outcome {
    match &engine.options().mask {
        Some(masker) => Outcome::unreadable(place, masker.message(&message)),
        None => Outcome::unreadable(place, message),
    }
}

/// Reads and maps files into memory: every outcome, in input order.
pub fn load(paths: &[PathBuf], engine: &Engine) -> (Vec<Outcome>, RunSummary) {
    load_edited(paths, engine, None)
}

/// [`load`], with record edits applied (see [`run_edited`]).
pub fn load_edited(
    paths: &[PathBuf],
    engine: &Engine,
    edits: Option<&AppliedEdits>,
) -> (Vec<Outcome>, RunSummary) {
    let mut outcomes = Vec::new();
    let summary = run_edited(
        paths,
        engine,
        edits,
        &AtomicBool::new(false),
        |_| {},
        |_, outcomes| outcomes,
        |_, chunk| outcomes.extend(chunk),
    );
    (outcomes, summary)
}
