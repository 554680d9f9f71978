//! What `map` keeps of the records it sends, compactly, until every record is read and the
//! batches can be built: one small row per record (its group key and user facts as ids into
//! tables kept once for the run, its time and id, where its event's JSON text is), and the
//! events' text, serialised once on the thread that mapped them. Past a budget the events' text
//! goes to an unnamed temporary file, laid out by the window of users whose batches are written
//! together, and each window's text is read back in a few large reads as its batches are
//! written: memory then holds ids and places, not events, however large the input.

use std::fs::File;
use std::io::{self, Write};

use uuid::Uuid;

use super::Interner;
use super::facts::{FactsTable, facts_hash};
use crate::mapping::{Outcome, PlanEvent, PlanItem, PlanUnit, UnitNumbering, UserFactsRef};

/// Events' text kept in memory before the rest goes to a temporary file.
pub const DEFAULT_MEMORY_BUDGET: usize = 32 << 20;

/// A window's spilled events are gathered in memory and written to the temporary file in
/// blocks of this size, so that reading a window back takes a few large reads.
const SPILL_BLOCK: usize = 128 << 10;

/// A row's event length meaning "a profile record, no event".
const PROFILE: u32 = u32::MAX;

/// One kept record: ids into the tables (chunk-local until its chunk is appended), its time,
/// id, and its event's place: in its chunk's text, or, for a spilled chunk, in its window's.
#[derive(Debug, Clone, Copy)]
struct Row {
    group: u32,
    facts: u32,
    chunk: u32,
    /// The event's length in bytes, or [`PROFILE`].
    len: u32,
    start: u64,
    timestamp: Option<i64>,
    record_id: Uuid,
}

/// One chunk's kept records, made on the thread that mapped it.
#[derive(Debug, Default)]
pub struct KeptChunk {
    rows: Vec<Row>,
    group_keys: Interner,
    facts: FactsTable,
    /// The events' JSON text, one after another.
    events: Vec<u8>,
}

impl KeptChunk {
    /// Starts keeping a chunk's records.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps what batching reads of a mapped outcome, its event serialised here (its user
    /// facts are moved, not copied); an outcome with nothing mapped is passed over.
    pub fn add(&mut self, outcome: Outcome) {
        let timestamp = outcome.timestamp_millis();
        let Some(mut mapped) = outcome.mapped else {
            return;
        };
        let start = self.events.len();
        let len = match &mapped.event {
            Some(event) => {
                // Serialising plain data into memory cannot fail.
                let _ = sonic_rs::to_writer(&mut self.events, event);
                u32::try_from(self.events.len() - start).unwrap_or(PROFILE - 1)
            }
            None => PROFILE,
        };
        let hash = facts_hash(UserFactsRef::of(&mapped));
        let group = self.group_keys.intern(&mapped.group_key);
        let record_id = mapped.record_id;
        let facts = self.facts.id_of(hash, &mut mapped, true);
        self.rows.push(Row {
            group,
            facts,
            chunk: 0,
            len,
            start: start as u64,
            timestamp,
            record_id,
        });
    }
}

/// Where a chunk's events' text is.
#[derive(Debug)]
enum Events {
    Memory(Vec<u8>),
    /// In the temporary file, each event in its window's text.
    Spilled,
}

/// The temporary file, holding each window's text in blocks.
#[derive(Debug)]
struct Spill {
    file: File,
    end: u64,
    windows: Vec<WindowText>,
}

/// One window's spilled text: its blocks in the file (offset, length), in order, then its
/// text not written yet.
#[derive(Debug, Default)]
struct WindowText {
    blocks: Vec<(u64, usize)>,
    pending: Vec<u8>,
    /// The length of the whole text.
    len: u64,
}

impl Spill {
    fn new() -> io::Result<Self> {
        Ok(Self {
            file: tempfile::tempfile()?,
            end: 0,
            windows: Vec::new(),
        })
    }

    /// Appends an event to window `window`'s text, written out once `block` bytes wait; its
    /// offset in that text.
    fn add(&mut self, window: usize, event: &[u8], block: usize) -> io::Result<u64> {
        if self.windows.len() <= window {
            self.windows.resize_with(window + 1, WindowText::default);
        }
        let text = &mut self.windows[window];
        let at = text.len;
        text.len += event.len() as u64;
        text.pending.extend_from_slice(event);
        if text.pending.len() >= block {
            self.file.write_all(&text.pending)?;
            text.blocks.push((self.end, text.pending.len()));
            self.end += text.pending.len() as u64;
            text.pending.clear();
        }
        Ok(at)
    }
}

/// A window's spilled events' text, read back at once ([`Kept::load_window`]).
#[derive(Debug, Default)]
pub struct LoadedWindow {
    window: usize,
    text: Vec<u8>,
}

/// Every kept record of a run, in input order.
#[derive(Debug)]
pub struct Kept {
    rows: Vec<Row>,
    group_keys: Interner,
    facts: FactsTable,
    chunks: Vec<Events>,
    in_memory: usize,
    budget: usize,
    /// The batching units of the records kept so far.
    units: UnitNumbering<u32>,
    /// Units whose batches are written together: the spilled events are laid out by window.
    units_at_once: usize,
    /// A window's text is written to the temporary file in blocks of at least this size.
    spill_block: usize,
    spill: Option<Spill>,
}

impl Kept {
    /// Nothing kept yet; events' text past `budget` bytes goes to a temporary file, laid out
    /// for batches written `units_at_once` units ([`crate::mapping::plan_units`]) at a time.
    pub fn new(budget: usize, units_at_once: usize) -> Self {
        Self {
            rows: Vec::new(),
            group_keys: Interner::default(),
            facts: FactsTable::default(),
            chunks: Vec::new(),
            in_memory: 0,
            budget,
            units: UnitNumbering::default(),
            units_at_once: units_at_once.max(1),
            spill_block: SPILL_BLOCK,
            spill: None,
        }
    }

    /// Adds a chunk's records after those added before: its group keys and facts found in (or
    /// added to) the run's tables, its events kept in memory or written to the temporary file.
    pub fn push(&mut self, chunk: KeptChunk) -> io::Result<()> {
        let KeptChunk {
            rows,
            group_keys,
            facts,
            events,
            ..
        } = chunk;
        let facts = self.facts.adopt(facts);
        let mut keys = vec![None; group_keys.len()];
        let index = self.chunks.len() as u32;
        let in_memory = self.in_memory + events.len() <= self.budget;
        if in_memory {
            self.in_memory += events.len();
        } else if self.spill.is_none() {
            self.spill = Some(Spill::new()?);
        }
        self.rows.reserve(rows.len());
        for row in rows {
            let group = *keys[row.group as usize]
                .get_or_insert_with(|| self.group_keys.adopt(&group_keys, row.group));
            let unit = self.units.number((row.len != PROFILE).then_some(group));
            let mut start = row.start;
            if let Some(spill) = self.spill.as_mut().filter(|_| !in_memory)
                && row.len != PROFILE
            {
                let at = start as usize;
                let event = events.get(at..at + row.len as usize).ok_or_else(lost)?;
                start = spill.add(unit / self.units_at_once, event, self.spill_block)?;
            }
            self.rows.push(Row {
                group,
                facts: facts.get(row.facts as usize).copied().unwrap_or(0),
                chunk: index,
                start,
                ..row
            });
        }
        self.chunks.push(if in_memory {
            Events::Memory(events)
        } else {
            Events::Spilled
        });
        Ok(())
    }

    /// Number of records kept.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether none was kept.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Bytes of events' text spilled (in the temporary file or waiting to be written to it).
    pub fn spilled(&self) -> u64 {
        self.spill
            .as_ref()
            .map_or(0, |spill| spill.windows.iter().map(|text| text.len).sum())
    }

    /// What batching reads of record `index`.
    pub fn item(&self, index: usize) -> Option<PlanItem<'_>> {
        let row = self.rows.get(index)?;
        Some(PlanItem {
            group_key: self.group_keys.get(row.group),
            timestamp: row.timestamp,
            record_id: row.record_id,
            facts: self.facts.get(row.facts)?.view(),
            event: match row.len {
                PROFILE => PlanEvent::Profile,
                len => PlanEvent::Sized(len as usize),
            },
        })
    }

    /// The kept records' batching units, as [`crate::mapping::plan_units`] gives them from
    /// [`Kept::item`] (users in order of their first record, a profile record alone), found
    /// by the rows' group ids rather than their keys' text.
    pub fn units(&self) -> Vec<PlanUnit> {
        crate::mapping::plan_units_by(self.rows.len(), |index| {
            let row = &self.rows[index];
            Some((row.len != PROFILE).then_some(row.group))
        })
    }

    /// Reads back the spilled events of window `window`: units `window * units_at_once` up
    /// to the next window's, in [`crate::mapping::plan_units`]'s order.
    pub fn load_window(&self, window: usize) -> io::Result<LoadedWindow> {
        let mut text = Vec::new();
        if let Some(spill) = &self.spill
            && let Some(window_text) = spill.windows.get(window)
        {
            let len = usize::try_from(window_text.len).map_err(|_| lost())?;
            text.resize(len, 0);
            let mut from = 0;
            for &(at, len) in &window_text.blocks {
                read_at(&spill.file, &mut text[from..from + len], at)?;
                from += len;
            }
            text[from..].copy_from_slice(&window_text.pending);
        }
        Ok(LoadedWindow { window, text })
    }

    /// Appends the event of record `index` as JSON text to `out`, from memory or from its
    /// window's text (`loaded`, which must be that window's); `false` for a profile record
    /// (nothing appended).
    pub fn write_event(
        &self,
        index: usize,
        loaded: &LoadedWindow,
        out: &mut Vec<u8>,
    ) -> io::Result<bool> {
        let Some(row) = self.rows.get(index).filter(|row| row.len != PROFILE) else {
            return Ok(false);
        };
        let text = match self.chunks.get(row.chunk as usize) {
            Some(Events::Memory(text)) => text,
            Some(Events::Spilled) => {
                // Only a user's events are spilled, each in the window of its user's unit.
                match self.units.of_user(&row.group) {
                    Some(unit) if unit / self.units_at_once == loaded.window => &loaded.text,
                    _ => return Err(lost()),
                }
            }
            None => return Err(lost()),
        };
        let start = usize::try_from(row.start).map_err(|_| lost())?;
        let event = text.get(start..start + row.len as usize).ok_or_else(lost)?;
        out.extend_from_slice(event);
        Ok(true)
    }
}

fn lost() -> io::Error {
    io::Error::other("a kept event is missing from map's temporary file")
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::clevertap::{Place, parse_record};
    use crate::mapping::{Engine, MapOptions, Rules};

    fn outcomes() -> Vec<Outcome> {
        let engine = Engine::new(
            Arc::new(Rules::default_rules().unwrap()),
            MapOptions::default(),
        );
        let texts = [
            r#"{"ts": 20240101000000, "eventName": "App Launched", "profile": {"identity": "1", "platform": "iOS"}, "eventProps": {"CT Source": "Mobile"}}"#,
            r#"{"ts": 20240101000100, "eventName": "Charged", "profile": {"identity": "2"}, "eventProps": {"Amount": 12.50}}"#,
            r#"{"profile": {"identity": "1", "platform": "iOS"}, "type": "profile"}"#,
            r#"{"ts": 20240101000200, "eventName": "App Launched", "profile": {"identity": "1", "platform": "iOS"}, "eventProps": {"CT Source": "Web"}}"#,
            r#"{"ts": 20240101000300, "eventName": "UTM Visited", "profile": {"email": "a@example.com"}}"#,
        ];
        (1..)
            .zip(texts)
            .map(|(line, text)| {
                let place = Place::at(Arc::from(Path::new("t.jsonl")), line, 1);
                let value = parse_record(&place, text.as_bytes()).unwrap();
                engine.map(place, value, None)
            })
            .collect()
    }

    #[test]
    fn kept_records_give_what_their_outcomes_give_in_memory_or_spilled() {
        let outcomes = outcomes();
        let mut first = KeptChunk::new();
        outcomes[..2].iter().for_each(|o| first.add(o.clone()));
        // Everything in memory, everything in the temporary file, the first chunk in memory
        // and the rest in the file; windows of one unit, two and all; blocks of one byte (each
        // event written at once) and of the default size (everything still waiting).
        for budget in [usize::MAX, 0, first.events.len()] {
            for (units_at_once, block) in [(1, 1), (2, 1), (2, SPILL_BLOCK), (4096, 1)] {
                let mut kept = Kept::new(budget, units_at_once);
                kept.spill_block = block;
                for part in [&outcomes[..2], &outcomes[2..3], &outcomes[3..]] {
                    let mut chunk = KeptChunk::new();
                    part.iter().for_each(|o| chunk.add(o.clone()));
                    kept.push(chunk).unwrap();
                }
                let case = format!("budget {budget}, {units_at_once} units at once, block {block}");
                check(&kept, &outcomes, units_at_once, &case);
                // User 1's facts (three records, two chunks) are kept once.
                assert_eq!(kept.facts.len(), 3, "{case}");
                let spilled = kept.spilled();
                match budget {
                    usize::MAX => assert_eq!(spilled, 0),
                    0 => assert!(spilled > 0),
                    _ => assert!(
                        spilled > 0
                            && kept
                                .chunks
                                .iter()
                                .any(|c| matches!(c, Events::Memory(t) if !t.is_empty()))
                    ),
                }
                let written = kept.spill.as_ref().map_or(0, |spill| spill.end);
                assert_eq!(written > 0, spilled > 0 && block == 1, "{case}");
            }
        }
    }

    /// Each record read back as its outcome gives it, its event from its window's text: the
    /// window of its unit in `plan_units`'s order, as `map` writes them; the units as
    /// `plan_units` gives them.
    fn check(kept: &Kept, outcomes: &[Outcome], units_at_once: usize, case: &str) {
        assert_eq!(kept.len(), outcomes.len());
        let units = crate::mapping::plan_units(kept.len(), |i| kept.item(i));
        // (Their records and whether each is a user's, which their debug text shows.)
        assert_eq!(
            format!("{:?}", kept.units()),
            format!("{units:?}"),
            "{case}"
        );
        let window_of = |index: usize| {
            let unit = units.iter().position(|u| u.records().contains(&index));
            unit.unwrap() / units_at_once
        };
        let windows = units.len().div_ceil(units_at_once);
        for (index, outcome) in outcomes.iter().enumerate() {
            let expected = PlanItem::of(outcome).unwrap();
            let item = kept.item(index).unwrap();
            assert_eq!(item.group_key, expected.group_key);
            assert_eq!(item.timestamp, expected.timestamp);
            assert_eq!(item.record_id, expected.record_id);
            assert_eq!(item.facts.identities, expected.facts.identities);
            assert_eq!(item.facts.device_info, expected.facts.device_info);
            assert_eq!(item.facts.user_attributes, expected.facts.user_attributes);
            let event = outcome.mapped.as_ref().unwrap().event.as_ref();
            let text = event.map(|event| serde_json::to_vec(event).unwrap());
            let loaded = kept.load_window(window_of(index)).unwrap();
            let mut written = b"before".to_vec();
            let has_event = kept.write_event(index, &loaded, &mut written).unwrap();
            assert_eq!(has_event, text.is_some(), "record {index}, {case}");
            assert_eq!(
                written,
                [&b"before"[..], text.as_deref().unwrap_or_default()].concat(),
                "record {index}, {case}"
            );
            match item.event {
                PlanEvent::Sized(len) => assert_eq!(Some(len), text.as_ref().map(|t| t.len())),
                PlanEvent::Profile => assert!(text.is_none()),
                PlanEvent::Event(_) => panic!("kept records are sized"),
            }
            // Another window's text never gives a spilled event.
            let spilled = matches!(
                kept.chunks[kept.rows[index].chunk as usize],
                Events::Spilled
            );
            for other in (0..windows).filter(|&w| w != window_of(index)) {
                let other = kept.load_window(other).unwrap();
                let result = kept.write_event(index, &other, &mut Vec::new());
                assert_eq!(
                    result.is_err(),
                    spilled && text.is_some(),
                    "record {index}, {case}"
                );
            }
        }
    }
}
