//! Free-text search over the store: each record's text as read (escapes read when the needle
//! needs it), the interned names and identities, and unreadable input's messages.

use rayon::prelude::*;
use serde_json::Value;

use super::Store;

impl Store {
    /// The rows whose record contains `needle` (already lower case), ignoring case: in its
    /// text as read, its name as sent, its identities, or (unreadable input) its message.
    pub fn rows_containing(&self, needle: &str) -> Vec<bool> {
        if needle.is_empty() {
            return vec![false; self.len()];
        }
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        // JSON writers escape quotes, backslashes, slashes, control and non-ASCII characters;
        // a needle without any is found in escaped text as it is written.
        let escapable = needle
            .bytes()
            .any(|b| !b.is_ascii() || b.is_ascii_control() || matches!(b, b'"' | b'\\' | b'/'));
        let strings: Vec<bool> = self
            .strings
            .iter()
            .map(|(_, s)| contains_folded(&finder, s.as_bytes()))
            .collect();
        let string_hit = |id: u32| strings.get(id as usize).copied().unwrap_or(false);
        let mut hits: Vec<bool> = self
            .metas
            .par_iter()
            .map(|meta| {
                [
                    meta.source_name,
                    meta.sent_name,
                    meta.identity,
                    meta.other_identity,
                ]
                .into_iter()
                .any(string_hit)
            })
            .collect();
        let blocks: Vec<Vec<usize>> = (0..self.blocks.len())
            .into_par_iter()
            .map(|index| {
                let Some(text) = self.decompress(index) else {
                    return Vec::new();
                };
                self.block_rows(index)
                    .filter(|&row| {
                        // A row edited in place is searched in its edited text.
                        let record = match self.edited.get(&row) {
                            Some(edited) => Some(&edited[..]),
                            None => self.sources[row].text_in(&text),
                        };
                        record.is_some_and(|record| record_contains(&finder, escapable, record))
                    })
                    .collect()
            })
            .collect();
        for row in blocks.into_iter().flatten() {
            hits[row] = true;
        }
        for (&row, outcome) in &self.kept {
            if !self.edited.contains_key(&row)
                && outcome
                    .findings
                    .iter()
                    .any(|f| contains_folded(&finder, f.message.as_bytes()))
            {
                hits[row] = true;
            }
        }
        hits
    }
}

/// Whether a record's JSON text contains the (lower-case) needle, ignoring case; in a record
/// written with escapes (`\u00e9`, `\"`), its names and strings are searched as they read,
/// when the needle has a character that writers escape (`escapable`).
fn record_contains(finder: &memchr::memmem::Finder, escapable: bool, record: &[u8]) -> bool {
    if contains_folded(finder, record) {
        return true;
    }
    if !escapable || memchr::memchr(b'\\', record).is_none() {
        return false;
    }
    fn strings_contain(finder: &memchr::memmem::Finder, value: &Value) -> bool {
        match value {
            Value::String(text) => contains_folded(finder, text.as_bytes()),
            Value::Array(items) => items.iter().any(|item| strings_contain(finder, item)),
            Value::Object(fields) => fields.iter().any(|(name, item)| {
                contains_folded(finder, name.as_bytes()) || strings_contain(finder, item)
            }),
            _ => false,
        }
    }
    serde_json::from_slice::<Value>(record).is_ok_and(|value| strings_contain(finder, &value))
}

/// Whether `text`, lower-cased, contains the (lower-case) needle.
fn contains_folded(finder: &memchr::memmem::Finder, text: &[u8]) -> bool {
    if text.is_ascii() {
        if !text.iter().any(u8::is_ascii_uppercase) {
            return finder.find(text).is_some();
        }
        return finder.find(&text.to_ascii_lowercase()).is_some();
    }
    finder
        .find(String::from_utf8_lossy(text).to_lowercase().as_bytes())
        .is_some()
}
