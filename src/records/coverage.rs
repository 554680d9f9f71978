//! How often the documented events and their attributes occur: counted per chunk as records
//! are mapped, added up, and turned into each documented event's coverage (the Summary tab,
//! reports).

use std::collections::BTreeMap;

use crate::mapping::{Category, Outcome, Rules};

/// What an attribute name is for one documented event.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// The documented attribute at this position.
    Documented(usize),
    /// Not documented: its count's place.
    Extra(usize),
}

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
    /// Counts `outcomes` against `rules`. Each attribute name is looked up once per chunk and
    /// event (an export repeats a few hundred names), not normalised and compared per record.
    pub fn count(rules: &Rules, outcomes: &[Outcome]) -> Self {
        let by_name: foldhash::HashMap<&str, usize> = rules
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
        // What a name is for an event, found once: a documented attribute's position, or the
        // place of its count among the undocumented names (borrowed from the outcomes).
        let mut slots: foldhash::HashMap<(usize, &str), Slot> = foldhash::HashMap::default();
        let mut extra: Vec<(usize, &str, u64)> = Vec::new();
        let mut key = Vec::new();
        let mut present: Vec<bool> = Vec::new();
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
            present.clear();
            present.resize(documented[index].len(), false);
            for attribute in event.data.custom_attributes.keys() {
                let slot = *slots.entry((index, attribute)).or_insert_with(|| {
                    crate::mapping::attribute_key_into(attribute, &mut key);
                    match documented[index].iter().position(|d| d.as_bytes() == key) {
                        Some(position) => Slot::Documented(position),
                        None => {
                            extra.push((index, attribute, 0));
                            Slot::Extra(extra.len() - 1)
                        }
                    }
                });
                match slot {
                    Slot::Documented(position) => present[position] = true,
                    Slot::Extra(at) => extra[at].2 += 1,
                }
            }
            for (count, here) in counts.seen[index].iter_mut().zip(&present) {
                *count += u64::from(*here);
            }
        }
        for (index, name, count) in extra {
            *counts.extra[index].entry(name.to_string()).or_default() += count;
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

    /// Takes away the counts of records counted before (against the same rules).
    pub fn subtract(&mut self, other: &CoverageCounts) {
        for (mine, theirs) in self.records.iter_mut().zip(&other.records) {
            *mine = mine.saturating_sub(*theirs);
        }
        for (mine, theirs) in self.seen.iter_mut().zip(&other.seen) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a = a.saturating_sub(*b);
            }
        }
        for (mine, theirs) in self.extra.iter_mut().zip(&other.extra) {
            for (name, count) in theirs {
                if let Some(mine_count) = mine.get_mut(name) {
                    *mine_count = mine_count.saturating_sub(*count);
                    if *mine_count == 0 {
                        mine.remove(name);
                    }
                }
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
