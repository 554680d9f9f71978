//! A chunk of outcomes made compact on the thread that mapped it: each row's index entry and
//! place, what batching reads of it, the chunk's counts, and the records' texts compressed
//! together. [`super::Store`] appends chunks and maps rows again from their texts.

use std::hash::{BuildHasher, Hasher};

use super::facts::{FactsTable, facts_hash};

use uuid::Uuid;

use super::CoverageCounts;
use super::{Interner, NO_TIME, RowMeta, sent_name, severity_code, status_code, tab_of};
use crate::mapping::{MappedRecord, Outcome, Rules, UserFactsRef};
use crate::pipeline::Accounting;

/// Where a row's record is: its place in its file and its text inside its block.
#[derive(Debug, Clone, Copy)]
pub(super) struct RowSource {
    pub(super) line: u64,
    pub(super) column: u64,
    /// 1-based CSV row, 0 when not from a CSV file.
    pub(super) csv_row: u64,
    /// The text's start and length in the block's uncompressed bytes.
    pub(super) start: u32,
    pub(super) len: u32,
}

impl RowSource {
    /// The record's text in its block's uncompressed `text`.
    pub(super) fn text_in<'a>(&self, text: &'a [u8]) -> Option<&'a [u8]> {
        let start = self.start as usize;
        text.get(start..start + self.len as usize)
    }
}

/// The records' texts, a chunk at a time, compressed.
#[derive(Debug)]
pub(super) struct Block {
    /// The block's first row in the store.
    pub(super) first_row: usize,
    /// The texts one after another.
    pub(super) text: Packed,
}

/// A chunk's texts, compressed (zstd, about 6× smaller than JSON exports), or as they are when
/// they could not be.
#[derive(Debug, Default)]
pub(super) enum Packed {
    #[default]
    Empty,
    Zstd {
        bytes: Vec<u8>,
        len: usize,
    },
    Plain(Vec<u8>),
}

/// zstd's fastest level: the texts compress about as well as at its default one.
const ZSTD_LEVEL: i32 = 1;

impl Packed {
    fn pack(text: Vec<u8>) -> Packed {
        match zstd::bulk::compress(&text, ZSTD_LEVEL) {
            Ok(mut bytes) => {
                // The buffer was sized for the worst case, the input's size and more.
                bytes.shrink_to_fit();
                Packed::Zstd {
                    bytes,
                    len: text.len(),
                }
            }
            Err(_) => Packed::Plain(text),
        }
    }

    pub(super) fn unpack(&self) -> Option<Vec<u8>> {
        match self {
            Packed::Empty => Some(Vec::new()),
            Packed::Zstd { bytes, len } => zstd::bulk::decompress(bytes, *len).ok(),
            Packed::Plain(text) => Some(text.clone()),
        }
    }
}

/// A chunk of outcomes made compact, on the thread that mapped it: each row's index entry, its
/// place, and the records' texts compressed together. Outcomes without a text (unreadable
/// input) are kept whole.
#[derive(Debug, Default)]
pub struct RowChunk {
    /// Index entries, with string ids into `strings` and no file yet.
    pub(super) metas: Vec<RowMeta>,
    pub(super) strings: Interner,
    pub(super) sources: Vec<RowSource>,
    /// The rows' texts, compressed.
    pub(super) text: Packed,
    /// Rows without a text, by index in the chunk.
    pub(super) kept: Vec<(usize, Outcome)>,
    /// Counts of the chunk's outcomes.
    pub(super) accounting: Accounting,
    pub(super) coverage: CoverageCounts,
    /// What batching reads of each row sent by default, group keys and facts chunk-local.
    pub(super) plans: Vec<Option<PlanRow>>,
    pub(super) group_keys: Interner,
    /// Distinct user facts, each kept once (found again by their hash and a comparison).
    pub(super) facts: FactsTable,
}

/// What batching reads of a row sent by default, besides its time (in its [`RowMeta`]).
#[derive(Debug, Clone)]
pub(super) struct PlanRow {
    pub(super) group_key: u32,
    pub(super) record_id: Uuid,
    pub(super) facts: u32,
    /// The event's serialised size; `None` for a profile record.
    pub(super) event_bytes: Option<u32>,
    /// What is sent of the record (its event and user facts) as one hash: a rules preview
    /// tells a changed event from the same one by it.
    pub(super) fingerprint: u64,
}

/// What is sent of a mapped record as hashes: its user facts' ([`facts_hash`]), and its
/// event's serialised size with a hash of the event and the facts together. The event is
/// serialised into `scratch`, reused from record to record.
pub(super) fn sent_hashes_with(
    mapped: &MappedRecord,
    scratch: &mut Vec<u8>,
) -> (u64, Option<u32>, u64) {
    let facts = facts_hash(UserFactsRef::of(mapped));
    let mut hasher = foldhash::quality::FixedState::with_seed(1).build_hasher();
    hasher.write_u64(facts);
    let bytes = mapped.event.as_ref().map(|event| {
        scratch.clear();
        // Serialising plain data into memory cannot fail.
        let _ = sonic_rs::to_writer(&mut *scratch, event);
        hasher.write(scratch);
        u32::try_from(scratch.len()).unwrap_or(u32::MAX)
    });
    (facts, bytes, hasher.finish())
}

/// [`sent_hashes_with`], for one record.
pub(super) fn sent_hashes(mapped: &MappedRecord) -> (u64, Option<u32>, u64) {
    sent_hashes_with(mapped, &mut Vec::new())
}

impl RowChunk {
    /// Makes a chunk of outcomes mapped with `rules` compact.
    pub fn new(rules: &Rules, outcomes: Vec<Outcome>) -> Self {
        let mut chunk = RowChunk {
            metas: Vec::with_capacity(outcomes.len()),
            sources: Vec::with_capacity(outcomes.len()),
            coverage: CoverageCounts::count(rules, &outcomes),
            ..RowChunk::default()
        };
        let mut scratch = Vec::new();
        let mut text = Vec::with_capacity(
            outcomes
                .iter()
                .map(|o| o.source.as_ref().map_or(0, |s| s.len()))
                .sum(),
        );
        for (index, mut outcome) in outcomes.into_iter().enumerate() {
            chunk.accounting.add(&outcome);
            chunk.metas.push(meta_of(&mut chunk.strings, &outcome));
            // An outcome with a text is dropped here (mapped again from its text when needed):
            // its user facts are moved into the chunk's table, not copied.
            let done_with = outcome.source.is_some();
            let sendable = super::sendable(&outcome);
            let plan = match outcome.mapped.as_mut() {
                Some(mapped) if sendable => Some(chunk.plan_row(&mut scratch, mapped, done_with)),
                _ => None,
            };
            chunk.plans.push(plan);
            let start = text.len();
            if let Some(source) = &outcome.source {
                text.extend_from_slice(source);
            }
            chunk.sources.push(RowSource {
                line: outcome.place.line,
                column: outcome.place.column,
                csv_row: outcome.place.csv_row.unwrap_or(0),
                start: u32::try_from(start).unwrap_or(u32::MAX),
                len: u32::try_from(text.len() - start).unwrap_or(u32::MAX),
            });
            if outcome.source.is_none() {
                chunk.kept.push((index, outcome));
            }
        }
        chunk.text = Packed::pack(text);
        chunk
    }

    /// What batching reads of `mapped`; its user facts are moved out of it when `take`.
    fn plan_row(
        &mut self,
        scratch: &mut Vec<u8>,
        mapped: &mut MappedRecord,
        take: bool,
    ) -> PlanRow {
        let (hash, event_bytes, fingerprint) = sent_hashes_with(mapped, scratch);
        let group_key = self.group_keys.intern(&mapped.group_key);
        let record_id = mapped.record_id;
        let facts = self.facts.id_of(hash, mapped, take);
        PlanRow {
            group_key,
            record_id,
            facts,
            event_bytes,
            fingerprint,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.metas.len()
    }

    /// Whether the chunk has no row.
    pub fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }
}

pub(super) fn meta_of(strings: &mut Interner, outcome: &Outcome) -> RowMeta {
    let source_name = strings.intern(outcome.source_event_name.as_deref().unwrap_or(""));
    let sent_name = strings.intern(sent_name(outcome));
    let identities = outcome.mapped.as_ref().map(|m| &m.identities);
    let customer_id = identities.and_then(|i| i.customer_id.as_deref());
    let email = identities.and_then(|i| i.email.as_deref());
    let (identity, other_identity) = match (customer_id, email) {
        (Some(id), email) => (strings.intern(id), strings.intern(email.unwrap_or(""))),
        (None, Some(email)) => (strings.intern(email), 0),
        (None, None) => (0, 0),
    };
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
        other_identity,
        file: 0,
        attributes,
        tab: tab_of(outcome),
        status: status_code(outcome.status),
        worst: outcome
            .worst_finding()
            .map_or(0, |f| severity_code(f.severity)),
    }
}
