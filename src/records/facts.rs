//! Distinct user facts, each kept once with its JSON text: the window's store and `map` keep a
//! million records' facts as ids into one of these (each user's facts once, not once a record).

use std::hash::BuildHasher;

use crate::mapping::{MappedRecord, UserFacts};

/// Distinct user facts, each kept once with its JSON text: two facts are the same when their
/// texts are (identities, attributes in order, device and application), so finding one again
/// costs a hash and a comparison of bytes.
#[derive(Debug, Default)]
pub(super) struct FactsTable {
    facts: Vec<UserFacts>,
    /// Each one's hash and place in `text`.
    keys: Vec<(u64, u32, u32)>,
    text: Vec<u8>,
    /// Hash → the first facts with it (facts sharing a hash with others are added again).
    ids: foldhash::HashMap<u64, u32>,
}

impl FactsTable {
    /// The facts of `id`.
    pub(super) fn get(&self, id: u32) -> Option<&UserFacts> {
        self.facts.get(id as usize)
    }

    /// Number of distinct facts.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.facts.len()
    }

    /// Adds every facts of `other` (another chunk's table), found or added here; the ids
    /// they have here, by their ids in `other`.
    pub(super) fn adopt(&mut self, other: FactsTable) -> Vec<u32> {
        let FactsTable {
            facts, keys, text, ..
        } = other;
        facts
            .into_iter()
            .zip(keys)
            .map(|(facts, (hash, start, len))| {
                let at = start as usize..(start + len) as usize;
                self.find_or_add(hash, text.get(at).unwrap_or_default(), || facts)
            })
            .collect()
    }

    fn text_of(&self, id: u32) -> Option<&[u8]> {
        let &(_, start, len) = self.keys.get(id as usize)?;
        self.text.get(start as usize..(start + len) as usize)
    }

    /// The id of the facts written as `text`, adding them (made by `facts`) when new.
    pub(super) fn find_or_add(
        &mut self,
        hash: u64,
        text: &[u8],
        facts: impl FnOnce() -> UserFacts,
    ) -> u32 {
        if let Some(&id) = self.ids.get(&hash)
            && self.text_of(id) == Some(text)
        {
            return id;
        }
        let id = self.facts.len() as u32;
        let start = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.text.extend_from_slice(text);
        let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
        self.keys.push((hash, start, len));
        self.facts.push(facts());
        self.ids.entry(hash).or_insert(id);
        id
    }
}

/// A record's user facts as JSON text, into `out`, and its hash.
pub(super) fn facts_text(mapped: &MappedRecord, out: &mut Vec<u8>) -> u64 {
    out.clear();
    let facts = (
        &mapped.identities,
        &mapped.user_attributes,
        &mapped.device_info,
        &mapped.application_info,
    );
    // Serialising plain data into memory cannot fail.
    let _ = serde_json::to_writer(&mut *out, &facts);
    foldhash::quality::FixedState::with_seed(0).hash_one(&out[..])
}
