//! The record model shared by the window, `map`, export and send: a compact per-row index that
//! sorting, filtering, counting and the tables read, what batching reads of each row, and each
//! record's text (compressed a chunk at a time), from which a row's whole outcome is mapped
//! again when it is shown, exported or sent. One policy decides which records are sendable
//! ([`sendable`]) and one rule the group (category tab) of a record ([`tab_of`]).
//!
//! The store is shared with worker threads as an `Arc`; new chunks are appended only while the
//! window holds the only reference (see [`Records`]), so a worker never sees a store change.

pub mod batches;
mod chunk;
mod coverage;
mod facts;
mod in_place;
pub mod kept;
pub mod preview;
mod search;
pub mod selection;

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::clevertap::{Place, RawPayload, RawRecord, ReadItem};
use crate::mapping::{Category, Engine, Outcome, PlanEvent, PlanItem, RecordStatus, Severity};
use crate::pipeline::{self, Accounting};

pub use batches::{
    BatchIndex, BatchInfo, ExportFormat, NO_BATCH, sendable, sendable_row, sendable_status,
};
pub use chunk::RowChunk;
use chunk::{Block, PlanRow, RowSource};
pub use coverage::{CoverageCounts, EventCoverage};
pub use selection::Selection;

/// Tabs that hold records, in the order they are shown: the categories, then Unmapped/Held.
pub const RECORD_TABS: usize = Category::ALL.len() + 1;
/// The record tab of held, dropped and unreadable records.
pub const UNMAPPED_TAB: u8 = Category::ALL.len() as u8;
/// The pseudo-tab of profile records (they are shown per batch in the Users tab).
pub const PROFILE_TAB: u8 = UNMAPPED_TAB + 1;
/// "No time" in [`RowMeta::time_ms`]; sorts first.
pub const NO_TIME: i64 = i64::MIN;

/// The name of a record tab.
pub fn record_tab_name(index: u8) -> &'static str {
    match Category::ALL.get(usize::from(index)) {
        Some(category) => category.label(),
        None if index == UNMAPPED_TAB => "Unmapped/Held",
        None => "Users",
    }
}

/// Whether a record tab is always shown (the document's six categories and Unmapped/Held);
/// the other categories appear only when they hold records.
pub fn record_tab_always_shown(index: u8) -> bool {
    index < 6 || index == UNMAPPED_TAB
}

/// The tab a record belongs to: not sent (held, dropped, unreadable) → Unmapped/Held; a profile
/// record → the Users pseudo-tab; otherwise its category.
pub fn tab_of(outcome: &Outcome) -> u8 {
    // The same rule `check` counts by: one place decides a record's category.
    match pipeline::record_category(outcome) {
        pipeline::RecordCategory::Unmapped => UNMAPPED_TAB,
        pipeline::RecordCategory::Users => PROFILE_TAB,
        pipeline::RecordCategory::Event(category) => Category::ALL
            .iter()
            .position(|x| *x == category)
            .map_or(UNMAPPED_TAB, |p| p as u8),
    }
}

/// Status as a small number, in order of seriousness for sorting.
pub fn status_code(status: RecordStatus) -> u8 {
    match status {
        RecordStatus::Mapped => 0,
        RecordStatus::Warned => 1,
        RecordStatus::Dropped => 2,
        RecordStatus::Held => 3,
        RecordStatus::Unreadable => 4,
    }
}

/// Every status, in the order of [`status_code`].
pub const STATUSES: [RecordStatus; 5] = [
    RecordStatus::Mapped,
    RecordStatus::Warned,
    RecordStatus::Dropped,
    RecordStatus::Held,
    RecordStatus::Unreadable,
];

/// One row of the compact index (32 bytes): what sorting, filtering and counting need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowMeta {
    /// Event time in epoch milliseconds, or [`NO_TIME`].
    pub time_ms: i64,
    /// Interned event name as CleverTap wrote it.
    pub source_name: u32,
    /// Interned event name as sent (or a label for profiles and uninstalls).
    pub sent_name: u32,
    /// Interned identity (customer id, else email, else empty).
    pub identity: u32,
    /// Interned email when the row also has a customer id, else empty.
    pub other_identity: u32,
    /// Index of the file in the window's file list.
    pub file: u16,
    /// Number of custom attributes sent.
    pub attributes: u16,
    /// Record tab ([`tab_of`]).
    pub tab: u8,
    /// [`status_code`].
    pub status: u8,
    /// Worst finding: 0 none, 1 info, 2 warning, 3 error.
    pub worst: u8,
}

/// Strings seen in many rows (event names, identities, group keys), stored once: one after
/// another in one buffer, found again by their hash (no allocation a string). Each string's
/// hash is kept, so that the table grows and another table adopts its strings without hashing
/// them again.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    /// The strings one after another.
    text: String,
    /// Each string's end in `text`; it starts where the one before it ends.
    ends: Vec<usize>,
    /// Each string's hash ([`intern_hash`]).
    hashes: Vec<u64>,
    /// The ids, by their string's hash.
    ids: hashbrown::HashTable<u32>,
}

/// A string's hash in an [`Interner`].
fn intern_hash(text: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0).hash_one(text)
}

/// The string of `id` in an [`Interner`]'s `text` and `ends`.
fn interned<'a>(text: &'a str, ends: &[usize], id: u32) -> &'a str {
    let id = id as usize;
    let start = id
        .checked_sub(1)
        .and_then(|before| ends.get(before))
        .copied();
    match ends.get(id) {
        Some(&end) => text.get(start.unwrap_or(0)..end).unwrap_or(""),
        None => "",
    }
}

impl Interner {
    /// The id of a string, adding it when new. Id 0 is always the empty string.
    pub fn intern(&mut self, text: &str) -> u32 {
        self.intern_hashed(text, intern_hash(text))
    }

    /// The id here of string `id` of `other`, adding it when new: its hash is `other`'s, not
    /// taken again (a chunk's strings are hashed on the thread that made the chunk).
    pub fn adopt(&mut self, other: &Interner, id: u32) -> u32 {
        let hash = other
            .hashes
            .get(id as usize)
            .copied()
            .unwrap_or_else(|| intern_hash(""));
        self.intern_hashed(other.get(id), hash)
    }

    fn intern_hashed(&mut self, text: &str, hash: u64) -> u32 {
        if self.ends.is_empty() {
            self.add("", intern_hash(""));
        }
        match self.find_hashed(text, hash) {
            Some(id) => id,
            None => self.add(text, hash),
        }
    }

    fn find_hashed(&self, text: &str, hash: u64) -> Option<u32> {
        self.ids
            .find(hash, |&id| interned(&self.text, &self.ends, id) == text)
            .copied()
    }

    fn add(&mut self, text: &str, hash: u64) -> u32 {
        let id = self.ends.len() as u32;
        self.text.push_str(text);
        self.ends.push(self.text.len());
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.ids.insert_unique(hash, id, |&id| {
            hashes.get(id as usize).copied().unwrap_or_default()
        });
        id
    }

    /// The string of an id.
    pub fn get(&self, id: u32) -> &str {
        interned(&self.text, &self.ends, id)
    }

    /// The id of a string, if it was seen.
    pub fn find(&self, text: &str) -> Option<u32> {
        self.find_hashed(text, intern_hash(text))
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every string with its id.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> {
        (0..self.ends.len() as u32).map(|id| (id, self.get(id)))
    }
}

/// A file the store's rows come from: what mapping its records again needs.
#[derive(Debug, Clone)]
struct SourceFile {
    path: Arc<Path>,
    fallback: Option<Arc<str>>,
}

/// Decompressed blocks kept for the next lookups (the table asks for the rows on screen each
/// frame, mostly from one or two blocks).
const CACHED_BLOCKS: usize = 4;

/// The records of the window: a compact index of every row, and what it takes to map any row
/// again on demand: its place and text (compressed a chunk at a time) and the engine that
/// mapped it. A million rows take a few hundred bytes each instead of their outcomes' kilobytes.
#[derive(Debug, Default)]
pub struct Store {
    /// One compact row per record, in input order.
    pub metas: Vec<RowMeta>,
    /// Event names and identities.
    pub strings: Interner,
    /// Event names (as sent and as written) that occur, by interned id: for the event filter.
    pub event_names: Vec<u32>,
    /// Counts of every row's outcome.
    pub accounting: Accounting,
    /// How often the documented events and attributes occur.
    pub coverage: CoverageCounts,
    /// What batching reads of each row; `None` for a row not sent by default.
    plans: Vec<Option<PlanRow>>,
    /// Batch grouping keys.
    group_keys: Interner,
    /// Distinct user facts.
    facts: facts::FactsTable,
    /// Each row's place and where its text is in its block.
    sources: Vec<RowSource>,
    /// The records' texts, a chunk at a time.
    blocks: Vec<Block>,
    /// Outcomes with no text to map again, by row.
    kept: HashMap<usize, Outcome>,
    /// Rows edited in place since they were read: their texts, which they are mapped from.
    edited: HashMap<usize, Arc<[u8]>>,
    /// The files rows come from, by file number.
    files: Vec<Option<SourceFile>>,
    /// The engine that mapped the rows, which maps them again.
    engine: Option<Engine>,
    /// The masker the records were read with (their texts are kept masked): an edit's text is
    /// masked with it before it is kept.
    masker: Option<Arc<crate::mask::Masker>>,
    /// The blocks decompressed last, most recent first.
    cache: Mutex<VecDeque<(usize, Arc<[u8]>)>>,
}

impl Store {
    /// An empty store whose rows are mapped again with `engine` (the one that mapped them).
    pub fn new(engine: Engine) -> Self {
        let masker = engine.options().mask.clone();
        // A masking engine keeps each record's text already masked: mapped again, it must not
        // be masked a second time (a token of a token would not match the one shown at load).
        let engine = if engine.options().mask.is_some() {
            let options = crate::mapping::MapOptions {
                mask: None,
                ..engine.options().clone()
            };
            Engine::new(Arc::new(engine.rules().clone()), options)
        } else {
            engine
        };
        Store {
            engine: Some(engine),
            masker,
            ..Store::default()
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.metas.len()
    }

    /// Whether no record is loaded.
    pub fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }

    /// Appends outcomes read from `path`, the window's file number `file`, whose records without
    /// an event name were given `fallback`.
    pub fn append(
        &mut self,
        file: u16,
        path: Arc<Path>,
        fallback: Option<Arc<str>>,
        mut chunk: RowChunk,
    ) {
        if chunk.is_empty() {
            // A block with no row would share its first row with the next one's.
            return;
        }
        let slot = usize::from(file);
        if self.files.len() <= slot {
            self.files.resize(slot + 1, None);
        }
        self.files[slot] = Some(SourceFile { path, fallback });
        let first_row = self.metas.len();
        let (metas, plans) = self.adopt(file, &mut chunk);
        self.metas.extend(metas);
        self.plans.extend(plans);
        self.sources.extend_from_slice(&chunk.sources);
        self.kept.extend(
            chunk
                .kept
                .into_iter()
                .map(|(index, outcome)| (first_row + index, outcome)),
        );
        self.blocks.push(Block {
            first_row,
            text: chunk.text,
        });
        self.accounting.merge(chunk.accounting);
        self.coverage.merge(chunk.coverage);
    }

    /// Appends outcomes already mapped (tests and benchmarks): [`RowChunk::new`] and
    /// [`Store::append`] in one.
    pub fn append_outcomes(
        &mut self,
        file: u16,
        fallback: Option<Arc<str>>,
        outcomes: Vec<Outcome>,
    ) {
        let (Some(path), Some(engine)) = (
            outcomes.first().map(|o| Arc::clone(&o.place.file)),
            self.engine.as_ref(),
        ) else {
            return;
        };
        let chunk = RowChunk::new(engine.rules(), outcomes);
        self.append(file, path, fallback, chunk);
    }

    /// A chunk's index rows and plan rows in the store's terms: its names and identities
    /// interned in the store's strings, its facts and group keys found or added.
    fn adopt(&mut self, file: u16, chunk: &mut RowChunk) -> (Vec<RowMeta>, Vec<Option<PlanRow>>) {
        let mut names = vec![None; chunk.strings.len()];
        let mut identities = vec![None; chunk.strings.len()];
        let mut metas = Vec::with_capacity(chunk.len());
        for meta in &chunk.metas {
            let mut name = |id: u32| -> u32 {
                *names[id as usize].get_or_insert_with(|| self.name_id(&chunk.strings, id))
            };
            let (source_name, sent_name) = (name(meta.source_name), name(meta.sent_name));
            let mut identity = |id: u32| -> u32 {
                *identities[id as usize]
                    .get_or_insert_with(|| self.strings.adopt(&chunk.strings, id))
            };
            let (identity, other_identity) =
                (identity(meta.identity), identity(meta.other_identity));
            metas.push(RowMeta {
                source_name,
                sent_name,
                identity,
                other_identity,
                file,
                ..*meta
            });
        }
        let facts = self.facts.adopt(std::mem::take(&mut chunk.facts));
        let mut group_keys = vec![None; chunk.group_keys.len()];
        let plans = chunk
            .plans
            .iter()
            .map(|plan| {
                plan.as_ref().map(|plan| PlanRow {
                    group_key: *group_keys[plan.group_key as usize].get_or_insert_with(|| {
                        self.group_keys.adopt(&chunk.group_keys, plan.group_key)
                    }),
                    facts: facts.get(plan.facts as usize).copied().unwrap_or(0),
                    ..plan.clone()
                })
            })
            .collect();
        (metas, plans)
    }

    /// The uncompressed texts of block `index`.
    fn block_text(&self, index: usize) -> Option<Arc<[u8]>> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(position) = cache.iter().position(|(i, _)| *i == index) {
            let entry = cache.remove(position)?;
            let text = Arc::clone(&entry.1);
            cache.push_front(entry);
            return Some(text);
        }
        let text: Arc<[u8]> = self.decompress(index)?.into();
        cache.push_front((index, Arc::clone(&text)));
        cache.truncate(CACHED_BLOCKS);
        Some(text)
    }

    fn decompress(&self, index: usize) -> Option<Vec<u8>> {
        // The store compressed these bytes itself; failing to decompress them is a bug, and
        // the rows show as missing rather than taking the window down.
        self.blocks.get(index)?.text.unpack()
    }

    /// The rows of block `index`.
    fn block_rows(&self, index: usize) -> std::ops::Range<usize> {
        let first = self.blocks.get(index).map_or(self.len(), |b| b.first_row);
        let end = self
            .blocks
            .get(index + 1)
            .map_or(self.len(), |b| b.first_row);
        first..end
    }

    fn block_of(&self, row: usize) -> usize {
        self.blocks
            .partition_point(|block| block.first_row <= row)
            .saturating_sub(1)
    }

    /// The outcome of `row`, mapped again from its text (as the load mapped it, without a trace).
    pub fn outcome(&self, row: usize) -> Option<Outcome> {
        let text = self.block_text(self.block_of(row))?;
        self.map_row(self.engine.as_ref()?, row, &text)
    }

    /// The outcome of `row` mapped from its text with another `engine` (draft rules), as the
    /// load would have mapped it; a record kept whole (unreadable) is as it was.
    pub fn outcome_with(&self, engine: &Engine, row: usize) -> Option<Outcome> {
        let text = self.block_text(self.block_of(row))?;
        self.map_row(engine, row, &text)
    }

    /// The engine the rows were mapped with, for mapping them again with other rules: its
    /// options (masking off: the texts are kept as read, masked already when masking is on).
    pub fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }

    /// Maps `row` again with `engine` from its block's uncompressed `text` (a row kept whole is
    /// cloned).
    fn map_row(&self, engine: &Engine, row: usize, text: &[u8]) -> Option<Outcome> {
        let edited = self.edited.get(&row);
        if edited.is_none()
            && let Some(outcome) = self.kept.get(&row)
        {
            return Some(outcome.clone());
        }
        let source = self.sources.get(row)?;
        let meta = self.metas.get(row)?;
        let file = self.files.get(usize::from(meta.file))?.as_ref()?;
        let record = match edited {
            Some(edited) => &edited[..],
            None => source.text_in(text)?,
        };
        let place = Place {
            file: Arc::clone(&file.path),
            line: source.line,
            column: source.column,
            csv_row: (source.csv_row > 0).then_some(source.csv_row),
        };
        let item = ReadItem::Record(RawRecord {
            place,
            payload: RawPayload::Json(record.to_vec()),
        });
        Some(pipeline::map_item(engine, item, file.fallback.as_deref()))
    }

    /// Every row's outcome in row order without its source text, mapped again a block at a
    /// time on all cores; rows that `keep` turns down are left out, a placeholder standing in
    /// for each so positions stay row numbers. For exports and sends, which need the events.
    pub fn outcomes_where(&self, keep: impl Fn(usize, &RowMeta) -> bool + Sync) -> Vec<Outcome> {
        let mut all = Vec::with_capacity(self.len());
        let Some(engine) = self.engine.as_ref() else {
            return all;
        };
        for index in 0..self.blocks.len() {
            let text = self.decompress(index).unwrap_or_default();
            let outcomes: Vec<Option<Outcome>> = self
                .block_rows(index)
                .into_par_iter()
                .map(|row| {
                    self.metas.get(row).filter(|meta| keep(row, meta))?;
                    let mut outcome = self.map_row(engine, row, &text)?;
                    outcome.source = None;
                    Some(outcome)
                })
                .collect();
            let first = all.len();
            all.extend(outcomes.into_iter().enumerate().map(|(offset, outcome)| {
                outcome.unwrap_or_else(|| self.placeholder(first + offset))
            }));
        }
        all
    }

    /// What batching reads of `row` (`None` for a row not sent by default), from what the load
    /// kept of it: nothing is mapped again.
    pub fn plan_item(&self, row: usize) -> Option<PlanItem<'_>> {
        let plan = self.plans.get(row)?.as_ref()?;
        let meta = self.metas.get(row)?;
        let facts = self.facts.get(plan.facts)?;
        Some(PlanItem {
            group_key: self.group_keys.get(plan.group_key),
            timestamp: (meta.time_ms != NO_TIME).then_some(meta.time_ms),
            record_id: plan.record_id,
            facts: facts.view(),
            event: plan
                .event_bytes
                .map_or(PlanEvent::Profile, |b| PlanEvent::Sized(b as usize)),
        })
    }

    /// Where a row was read: its file, line, column and CSV row. It names the record across
    /// loads (a re-map reads the same files again), unlike the row's position.
    pub fn place_key(&self, row: usize) -> Option<PlaceKey> {
        let source = self.sources.get(row)?;
        let meta = self.metas.get(row)?;
        let file = self.files.get(usize::from(meta.file))?.as_ref()?;
        Some((
            Arc::clone(&file.path),
            source.line,
            source.column,
            source.csv_row,
        ))
    }

    /// A stand-in for a row left out: dropped, with nothing mapped.
    fn placeholder(&self, row: usize) -> Outcome {
        let file = self
            .metas
            .get(row)
            .and_then(|meta| self.files.get(usize::from(meta.file))?.as_ref())
            .map_or_else(|| Arc::from(Path::new("")), |f| Arc::clone(&f.path));
        let line = self.sources.get(row).map_or(0, |s| s.line);
        Outcome {
            place: Place::at(file, line, 1),
            status: RecordStatus::Dropped,
            source_event_name: None,
            source: None,
            mapped: None,
            findings: Vec::new(),
        }
    }

    /// The store's id of the event name `id` of a chunk's `strings`.
    fn name_id(&mut self, strings: &Interner, id: u32) -> u32 {
        let before = self.strings.len();
        let id = self.strings.adopt(strings, id);
        if self.strings.len() > before && id != 0 {
            self.event_names.push(id);
        }
        id
    }
}

/// A record's place: file, line, column, CSV row (0 when not CSV).
pub type PlaceKey = (Arc<Path>, u64, u64, u64);

/// Severity as 1..=3 (0 is "no finding").
pub fn severity_code(severity: Severity) -> u8 {
    match severity {
        Severity::Info => 1,
        Severity::Warning => 2,
        Severity::Error => 3,
    }
}

/// The event name as sent, or what stands in for it.
pub fn sent_name(outcome: &Outcome) -> &str {
    match &outcome.mapped {
        Some(mapped) => match &mapped.event {
            Some(event) => event
                .data
                .event_name
                .as_deref()
                .unwrap_or("App Uninstalled"),
            None => "(profile)",
        },
        None => "",
    }
}

/// A chunk waiting to be appended: its file number, path and event-name fallback, and rows.
type PendingChunk = (u16, Arc<Path>, Option<Arc<str>>, RowChunk);

/// The records shared with workers, plus chunks waiting for the store to be free.
///
/// Appending needs the only reference to the store; while a worker holds one, chunks wait in
/// `pending` and are appended on a later frame. Rows therefore never change under a worker.
#[derive(Debug)]
pub struct Records {
    store: Arc<Store>,
    pending: Vec<PendingChunk>,
    /// Increases whenever the set is replaced, so results for an older set are ignored.
    pub epoch: u64,
}

impl Records {
    /// No records yet; they will be mapped (again) with `engine`.
    pub fn new(engine: Engine) -> Self {
        Records {
            store: Arc::new(Store::new(engine)),
            pending: Vec::new(),
            epoch: 0,
        }
    }

    /// The records available now.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store to change in place, when no worker holds it and no chunk waits.
    pub fn store_mut(&mut self) -> Option<&mut Store> {
        if !self.pending.is_empty() {
            return None;
        }
        Arc::get_mut(&mut self.store)
    }

    /// A reference for a worker thread.
    pub fn share(&self) -> Arc<Store> {
        Arc::clone(&self.store)
    }

    /// Drops every record and starts a new set, to be mapped (again) with `engine`.
    pub fn clear(&mut self, engine: Engine) {
        self.replace(Store::new(engine));
    }

    /// Replaces the set with a ready store (tests and benchmarks).
    pub fn replace(&mut self, store: Store) {
        self.store = Arc::new(store);
        self.pending.clear();
        self.epoch += 1;
    }

    /// Queues a chunk and appends what it can. Returns the range of rows appended.
    pub fn push(
        &mut self,
        file: u16,
        path: Arc<Path>,
        fallback: Option<Arc<str>>,
        chunk: RowChunk,
    ) -> std::ops::Range<usize> {
        self.pending.push((file, path, fallback, chunk));
        self.flush()
    }

    /// Appends waiting chunks if no worker holds the store. Returns the rows appended.
    pub fn flush(&mut self) -> std::ops::Range<usize> {
        let start = self.store.len();
        if self.pending.is_empty() {
            return start..start;
        }
        let Some(store) = Arc::get_mut(&mut self.store) else {
            return start..start;
        };
        for (file, path, fallback, chunk) in self.pending.drain(..) {
            store.append(file, path, fallback, chunk);
        }
        start..store.len()
    }

    /// Whether chunks are waiting.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

/// A file in the window's list.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// The path as given.
    pub path: Arc<Path>,
    /// What was detected, once opened.
    pub shape: Option<&'static str>,
    /// Whether it was gzip-compressed.
    pub gzip: bool,
    /// Records read from it.
    pub records: u64,
    /// Why it could not be opened.
    pub failure: Option<String>,
}

impl LoadedFile {
    /// The file's name without its folder.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}

#[cfg(test)]
mod tests;
