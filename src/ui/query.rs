//! Filtering and sorting: index vectors per tab, computed from the compact rows (and, for free
//! text, the records' texts as read). Runs on a worker for large sets; a newer request makes an
//! older one stop early (generation counter).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::records::batches::BatchIndex;
use crate::records::{NO_TIME, RECORD_TABS, RowMeta, Store};

/// The filter being edited; applied as soon as it is valid.
#[derive(Debug, Clone, Default)]
pub struct FilterBar {
    /// What the fields hold.
    pub draft: Filter,
    /// Move the keyboard focus to the search field on the next frame (a one-shot flag the
    /// filter bar takes when it draws).
    pub request_focus: std::cell::Cell<bool>,
}

/// Rows above which filtering and sorting leave the UI thread.
pub const INLINE_LIMIT: usize = 50_000;
/// Rows handled between two checks of the generation counter.
const CHECK_EVERY: usize = 32 * 1024;

/// What the user filters on. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Filter {
    /// Free text, ignoring case, over each record as CleverTap wrote it (event name, identities,
    /// property names and values, escapes read), the event names as sent, and unreadable
    /// input's messages.
    pub text: String,
    /// An event name, as written or as sent (exact).
    pub event: String,
    /// Part of a customer id or email.
    pub identity: String,
    /// Only rows with this status code ([`crate::records::status_code`]).
    pub status: Option<u8>,
    /// Only rows at or after this time (`YYYY-MM-DD[ HH:MM[:SS]]`, UTC).
    pub time_from: String,
    /// Only rows before this time.
    pub time_to: String,
    /// Only rows from this file (index in the file list).
    pub file: Option<u16>,
}

impl Filter {
    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
            && self.event.is_empty()
            && self.identity.trim().is_empty()
            && self.status.is_none()
            && self.time_from.trim().is_empty()
            && self.time_to.trim().is_empty()
            && self.file.is_none()
    }
}

/// Parses a time bound: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS` (UTC), or epoch
/// milliseconds. `end` makes a bare date mean the end of that day.
pub fn parse_time_bound(text: &str, end: bool) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(millis) = text.parse::<i64>() {
        return Ok(Some(millis));
    }
    let text = text.trim_end_matches(" UTC").replace('T', " ");
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(time) = chrono::NaiveDateTime::parse_from_str(&text, format) {
            return Ok(Some(time.and_utc().timestamp_millis()));
        }
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        let day = date
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis());
        return Ok(day.map(|ms| if end { ms + 86_400_000 } else { ms }));
    }
    Err(format!(
        "`{text}` is not a time: write YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS (UTC)"
    ))
}

/// A sortable column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SortColumn {
    /// Input order (file, line).
    Input,
    /// Event time.
    Time,
    /// Event name as CleverTap wrote it.
    SourceName,
    /// Identity.
    Identity,
    /// Event name as sent.
    SentName,
    /// Custom attribute count.
    Attributes,
    /// Status, then worst finding.
    Status,
}

/// Sort column and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Sort {
    /// The column.
    pub column: SortColumn,
    /// Descending when false.
    pub ascending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Self {
            column: SortColumn::Input,
            ascending: true,
        }
    }
}

impl Sort {
    /// Whether this is input order (no sorting needed).
    pub fn is_input_order(&self) -> bool {
        self.column == SortColumn::Input && self.ascending
    }
}

/// A query: which rows, in what order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// The filter.
    pub filter: Filter,
    /// The order.
    pub sort: Sort,
}

/// The rows of every tab for one query.
#[derive(Debug, Clone, Default)]
pub struct Views {
    /// Record indices per record tab, in display order.
    pub tabs: Vec<Vec<u32>>,
    /// Batch indices shown in the Users tab (None: all batches).
    pub users: Option<Vec<u32>>,
    /// Rows of the store the views cover (rows appended later are not in them).
    pub covered: usize,
    /// Whether a filter was applied (tab labels then say "n of m").
    pub filtered: bool,
}

/// Views in input order with no filter, kept up to date as rows arrive.
pub fn base_views(store: &Store) -> Views {
    let mut views = Views {
        tabs: vec![Vec::new(); RECORD_TABS],
        ..Views::default()
    };
    extend_base(&mut views, store, 0..store.len());
    views
}

impl Views {
    /// Moves `row` from record tab `from` to `to` in input-order views (a row mapped again in
    /// place).
    pub fn move_row(&mut self, row: u32, from: u8, to: u8) {
        if let Some(list) = self.tabs.get_mut(usize::from(from))
            && let Ok(position) = list.binary_search(&row)
        {
            list.remove(position);
        }
        if let Some(list) = self.tabs.get_mut(usize::from(to))
            && let Err(position) = list.binary_search(&row)
        {
            list.insert(position, row);
        }
    }
}

/// Adds newly appended rows to input-order views.
pub fn extend_base(views: &mut Views, store: &Store, rows: std::ops::Range<usize>) {
    if views.tabs.len() < RECORD_TABS {
        views.tabs.resize(RECORD_TABS, Vec::new());
    }
    for row in rows.clone() {
        let tab = usize::from(store.metas[row].tab);
        if let Some(list) = views.tabs.get_mut(tab) {
            list.push(row as u32);
        }
    }
    views.covered = rows.end.max(views.covered);
}

/// Why a computation stopped early.
#[derive(Debug)]
pub struct Superseded;

/// Computes the views of a query. `generation`/`latest` let a newer request stop this one.
pub fn compute(
    store: &Store,
    batches: Option<&BatchIndex>,
    query: &Query,
    generation: u64,
    latest: &AtomicU64,
) -> Result<Views, Superseded> {
    let stale = || latest.load(Ordering::Relaxed) != generation;
    let matcher = Matcher::new(store, &query.filter);
    let metas = &store.metas;
    let len = metas.len();
    let filtered = !query.filter.is_empty();

    let passed: Option<Vec<bool>> = if filtered {
        let mut passed = vec![false; len];
        for (block, out) in passed.chunks_mut(CHECK_EVERY).enumerate() {
            if stale() {
                return Err(Superseded);
            }
            let start = block * CHECK_EVERY;
            out.par_iter_mut().enumerate().for_each(|(offset, slot)| {
                let row = start + offset;
                *slot = matcher.matches(row, &metas[row]);
            });
        }
        Some(passed)
    } else {
        None
    };

    let mut tabs = vec![Vec::new(); RECORD_TABS];
    for (row, meta) in metas.iter().enumerate() {
        if passed.as_ref().is_none_or(|p| p[row])
            && let Some(list) = tabs.get_mut(usize::from(meta.tab))
        {
            list.push(row as u32);
        }
    }
    if stale() {
        return Err(Superseded);
    }
    if !query.sort.is_input_order() {
        let ranks = StringRanks::new(store, query.sort.column);
        for list in &mut tabs {
            sort_rows(list, metas, &ranks, query.sort);
            if stale() {
                return Err(Superseded);
            }
        }
    }
    let users = match (&passed, batches) {
        (Some(passed), Some(index)) => Some(
            index
                .batches
                .iter()
                .enumerate()
                .filter(|(_, b)| {
                    b.records
                        .iter()
                        .any(|&r| passed.get(r).copied().unwrap_or(false))
                })
                .map(|(i, _)| i as u32)
                .collect(),
        ),
        _ => None,
    };
    Ok(Views {
        tabs,
        users,
        covered: len,
        filtered,
    })
}

/// Ranks of interned strings in sort order, so string columns sort as integers.
struct StringRanks {
    ranks: Vec<u32>,
}

impl StringRanks {
    fn new(store: &Store, column: SortColumn) -> Self {
        if !matches!(
            column,
            SortColumn::SourceName | SortColumn::SentName | SortColumn::Identity
        ) {
            return Self { ranks: Vec::new() };
        }
        let mut ids: Vec<(u32, String)> = store
            .strings
            .iter()
            .map(|(id, s)| (id, s.to_lowercase()))
            .collect();
        ids.sort_by(|a, b| a.1.cmp(&b.1));
        let mut ranks = vec![0; ids.len()];
        for (rank, (id, _)) in ids.iter().enumerate() {
            ranks[*id as usize] = rank as u32;
        }
        Self { ranks }
    }

    fn rank(&self, id: u32) -> u32 {
        self.ranks.get(id as usize).copied().unwrap_or(0)
    }
}

fn sort_rows(list: &mut [u32], metas: &[RowMeta], ranks: &StringRanks, sort: Sort) {
    let key = |row: u32| -> i64 {
        let meta = &metas[row as usize];
        match sort.column {
            SortColumn::Input => i64::from(row),
            SortColumn::Time => meta.time_ms,
            SortColumn::SourceName => i64::from(ranks.rank(meta.source_name)),
            SortColumn::SentName => i64::from(ranks.rank(meta.sent_name)),
            SortColumn::Identity => i64::from(ranks.rank(meta.identity)),
            SortColumn::Attributes => i64::from(meta.attributes),
            SortColumn::Status => i64::from(meta.status) * 4 + i64::from(meta.worst),
        }
    };
    // Stable: equal keys keep input order, whichever the direction.
    if sort.ascending {
        list.par_sort_by_key(|&row| (key(row), row));
    } else {
        list.par_sort_by_key(|&row| (std::cmp::Reverse(key(row)), row));
    }
    if sort.column == SortColumn::Time && sort.ascending {
        // Rows without a time go last, not first.
        let first_timed = list.partition_point(|&row| metas[row as usize].time_ms == NO_TIME);
        list.rotate_left(first_timed);
    }
}

/// A compiled filter.
struct Matcher {
    /// Rows whose text contains the free text.
    text_hits: Option<Vec<bool>>,
    event: Option<Option<u32>>,
    /// Per interned string: whether it contains the identity filter.
    identity: Option<Vec<bool>>,
    status: Option<u8>,
    from: Option<i64>,
    to: Option<i64>,
    file: Option<u16>,
}

impl Matcher {
    fn new(store: &Store, filter: &Filter) -> Self {
        let text = filter.text.trim().to_lowercase();
        let text_hits = (!text.is_empty()).then(|| store.rows_containing(&text));
        let identity = Needle::new(filter.identity.trim()).map(|needle| {
            store
                .strings
                .iter()
                .map(|(_, s)| needle.found_in(s))
                .collect()
        });
        Self {
            text_hits,
            event: (!filter.event.is_empty()).then(|| store.strings.find(&filter.event)),
            identity,
            status: filter.status,
            from: parse_time_bound(&filter.time_from, false).ok().flatten(),
            to: parse_time_bound(&filter.time_to, true).ok().flatten(),
            file: filter.file,
        }
    }

    fn matches(&self, row: usize, meta: &RowMeta) -> bool {
        if self.status.is_some_and(|s| s != meta.status)
            || self.file.is_some_and(|f| f != meta.file)
        {
            return false;
        }
        if self
            .from
            .is_some_and(|from| meta.time_ms == NO_TIME || meta.time_ms < from)
            || self
                .to
                .is_some_and(|to| meta.time_ms == NO_TIME || meta.time_ms >= to)
        {
            return false;
        }
        if let Some(event) = self.event
            && event.is_none_or(|id| id != meta.source_name && id != meta.sent_name)
        {
            return false;
        }
        if let Some(ids) = &self.identity {
            let hit = |id: u32| ids.get(id as usize).copied().unwrap_or(false);
            if !hit(meta.identity) && !hit(meta.other_identity) {
                return false;
            }
        }
        self.text_hits
            .as_ref()
            .is_none_or(|hits| hits.get(row).copied().unwrap_or(false))
    }
}

/// A case-insensitive substring search.
pub struct Needle {
    lower: Vec<u8>,
    first: [u8; 2],
    ascii: bool,
    text: String,
}

impl Needle {
    /// A needle, or `None` for empty text.
    pub fn new(text: &str) -> Option<Needle> {
        if text.is_empty() {
            return None;
        }
        let text = text.to_lowercase();
        let lower = text.as_bytes().to_vec();
        let first = [lower[0], lower[0].to_ascii_uppercase()];
        Some(Needle {
            ascii: text.is_ascii(),
            lower,
            first,
            text,
        })
    }

    /// Whether the needle occurs in `hay`, ignoring case.
    pub fn found_in(&self, hay: &str) -> bool {
        if !self.ascii {
            return hay.to_lowercase().contains(&self.text);
        }
        let hay = hay.as_bytes();
        let n = self.lower.len();
        if hay.len() < n {
            return false;
        }
        let last_start = hay.len() - n;
        let mut at = 0;
        while at <= last_start {
            let Some(offset) = memchr::memchr2(self.first[0], self.first[1], &hay[at..=last_start])
            else {
                return false;
            };
            let start = at + offset;
            if hay[start..start + n].eq_ignore_ascii_case(&self.lower) {
                return true;
            }
            at = start + 1;
        }
        false
    }
}

/// A request for the worker thread.
type Job = Box<dyn FnOnce() + Send>;

/// A worker that computes views off the UI thread; a newer request supersedes older ones.
///
/// The worker is one long-lived thread, started with the window, not a thread per query. A
/// thread spawned later inherits the memory arena of a thread that has ended (with glibc's
/// allocator), and the batches job ends leaving millions of small freed blocks in its arena (the
/// events of every batch, cloned by the core and dropped): the first large allocation in that
/// arena merges them all first, which made the first filter after loading take 0.5–1 s at
/// 1,000,000 rows. A thread of its own keeps its own arena, which only queries use.
#[derive(Debug)]
pub struct QueryWorker {
    latest: Arc<AtomicU64>,
    jobs: Option<std::sync::mpsc::Sender<Job>>,
}

impl Default for QueryWorker {
    fn default() -> Self {
        Self::new()
    }
}

impl QueryWorker {
    /// Starts the worker thread (if it cannot be started, each query gets a thread).
    pub fn new() -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let spawned = crate::thread::spawn_named("feedlens-query", move || {
            while let Ok(mut job) = queue.recv() {
                // Only the newest request matters: older ones would stop at once anyway.
                while let Ok(newer) = queue.try_recv() {
                    job = newer;
                }
                job();
            }
        });
        Self {
            latest: Arc::default(),
            jobs: spawned.is_ok().then_some(jobs),
        }
    }

    /// Starts computing; the result arrives through `done` unless superseded.
    pub fn start(
        &self,
        generation: u64,
        store: Arc<Store>,
        batches: Option<Arc<BatchIndex>>,
        query: Query,
        done: impl FnOnce(Views) + Send + 'static,
    ) {
        self.latest.store(generation, Ordering::Relaxed);
        let latest = Arc::clone(&self.latest);
        let job: Job = Box::new(move || {
            if latest.load(Ordering::Relaxed) != generation {
                return;
            }
            let result = compute(&store, batches.as_deref(), &query, generation, &latest);
            // Let go of the store before reporting, so the window can append right away.
            drop(store);
            if let Ok(views) = result {
                done(views);
            }
        });
        let job = match &self.jobs {
            Some(jobs) => match jobs.send(job) {
                Ok(()) => return,
                Err(std::sync::mpsc::SendError(job)) => job,
            },
            None => job,
        };
        if let Err(error) = crate::thread::spawn_named("feedlens-query", job) {
            tracing::error!("{}", crate::thread::start_failed("feedlens-query", &error));
        }
    }

    /// Marks every running computation as superseded.
    pub fn cancel(&self, generation: u64) {
        self.latest.store(generation, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needle_ignores_ascii_case() {
        let needle = Needle::new("ct SOURCE").unwrap_or_else(|| panic!("needle"));
        assert!(needle.found_in("eventProps.CT Source"));
        assert!(!needle.found_in("CT Sourc"));
        let needle = Needle::new("é").unwrap_or_else(|| panic!("needle"));
        assert!(needle.found_in("CAFÉ"));
    }

    #[test]
    fn time_bounds() {
        assert_eq!(
            parse_time_bound("2022-02-12", false),
            Ok(Some(1_644_624_000_000))
        );
        assert_eq!(
            parse_time_bound("2022-02-12", true),
            Ok(Some(1_644_710_400_000))
        );
        assert!(parse_time_bound("12/02/2022", false).is_err());
    }
}
