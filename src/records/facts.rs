//! Distinct user facts, each kept once: the window's store and `map` keep a million records'
//! facts as ids into one of these (each user's facts once, not once a record).

use std::hash::{BuildHasher, Hash, Hasher};

use serde_json::Value;

use crate::mapping::{MappedRecord, UserFacts, UserFactsRef};

/// Distinct user facts, each kept once. Two facts are the same when they would be sent the
/// same: identities, attributes in their order, device and application. Finding one again
/// costs a hash of the facts as they are (no text made of them) and a comparison.
#[derive(Debug, Default)]
pub(super) struct FactsTable {
    facts: Vec<UserFacts>,
    /// Each one's hash ([`facts_hash`]).
    hashes: Vec<u64>,
    /// The ids, by their facts' hash.
    ids: hashbrown::HashTable<u32>,
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
        other
            .facts
            .into_iter()
            .zip(other.hashes)
            .map(|(facts, hash)| match self.find(hash, facts.view()) {
                Some(id) => id,
                None => self.add(hash, facts),
            })
            .collect()
    }

    /// The id of `facts` (of hash [`facts_hash`]), if they were added.
    pub(super) fn find(&self, hash: u64, facts: UserFactsRef<'_>) -> Option<u32> {
        self.ids
            .find(hash, |&id| {
                self.facts
                    .get(id as usize)
                    .is_some_and(|kept| same_facts(kept.view(), facts))
            })
            .copied()
    }

    /// The id of a mapped record's user facts (of hash [`facts_hash`]), added when new: moved
    /// out of the record when the caller is done with it (`take`), else copied.
    pub(super) fn id_of(&mut self, hash: u64, mapped: &mut MappedRecord, take: bool) -> u32 {
        match self.find(hash, UserFactsRef::of(mapped)) {
            Some(id) => id,
            None if take => self.add(hash, UserFacts::take(mapped)),
            None => self.add(hash, UserFacts::of(mapped)),
        }
    }

    /// Adds `facts` (of hash [`facts_hash`], not found here): their id.
    pub(super) fn add(&mut self, hash: u64, facts: UserFacts) -> u32 {
        let id = self.facts.len() as u32;
        self.facts.push(facts);
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.ids.insert_unique(hash, id, |&id| {
            hashes.get(id as usize).copied().unwrap_or_default()
        });
        id
    }
}

/// User facts' hash: every field, the attributes in their order.
pub(super) fn facts_hash(facts: UserFactsRef<'_>) -> u64 {
    let mut hasher = foldhash::quality::FixedState::with_seed(0).build_hasher();
    facts.identities.hash(&mut hasher);
    facts.device_info.hash(&mut hasher);
    facts.application_info.hash(&mut hasher);
    hasher.write_usize(facts.user_attributes.len());
    for (name, value) in facts.user_attributes {
        name.hash(&mut hasher);
        hash_value(value, &mut hasher);
    }
    hasher.finish()
}

/// A JSON value's hash, an object's members in their order (serde_json's own hash sorts
/// them, as its equality ignores their order).
fn hash_value(value: &Value, hasher: &mut impl Hasher) {
    match value {
        Value::Null => hasher.write_u8(0),
        Value::Bool(b) => hasher.write_u8(1 + u8::from(*b)),
        Value::Number(number) => {
            hasher.write_u8(3);
            number.hash(hasher);
        }
        Value::String(text) => {
            hasher.write_u8(4);
            text.hash(hasher);
        }
        Value::Array(items) => {
            hasher.write_u8(5);
            hasher.write_usize(items.len());
            items.iter().for_each(|item| hash_value(item, hasher));
        }
        Value::Object(members) => {
            hasher.write_u8(6);
            hasher.write_usize(members.len());
            for (name, value) in members {
                name.hash(hasher);
                hash_value(value, hasher);
            }
        }
    }
}

/// Whether two facts are sent the same: every field equal, the attributes (and the members of
/// any object among them) in the same order.
fn same_facts(a: UserFactsRef<'_>, b: UserFactsRef<'_>) -> bool {
    a.identities == b.identities
        && a.device_info == b.device_info
        && a.application_info == b.application_info
        && a.user_attributes.len() == b.user_attributes.len()
        && a.user_attributes.iter().zip(b.user_attributes).all(
            |((a_name, a_value), (b_name, b_value))| {
                a_name == b_name && same_value(a_value, b_value)
            },
        )
}

/// Whether two JSON values are written the same: objects' members compared in order
/// (serde_json's equality ignores their order).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((a_name, a), (b_name, b))| a_name == b_name && same_value(a, b))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mparticle::{DeviceInfo, UserIdentities};

    fn facts(id: &str, attributes: &[(&str, Value)]) -> UserFacts {
        UserFacts {
            identities: UserIdentities {
                customer_id: Some(id.to_string()),
                email: None,
            },
            user_attributes: attributes
                .iter()
                .map(|(name, value)| (name.to_string(), value.clone()))
                .collect(),
            device_info: Some(DeviceInfo {
                platform: Some("iOS".into()),
                ..DeviceInfo::default()
            }),
            application_info: None,
        }
    }

    fn id_of(table: &mut FactsTable, facts: UserFacts) -> u32 {
        let hash = facts_hash(facts.view());
        match table.find(hash, facts.view()) {
            Some(id) => id,
            None => table.add(hash, facts),
        }
    }

    #[test]
    fn facts_are_the_same_only_when_they_would_be_sent_the_same() {
        let plan = |n: i64| serde_json::json!({"plan": "gold", "seats": n});
        let mut table = FactsTable::default();
        let first = id_of(
            &mut table,
            facts("1", &[("ct_a", "x".into()), ("ct_b", plan(2))]),
        );
        // The same facts again: the same id.
        let again = id_of(
            &mut table,
            facts("1", &[("ct_a", "x".into()), ("ct_b", plan(2))]),
        );
        assert_eq!(first, again);
        // Attributes in another order are sent in another order: other facts.
        let swapped = id_of(
            &mut table,
            facts("1", &[("ct_b", plan(2)), ("ct_a", "x".into())]),
        );
        assert_ne!(swapped, first);
        // An object's members in another order, a number written otherwise, another type.
        let members = serde_json::json!({"seats": 2, "plan": "gold"});
        let reordered = id_of(
            &mut table,
            facts("1", &[("ct_a", "x".into()), ("ct_b", members)]),
        );
        let number: Value = serde_json::from_str("2.0").unwrap();
        let written = id_of(
            &mut table,
            facts("1", &[("ct_a", "x".into()), ("ct_b", number)]),
        );
        let text = id_of(
            &mut table,
            facts("1", &[("ct_a", "x".into()), ("ct_b", "2".into())]),
        );
        let other_user = id_of(
            &mut table,
            facts("2", &[("ct_a", "x".into()), ("ct_b", plan(2))]),
        );
        let ids = [first, swapped, reordered, written, text, other_user];
        let mut distinct = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len(), "{ids:?}");
        // A chunk's table adopted: found where they are, added where they are not.
        let mut chunk = FactsTable::default();
        id_of(
            &mut chunk,
            facts("2", &[("ct_a", "x".into()), ("ct_b", plan(2))]),
        );
        id_of(&mut chunk, facts("3", &[]));
        assert_eq!(table.adopt(chunk), vec![other_user, 6]);
        assert_eq!(table.len(), 7);
        assert_eq!(
            table.get(6).unwrap().identities.customer_id.as_deref(),
            Some("3")
        );
    }
}
