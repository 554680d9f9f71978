//! What `map` keeps of the records it sends, compactly, until every record is read and the
//! batches can be built: one small row per record (its group key and user facts as ids into
//! tables kept once for the run, its time and id, where its event's JSON text is), and the
//! events' text, serialised once on the thread that mapped them. Past a budget the events' text
//! goes to an unnamed temporary file, read back a batch at a time as the batches are written:
//! memory then holds ids and places, not events, however large the input.

use std::fs::File;
use std::io::{self, Write};

use uuid::Uuid;

use super::Interner;
use super::facts::{FactsTable, facts_text};
use crate::mapping::{Outcome, PlanEvent, PlanItem, UserFacts};

/// Events' text kept in memory before the rest goes to a temporary file.
pub const DEFAULT_MEMORY_BUDGET: usize = 64 << 20;

/// A row's event length meaning "a profile record, no event".
const PROFILE: u32 = u32::MAX;

/// One kept record: ids into the tables (chunk-local until its chunk is appended), its time,
/// id, and its event's place in its chunk's text.
#[derive(Debug, Clone, Copy)]
struct Row {
    group: u32,
    facts: u32,
    chunk: u32,
    start: u32,
    /// The event's length in bytes, or [`PROFILE`].
    len: u32,
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
    /// Where a record's facts are written to be found in `facts`.
    scratch: Vec<u8>,
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
        let Some(mapped) = outcome.mapped else {
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
        let hash = facts_text(&mapped, &mut self.scratch);
        let group = self.group_keys.intern(&mapped.group_key);
        let record_id = mapped.record_id;
        let facts = self.facts.find_or_add(hash, &self.scratch, || UserFacts {
            identities: mapped.identities,
            user_attributes: mapped.user_attributes,
            device_info: mapped.device_info,
            application_info: mapped.application_info,
        });
        self.rows.push(Row {
            group,
            facts,
            chunk: 0,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len,
            timestamp,
            record_id,
        });
    }
}

/// Where a chunk's events' text is.
#[derive(Debug)]
enum Events {
    Memory(Vec<u8>),
    /// At this offset of the temporary file.
    Spilled(u64),
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
    spill: Option<(File, u64)>,
}

impl Kept {
    /// Nothing kept yet; events' text past `budget` bytes goes to a temporary file.
    pub fn new(budget: usize) -> Self {
        Self {
            rows: Vec::new(),
            group_keys: Interner::default(),
            facts: FactsTable::default(),
            chunks: Vec::new(),
            in_memory: 0,
            budget,
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
        self.rows.reserve(rows.len());
        for row in rows {
            let group = *keys[row.group as usize]
                .get_or_insert_with(|| self.group_keys.intern(group_keys.get(row.group)));
            self.rows.push(Row {
                group,
                facts: facts.get(row.facts as usize).copied().unwrap_or(0),
                chunk: index,
                ..row
            });
        }
        let events = if self.in_memory + events.len() <= self.budget {
            self.in_memory += events.len();
            Events::Memory(events)
        } else {
            let (file, end) = match &mut self.spill {
                Some(spill) => spill,
                None => self.spill.insert((tempfile::tempfile()?, 0)),
            };
            file.write_all(&events)?;
            let at = *end;
            *end += events.len() as u64;
            Events::Spilled(at)
        };
        self.chunks.push(events);
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

    /// Bytes of events' text written to the temporary file.
    pub fn spilled(&self) -> u64 {
        self.spill.as_ref().map_or(0, |(_, end)| *end)
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

    /// Appends the event of record `index` as JSON text to `out`; `false` for a profile
    /// record (nothing appended).
    pub fn write_event(&self, index: usize, out: &mut Vec<u8>) -> io::Result<bool> {
        let Some(row) = self.rows.get(index).filter(|row| row.len != PROFILE) else {
            return Ok(false);
        };
        let (start, len) = (row.start as usize, row.len as usize);
        match self.chunks.get(row.chunk as usize) {
            Some(Events::Memory(text)) => {
                let event = text.get(start..start + len).ok_or_else(lost)?;
                out.extend_from_slice(event);
            }
            Some(Events::Spilled(at)) => {
                let (file, _) = self.spill.as_ref().ok_or_else(lost)?;
                let from = out.len();
                out.resize(from + len, 0);
                read_at(file, &mut out[from..], at + start as u64)?;
            }
            None => return Err(lost()),
        }
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
        // and the rest in the file.
        for budget in [usize::MAX, 0, first.events.len()] {
            let mut kept = Kept::new(budget);
            for part in [&outcomes[..2], &outcomes[2..3], &outcomes[3..]] {
                let mut chunk = KeptChunk::new();
                part.iter().for_each(|o| chunk.add(o.clone()));
                kept.push(chunk).unwrap();
            }
            assert_eq!(kept.len(), outcomes.len());
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
                let mut written = b"before".to_vec();
                let has_event = kept.write_event(index, &mut written).unwrap();
                assert_eq!(has_event, text.is_some(), "record {index}");
                assert_eq!(
                    written,
                    [&b"before"[..], text.as_deref().unwrap_or_default()].concat(),
                    "record {index}, budget {budget}"
                );
                match item.event {
                    PlanEvent::Sized(len) => assert_eq!(Some(len), text.map(|t| t.len())),
                    PlanEvent::Profile => assert!(text.is_none()),
                    PlanEvent::Event(_) => panic!("kept records are sized"),
                }
            }
            // User 1's facts (three records, two chunks) are kept once.
            assert_eq!(kept.facts.len(), 3, "budget {budget}");
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
        }
    }
}
