//! An event's custom attributes: names and values, in source order, kept in one text buffer so
//! that mapping an event with dozens of properties costs a couple of allocations, not dozens.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where one attribute's name and value sit in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    hash: u32,
    name: (u32, u32),
    value: (u32, u32),
}

/// An event's custom attributes (`data.custom_attributes`), in the order they were set, each
/// name at most once. Serialises as a JSON object of strings.
#[derive(Clone, Default)]
pub struct Attributes {
    text: String,
    entries: Vec<Entry>,
    /// One bit per name set, by its hash: a name whose bit is clear is not set, found without
    /// a scan (most names asked for are new).
    seen: u64,
    /// Name → index, built once there are more than [`SCAN_LIMIT`] attributes, so that an event
    /// with thousands of properties (a hostile file) is not mapped in quadratic time.
    index: Option<HashMap<String, usize, foldhash::fast::FixedState>>,
}

/// Up to this many attributes, a name is found by scanning (the usual case, and the fastest:
/// events of 60 to 120 properties map with 4.5 % fewer instructions than with an index from 33).
const SCAN_LIMIT: usize = 128;

fn hash_of(name: &str) -> u32 {
    // Only to skip most string comparisons; collisions are compared in full.
    foldhash::fast::FixedState::with_seed(0).hash_one(name) as u32
}

/// A name's bit in [`Attributes::seen`].
fn seen_bit(hash: u32) -> u64 {
    1 << (hash >> 26)
}

/// `text.len()` as a buffer offset. Attributes are bounded by mParticle's limits (100 values
/// of 4,096 characters), far below 4 GiB.
fn offset(text: &str) -> u32 {
    u32::try_from(text.len()).unwrap_or(u32::MAX)
}

impl Attributes {
    /// No attributes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `count` attributes of `text` bytes of names and values in all.
    pub fn with_capacity(count: usize, text: usize) -> Self {
        Self {
            text: String::with_capacity(text),
            entries: Vec::with_capacity(count),
            seen: 0,
            index: None,
        }
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn slice(&self, (start, end): (u32, u32)) -> &str {
        &self.text[start as usize..end as usize]
    }

    /// The index of the attribute with this name.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.find(name, hash_of(name))
    }

    fn find(&self, name: &str, hash: u32) -> Option<usize> {
        if self.seen & seen_bit(hash) == 0 {
            return None;
        }
        if let Some(index) = &self.index {
            return index.get(name).copied();
        }
        self.entries
            .iter()
            .position(|entry| entry.hash == hash && self.slice(entry.name) == name)
    }

    /// The value of the attribute with this name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).map(|index| self.value_at(index))
    }

    /// Whether an attribute has this name.
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// The value at `index` (from [`Attributes::position`] or [`Attributes::insert_with`]).
    pub fn value_at(&self, index: usize) -> &str {
        self.entries
            .get(index)
            .map_or("", |entry| self.slice(entry.value))
    }

    /// Adds `name` with the value `write` appends to the buffer it is given, and returns its
    /// index; if `name` is set already, changes nothing and returns the existing index as
    /// the error.
    pub fn insert_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut String),
    ) -> Result<usize, usize> {
        let hash = hash_of(name);
        if let Some(index) = self.find(name, hash) {
            return Err(index);
        }
        let name_start = offset(&self.text);
        self.text.push_str(name);
        let value_start = offset(&self.text);
        write(&mut self.text);
        let value_end = offset(&self.text);
        self.entries.push(Entry {
            hash,
            name: (name_start, value_start),
            value: (value_start, value_end),
        });
        self.seen |= seen_bit(hash);
        let added = self.entries.len() - 1;
        if let Some(index) = &mut self.index {
            index.insert(name.to_string(), added);
        } else if self.entries.len() > SCAN_LIMIT {
            let index = self
                .entries
                .iter()
                .enumerate()
                .map(|(at, entry)| (self.slice(entry.name).to_string(), at))
                .collect();
            self.index = Some(index);
        }
        Ok(added)
    }

    /// Adds `name` with `value`, or replaces the value if `name` is set (keeping its place).
    pub fn insert(&mut self, name: &str, value: &str) {
        if let Err(index) = self.insert_with(name, |text| text.push_str(value)) {
            self.replace_with(index, |text| text.push_str(value));
        }
    }

    /// Replaces the value at `index` with what `write` appends, keeping the attribute's place.
    pub fn replace_with(&mut self, index: usize, write: impl FnOnce(&mut String)) {
        let start = offset(&self.text);
        write(&mut self.text);
        let end = offset(&self.text);
        if let Some(entry) = self.entries.get_mut(index) {
            entry.value = (start, end);
        }
    }

    /// Names and values in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|entry| (self.slice(entry.name), self.slice(entry.value)))
    }

    /// Names in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(name, _)| name)
    }
}

impl PartialEq for Attributes {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = (&'a str, &'a str);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(items: I) -> Self {
        let mut attributes = Attributes::new();
        for (name, value) in items {
            attributes.insert(name, value);
        }
        attributes
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AttributesVisitor;
        impl<'de> Visitor<'de> for AttributesVisitor {
            type Value = Attributes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of string values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attributes, A::Error> {
                let mut attributes = Attributes::new();
                while let Some((name, value)) = map.next_entry::<String, String>()? {
                    attributes.insert(&name, &value);
                }
                Ok(attributes)
            }
        }
        deserializer.deserialize_map(AttributesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_finds_names_and_replaces_in_place() {
        let mut attributes = Attributes::new();
        assert_eq!(attributes.insert_with("b", |t| t.push('2')), Ok(0));
        assert_eq!(attributes.insert_with("a", |t| t.push('1')), Ok(1));
        assert_eq!(attributes.insert_with("b", |t| t.push('x')), Err(0));
        assert_eq!(attributes.get("b"), Some("2"));
        attributes.replace_with(0, |t| t.push('3'));
        let pairs: Vec<_> = attributes.iter().collect();
        assert_eq!(pairs, [("b", "3"), ("a", "1")]);
        assert_eq!(attributes.get("c"), None);
        assert_eq!(
            serde_json::to_string(&attributes).unwrap(),
            r#"{"b":"3","a":"1"}"#
        );
        let back: Attributes = serde_json::from_str(r#"{"b":"3","a":"1"}"#).unwrap();
        assert_eq!(back, attributes);
    }

    #[test]
    fn set_names_are_found_and_others_are_not_whatever_their_hashes() {
        // Scanned (up to SCAN_LIMIT) and indexed (more) alike, with many names sharing a bit
        // of the filter that lets new names skip the scan.
        for count in [1, 5, 64, SCAN_LIMIT, SCAN_LIMIT + 1, 300] {
            let mut attributes = Attributes::new();
            for at in 0..count {
                assert_eq!(
                    attributes.insert_with(&format!("set {at}"), |t| t.push('v')),
                    Ok(at)
                );
            }
            for at in 0..count {
                let name = format!("set {at}");
                assert_eq!(attributes.insert_with(&name, |t| t.push('x')), Err(at));
                assert_eq!(attributes.position(&name), Some(at));
            }
            for at in 0..1000 {
                assert_eq!(attributes.position(&format!("other {at}")), None);
            }
        }
    }

    #[test]
    fn many_names_with_any_text() {
        let names: Vec<String> = (0..300).map(|i| format!("name {i} é")).collect();
        let attributes: Attributes = names.iter().map(|n| (n.as_str(), n.as_str())).collect();
        assert_eq!(attributes.len(), 300);
        for name in &names {
            assert_eq!(attributes.get(name), Some(name.as_str()));
        }
        assert!(attributes.keys().eq(names.iter().map(String::as_str)));
    }
}
