//! What the Summary tab shows, computed off the UI thread: counts per tab and per event, events
//! over time, and the coverage of the feed document's events and attributes.

use std::collections::{BTreeMap, HashMap};

use super::store::{NO_TIME, RECORD_TABS, Store};
use crate::mapping::{Category, Outcome, Rules};

/// Coverage of one documented event.
#[derive(Debug, Clone)]
pub struct EventCoverage {
    /// The document's name.
    pub name: String,
    /// Its category.
    pub category: Category,
    /// Records mapped to it.
    pub records: u64,
    /// Documented attributes with the number of records that carry each.
    pub attributes: Vec<(String, u64)>,
    /// Attributes seen that the document does not list, with counts.
    pub undocumented: Vec<(String, u64)>,
}

impl EventCoverage {
    /// Documented attributes never seen.
    pub fn missing(&self) -> impl Iterator<Item = &str> {
        self.attributes
            .iter()
            .filter(|(_, n)| *n == 0)
            .map(|(a, _)| a.as_str())
    }
}

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
    let mut per_event: HashMap<u32, u64> = HashMap::new();
    let (mut min_t, mut max_t) = (i64::MAX, i64::MIN);
    for meta in &store.metas {
        if let Some(n) = per_tab.get_mut(usize::from(meta.tab)) {
            *n += 1;
        }
        per_status[usize::from(meta.status).min(4)] += 1;
        *per_event.entry(meta.sent_name).or_default() += 1;
        if meta.time_ms != NO_TIME {
            min_t = min_t.min(meta.time_ms);
            max_t = max_t.max(meta.time_ms);
        }
    }
    let mut per_event: Vec<(String, u64)> = per_event
        .into_iter()
        .map(|(id, n)| {
            let name = store.strings.get(id);
            let name = if name.is_empty() {
                "(unreadable)"
            } else {
                name
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

/// How often the documented events and their attributes occur in some records: counted on the
/// thread that mapped them, while their outcomes are at hand, and added up.
#[derive(Debug, Clone, Default)]
pub struct CoverageCounts {
    /// Records per documented event, in the rules' order.
    records: Vec<u64>,
    /// Per documented event, records carrying each documented attribute.
    seen: Vec<Vec<u64>>,
    /// Per documented event, attributes the document does not list, with counts.
    extra: Vec<BTreeMap<String, u64>>,
}

impl CoverageCounts {
    /// Counts `outcomes` against `rules`.
    pub fn count(rules: &Rules, outcomes: &[Outcome]) -> Self {
        let by_name: HashMap<&str, usize> = rules
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.as_str(), i))
            .collect();
        let documented: Vec<Vec<String>> = rules
            .events
            .iter()
            .map(|e| {
                e.attributes
                    .iter()
                    .map(|a| crate::mapping::attribute_key(a))
                    .collect()
            })
            .collect();
        let mut counts = CoverageCounts {
            records: vec![0; rules.events.len()],
            seen: documented.iter().map(|d| vec![0; d.len()]).collect(),
            extra: vec![BTreeMap::new(); rules.events.len()],
        };
        // Names borrowed from the outcomes while counting, owned once at the end.
        let mut extra: Vec<foldhash::HashMap<&str, u64>> =
            vec![foldhash::HashMap::default(); rules.events.len()];
        let mut keys: foldhash::HashMap<&str, String> = foldhash::HashMap::default();
        for outcome in outcomes {
            let Some(event) = outcome.mapped.as_ref().and_then(|m| m.event.as_ref()) else {
                continue;
            };
            let name = event
                .data
                .event_name
                .as_deref()
                .unwrap_or("App Uninstalled");
            let Some(&index) = by_name.get(name) else {
                continue;
            };
            counts.records[index] += 1;
            let mut present = vec![false; documented[index].len()];
            for attribute in event.data.custom_attributes.keys() {
                let key = keys
                    .entry(attribute)
                    .or_insert_with(|| crate::mapping::attribute_key(attribute));
                match documented[index].iter().position(|d| d == key) {
                    Some(position) => present[position] = true,
                    None => *extra[index].entry(attribute).or_default() += 1,
                }
            }
            for (count, here) in counts.seen[index].iter_mut().zip(present) {
                *count += u64::from(here);
            }
        }
        for (owned, borrowed) in counts.extra.iter_mut().zip(extra) {
            owned.extend(borrowed.into_iter().map(|(n, c)| (n.to_string(), c)));
        }
        counts
    }

    /// Adds the counts of more records (counted against the same rules).
    pub fn merge(&mut self, other: CoverageCounts) {
        if self.records.is_empty() {
            *self = other;
            return;
        }
        for (mine, theirs) in self.records.iter_mut().zip(other.records) {
            *mine += theirs;
        }
        for (mine, theirs) in self.seen.iter_mut().zip(other.seen) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
        for (mine, theirs) in self.extra.iter_mut().zip(other.extra) {
            for (name, count) in theirs {
                *mine.entry(name).or_default() += count;
            }
        }
    }

    /// The coverage of each documented event of `rules` (the rules counted against).
    pub fn coverage(&self, rules: &Rules) -> Vec<EventCoverage> {
        rules
            .events
            .iter()
            .enumerate()
            .map(|(i, rule)| EventCoverage {
                name: rule.name.clone(),
                category: rule.category,
                records: self.records.get(i).copied().unwrap_or(0),
                attributes: rule
                    .attributes
                    .iter()
                    .enumerate()
                    .map(|(a, name)| {
                        let seen = self.seen.get(i).and_then(|s| s.get(a)).copied();
                        (name.clone(), seen.unwrap_or(0))
                    })
                    .collect(),
                undocumented: self
                    .extra
                    .get(i)
                    .map(|extra| extra.iter().map(|(n, c)| (n.clone(), *c)).collect())
                    .unwrap_or_default(),
            })
            .collect()
    }
}
