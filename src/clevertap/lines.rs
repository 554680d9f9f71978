//! Line mode: one JSON value per line. The hot path only finds the newline (memchr), looks at the
//! first non-blank byte and copies the line; a line holding a page or an array goes through the
//! structural scanner to yield its records. A line longer than [`MAX_RECORD_BYTES`] is not
//! kept: a record line is passed over and reported with its size, a page or array line is
//! streamed through the scanner record by record.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use memchr::memchr;

use super::limit::{MAX_RECORD_BYTES, too_long};
use super::scan::{Scanner, Scope};
use super::source::{Fill, Source, describe_io};
use super::{Place, RawPayload, RawRecord, ReadItem};

/// First keys that mark a CleverTap API response (a page or upload payload) rather than a record.
const RESPONSE_FIRST_KEYS: [&[u8]; 7] = [
    b"status",
    b"records",
    b"record",
    b"d",
    b"cursor",
    b"next_cursor",
    b"previous_cursor",
];

/// Reads lines from a [`Source`].
pub(crate) struct LineReader {
    file: Arc<Path>,
    /// Number of the line being read.
    line: u64,
    /// Bytes of the current line consumed before this reader started (only on the first line).
    col_skip: u64,
    /// The start of a line that continues in the next buffer.
    partial: Vec<u8>,
    /// The line being read is longer than [`MAX_RECORD_BYTES`]: how it is read instead.
    long: Option<LongLine>,
}

/// How a line over [`MAX_RECORD_BYTES`] is read, without holding it.
enum LongLine {
    /// A record line (or anything but a page or array): counted to its end, then reported.
    Skip {
        /// Where its content starts.
        place: Place,
        /// Its length so far.
        bytes: u64,
    },
    /// A page or array on one line: its records stream through the scanner.
    Scan(Box<Scanner>),
}

impl LineReader {
    /// A reader whose first line is `line`, with `col_skip` bytes of it already consumed.
    pub(crate) fn new(file: Arc<Path>, line: u64, col_skip: u64) -> Self {
        Self {
            file,
            line,
            col_skip,
            partial: Vec::new(),
            long: None,
        }
    }

    /// Reads the lines of one buffer. Returns true when the input is finished.
    pub(crate) fn step(&mut self, src: &mut Source, out: &mut VecDeque<ReadItem>) -> bool {
        match src.fill() {
            Fill::Data => {}
            Fill::End => {
                if self.long.is_some() {
                    self.end_long(out);
                } else if !self.partial.is_empty() {
                    let last = std::mem::take(&mut self.partial);
                    self.owned_line(last, out);
                }
                return true;
            }
            Fill::Failed(err) => {
                let reason = describe_io(&err, src.is_gzip());
                let place = Place::at(Arc::clone(&self.file), self.line, 1);
                match self.long.take() {
                    Some(LongLine::Scan(mut scanner)) => scanner.fail(&reason, out),
                    Some(LongLine::Skip { place, bytes }) => {
                        let message = format!(
                            "line {}: {reason}; this line ({bytes} bytes so far, longer than any CleverTap record) and the rest of the file could not be read",
                            place.line
                        );
                        out.push_back(ReadItem::Unreadable { place, message });
                    }
                    None => {
                        let message = if self.partial.iter().any(|b| !b.is_ascii_whitespace()) {
                            format!(
                                "{reason}; this line and the rest of the file could not be read"
                            )
                        } else {
                            format!("{reason}; the rest of the file could not be read")
                        };
                        out.push_back(ReadItem::Unreadable { place, message });
                    }
                }
                self.partial = Vec::new();
                return true;
            }
        }
        let data = src.buffer();
        let mut from = 0;
        if self.long.is_some() {
            match memchr(b'\n', data) {
                Some(end) => {
                    self.feed_long(data.get(..end).unwrap_or_default(), out);
                    self.end_long(out);
                    from = end + 1;
                }
                None => {
                    self.feed_long(data, out);
                    let used = data.len();
                    src.consume(used);
                    return false;
                }
            }
        }
        while let Some(off) = memchr(b'\n', data.get(from..).unwrap_or_default()) {
            let end = from + off;
            let line = data.get(from..end).unwrap_or_default();
            if self.partial.len() + line.len() > MAX_RECORD_BYTES {
                self.start_long(line, out);
                self.end_long(out);
            } else if self.partial.is_empty() {
                self.borrowed_line(line, out);
            } else {
                self.partial.extend_from_slice(line);
                let whole = std::mem::take(&mut self.partial);
                self.owned_line(whole, out);
            }
            from = end + 1;
        }
        let rest = data.get(from..).unwrap_or_default();
        if self.partial.len() + rest.len() > MAX_RECORD_BYTES {
            self.start_long(rest, out);
        } else {
            self.partial.extend_from_slice(rest);
        }
        let used = data.len();
        src.consume(used);
        false
    }

    /// The line (`partial`, then `more`) is over [`MAX_RECORD_BYTES`]: lets go of what was kept
    /// and reads on without keeping it.
    fn start_long(&mut self, more: &[u8], out: &mut VecDeque<ReadItem>) {
        let head = std::mem::take(&mut self.partial);
        let bytes = (head.len() + more.len()) as u64;
        let start =
            first_non_blank(&head).or_else(|| first_non_blank(more).map(|at| head.len() + at));
        let start = start.unwrap_or(0);
        let column = self.column(start);
        let scan = {
            // Enough of the line to tell a page or array from a record.
            let mut probe = head.get(start..).unwrap_or_default().to_vec();
            probe.truncate(256);
            let skip = start.saturating_sub(head.len());
            let need = 256 - probe.len();
            let tail = more.get(skip..).unwrap_or_default();
            probe.extend_from_slice(tail.get(..need.min(tail.len())).unwrap_or_default());
            match probe.first() {
                Some(b'[') => true,
                Some(b'{') => first_key_is_response(&probe),
                _ => false,
            }
        };
        self.long = Some(if scan {
            let mut scanner = Scanner::new(Arc::clone(&self.file), Scope::Line, self.line, column);
            let content_in_head = head.get(start..).unwrap_or_default();
            scanner.feed(content_in_head, out);
            let skip = start.saturating_sub(head.len());
            scanner.feed(more.get(skip..).unwrap_or_default(), out);
            LongLine::Scan(Box::new(scanner))
        } else {
            LongLine::Skip {
                place: Place::at(Arc::clone(&self.file), self.line, column),
                bytes,
            }
        });
    }

    /// More of a long line.
    fn feed_long(&mut self, bytes: &[u8], out: &mut VecDeque<ReadItem>) {
        match self.long.as_mut() {
            Some(LongLine::Scan(scanner)) => scanner.feed(bytes, out),
            Some(LongLine::Skip { bytes: seen, .. }) => *seen += bytes.len() as u64,
            None => {}
        }
    }

    /// The long line ended (newline or end of input).
    fn end_long(&mut self, out: &mut VecDeque<ReadItem>) {
        match self.long.take() {
            Some(LongLine::Scan(mut scanner)) => scanner.finish(out),
            Some(LongLine::Skip { place, bytes }) => {
                let message = format!("line {}: {}", place.line, too_long("line", bytes));
                out.push_back(ReadItem::Unreadable { place, message });
            }
            None => {}
        }
        self.next_line();
    }

    /// A line that lies in the read buffer.
    fn borrowed_line(&mut self, line: &[u8], out: &mut VecDeque<ReadItem>) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(start) = first_non_blank(line) {
            let content = line.get(start..).unwrap_or_default();
            if self.classify(content, start, out) {
                let text = content.to_vec();
                self.emit(text, start, out);
            }
        }
        self.next_line();
    }

    /// A line that was put together across buffers (moved, not copied again).
    fn owned_line(&mut self, mut line: Vec<u8>, out: &mut VecDeque<ReadItem>) {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if let Some(start) = first_non_blank(&line) {
            let content = line.get(start..).unwrap_or_default();
            if self.classify(content, start, out) {
                line.drain(..start);
                self.emit(line, start, out);
            }
        }
        self.next_line();
    }

    fn next_line(&mut self) {
        self.line += 1;
        self.col_skip = 0;
    }

    fn column(&self, start: usize) -> u64 {
        self.col_skip + start as u64 + 1
    }

    /// Whether the line is one record; false when it was handled here (not JSON, or scanned).
    fn classify(&self, content: &[u8], start: usize, out: &mut VecDeque<ReadItem>) -> bool {
        match content.first() {
            Some(b'{') if !first_key_is_response(content) => true,
            Some(b'{' | b'[') => {
                let mut scanner = Scanner::new(
                    Arc::clone(&self.file),
                    Scope::Line,
                    self.line,
                    self.column(start),
                );
                scanner.feed(content, out);
                scanner.finish(out);
                false
            }
            // Other JSON values: the parser says what they are.
            Some(b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => true,
            _ => {
                let place = Place::at(Arc::clone(&self.file), self.line, self.column(start));
                let message = format!(
                    "line {}: not JSON: `{}` (each line must be one JSON object; fix or remove the line)",
                    self.line,
                    snippet(content)
                );
                out.push_back(ReadItem::Unreadable { place, message });
                false
            }
        }
    }

    fn emit(&self, text: Vec<u8>, start: usize, out: &mut VecDeque<ReadItem>) {
        let place = Place::at(Arc::clone(&self.file), self.line, self.column(start));
        out.push_back(ReadItem::Record(RawRecord {
            place,
            payload: RawPayload::Json(text),
        }));
    }
}

fn first_non_blank(line: &[u8]) -> Option<usize> {
    line.iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\x0c'))
}

/// Whether an object line starts with a key of a CleverTap API response (then it is scanned for
/// the records inside). Looks only at the first key, so record lines cost nothing extra.
fn first_key_is_response(content: &[u8]) -> bool {
    let rest = content.get(1..).unwrap_or_default();
    let Some(open) = rest.iter().position(|b| !matches!(b, b' ' | b'\t')) else {
        return false;
    };
    if rest.get(open) != Some(&b'"') {
        return false;
    }
    let key_from = open + 1;
    let key = rest
        .get(key_from..key_from + 20)
        .unwrap_or_else(|| rest.get(key_from..).unwrap_or_default());
    match memchr(b'"', key) {
        Some(len) => RESPONSE_FIRST_KEYS.contains(&key.get(..len).unwrap_or_default()),
        None => false,
    }
}

/// The start of a line for a message (lossy UTF-8, at most 40 characters).
fn snippet(content: &[u8]) -> String {
    let head = content.get(..160).unwrap_or(content);
    let text = String::from_utf8_lossy(head);
    let mut shown: String = text.chars().take(40).collect();
    if shown.len() < text.len() || head.len() < content.len() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_first_keys() {
        assert!(first_key_is_response(
            br#"{"status":"success","records":[]}"#
        ));
        assert!(first_key_is_response(br#"{ "records": []}"#));
        assert!(first_key_is_response(br#"{"d":[]}"#));
        assert!(!first_key_is_response(br#"{"ts":1,"records":[]}"#));
        assert!(!first_key_is_response(br#"{"statusCode":1}"#));
        assert!(!first_key_is_response(br#"{}"#));
        assert!(!first_key_is_response(br#"{"#));
    }

    #[test]
    fn snippets_are_short() {
        assert_eq!(snippet(b"hello"), "hello");
        assert_eq!(snippet(&[b'x'; 100]).chars().count(), 41);
        assert_eq!(snippet(b"\xff\xfeab"), "\u{fffd}\u{fffd}ab");
    }
}
