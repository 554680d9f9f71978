//! Masking a record's text in one pass: the text is read once, left to right, and written
//! masked exactly as [`Masker::write_record`] writes the parsed record, without building the
//! parsed record first. The pass follows the same rules (the allowlist's paths, the property
//! containers, kept values with an e-mail masked all the same) and writes through the same
//! thread cache.
//!
//! What `write_record` writes is the record's text made compact with its masked values
//! replaced, so the pass copies the text in runs and writes only what differs: a masked value,
//! a string with escapes (written again as the parsed path writes it), white space left out.
//!
//! It takes only text it writes byte for byte as the parsed path would: valid UTF-8, strict
//! JSON, an object at the top, not deeper than [`MAX_DEPTH`], no surrogate escapes, at most
//! [`Nodes::MAX`] allowlist paths at once. Anything else (broken records among them) gives
//! [`Fallback`], and the caller takes the parsed path, which says what is wrong in the reader's
//! own words.

use std::borrow::Cow;

use super::cache::{NameClass, TokenCache};
use super::{FieldNode, Masker, PROPERTY_CONTAINERS, token, write_json};
use text::put_text;

/// The deepest nesting the pass follows (a CleverTap record is a few levels deep); deeper text
/// takes the parsed path, which has the reader's limit.
const MAX_DEPTH: usize = 64;

/// The pass met text it does not write as the parsed path would: take that path.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Fallback;

type Pass<T> = Result<T, Fallback>;

/// Writes the record `text` masked into `out` (compact JSON, as [`Masker::write_record`]
/// writes it), or gives [`Fallback`] (with `out` holding part of a record).
pub(super) fn write(
    masker: &Masker,
    text: &[u8],
    cache: &mut TokenCache,
    out: &mut Vec<u8>,
) -> Pass<()> {
    let text = simdutf8::basic::from_utf8(text).map_err(|_| Fallback)?;
    let mut pass = Stream {
        masker,
        text,
        bytes: text.as_bytes(),
        at: 0,
        written: 0,
        depth: 0,
        cache,
        out,
    };
    pass.space();
    pass.record()?;
    pass.flush(pass.at);
    pass.space();
    match pass.at == pass.bytes.len() {
        true => Ok(()),
        false => Err(Fallback),
    }
}

/// The allowlist's paths that continue at one place of the record (a few at most, in the
/// first slots).
#[derive(Clone, Copy)]
struct Nodes<'a> {
    nodes: [Option<&'a FieldNode>; Nodes::MAX],
}

impl<'a> Nodes<'a> {
    /// More paths at once than this (overlapping prefixes) take the parsed path.
    const MAX: usize = 3;

    const NONE: Nodes<'static> = Nodes {
        nodes: [None; Nodes::MAX],
    };

    /// The paths below these for a member named `key`, as `FieldNode::children` finds them;
    /// `None` when there are more than [`Nodes::MAX`].
    #[inline]
    fn below(&self, key: &str) -> Option<Nodes<'a>> {
        match self.nodes[0] {
            None => Some(Nodes::NONE),
            Some(_) => self.below_some(key),
        }
    }

    fn below_some(&self, key: &str) -> Option<Nodes<'a>> {
        let mut below = Nodes::NONE;
        let mut len = 0;
        let mut push = |node| {
            *below.nodes.get_mut(len)? = Some(node);
            len += 1;
            Some(())
        };
        for node in self.nodes.iter().flatten() {
            if let Some(child) = node.exact.get(key) {
                push(child)?;
            }
            for (prefix, child) in &node.prefixes {
                if key.starts_with(prefix.as_str()) {
                    push(child)?;
                }
            }
        }
        Some(below)
    }

    /// Whether one of the paths ends here: what is under it is kept.
    #[inline]
    fn keep(&self) -> bool {
        self.nodes.iter().flatten().any(|node| node.keep)
    }
}

struct Stream<'a, 'c> {
    masker: &'a Masker,
    text: &'a str,
    bytes: &'a [u8],
    /// The next byte to read.
    at: usize,
    /// The text before this byte has been written (as it is, or replaced).
    written: usize,
    /// Objects and arrays open.
    depth: usize,
    cache: &'c mut TokenCache,
    out: &'c mut Vec<u8>,
}

impl<'a> Stream<'a, '_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Writes the text not yet written up to `end`, as it is.
    fn flush(&mut self, end: usize) {
        if let Some(run) = self.bytes.get(self.written..end) {
            self.out.extend_from_slice(run);
        }
        self.written = end;
    }

    /// Writes the text up to `start`, then what `write` writes (with the token cache at hand)
    /// for the text from `start` to the reading place.
    fn replace(&mut self, start: usize, write: impl FnOnce(&mut TokenCache, &mut Vec<u8>)) {
        self.flush(start);
        write(self.cache, self.out);
        self.written = self.at;
    }

    /// Skips JSON's white space (which is left out of what is written).
    #[inline]
    fn space(&mut self) {
        if let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.flush(self.at);
            while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
                self.at += 1;
            }
            self.written = self.at;
        }
    }

    /// Reads `byte`, which must come next (else the record takes the parsed path).
    #[inline]
    fn take(&mut self, byte: u8) -> Pass<()> {
        match self.peek() == Some(byte) {
            true => {
                self.at += 1;
                Ok(())
            }
            false => Err(Fallback),
        }
    }

    /// Reads the members of an object (its `{` next), calling `member` with each key.
    fn members(&mut self, mut member: impl FnMut(&mut Self, &str) -> Pass<()>) -> Pass<()> {
        self.sequence(b'{', b'}', |pass| {
            let start = pass.at;
            let key = pass.string()?;
            if let Cow::Owned(key) = &key {
                pass.replace(start, |_, out| write_json(out, key.as_str()));
            }
            pass.space();
            pass.take(b':')?;
            pass.space();
            member(pass, &key)
        })
    }

    /// Reads the items of an array (its `[` next), calling `item` at each.
    fn items(&mut self, item: impl FnMut(&mut Self) -> Pass<()>) -> Pass<()> {
        self.sequence(b'[', b']', item)
    }

    /// Reads an object's members or an array's items (`open` next, up to its `close`), each
    /// by `each`, white space around them and the commas between.
    fn sequence(
        &mut self,
        open: u8,
        close: u8,
        mut each: impl FnMut(&mut Self) -> Pass<()>,
    ) -> Pass<()> {
        self.take(open)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Fallback);
        }
        self.space();
        if self.peek() == Some(close) {
            self.at += 1;
        } else {
            loop {
                self.space();
                each(self)?;
                self.space();
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(byte) if byte == close => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(Fallback),
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// The record's members: as [`Masker::write_record`].
    fn record(&mut self) -> Pass<()> {
        let masker = self.masker;
        let mut root = Nodes::NONE;
        root.nodes[0] = Some(&masker.fields);
        self.members(|pass, key| {
            let below = root.below(key).ok_or(Fallback)?;
            if below.keep() {
                pass.kept(key)
            } else if pass.peek() == Some(b'{') && PROPERTY_CONTAINERS.contains(&key) {
                pass.properties(below)
            } else {
                pass.masked(key, None, below)
            }
        })
    }

    /// A property container's members (its `{` next): as `Masker::properties`.
    fn properties(&mut self, nodes: Nodes<'a>) -> Pass<()> {
        let masker = self.masker;
        self.members(|pass, name| {
            let below = nodes.below(name).ok_or(Fallback)?;
            let (kept, class) = pass.cache.property(name, |name, key| {
                (masker.keeps_property(name, key), masker.name_class(name))
            });
            if below.keep() || kept {
                pass.kept(name)
            } else if pass.peek() == Some(b'{') {
                pass.properties(below)
            } else {
                pass.masked(name, Some(class), below)
            }
        })
    }

    /// A value the allowlist keeps: written as it is, unless it is text holding an e-mail
    /// address, which is masked like any value of the member `name`.
    fn kept(&mut self, name: &str) -> Pass<()> {
        if self.peek() != Some(b'"') {
            return self.copy();
        }
        let start = self.at;
        let text = self.string()?;
        match text.contains('@') {
            true => self.masked_text(name, None, start, text),
            false => self.keep_string(start, text),
        }
        Ok(())
    }

    /// A value (and what is under it) of a member named `name`, masked: as `Masker::value`.
    /// `class` is the name's, when known.
    fn masked(&mut self, name: &str, class: Option<NameClass>, nodes: Nodes<'a>) -> Pass<()> {
        let start = self.at;
        match self.peek() {
            Some(b'{') => self.members(|pass, key| {
                let below = nodes.below(key).ok_or(Fallback)?;
                match below.keep() {
                    true => pass.kept(key),
                    false => pass.masked(key, None, below),
                }
            }),
            Some(b'[') => self.items(|pass| pass.masked(name, class, nodes)),
            Some(b'"') => {
                let text = self.string()?;
                self.masked_text(name, class, start, text);
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => {
                let number = self.number()?;
                let masker = self.masker;
                let class = self.class(name, class);
                self.replace(start, |cache, out| {
                    cache.write_number(
                        class,
                        number,
                        |text| masker.mask_number(class.kind(text), text),
                        |token| out.extend_from_slice(token.as_bytes()),
                    );
                });
                Ok(())
            }
            _ => self.literal(),
        }
    }

    /// The class of the member `name`'s values.
    fn class(&mut self, name: &str, class: Option<NameClass>) -> NameClass {
        let masker = self.masker;
        class.unwrap_or_else(|| self.cache.name_class(name, |name| masker.name_class(name)))
    }

    /// A text value (read from `start`) of a member named `name`, masked (blanks and flags as
    /// they are).
    fn masked_text(
        &mut self,
        name: &str,
        class: Option<NameClass>,
        start: usize,
        text: Cow<'_, str>,
    ) {
        if token::kept_as_is(&text) {
            self.keep_string(start, text);
            return;
        }
        let masker = self.masker;
        let class = self.class(name, class);
        self.replace(start, |cache, out| {
            cache.write_text(
                class,
                &text,
                |text| masker.mask_text(class.kind(text), text),
                |token| put_text(out, token),
            );
        });
    }

    /// A string (read from `start`) kept: as it is, unless written with escapes.
    fn keep_string(&mut self, start: usize, text: Cow<'_, str>) {
        if let Cow::Owned(text) = text {
            self.replace(start, |_, out| write_json(out, text.as_str()));
        }
    }

    /// Copies a value as it is, compact (as the parsed value is written).
    fn copy(&mut self) -> Pass<()> {
        match self.peek() {
            Some(b'{') => self.members(|pass, _| pass.copy()),
            Some(b'[') => self.items(Self::copy),
            Some(b'"') => {
                let start = self.at;
                let text = self.string()?;
                self.keep_string(start, text);
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(|_| ()),
            _ => self.literal(),
        }
    }
}

mod text;

#[cfg(test)]
mod tests;
