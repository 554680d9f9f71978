//! Document mode: a streaming structural scanner over JSON text.
//!
//! It is fed chunks of bytes and tracks only what it needs to find record boundaries: strings
//! and escapes, a byte stack of open brackets (no recursion, so any nesting depth is safe), the
//! line and column, `//` comments (stripped from record text) and the top-level keys that tell a
//! Get Events page (`records`), an upload payload (`d`) or a Get Profile response (`record`) from
//! a plain record. Only the record being read is held in memory. Full JSON validation is left to
//! [`RawRecord::parse`](super::RawRecord::parse).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use memchr::{memchr, memchr3};

use super::limit::MAX_RECORD_BYTES;
use super::{Place, RawPayload, RawRecord, ReadItem};

mod resync;
mod values;

/// What the scanned text is, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// A whole file (document mode).
    File,
    /// One line of a line-mode file (a page or an array on one line).
    Line,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Normal,
    Str { key: bool },
    Escape { key: bool },
    Slash,
    Comment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Value,
    Key,
    Colon,
    After,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CaptureKind {
    /// A container element (object or array).
    Element,
    /// A container element that is not an object or array (ends at `,` or the closer).
    Scalar,
    /// A whole top-level object.
    Whole,
}

struct Capture {
    /// The value's text; empty once it grew over [`MAX_RECORD_BYTES`].
    buf: Vec<u8>,
    /// The value's length once it grew over [`MAX_RECORD_BYTES`]: it is counted, not kept.
    over: Option<u64>,
    /// Stack depth outside the value: the value ends when the stack is back to this depth.
    depth: usize,
    place: Place,
    kind: CaptureKind,
}

impl Capture {
    /// Appends the value's next bytes, or counts them once the value is too long to keep.
    fn keep(&mut self, bytes: &[u8]) {
        let len = bytes.len() as u64;
        match self.over.as_mut() {
            Some(seen) => *seen += len,
            None if self.buf.len() + bytes.len() > MAX_RECORD_BYTES => {
                self.over = Some(self.buf.len() as u64 + len);
                self.buf = Vec::new();
            }
            None => self.buf.extend_from_slice(bytes),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Records,
    D,
    Record,
    Other,
}

/// What is known about the top-level object being read.
struct TopObject {
    only_response_keys: bool,
    has_status: bool,
    has_error: bool,
    pending: KeyKind,
    /// The `record` value of a Get Profile response: byte range in the capture and place.
    record: Option<(usize, Option<usize>, Place)>,
    record_open: bool,
}

/// Skipping broken input until a line that can start a value again.
struct Resync {
    place: Place,
    detail: String,
    depth: usize,
    column: u64,
    at_line_start: bool,
}

/// The scanner state. Feed it with [`Scanner::feed`], then call [`Scanner::finish`].
pub(crate) struct Scanner {
    file: Arc<Path>,
    scope: Scope,
    line: u64,
    line_start: u64,
    base: u64,
    stack: Vec<u8>,
    expect: Expect,
    lex: Lex,
    slash: (u64, u64),
    capture: Option<Capture>,
    segment: Option<usize>,
    element_depth: Option<usize>,
    top: Option<TopObject>,
    key: Vec<u8>,
    resync: Option<Resync>,
    size_hint: usize,
}

impl Scanner {
    /// A scanner whose first byte is at `line` and `column` of the file.
    pub(crate) fn new(file: Arc<Path>, scope: Scope, line: u64, column: u64) -> Self {
        Self {
            file,
            scope,
            line,
            line_start: 0,
            base: column.saturating_sub(1),
            stack: Vec::new(),
            expect: Expect::Value,
            lex: Lex::Normal,
            slash: (line, column),
            capture: None,
            segment: None,
            element_depth: None,
            top: None,
            key: Vec::new(),
            resync: None,
            size_hint: 256,
        }
    }

    /// Scans the next chunk of the input; found records and problems go to `out`.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut VecDeque<ReadItem>) {
        self.segment = (self.capture.is_some() && self.lex != Lex::Comment).then_some(0);
        let mut at = 0;
        while let Some(&byte) = chunk.get(at) {
            if self.resync.is_some() {
                at = self.resync_step(chunk, at, out);
                continue;
            }
            at = match self.lex {
                Lex::Normal => self.normal(chunk, at, byte, out),
                Lex::Str { key } => self.string(chunk, at, key),
                Lex::Escape { key } => {
                    if byte == b'\n' {
                        self.error(at, "a string is not closed before the end of the line");
                        at
                    } else {
                        if key {
                            self.push_key(&[b'\\', byte]);
                        }
                        self.lex = Lex::Str { key };
                        at + 1
                    }
                }
                Lex::Slash => self.after_slash(chunk, at, byte),
                Lex::Comment => match memchr(b'\n', chunk.get(at..).unwrap_or_default()) {
                    Some(off) => {
                        self.lex = Lex::Normal;
                        if self.capture.is_some() {
                            self.segment = Some(at + off);
                        }
                        at + off
                    }
                    None => chunk.len(),
                },
            };
        }
        if let (Some(from), Some(capture)) = (self.segment.take(), self.capture.as_mut()) {
            capture.keep(chunk.get(from..).unwrap_or_default());
        }
        self.base += chunk.len() as u64;
    }

    /// The input ended: reports a record or document that is not closed.
    pub(crate) fn finish(&mut self, out: &mut VecDeque<ReadItem>) {
        if let Some(resync) = self.resync.take() {
            self.emit_skipped(resync, None, out);
            return;
        }
        let what = match self.scope {
            Scope::File => "file",
            Scope::Line => "line",
        };
        let end = Place::at(
            Arc::clone(&self.file),
            self.line,
            self.base - self.line_start + 1,
        );
        if let Some(capture) = self.capture.take() {
            let message = match self.scope {
                Scope::File => format!(
                    "the file ends inside this record (from line {}, column {}): the file is truncated or the record is not closed",
                    capture.place.line, capture.place.column
                ),
                Scope::Line => {
                    "the line ends inside this record: the line is cut off (fix or remove it)"
                        .to_string()
                }
            };
            out.push_back(ReadItem::Unreadable {
                place: capture.place,
                message,
            });
        } else if !self.stack.is_empty() {
            let closers: String = self
                .stack
                .iter()
                .rev()
                .take(8)
                .map(|&open| if open == b'{' { '}' } else { ']' })
                .collect();
            let message = format!(
                "the {what} ends before the JSON is closed (`{closers}` missing): it may be truncated; the records before this point were read"
            );
            out.push_back(ReadItem::Unreadable {
                place: end,
                message,
            });
        } else if self.lex == Lex::Slash {
            let message = format!("unexpected `/` at the end of the {what}");
            out.push_back(ReadItem::Unreadable {
                place: end,
                message,
            });
        }
        self.stack.clear();
        self.top = None;
    }

    /// Reading broke off (I/O error, truncated gzip): reports where, and stops.
    pub(crate) fn fail(&mut self, reason: &str, out: &mut VecDeque<ReadItem>) {
        if let Some(resync) = self.resync.take() {
            self.emit_skipped(resync, None, out);
        }
        let here = Place::at(
            Arc::clone(&self.file),
            self.line,
            self.base - self.line_start + 1,
        );
        let (place, message) = match self.capture.take() {
            Some(capture) => (
                capture.place,
                format!("{reason}; this record and the rest of the file could not be read"),
            ),
            None => (
                here,
                format!("{reason}; the rest of the file could not be read"),
            ),
        };
        out.push_back(ReadItem::Unreadable { place, message });
        self.stack.clear();
        self.top = None;
    }

    fn column(&self, at: usize) -> u64 {
        self.base + at as u64 - self.line_start + 1
    }

    fn place(&self, at: usize) -> Place {
        Place::at(Arc::clone(&self.file), self.line, self.column(at))
    }

    fn newline(&mut self, at: usize) {
        self.line += 1;
        self.line_start = self.base + at as u64 + 1;
    }

    fn normal(&mut self, chunk: &[u8], at: usize, byte: u8, out: &mut VecDeque<ReadItem>) -> usize {
        match byte {
            b' ' | b'\t' | b'\r' => {}
            b'\n' => self.newline(at),
            b'"' if self.expect == Expect::Key && self.stack.last() == Some(&b'{') => {
                let key = self.stack.len() == 1 && self.top.is_some();
                self.lex = Lex::Str { key };
            }
            b'"' => {
                if !self.value_start(at, byte) {
                    return at;
                }
                self.lex = Lex::Str { key: false };
                self.expect = Expect::After;
            }
            b'{' | b'[' => {
                if self.stack.len() >= MAX_RECORD_BYTES {
                    // One byte of stack per level: bounded like a record's text.
                    let detail = format!(
                        "the JSON is nested more than {MAX_RECORD_BYTES} levels deep, deeper than any CleverTap record"
                    );
                    self.error(at, &detail);
                    return at;
                }
                if !self.value_start(at, byte) {
                    return at;
                }
                self.stack.push(byte);
                self.expect = if byte == b'{' {
                    Expect::Key
                } else {
                    Expect::Value
                };
            }
            b'}' | b']' => {
                if !self.close(chunk, at, byte, out) {
                    return at;
                }
            }
            b',' => {
                if self.stack.is_empty() {
                    self.error(at, "unexpected `,` between top-level values");
                    return at;
                }
                self.end_scalar(chunk, at, out);
                self.expect = if self.stack.last() == Some(&b'{') {
                    Expect::Key
                } else {
                    Expect::Value
                };
            }
            b':' => self.expect = Expect::Value,
            b'/' => {
                self.lex = Lex::Slash;
                self.slash = (self.line, self.column(at));
            }
            _ if self.stack.is_empty() => {
                let shown = shown_byte(byte);
                let detail = format!(
                    "unexpected {shown} outside any JSON value (a record starts with `{{`)"
                );
                self.error(at, &detail);
                return at;
            }
            _ => {
                if self.expect == Expect::Value {
                    if !self.value_start(at, byte) {
                        return at;
                    }
                    self.expect = Expect::After;
                }
            }
        }
        at + 1
    }

    fn string(&mut self, chunk: &[u8], at: usize, key: bool) -> usize {
        let rest = chunk.get(at..).unwrap_or_default();
        let Some(off) = memchr3(b'"', b'\\', b'\n', rest) else {
            if key {
                self.push_key(rest);
            }
            return chunk.len();
        };
        if key {
            self.push_key(rest.get(..off).unwrap_or_default());
        }
        let end = at + off;
        match rest.get(off) {
            Some(b'"') => {
                self.lex = Lex::Normal;
                if key {
                    self.key_done();
                }
                end + 1
            }
            Some(b'\\') => {
                self.lex = Lex::Escape { key };
                end + 1
            }
            _ => {
                self.error(end, "a string is not closed before the end of the line");
                end
            }
        }
    }

    fn after_slash(&mut self, chunk: &[u8], at: usize, byte: u8) -> usize {
        if byte != b'/' {
            let (line, column) = self.slash;
            let detail = format!(
                "unexpected `/` at line {line}, column {column} (only `//` comments are accepted)"
            );
            self.error(at, &detail);
            return at;
        }
        if let Some(capture) = self.capture.as_mut() {
            if let Some(from) = self.segment.take() {
                capture.keep(chunk.get(from..=at).unwrap_or_default());
            }
            // Both slashes are in the buffer now (the first may have come with the last chunk).
            let keep = capture.buf.len().saturating_sub(2);
            capture.buf.truncate(keep);
        }
        self.lex = Lex::Comment;
        at + 1
    }
}

fn record(place: Place, text: Vec<u8>) -> ReadItem {
    ReadItem::Record(RawRecord {
        place,
        payload: RawPayload::Json(text),
    })
}

/// A byte for a message: the character in backticks, or its hex value.
fn shown_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("`{}`", byte as char)
    } else {
        format!("byte 0x{byte:02x}")
    }
}
