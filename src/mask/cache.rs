//! What masking keeps per thread between records: the tokens of short texts and numbers, and
//! what each field name says of its values. The same words (`Mobile`, `Push`, a user's id), the
//! same numbers and the same field names recur from record to record, and a lookup costs less
//! than an HMAC or lower-casing a name.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Kind;

/// A hash map with a fast, seeded hash (the keys come from the records).
pub(super) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Texts longer than this are not cached; a cache holds at most this many entries per map,
/// then starts again.
const CACHED_TEXT_BYTES: usize = 64;
const CACHED_ENTRIES: usize = 4096;
/// Slots of a token cache (a power of two).
const TOKEN_SLOTS: usize = 1024;

/// What a field's name says of the kind of its values: the part of [`Kind`] that does not
/// depend on the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameClass {
    Latitude,
    Longitude,
    Phone,
    Token,
    Url,
    Name,
    Id,
    Text,
}

impl NameClass {
    /// The kind of `text` in a field of this class: a latitude or longitude by the name, else an
    /// e-mail or a URL by the value's shape, else what the name says.
    pub(super) fn kind(self, text: &str) -> Kind {
        match self {
            NameClass::Latitude => Kind::Latitude,
            NameClass::Longitude => Kind::Longitude,
            _ if crate::mapping::looks_like_email(text) => Kind::Email,
            _ if text.starts_with("http://") || text.starts_with("https://") => Kind::Url,
            NameClass::Phone => Kind::Phone,
            NameClass::Token => Kind::Token,
            NameClass::Url => Kind::Url,
            NameClass::Name => Kind::Name,
            NameClass::Id => Kind::Id,
            NameClass::Text => Kind::Text,
        }
    }
}

/// One thread's cache, for one masker at a time.
#[derive(Default)]
pub(super) struct TokenCache {
    /// The masker the entries were made by (see [`next_masker_id`]).
    owner: u64,
    /// Tokens of texts.
    texts: Slots,
    /// Tokens of numbers (as written).
    numbers: Slots,
    /// Field names' classes.
    names: FastMap<Box<str>, NameClass>,
    /// Property names: whether the allowlist keeps them.
    kept: FastMap<Box<str>, bool>,
    /// Property names: whether the allowlist keeps them, and their class (one look-up for
    /// both).
    properties: FastMap<Box<str>, (bool, NameClass)>,
    /// A buffer for attribute keys.
    pub(super) key: Vec<u8>,
}

thread_local! {
    pub(super) static TOKENS: RefCell<TokenCache> = RefCell::default();
}

/// Makes each masker's id, so that a thread's cache never serves another salt's tokens.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A new masker's id.
pub(super) fn next_masker_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Tokens of short texts by name class, direct-mapped: each (class, text) has one slot, found
/// by its hash, which a later text may take over. A hit compares one key; a miss (most values
/// that identify someone are seen once) reuses the slot instead of growing and clearing a map.
#[derive(Default)]
struct Slots {
    hasher: foldhash::fast::RandomState,
    slots: Vec<Slot>,
}

#[derive(Default)]
struct Slot {
    class: Option<NameClass>,
    text: String,
    token: String,
}

impl Slots {
    /// Writes the token of `text` in a field of `class` with `write`, made by `make`: from its
    /// slot when the text is short (kept there once made), else made each time.
    fn write(
        &mut self,
        class: NameClass,
        text: &str,
        make: impl FnOnce(&str) -> String,
        write: impl FnOnce(&str),
    ) {
        if text.len() > CACHED_TEXT_BYTES {
            return write(&make(text));
        }
        if self.slots.is_empty() {
            self.slots.resize_with(TOKEN_SLOTS, Slot::default);
        }
        let index = self.hasher.hash_one((class as u8, text)) as usize % TOKEN_SLOTS;
        let Some(slot) = self.slots.get_mut(index) else {
            return write(&make(text));
        };
        if slot.class == Some(class) && slot.text == text {
            return write(&slot.token);
        }
        let token = make(text);
        write(&token);
        slot.class = Some(class);
        slot.text.clear();
        slot.text.push_str(text);
        slot.token = token;
    }

    fn clear(&mut self) {
        self.slots.clear();
    }
}

impl TokenCache {
    /// Empties the cache when it was filled by another masker.
    pub(super) fn claim(&mut self, masker: u64) {
        if self.owner != masker {
            self.texts.clear();
            self.numbers.clear();
            self.names.clear();
            self.kept.clear();
            self.properties.clear();
            self.owner = masker;
        }
    }

    /// The class of a field name, made by `make` the first time.
    pub(super) fn name_class(
        &mut self,
        name: &str,
        make: impl FnOnce(&str) -> NameClass,
    ) -> NameClass {
        cached(&mut self.names, name, make)
    }

    /// Whether the allowlist keeps a property named `name`, found by `find` the first time.
    pub(super) fn property_kept(
        &mut self,
        name: &str,
        find: impl FnOnce(&str, &mut Vec<u8>) -> bool,
    ) -> bool {
        let key = &mut self.key;
        cached(&mut self.kept, name, |name| find(name, key))
    }

    /// Whether the allowlist keeps a property named `name`, and its name's class, found by
    /// `find` the first time.
    pub(super) fn property(
        &mut self,
        name: &str,
        find: impl FnOnce(&str, &mut Vec<u8>) -> (bool, NameClass),
    ) -> (bool, NameClass) {
        let key = &mut self.key;
        cached(&mut self.properties, name, |name| find(name, key))
    }

    /// Writes the token of a text in a field of `class` with `write`, made by `make` (cached
    /// when the text is short).
    pub(super) fn write_text(
        &mut self,
        class: NameClass,
        text: &str,
        make: impl FnOnce(&str) -> String,
        write: impl FnOnce(&str),
    ) {
        self.texts.write(class, text, make, write);
    }

    /// Writes the token of a number's text in a field of `class`, as [`Self::write_text`].
    pub(super) fn write_number(
        &mut self,
        class: NameClass,
        text: &str,
        make: impl FnOnce(&str) -> String,
        write: impl FnOnce(&str),
    ) {
        self.numbers.write(class, text, make, write);
    }
}

/// What `map` holds for a short `name`, made by `make` the first time (a full map is emptied;
/// long names are not kept).
fn cached<V: Copy>(map: &mut FastMap<Box<str>, V>, name: &str, make: impl FnOnce(&str) -> V) -> V {
    if name.len() > CACHED_TEXT_BYTES {
        return make(name);
    }
    if let Some(value) = map.get(name) {
        return *value;
    }
    if map.len() >= CACHED_ENTRIES {
        map.clear();
    }
    let value = make(name);
    map.insert(name.into(), value);
    value
}
