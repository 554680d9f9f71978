//! What other rules would change, before they are used: every row mapped again from its text
//! with a draft engine and compared with how it is mapped now. A row changes when it would move
//! to another tab, change status, or send something else (its event or user facts: compared by
//! the hash the load kept of what is sent, so the rules in force are not run again).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use super::chunk::sent_hashes;
use super::{RECORD_TABS, Store, sendable, status_code, tab_of};
use crate::mapping::Engine;

/// At most this many changed rows are listed (all are counted).
pub const LISTED: usize = 10_000;

/// Tabs counted: the record tabs and the profile records (shown in the Users tab).
pub const COUNTED_TABS: usize = RECORD_TABS + 1;

/// One row that the draft rules would map differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowChange {
    /// The row.
    pub row: u32,
    /// Its tab now and under the draft ([`tab_of`]).
    pub tab: (u8, u8),
    /// Its status now and under the draft ([`status_code`]).
    pub status: (u8, u8),
    /// Whether what is sent of it (event, user facts) would differ.
    pub sent_changed: bool,
    /// The event name it would be sent under (or a label for profiles and uninstalls).
    pub name_after: String,
}

impl RowChange {
    /// Whether the row would move to another tab.
    pub fn moved(&self) -> bool {
        self.tab.0 != self.tab.1
    }
}

/// What the draft rules would change, counted over every row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    /// Rows compared.
    pub rows: usize,
    /// Rows per tab now and under the draft, by tab number ([`COUNTED_TABS`] entries).
    pub before: Vec<usize>,
    /// See `before`.
    pub after: Vec<usize>,
    /// Rows moving from one tab to another, by (from, to).
    pub moves: BTreeMap<(u8, u8), usize>,
    /// Rows whose status would change.
    pub status_changed: usize,
    /// Rows sent both now and under the draft whose event or user facts would differ.
    pub sent_changed: usize,
    /// Rows with any change.
    pub changed: usize,
    /// The first [`LISTED`] changed rows, in row order.
    pub listed: Vec<RowChange>,
}

impl Preview {
    /// How many more (or fewer) rows `tab` would hold under the draft.
    pub fn tab_delta(&self, tab: u8) -> i64 {
        let at = |counts: &[usize]| counts.get(usize::from(tab)).copied().unwrap_or(0) as i64;
        at(&self.after) - at(&self.before)
    }
}

/// Maps every row of `store` with `draft` and compares it with how it is mapped now, a block at
/// a time on all cores. `done` counts the rows compared; `None` when `cancel` was set.
pub fn preview(
    store: &Store,
    draft: &Engine,
    cancel: &AtomicBool,
    done: &AtomicUsize,
) -> Option<Preview> {
    let mut preview = Preview {
        before: vec![0; COUNTED_TABS],
        after: vec![0; COUNTED_TABS],
        ..Preview::default()
    };
    for index in 0..store.blocks.len() {
        if cancel.load(Ordering::Relaxed) {
            return None;
        }
        let text = store.decompress(index).unwrap_or_default();
        let rows: Vec<(u8, u8, Option<RowChange>)> = store
            .block_rows(index)
            .into_par_iter()
            .filter_map(|row| {
                let meta = store.metas.get(row)?;
                let outcome = store.map_row(draft, row, &text)?;
                let tab = tab_of(&outcome);
                let status = status_code(outcome.status);
                let now = store.plans.get(row)?.as_ref().map(|plan| plan.fingerprint);
                let after = outcome
                    .mapped
                    .as_ref()
                    .filter(|_| sendable(&outcome))
                    .map(|mapped| sent_hashes(mapped).2);
                let sent_changed = now.is_some() && after.is_some() && now != after;
                let same = meta.tab == tab && meta.status == status && !sent_changed;
                let change = (!same).then(|| RowChange {
                    row: row as u32,
                    tab: (meta.tab, tab),
                    status: (meta.status, status),
                    sent_changed,
                    name_after: super::sent_name(&outcome).to_string(),
                });
                Some((meta.tab, tab, change))
            })
            .collect();
        done.fetch_add(rows.len(), Ordering::Relaxed);
        preview.rows += rows.len();
        for (before, after, change) in rows {
            count(&mut preview.before, before);
            count(&mut preview.after, after);
            let Some(change) = change else { continue };
            preview.changed += 1;
            if change.moved() {
                *preview.moves.entry(change.tab).or_default() += 1;
            }
            if change.status.0 != change.status.1 {
                preview.status_changed += 1;
            }
            if change.sent_changed {
                preview.sent_changed += 1;
            }
            if preview.listed.len() < LISTED {
                preview.listed.push(change);
            }
        }
    }
    Some(preview)
}

fn count(counts: &mut [usize], tab: u8) {
    if let Some(slot) = counts.get_mut(usize::from(tab)) {
        *slot += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::clevertap::{Place, RawPayload, RawRecord, ReadItem};
    use crate::mapping::{MapOptions, Rules};
    use crate::pipeline;

    fn engine(rules: Rules) -> Engine {
        let options = MapOptions {
            keep_source: true,
            ..MapOptions::default()
        };
        Engine::new(Arc::new(rules), options)
    }

    /// The records of `samples/events.jsonl`, mapped with the built-in rules, in a store.
    fn store() -> Store {
        let path: Arc<Path> = Arc::from(Path::new("samples/events.jsonl"));
        let text = std::fs::read_to_string(&*path).unwrap();
        let engine = engine(Rules::default_rules().unwrap());
        let outcomes: Vec<_> = text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(index, line)| {
                let item = ReadItem::Record(RawRecord {
                    place: Place::at(Arc::clone(&path), index as u64 + 1, 1),
                    payload: RawPayload::Json(line.as_bytes().to_vec()),
                });
                pipeline::map_item(&engine, item, None)
            })
            .collect();
        let mut store = Store::new(engine);
        store.append_outcomes(0, None, outcomes);
        store
    }

    fn run(store: &Store, rules: &str) -> Preview {
        let draft = engine(Rules::parse(rules, "draft.toml").unwrap());
        preview(store, &draft, &AtomicBool::new(false), &AtomicUsize::new(0)).unwrap()
    }

    #[test]
    fn the_rules_in_force_change_nothing() {
        let store = store();
        let preview = run(&store, crate::mapping::DEFAULT_RULES);
        assert_eq!(preview.rows, store.len());
        assert_eq!(preview.changed, 0, "{:?}", preview.listed.first());
        assert_eq!(preview.before, preview.after);
    }

    #[test]
    fn holding_unknown_events_moves_them_to_unmapped() {
        let store = store();
        let unknown_now = store
            .metas
            .iter()
            .filter(|meta| meta.status == status_code(crate::mapping::RecordStatus::Warned))
            .count();
        let rules = crate::mapping::DEFAULT_RULES
            .replace("unknown_events = \"other\"", "unknown_events = \"hold\"");
        let preview = run(&store, &rules);
        let other = crate::mapping::Category::ALL
            .iter()
            .position(|c| *c == crate::mapping::Category::Other)
            .unwrap() as u8;
        let moved = preview
            .moves
            .get(&(other, crate::records::UNMAPPED_TAB))
            .copied()
            .unwrap_or(0);
        assert!(moved > 0, "{preview:?}");
        assert!(moved <= unknown_now);
        assert_eq!(preview.tab_delta(other), -(moved as i64));
        assert_eq!(
            preview.tab_delta(crate::records::UNMAPPED_TAB),
            moved as i64
        );
        assert!(preview.listed.iter().all(|change| change.moved()));
    }

    #[test]
    fn dropping_undocumented_attributes_changes_the_events_sent() {
        let store = store();
        let rules = crate::mapping::DEFAULT_RULES.replace(
            "undocumented_attributes = \"keep\"",
            "undocumented_attributes = \"drop\"",
        );
        let preview = run(&store, &rules);
        assert!(preview.sent_changed > 0, "{preview:?}");
        assert!(preview.moves.is_empty());
    }

    #[test]
    fn a_cancelled_preview_gives_nothing() {
        let store = store();
        let draft = engine(Rules::default_rules().unwrap());
        let cancel = AtomicBool::new(true);
        assert!(preview(&store, &draft, &cancel, &AtomicUsize::new(0)).is_none());
    }
}
