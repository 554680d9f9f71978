//! Values: where records start and end, and what the top-level object turns out to be.

use std::collections::VecDeque;

use super::{Capture, CaptureKind, Expect, KeyKind, Scanner, TopObject, record, shown_byte};
use crate::clevertap::ReadItem;
use crate::clevertap::limit::too_long;

/// Keys of CleverTap API responses (pages, profile lookups, errors), as opposed to record keys.
const RESPONSE_KEYS: [&[u8]; 11] = [
    b"status",
    b"records",
    b"record",
    b"cursor",
    b"next_cursor",
    b"previous_cursor",
    b"error",
    b"code",
    b"d",
    b"processed",
    b"unprocessed",
];

impl Scanner {
    /// Collects a top-level key (only its first 64 bytes matter).
    pub(super) fn push_key(&mut self, bytes: &[u8]) {
        let room = 64usize.saturating_sub(self.key.len());
        self.key
            .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
    }

    /// A top-level key is complete: notes what it says about the object.
    pub(super) fn key_done(&mut self) {
        if let Some(top) = self.top.as_mut() {
            let key = self.key.as_slice();
            top.pending = match key {
                b"records" => KeyKind::Records,
                b"d" => KeyKind::D,
                b"record" => KeyKind::Record,
                _ => KeyKind::Other,
            };
            top.only_response_keys &= RESPONSE_KEYS.contains(&key);
            top.has_status |= key == b"status";
            top.has_error |= key == b"error";
        }
        self.key.clear();
        self.expect = Expect::Colon;
    }

    /// A value starts at `at`. Returns false when it cannot start here (an error was raised).
    pub(super) fn value_start(&mut self, at: usize, byte: u8) -> bool {
        let depth = self.stack.len();
        if depth == 0 {
            match byte {
                b'{' => {
                    self.top = Some(TopObject {
                        only_response_keys: true,
                        has_status: false,
                        has_error: false,
                        pending: KeyKind::Other,
                        record: None,
                        record_open: false,
                    });
                    self.begin_capture(at, CaptureKind::Whole, 0);
                }
                b'[' => self.element_depth = Some(1),
                _ => {
                    let detail = format!("unexpected {} outside any JSON value", shown_byte(byte));
                    self.error(at, &detail);
                    return false;
                }
            }
            return true;
        }
        if self.element_depth == Some(depth) && self.capture.is_none() {
            let kind = if matches!(byte, b'{' | b'[') {
                CaptureKind::Element
            } else {
                CaptureKind::Scalar
            };
            self.begin_capture(at, kind, depth);
            return true;
        }
        if depth == 1 {
            let pending = match self.top.as_mut() {
                Some(top) => std::mem::replace(&mut top.pending, KeyKind::Other),
                None => return true,
            };
            match (pending, byte) {
                (KeyKind::Records | KeyKind::D, b'[')
                    if self.top.as_ref().is_some_and(|t| t.only_response_keys) =>
                {
                    // A page or upload payload: its records stream; the rest is not a record.
                    self.capture = None;
                    self.segment = None;
                    self.element_depth = Some(2);
                }
                (KeyKind::Record, b'{') => {
                    let from = self.capture_offset(at);
                    let place = self.place(at);
                    if let Some(top) = self.top.as_mut() {
                        top.record = Some((from, None, place));
                        top.record_open = true;
                    }
                }
                _ => {}
            }
        }
        true
    }

    pub(super) fn begin_capture(&mut self, at: usize, kind: CaptureKind, depth: usize) {
        let place = self.place(at);
        let buf = Vec::with_capacity(self.size_hint);
        self.capture = Some(Capture {
            buf,
            over: None,
            depth,
            place,
            kind,
        });
        self.segment = Some(at);
    }

    /// Offset in the captured text of the byte at `at` in the current chunk.
    pub(super) fn capture_offset(&self, at: usize) -> usize {
        let flushed = self.capture.as_ref().map_or(0, |c| c.buf.len());
        flushed + self.segment.map_or(0, |from| at.saturating_sub(from))
    }

    pub(super) fn close(
        &mut self,
        chunk: &[u8],
        at: usize,
        byte: u8,
        out: &mut VecDeque<ReadItem>,
    ) -> bool {
        let Some(&open) = self.stack.last() else {
            let detail = format!("unexpected {} outside any JSON value", shown_byte(byte));
            self.error(at, &detail);
            return false;
        };
        let (expected, what) = if open == b'{' {
            (b'}', "an object")
        } else {
            (b']', "an array")
        };
        if byte != expected {
            let detail = format!(
                "{} where {} closes {what} (a bracket is missing or extra)",
                shown_byte(byte),
                shown_byte(expected)
            );
            self.error(at, &detail);
            return false;
        }
        self.end_scalar(chunk, at, out);
        self.stack.pop();
        let depth = self.stack.len();
        self.expect = Expect::After;
        if depth == 1 {
            let to = self.capture_offset(at) + 1;
            if let Some(top) = self.top.as_mut().filter(|t| t.record_open) {
                top.record_open = false;
                if let Some(record) = top.record.as_mut() {
                    record.1 = Some(to);
                }
            }
        }
        if self
            .capture
            .as_ref()
            .is_some_and(|c| c.kind != CaptureKind::Scalar && c.depth == depth)
        {
            self.end_capture(chunk, at + 1, out);
        }
        if self.element_depth == Some(depth + 1) {
            self.element_depth = None;
        }
        if depth == 0 {
            self.top = None;
        }
        true
    }

    /// A scalar element ends before the `,` or closer at `at`.
    pub(super) fn end_scalar(&mut self, chunk: &[u8], at: usize, out: &mut VecDeque<ReadItem>) {
        let depth = self.stack.len();
        if self
            .capture
            .as_ref()
            .is_some_and(|c| c.kind == CaptureKind::Scalar && c.depth == depth)
        {
            self.end_capture(chunk, at, out);
        }
    }

    /// The captured value ends before `end` in the current chunk: hands it out.
    pub(super) fn end_capture(&mut self, chunk: &[u8], end: usize, out: &mut VecDeque<ReadItem>) {
        let Some(mut capture) = self.capture.take() else {
            return;
        };
        if let Some(from) = self.segment.take() {
            capture.keep(chunk.get(from..end).unwrap_or_default());
        }
        self.size_hint = capture.buf.len().clamp(256, 1024 * 1024);
        if let Some(bytes) = capture.over {
            // Too long to be a record: reported with its size, never kept whole.
            let place = capture.place;
            let message = format!(
                "line {}, column {}: {}",
                place.line,
                place.column,
                too_long("record", bytes)
            );
            out.push_back(ReadItem::Unreadable { place, message });
            if capture.kind == CaptureKind::Whole {
                self.top = None;
            }
            return;
        }
        match capture.kind {
            CaptureKind::Element | CaptureKind::Scalar => {
                out.push_back(record(capture.place, capture.buf))
            }
            CaptureKind::Whole => {
                let top = self.top.take();
                finish_top(capture, top, out);
            }
        }
    }
}

/// A top-level object ends: a plain record, the `record` of a Get Profile response, an error
/// response, or a page that carries only a cursor.
fn finish_top(capture: Capture, top: Option<TopObject>, out: &mut VecDeque<ReadItem>) {
    let Some(top) = top.filter(|t| t.only_response_keys && t.has_status) else {
        out.push_back(record(capture.place, capture.buf));
        return;
    };
    if let Some((from, Some(to), place)) = top.record {
        let text = capture.buf.get(from..to).unwrap_or_default().to_vec();
        out.push_back(record(place, text));
    } else if top.has_error {
        let message = response_error(&capture.buf);
        out.push_back(ReadItem::Unreadable {
            place: capture.place,
            message,
        });
    }
}

/// The message for a CleverTap error response (`{"status":"fail","error":"…"}`).
fn response_error(text: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(text).unwrap_or_default();
    let field = |name: &str| match value.get(name) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "?".to_string(),
    };
    format!(
        "CleverTap answered status `{}` with error `{}`: this response holds no records",
        field("status"),
        field("error")
    )
}
