//! The loaded records: every outcome in input order, plus a compact per-row index that sorting,
//! filtering and the tables read without touching the outcomes.
//!
//! The store is shared with worker threads as an `Arc`; new chunks are appended only while the
//! window holds the only reference (see [`Records`]), so a worker never sees a store change.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::mapping::{Category, Outcome, RecordStatus, Severity};

/// Tabs that hold records, in the order they are shown: the categories, then Unmapped/Held.
pub const RECORD_TABS: usize = Category::ALL.len() + 1;
/// The record tab of held, dropped and unreadable records.
pub const UNMAPPED_TAB: u8 = Category::ALL.len() as u8;
/// The pseudo-tab of profile records (they are shown per batch in the Users tab).
pub const PROFILE_TAB: u8 = UNMAPPED_TAB + 1;
/// "No time" in [`RowMeta::time_ms`]; sorts first.
pub const NO_TIME: i64 = i64::MIN;

/// A tab of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    /// Records of one category (or Unmapped/Held), by index into [`RECORD_TABS`].
    Records(u8),
    /// Batches: identities and user attributes per user.
    Users,
    /// Counts, plots and coverage.
    Summary,
}

impl Default for Tab {
    fn default() -> Self {
        Tab::Records(0)
    }
}

impl Tab {
    /// The tab's name without its count.
    pub fn name(self) -> &'static str {
        match self {
            Tab::Records(index) => record_tab_name(index),
            Tab::Users => "Users",
            Tab::Summary => "Summary",
        }
    }

    /// Finds a tab by name, ignoring case, spaces, `_` and `/` (`user_content`, `unmapped`).
    pub fn parse(name: &str) -> Option<Tab> {
        let key = loose(name);
        if key == "users" || key == "user" {
            return Some(Tab::Users);
        }
        if key == "summary" || key == "coverage" {
            return Some(Tab::Summary);
        }
        if key.starts_with("unmapped") || key == "held" {
            return Some(Tab::Records(UNMAPPED_TAB));
        }
        (0..UNMAPPED_TAB)
            .find(|&index| loose(record_tab_name(index)) == key)
            .map(Tab::Records)
    }
}

fn loose(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

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
    if matches!(
        outcome.status,
        RecordStatus::Held | RecordStatus::Dropped | RecordStatus::Unreadable
    ) {
        return UNMAPPED_TAB;
    }
    match &outcome.mapped {
        Some(mapped) if mapped.event.is_none() => PROFILE_TAB,
        Some(mapped) => mapped
            .category
            .and_then(|c| Category::ALL.iter().position(|x| *x == c))
            .map_or(UNMAPPED_TAB, |p| p as u8),
        None => UNMAPPED_TAB,
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

/// Strings seen in many rows (event names, identities), stored once.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    strings: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

impl Interner {
    /// The id of a string, adding it when new. Id 0 is always the empty string.
    pub fn intern(&mut self, text: &str) -> u32 {
        if self.strings.is_empty() {
            self.strings.push("".into());
            self.ids.insert("".into(), 0);
        }
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }

    /// The string of an id.
    pub fn get(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    /// The id of a string, if it was seen.
    pub fn find(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// Every string with its id.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> {
        self.strings
            .iter()
            .enumerate()
            .map(|(id, s)| (id as u32, &**s))
    }
}

/// The records of the window: outcomes in input order and their compact index.
#[derive(Debug, Default)]
pub struct Store {
    /// Every outcome, in input order.
    pub outcomes: Vec<Outcome>,
    /// One compact row per outcome.
    pub metas: Vec<RowMeta>,
    /// Event names and identities.
    pub strings: Interner,
    /// Event names (as sent and as written) that occur, by interned id: for the event filter.
    pub event_names: Vec<u32>,
    /// Every row's searchable text (names, identities, attribute names and values), lower
    /// case, fields separated by NUL: free-text search scans this one buffer instead of
    /// chasing each outcome's strings through memory.
    pub search: Vec<u8>,
    /// Where each row's text starts in [`Store::search`].
    pub search_start: Vec<u64>,
}

impl Store {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// Whether no record is loaded.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// Appends outcomes read from the file with index `file`.
    pub fn append(&mut self, file: u16, chunk: Vec<Outcome>) {
        self.metas.reserve(chunk.len());
        for outcome in &chunk {
            let meta = self.meta_of(file, outcome);
            self.metas.push(meta);
            self.push_search(outcome);
        }
        self.outcomes.extend(chunk);
    }

    fn push_search(&mut self, outcome: &Outcome) {
        self.search_start.push(self.search.len() as u64);
        let mut field = |text: &str| {
            if text.is_ascii() {
                self.search
                    .extend(text.bytes().map(|b| b.to_ascii_lowercase()));
            } else {
                self.search
                    .extend_from_slice(text.to_lowercase().as_bytes());
            }
            self.search.push(0);
        };
        field(outcome.source_event_name.as_deref().unwrap_or(""));
        field(sent_name(outcome));
        if let Some(mapped) = &outcome.mapped {
            for id in [&mapped.identities.customer_id, &mapped.identities.email]
                .into_iter()
                .flatten()
            {
                field(id);
            }
            if let Some(event) = &mapped.event {
                for (name, value) in &event.data.custom_attributes {
                    field(name);
                    field(value);
                }
            }
            for (name, value) in &mapped.user_attributes {
                field(name);
                if let Some(text) = value.as_str() {
                    field(text);
                }
            }
        }
        if outcome.mapped.is_none() {
            for finding in &outcome.findings {
                field(&finding.message);
            }
        }
    }

    /// The rows whose searchable text contains `needle` (already lower case).
    pub fn rows_containing(&self, needle: &str) -> Vec<bool> {
        let mut hits = vec![false; self.len()];
        if needle.is_empty() {
            return hits;
        }
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let starts = &self.search_start;
        let mut row = 0usize;
        let mut at = 0usize;
        while let Some(offset) = finder.find(&self.search[at..]) {
            let position = (at + offset) as u64;
            // Matches come in order: walk the row cursor forward (no binary search per hit).
            while starts.get(row + 1).is_some_and(|&next| next <= position) {
                row += 1;
            }
            if let Some(hit) = hits.get_mut(row) {
                *hit = true;
            }
            // One hit per row is enough: go on from the next row.
            match starts.get(row + 1) {
                Some(&next) => {
                    at = next as usize;
                    row += 1;
                }
                None => break,
            }
        }
        hits
    }

    fn name_id(&mut self, name: &str) -> u32 {
        let before = self.strings.len();
        let id = self.strings.intern(name);
        if self.strings.len() > before && id != 0 {
            self.event_names.push(id);
        }
        id
    }

    fn meta_of(&mut self, file: u16, outcome: &Outcome) -> RowMeta {
        let source_name = outcome.source_event_name.as_deref().unwrap_or("");
        let sent = sent_name(outcome);
        let source_name = self.name_id(source_name);
        let sent_name = self.name_id(sent);
        let identity = self.strings.intern(identity_of(outcome));
        let attributes = outcome
            .mapped
            .as_ref()
            .and_then(|m| m.event.as_ref())
            .map_or(0, |e| {
                e.data.custom_attributes.len().min(u16::MAX as usize) as u16
            });
        RowMeta {
            time_ms: outcome.timestamp_millis().unwrap_or(NO_TIME),
            source_name,
            sent_name,
            identity,
            file,
            attributes,
            tab: tab_of(outcome),
            status: status_code(outcome.status),
            worst: outcome
                .worst_finding()
                .map_or(0, |f| severity_code(f.severity)),
        }
    }
}

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

/// The identity a row shows: customer id, else email, else nothing.
pub fn identity_of(outcome: &Outcome) -> &str {
    outcome
        .mapped
        .as_ref()
        .and_then(|m| {
            m.identities
                .customer_id
                .as_deref()
                .or(m.identities.email.as_deref())
        })
        .unwrap_or("")
}

/// The records shared with workers, plus chunks waiting for the store to be free.
///
/// Appending needs the only reference to the store; while a worker holds one, chunks wait in
/// `pending` and are appended on a later frame. Rows therefore never change under a worker.
#[derive(Debug, Default)]
pub struct Records {
    store: Arc<Store>,
    pending: Vec<(u16, Vec<Outcome>)>,
    /// Increases whenever the set is replaced, so results for an older set are ignored.
    pub epoch: u64,
}

impl Records {
    /// The records available now.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A reference for a worker thread.
    pub fn share(&self) -> Arc<Store> {
        Arc::clone(&self.store)
    }

    /// Drops every record and starts a new set.
    pub fn clear(&mut self) {
        self.store = Arc::new(Store::default());
        self.pending.clear();
        self.epoch += 1;
    }

    /// Replaces the set with a ready store (tests and benchmarks).
    pub fn replace(&mut self, store: Store) {
        self.store = Arc::new(store);
        self.pending.clear();
        self.epoch += 1;
    }

    /// Queues a chunk and appends what it can. Returns the range of rows appended.
    pub fn push(&mut self, file: u16, chunk: Vec<Outcome>) -> std::ops::Range<usize> {
        self.pending.push((file, chunk));
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
        for (file, chunk) in self.pending.drain(..) {
            store.append(file, chunk);
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
mod tests {
    use super::*;
    use crate::clevertap::Place;

    #[test]
    fn free_text_finds_rows_by_names_and_values() {
        let file: Arc<Path> = Arc::from(Path::new("x.jsonl"));
        let mut store = Store::default();
        let rows = ["alpha", "Beta", "gamma beta", "delta"]
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let mut outcome = Outcome::unreadable(
                    Place::at(Arc::clone(&file), i as u64 + 1, 1),
                    (*text).to_string(),
                );
                outcome.source_event_name = Some(format!("Event {i}"));
                outcome
            })
            .collect();
        store.append(0, rows);
        assert_eq!(
            store.rows_containing("beta"),
            vec![false, true, true, false]
        );
        assert_eq!(
            store.rows_containing("event 3"),
            vec![false, false, false, true]
        );
        assert_eq!(store.rows_containing("zzz"), vec![false; 4]);
    }
}
