//! Broken input: report it once, then skip to where a record can start again.

use std::collections::VecDeque;

use memchr::memchr;

use super::{Expect, Lex, Resync, Scanner, Scope};
use crate::clevertap::ReadItem;

impl Scanner {
    /// Broken input at `at`: drops the record being read and skips to a line where a value can
    /// start again (see [`Scanner::resync_step`]).
    pub(super) fn error(&mut self, at: usize, detail: &str) {
        let here = self.place(at);
        let detail = format!("line {}, column {}: {detail}", here.line, here.column);
        let depth = self.stack.len();
        let (place, depth, column) = match self.capture.take() {
            Some(capture) => {
                let column = capture.place.column;
                (capture.place, capture.depth, column)
            }
            None if depth > 0 && self.element_depth == Some(depth) => {
                let column = here.column;
                (here, depth, column)
            }
            None => (here, 0, 1),
        };
        self.segment = None;
        self.stack.truncate(depth);
        if depth == 0 {
            self.top = None;
        }
        if self.element_depth.is_some_and(|d| d > depth) {
            self.element_depth = None;
        }
        self.lex = Lex::Normal;
        self.key.clear();
        self.resync = Some(Resync {
            place,
            detail,
            depth,
            column,
            at_line_start: false,
        });
    }

    /// Skips lines until one whose first non-blank byte opens a value at or left of the broken
    /// value's column (the next element or document), or closes its container further left.
    pub(super) fn resync_step(
        &mut self,
        chunk: &[u8],
        at: usize,
        out: &mut VecDeque<ReadItem>,
    ) -> usize {
        let Some(resync) = self.resync.as_ref() else {
            return at;
        };
        if !resync.at_line_start {
            return match memchr(b'\n', chunk.get(at..).unwrap_or_default()) {
                Some(off) => {
                    self.newline(at + off);
                    if let Some(resync) = self.resync.as_mut() {
                        resync.at_line_start = true;
                    }
                    at + off + 1
                }
                None => chunk.len(),
            };
        }
        let (limit, depth) = (resync.column, resync.depth);
        let byte = chunk.get(at).copied().unwrap_or(b'\n');
        match byte {
            b' ' | b'\t' | b'\r' => at + 1,
            b'\n' => {
                self.newline(at);
                at + 1
            }
            _ => {
                let column = self.column(at);
                let opens = matches!(byte, b'{' | b'[') && column <= limit;
                let closes = matches!(byte, b'}' | b']') && column < limit && depth > 0;
                if !(opens || closes) {
                    if let Some(resync) = self.resync.as_mut() {
                        resync.at_line_start = false;
                    }
                    return at + 1;
                }
                if let Some(resync) = self.resync.take() {
                    self.emit_skipped(resync, Some(self.line - 1), out);
                }
                self.expect = if opens { Expect::Value } else { Expect::After };
                at
            }
        }
    }

    pub(super) fn emit_skipped(
        &self,
        resync: Resync,
        last_line: Option<u64>,
        out: &mut VecDeque<ReadItem>,
    ) {
        let first = resync.place.line;
        let message = match (last_line, self.scope) {
            (Some(last), _) if last <= first => {
                format!(
                    "{}; line {first} was skipped: fix the JSON there",
                    resync.detail
                )
            }
            (Some(last), _) => {
                format!(
                    "{}; lines {first}–{last} were skipped: fix the JSON there",
                    resync.detail
                )
            }
            (None, Scope::File) => format!(
                "{}; no record could be found after it, so the rest of the file from line {first} was skipped",
                resync.detail
            ),
            (None, Scope::Line) => {
                format!(
                    "{}; the rest of the line could not be read: fix or remove the line",
                    resync.detail
                )
            }
        };
        out.push_back(ReadItem::Unreadable {
            place: resync.place,
            message,
        });
    }
}
