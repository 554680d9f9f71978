//! Masking personal data: every value of a source record is replaced by a stable pseudonym,
//! except the fields the rules' `[mask]` allowlist keeps in clear.
//!
//! A pseudonym is HMAC-SHA256 of the value keyed with a salt (random per installation, or a
//! team's `--mask-salt`), shown as a short typed token that keeps the value's shape
//! (`email:3f9a1c…@masked.invalid`, `phone:…7c21…`, `id:9b04e2…`, numbers stay numbers of the
//! same length, `$D_` dates stay dates, comma-joined lists stay lists). The same value masks the
//! same way everywhere in a run, so users still group into the same batches and a masked record
//! maps to the same category, status and finding kinds; without the salt a token cannot be
//! turned back into the value. Masking is applied to the parsed record before it is mapped, so
//! nothing derived from it (findings, batches, reports) can carry the value in clear.

mod cache;
mod salt;
mod stream;
mod token;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sonic_rs::{JsonContainerTrait, JsonValueTrait};

pub use salt::{MaskSalt, SaltError, default_salt_path, load_or_create_salt, salt_beside};
pub use token::{EMAIL_DOMAIN, is_masked_identity};

use cache::{FastMap, NameClass, TOKENS, TokenCache};

use crate::clevertap::Json;
use crate::mapping::{MaskRules, Rules, attribute_key};

/// The objects whose members are event or session properties.
const PROPERTY_CONTAINERS: [&str; 5] = [
    "eventProps",
    "event_props",
    "evtData",
    "sessionProps",
    "session_props",
];

/// One level of the `fields` allowlist: names kept at this level (`keep`), and where to look
/// below.
#[derive(Debug, Default)]
struct FieldNode {
    /// Whatever is under this path is kept.
    keep: bool,
    exact: FastMap<String, FieldNode>,
    /// Name prefixes (`MSG-*`; an empty prefix is `*`).
    prefixes: Vec<(String, FieldNode)>,
}

impl FieldNode {
    fn insert(&mut self, pattern: &str) {
        let mut node = self;
        let mut segments = pattern.split('.').peekable();
        while let Some(segment) = segments.next() {
            let last = segments.peek().is_none();
            node = match segment.strip_suffix('*') {
                Some(prefix) if last => match node.prefixes.iter().position(|(p, _)| p == prefix) {
                    Some(index) => &mut node.prefixes[index].1,
                    None => {
                        node.prefixes
                            .push((prefix.to_string(), FieldNode::default()));
                        let index = node.prefixes.len() - 1;
                        &mut node.prefixes[index].1
                    }
                },
                _ => node.exact.entry(segment.to_string()).or_default(),
            };
        }
        node.keep = true;
    }

    /// The nodes below this one for a member named `key` (an exact name and any prefixes).
    fn children<'a>(&'a self, key: &str, out: &mut Vec<&'a FieldNode>) {
        if let Some(node) = self.exact.get(key) {
            out.push(node);
        }
        for (prefix, node) in &self.prefixes {
            if key.starts_with(prefix.as_str()) {
                out.push(node);
            }
        }
    }
}

/// Whether a value the allowlist keeps is written in clear: not when it holds an e-mail address
/// (a malformed time with one, say), which is personal whatever field holds it.
fn kept_in_clear(value: &Json) -> bool {
    !value.as_str().is_some_and(|text| text.contains('@'))
}

/// Masks source records with a salt and the rules' allowlist. Cheap to share across threads.
pub struct Masker {
    id: u64,
    keyed: Hmac<Sha256>,
    fields: FieldNode,
    /// Property names kept, as attribute keys.
    properties: FastMap<String, ()>,
    /// Property name prefixes kept, as attribute keys.
    property_prefixes: Vec<String>,
    latitude: Vec<String>,
    longitude: Vec<String>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The salt is not shown: with it, guesses of a value could be checked against a token.
        f.debug_struct("Masker").finish_non_exhaustive()
    }
}

/// What a value being masked is, from its field's name and its own shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Phone,
    Id,
    Name,
    Token,
    Url,
    Text,
    Latitude,
    Longitude,
}

impl Masker {
    /// A masker keyed with `salt`, keeping what `rules.mask` lists.
    pub fn new(salt: &MaskSalt, rules: &Rules) -> Masker {
        Masker::with_allowlist(salt, &rules.mask, rules)
    }

    fn with_allowlist(salt: &MaskSalt, allow: &MaskRules, rules: &Rules) -> Masker {
        let mut fields = FieldNode::default();
        for pattern in &allow.fields {
            fields.insert(pattern);
        }
        let mut properties = FastMap::default();
        let mut property_prefixes = Vec::new();
        for pattern in &allow.properties {
            match pattern.strip_suffix('*') {
                Some(prefix) => property_prefixes.push(attribute_key(prefix)),
                None => {
                    properties.insert(attribute_key(pattern), ());
                }
            }
        }
        Masker {
            id: cache::next_masker_id(),
            keyed: Hmac::<Sha256>::new_from_slice(salt.bytes())
                .unwrap_or_else(|_| unreachable_hmac()),
            fields,
            properties,
            property_prefixes,
            latitude: rules.location_latitude.clone(),
            longitude: rules.location_longitude.clone(),
        }
    }

    /// Writes a source record masked as compact JSON text: every value not kept by the
    /// allowlist becomes its pseudonym; keys (in their order, repeated ones too), booleans,
    /// nulls and blank strings stay as they are. (The parsed record is not changed in place:
    /// sonic-rs would turn a changed object into a hash map, losing the keys' order and
    /// repeats that the mapping reports.)
    pub fn write_record(&self, record: &Json, out: &mut Vec<u8>) {
        // One borrow of this thread's cache for the whole record.
        TOKENS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut cache) => {
                cache.claim(self.id);
                self.write_record_with(record, &mut cache, out);
            }
            Err(_) => self.write_record_with(record, &mut TokenCache::default(), out),
        });
    }

    fn write_record_with(&self, record: &Json, cache: &mut TokenCache, out: &mut Vec<u8>) {
        let Some(object) = record.as_object() else {
            write_json(out, record);
            return;
        };
        let mut below = Vec::new();
        out.push(b'{');
        for (index, (key, value)) in object.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            write_json(out, &key);
            out.push(b':');
            below.clear();
            self.fields.children(key, &mut below);
            if below.iter().any(|node| node.keep) && kept_in_clear(value) {
                write_json(out, value);
            } else if PROPERTY_CONTAINERS.contains(&key) && value.is_object() {
                self.properties(value, &below, cache, out);
            } else {
                self.value(key, value, &below, cache, out);
            }
        }
        out.push(b'}');
    }

    /// A source record (read at `place`) masked, as its JSON text and parsed again (in the same
    /// order).
    pub fn record(&self, place: &crate::clevertap::Place, record: &Json) -> (Vec<u8>, Json) {
        let mut text = Vec::with_capacity(1024);
        self.write_record(record, &mut text);
        let _ = place;
        parsed(text)
    }

    /// A source record's text (read at `place`) masked, as its JSON text and parsed: what
    /// [`Masker::record`] gives for the parsed record, without parsing the record first when
    /// its text allows (see `stream`). An unreadable record gives the reader's message, as
    /// [`crate::clevertap::parse_text`] words it.
    pub fn record_text(
        &self,
        place: &crate::clevertap::Place,
        text: &[u8],
    ) -> Result<(Vec<u8>, Json), String> {
        let mut masked = Vec::with_capacity(text.len() + text.len() / 4);
        let streamed = TOKENS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut cache) => {
                cache.claim(self.id);
                stream::write(self, text, &mut cache, &mut masked)
            }
            Err(_) => stream::write(self, text, &mut TokenCache::default(), &mut masked),
        });
        match streamed {
            Ok(()) => Ok(parsed(masked)),
            Err(stream::Fallback) => {
                let record = crate::clevertap::parse_text(place, text)?;
                Ok(self.record(place, &record))
            }
        }
    }

    /// The pseudonym of one text value as a field named `field` would show it: for callers that
    /// mask values outside a record (the window's cells).
    pub fn text(&self, field: &str, text: &str) -> String {
        if token::kept_as_is(text) {
            return text.to_string();
        }
        self.mask_text(self.name_class(field).kind(text), text)
    }

    /// A reader's message about an unreadable record with the record's text it quotes
    /// (between backticks) masked: the text of a broken line may hold anything.
    pub fn message(&self, message: &str) -> String {
        let mut out = String::with_capacity(message.len());
        let mut parts = message.split('`');
        out.push_str(parts.next().unwrap_or_default());
        let mut quoted = true;
        for part in parts {
            out.push('`');
            if quoted && !part.is_empty() {
                out.push_str(&self.mask_text(Kind::Text, part));
            } else {
                out.push_str(part);
            }
            quoted = !quoted;
        }
        out
    }

    fn properties(
        &self,
        props: &Json,
        nodes: &[&FieldNode],
        cache: &mut TokenCache,
        out: &mut Vec<u8>,
    ) {
        let Some(props) = props.as_object() else {
            return;
        };
        let mut below = Vec::new();
        out.push(b'{');
        for (index, (name, value)) in props.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            write_json(out, &name);
            out.push(b':');
            below.clear();
            for node in nodes {
                node.children(name, &mut below);
            }
            if (below.iter().any(|node| node.keep) || self.property_kept(name, cache))
                && kept_in_clear(value)
            {
                write_json(out, value);
            } else if value.is_object() {
                // `session_props` inside the event's properties: its members are properties too.
                self.properties(value, &below, cache, out);
            } else {
                self.value(name, value, &below, cache, out);
            }
        }
        out.push(b'}');
    }

    fn property_kept(&self, name: &str, cache: &mut TokenCache) -> bool {
        cache.property_kept(name, |name, key| self.keeps_property(name, key))
    }

    /// Whether the allowlist keeps a property named `name` (`key` is a buffer for its
    /// attribute key).
    fn keeps_property(&self, name: &str, key: &mut Vec<u8>) -> bool {
        crate::mapping::attribute_key_into(name, key);
        let Ok(key) = std::str::from_utf8(key) else {
            return false;
        };
        self.properties.contains_key(key)
            || self
                .property_prefixes
                .iter()
                .any(|prefix| key.starts_with(prefix.as_str()))
    }

    /// Writes one value (and what is under it) of a member named `name` masked; `nodes` are
    /// the allowlist's paths that continue below it.
    fn value(
        &self,
        name: &str,
        value: &Json,
        nodes: &[&FieldNode],
        cache: &mut TokenCache,
        out: &mut Vec<u8>,
    ) {
        if let Some(object) = value.as_object() {
            let mut below = Vec::new();
            out.push(b'{');
            for (index, (key, member)) in object.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_json(out, &key);
                out.push(b':');
                below.clear();
                for node in nodes {
                    node.children(key, &mut below);
                }
                if below.iter().any(|node| node.keep) && kept_in_clear(member) {
                    write_json(out, member);
                } else {
                    self.value(key, member, &below, cache, out);
                }
            }
            out.push(b'}');
        } else if let Some(items) = value.as_array() {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                self.value(name, item, nodes, cache, out);
            }
            out.push(b']');
        } else if let Some(text) = value.as_str() {
            if token::kept_as_is(text) {
                write_json(out, &text);
            } else {
                let class = cache.name_class(name, |name| self.name_class(name));
                cache.write_text(
                    class,
                    text,
                    |text| self.mask_text(class.kind(text), text),
                    |token| write_json(out, token),
                );
            }
        } else if value.is_number() {
            let class = cache.name_class(name, |name| self.name_class(name));
            let raw = value.as_raw_number();
            let text = match &raw {
                Some(raw) => std::borrow::Cow::Borrowed(raw.as_str()),
                None => {
                    std::borrow::Cow::Owned(crate::mapping::number_text(value).unwrap_or_default())
                }
            };
            cache.write_number(
                class,
                &text,
                |text| self.mask_number(class.kind(text), text),
                |token| out.extend_from_slice(token.as_bytes()),
            );
        } else {
            write_json(out, value);
        }
    }

    /// What a field's name says of its values' kind (see [`NameClass::kind`] for the rest).
    fn name_class(&self, name: &str) -> NameClass {
        let key = attribute_key(name);
        if self.latitude.contains(&key) {
            NameClass::Latitude
        } else if self.longitude.contains(&key) {
            NameClass::Longitude
        } else if key.contains("phone") || key.contains("mobile") {
            NameClass::Phone
        } else if key.contains("token") {
            NameClass::Token
        } else if ["photo", "url", "avatar", "image"]
            .iter()
            .any(|part| key.contains(part))
        {
            NameClass::Url
        } else if key.contains("name") {
            NameClass::Name
        } else if key.contains("identit") || key.ends_with("id") || key == "email" {
            NameClass::Id
        } else {
            NameClass::Text
        }
    }

    /// The HMAC of a value, normalised for its kind (emails by case, phones by digits).
    fn digest(&self, kind: Kind, value: &str) -> [u8; 32] {
        let value = value.trim();
        let mut mac = self.keyed.clone();
        match kind {
            Kind::Email => mac.update(value.to_lowercase().as_bytes()),
            Kind::Phone => {
                let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                mac.update(if digits.is_empty() { value } else { &digits }.as_bytes());
            }
            _ => mac.update(value.as_bytes()),
        }
        mac.finalize().into_bytes().into()
    }

    fn mask_text(&self, kind: Kind, text: &str) -> String {
        if let Some(date) = text.strip_prefix("$D_") {
            let digest = self.digest(Kind::Text, text);
            return format!("$D_{}", token::number(date, &digest));
        }
        if matches!(kind, Kind::Latitude | Kind::Longitude) {
            return self.mask_number(kind, text);
        }
        if kind != Kind::Email && text.contains(',') {
            // A comma-joined or bracketed list (`"7734501122,645676746"`, CSV's
            // `"[a@x.com, 6102608768475532]"`): each entry masks as it would alone, so the
            // first entry (the customer id) and the e-mail among them keep their shape.
            return token::each_entry(text, |entry| {
                let kind = match crate::mapping::looks_like_email(entry) {
                    true => Kind::Email,
                    false if kind == Kind::Email => Kind::Id,
                    false => kind,
                };
                self.mask_text(kind, entry)
            });
        }
        let digest = self.digest(kind, text);
        let masked = match kind {
            Kind::Email => token::email(&digest),
            Kind::Phone => format!("phone:…{}", token::hex(&digest, 4)),
            Kind::Id => format!("id:{}", token::hex(&digest, 6)),
            Kind::Name => format!("name:{}", token::hex(&digest, 4)),
            Kind::Token => format!("token:{}", token::hex(&digest, 6)),
            Kind::Url => format!("https://{EMAIL_DOMAIN}/{}", token::hex(&digest, 6)),
            Kind::Text | Kind::Latitude | Kind::Longitude => {
                format!("text:{}", token::hex(&digest, 4))
            }
        };
        token::padded(masked, text)
    }

    fn mask_number(&self, kind: Kind, text: &str) -> String {
        let digest = self.digest(kind, text);
        let bound = match kind {
            Kind::Latitude => 90.0,
            Kind::Longitude => 180.0,
            _ => return token::number(text, &digest),
        };
        token::position(text, bound, &digest).unwrap_or_else(|| token::number(text, &digest))
    }
}

/// Masked text with its parsed value. The text was written from a record that passed the
/// reader's checks (valid UTF-8, not too deep; masking keeps the depth), so only the parse itself
/// is left to do, with the reader's options. Text written from a parsed record parses; should it
/// not, an empty object is mapped (and held) rather than the record in clear.
fn parsed(text: Vec<u8>) -> (Vec<u8>, Json) {
    let mut parser = sonic_rs::Deserializer::from_slice(&text).use_rawnumber();
    let value = parser
        .deserialize::<Json>()
        .and_then(|value| parser.end().map(|()| value))
        .unwrap_or_else(|_| Json::new());
    (text, value)
}

/// Writes a value as compact JSON (a kept subtree keeps its order and repeated keys).
fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing into memory cannot fail.
    let _ = sonic_rs::to_writer(&mut *out, value);
}

/// How many outcomes carry masked identities (see [`is_masked_identity`]).
pub fn masked_records(outcomes: &[crate::mapping::Outcome]) -> usize {
    outcomes
        .iter()
        .filter_map(|outcome| outcome.mapped.as_ref())
        .filter(|mapped| is_masked_identity(&mapped.identities))
        .count()
}

#[cold]
fn unreachable_hmac() -> Hmac<Sha256> {
    // HMAC takes keys of any length; this is never reached.
    <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default())
}

#[cfg(test)]
mod tests;
