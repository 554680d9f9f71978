//! Reading the record's scalars for the one pass: strings (borrowed when plain, read with
//! their escapes otherwise), numbers in JSON's grammar, `true`, `false` and `null`; and writing
//! text as a JSON string as the parsed path writes it.

use std::borrow::Cow;

use super::super::write_json;
use super::{Fallback, Pass, Stream};

/// Bytes that end a run of a string's plain text: the quote, a backslash, control characters.
const STRING_END: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

impl<'a> Stream<'a, '_> {
    /// `true`, `false` or `null`.
    pub(super) fn literal(&mut self) -> Pass<()> {
        let rest = self.bytes.get(self.at..).unwrap_or_default();
        for word in [&b"true"[..], b"false", b"null"] {
            if rest.starts_with(word) {
                self.at += word.len();
                return Ok(());
            }
        }
        Err(Fallback)
    }

    /// A number's text as written (JSON's grammar, strictly).
    pub(super) fn number(&mut self) -> Pass<&'a str> {
        let bytes = self.bytes;
        let start = self.at;
        let mut at = start;
        let digits = |at: &mut usize| {
            let from = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at > from
        };
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => {
                digits(&mut at);
            }
            _ => return Err(Fallback),
        }
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            if !digits(&mut at) {
                return Err(Fallback);
            }
        }
        if let Some(b'e' | b'E') = bytes.get(at) {
            at += 1;
            if let Some(b'+' | b'-') = bytes.get(at) {
                at += 1;
            }
            if !digits(&mut at) {
                return Err(Fallback);
            }
        }
        self.at = at;
        self.text.get(start..at).ok_or(Fallback)
    }

    /// The end of a run of a string's plain text from `start`.
    #[inline]
    fn plain(&self, start: usize) -> usize {
        start + plain_len(self.bytes.get(start..).unwrap_or_default())
    }

    /// A string's text (its opening quote next): borrowed from the record when it has no
    /// escapes. Inlined: a result handed back through memory costs a stall on every string.
    #[inline(always)]
    pub(super) fn string(&mut self) -> Pass<Cow<'a, str>> {
        self.take(b'"')?;
        let start = self.at;
        let end = self.plain(start);
        match self.bytes.get(end) {
            Some(b'"') => {
                self.at = end + 1;
                self.text.get(start..end).map(Cow::Borrowed).ok_or(Fallback)
            }
            Some(b'\\') => self.escaped(start, end),
            _ => Err(Fallback),
        }
    }

    /// A string with escapes, its text from `start` and its first backslash at `end`.
    #[inline(never)]
    fn escaped(&mut self, start: usize, end: usize) -> Pass<Cow<'a, str>> {
        self.at = end;
        let mut text = String::from(self.text.get(start..end).ok_or(Fallback)?);
        self.unescape(&mut text)?;
        Ok(Cow::Owned(text))
    }

    /// The rest of a string with escapes (the first backslash next), read into `text`.
    fn unescape(&mut self, text: &mut String) -> Pass<()> {
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let escaped = self.bytes.get(self.at + 1).copied().ok_or(Fallback)?;
                    self.at += 2;
                    text.push(match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hex = self.text.get(self.at..self.at + 4).ok_or(Fallback)?;
                            if !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                                return Err(Fallback);
                            }
                            self.at += 4;
                            let code = u32::from_str_radix(hex, 16).map_err(|_| Fallback)?;
                            // Surrogates (pairs or lone ones) are left to the parser.
                            char::from_u32(code).ok_or(Fallback)?
                        }
                        _ => return Err(Fallback),
                    });
                }
                Some(byte) if !STRING_END[usize::from(byte)] => {
                    let end = self.plain(self.at);
                    text.push_str(self.text.get(self.at..end).ok_or(Fallback)?);
                    self.at = end;
                }
                _ => return Err(Fallback),
            }
        }
    }
}

/// How many bytes from the start of `bytes` need no escape in a JSON string: eight bytes at
/// a time, then byte by byte.
#[inline]
fn plain_len(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    // The lowest byte flagged is exactly the first byte equal to `byte` (or below 0x20).
    let equal = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & HIGH
    };
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let flags = equal(word, b'"')
            | equal(word, b'\\')
            | (word.wrapping_sub(ONES * 0x20) & !word & HIGH);
        if flags != 0 {
            return at + (flags.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let rest = bytes.get(at..).unwrap_or_default();
    at + rest
        .iter()
        .position(|&byte| STRING_END[usize::from(byte)])
        .unwrap_or(rest.len())
}

/// Writes text as a JSON string, escaped as the parsed path writes it.
pub(super) fn put_text(out: &mut Vec<u8>, text: &str) {
    match plain_len(text.as_bytes()) < text.len() {
        true => write_json(out, text),
        false => {
            out.push(b'"');
            out.extend_from_slice(text.as_bytes());
            out.push(b'"');
        }
    }
}
