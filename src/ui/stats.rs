//! What the Summary tab shows, computed off the UI thread: counts per tab and per event, events
//! over time, and the coverage of the feed document's events and attributes.

use std::collections::HashMap;

use crate::mapping::{RecordStatus, Rules};
use crate::records::EventCoverage;
use crate::records::{NO_TIME, RECORD_TABS, Store, status_code};

/// The Summary tab's figures.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Records per record tab.
    pub per_tab: Vec<u64>,
    /// Records per status code.
    pub per_status: [u64; 5],
    /// Records per event name as sent, most first.
    pub per_event: Vec<(String, u64)>,
    /// Events over time: (bucket start in epoch ms, count).
    pub over_time: Vec<(i64, u64)>,
    /// Width of one time bucket in ms.
    pub bucket_ms: i64,
    /// The documented events, in the rules' order.
    pub coverage: Vec<EventCoverage>,
    /// Records covered.
    pub records: usize,
    /// Earliest and latest event time.
    pub time_range: Option<(i64, i64)>,
}

/// Computes the figures of every record.
pub fn compute(store: &Store, rules: &Rules) -> Stats {
    let mut per_tab = vec![0u64; RECORD_TABS + 1];
    let mut per_status = [0u64; 5];
    // Keyed by the name as sent and, for a record without one, whether it was unreadable.
    let mut per_event: HashMap<(u32, bool), u64> = HashMap::new();
    let unreadable = status_code(RecordStatus::Unreadable);
    let (mut min_t, mut max_t) = (i64::MAX, i64::MIN);
    for meta in &store.metas {
        if let Some(n) = per_tab.get_mut(usize::from(meta.tab)) {
            *n += 1;
        }
        per_status[usize::from(meta.status).min(4)] += 1;
        // As sent, else as written (a held record), else what stands in for a name.
        let name = [meta.sent_name, meta.source_name]
            .into_iter()
            .find(|&id| !store.strings.get(id).is_empty())
            .unwrap_or(0);
        *per_event
            .entry((name, name == 0 && meta.status == unreadable))
            .or_default() += 1;
        if meta.time_ms != NO_TIME {
            min_t = min_t.min(meta.time_ms);
            max_t = max_t.max(meta.time_ms);
        }
    }
    let mut per_event: Vec<(String, u64)> = per_event
        .into_iter()
        .map(|((id, unreadable), n)| {
            // The same labels as `check`'s "By event" (pipeline::event_label).
            let name = match store.strings.get(id) {
                "" if unreadable => "(unreadable)",
                "" => "(no event name)",
                name => name,
            };
            (name.to_string(), n)
        })
        .collect();
    per_event.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    let (over_time, bucket_ms) = time_buckets(store, min_t, max_t);
    Stats {
        per_tab,
        per_status,
        per_event,
        over_time,
        bucket_ms,
        coverage: store.coverage.coverage(rules),
        records: store.len(),
        time_range: (min_t <= max_t).then_some((min_t, max_t)),
    }
}

fn time_buckets(store: &Store, min_t: i64, max_t: i64) -> (Vec<(i64, u64)>, i64) {
    if min_t > max_t {
        return (Vec::new(), 3_600_000);
    }
    let span = (max_t - min_t).max(1);
    // Calendar-friendly bucket widths: minute, hour, day, week.
    let bucket_ms = [60_000, 3_600_000, 86_400_000, 7 * 86_400_000]
        .into_iter()
        .find(|&w| span / w <= 400)
        .unwrap_or(30 * 86_400_000);
    let start = min_t - min_t.rem_euclid(bucket_ms);
    let buckets = ((max_t - start) / bucket_ms + 1) as usize;
    let mut counts = vec![0u64; buckets];
    for meta in &store.metas {
        if meta.time_ms != NO_TIME {
            let index = ((meta.time_ms - start) / bucket_ms) as usize;
            if let Some(n) = counts.get_mut(index) {
                *n += 1;
            }
        }
    }
    let series = counts
        .into_iter()
        .enumerate()
        .map(|(i, n)| (start + i as i64 * bucket_ms, n))
        .collect();
    (series, bucket_ms)
}
