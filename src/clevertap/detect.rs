//! Shape detection by content: peeks at the start of the decoded stream without consuming the
//! records, so the chosen reader starts on the first data line.

use memchr::{memchr, memchr3, memrchr};

use super::source::{Fill, Source};
use super::{NotText, Shape};

/// Peeked at least this much for detection (webhook keys may sit a few lines down).
const PEEK_BYTES: usize = 64 * 1024;
/// A first line longer than this is read in document mode, which streams within a line.
const FIRST_LINE_LIMIT: usize = 8 * 1024 * 1024;
/// A non-JSON first line longer than this is not an event name.
const EVENT_NAME_LIMIT: usize = 512;
/// Bytes at the start of a file with a non-JSON first line that are checked for binary data: a
/// PNG or PDF starts with a clean header line, the bytes after it are not text.
const BINARY_SNIFF_BYTES: usize = 1024;

/// Where the reader starts: the line number of the next unread byte, and how many bytes of that
/// line were already consumed (leading whitespace), for columns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    pub(crate) line: u64,
    pub(crate) col_skip: u64,
}

/// How the rest of the file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// One JSON value per line.
    Lines,
    /// A streaming structural scan of one or more JSON documents.
    Document,
    /// A CSV export with a header line.
    Csv,
    /// Nothing to read.
    Nothing,
    /// The file cannot hold records; one unreadable item says why.
    Refuse(String),
}

/// The outcome of detection.
#[derive(Debug)]
pub(crate) enum Detected {
    /// Read the file this way.
    Read {
        plan: Plan,
        shape: Shape,
        first_line_event_name: Option<String>,
        start: Start,
    },
    /// A CleverTap webhook payload: refused.
    Webhook,
}

/// Detects the shape of the stream; consumes only a BOM, blank lines and a non-JSON first line.
pub(crate) fn detect(src: &mut Source) -> Detected {
    let mut start = Start {
        line: 1,
        col_skip: 0,
    };
    let head = src.peek(3);
    if head.starts_with(&[0xef, 0xbb, 0xbf]) {
        src.consume(3);
    } else if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return refuse(NotText::Utf16, start);
    }
    match skip_blank(src, &mut start) {
        Blank::Content => {}
        Blank::End => return read(Plan::Nothing, Shape::Empty, None, start),
        Blank::Failed => return read(Plan::Lines, Shape::Empty, None, start),
    }
    let window = src.peek(PEEK_BYTES);
    if starts_json(window) {
        return detect_json(src, None, start);
    }
    // A first line that is not JSON: a CSV header, or the event name of an older export.
    let line = first_line(src);
    let head = src.buffer();
    if let Some(what) = not_text(&line, head.get(..BINARY_SNIFF_BYTES).unwrap_or(head)) {
        return refuse(what, start);
    }
    if line.contains(&b',') {
        return read(Plan::Csv, Shape::Csv, None, start);
    }
    if line.len() > EVENT_NAME_LIMIT {
        // Too long for an event name: read it as a (bad) line among the others.
        return read(Plan::Lines, Shape::Ndjson, None, start);
    }
    let event_name = event_name_line(&line);
    skip_line(src);
    start = Start {
        line: start.line + 1,
        col_skip: 0,
    };
    match skip_blank(src, &mut start) {
        Blank::Content => {}
        Blank::End => return read(Plan::Nothing, Shape::Empty, event_name, start),
        Blank::Failed => return read(Plan::Lines, Shape::Empty, event_name, start),
    }
    if starts_json(src.peek(PEEK_BYTES)) {
        detect_json(src, event_name, start)
    } else {
        read(Plan::Lines, Shape::Ndjson, event_name, start)
    }
}

/// What a first line (or the `head` of the file it starts) shows the file holds instead of a
/// text export, if it is not one.
fn not_text(line: &[u8], head: &[u8]) -> Option<NotText> {
    if line.starts_with(b"PK\x03\x04") {
        Some(NotText::Zip)
    } else if line.starts_with(b"PAR1") {
        Some(NotText::Parquet)
    } else if line.starts_with(&[0x1f, 0x8b]) {
        Some(NotText::GzipTwice)
    } else if line
        .iter()
        .chain(head)
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
    {
        Some(NotText::Binary)
    } else {
        None
    }
}

/// A file that is not CleverTap text: one unreadable record that says what it holds.
fn refuse(what: NotText, start: Start) -> Detected {
    read(
        Plan::Refuse(what.message().to_string()),
        Shape::NotText(what),
        None,
        start,
    )
}

fn read(plan: Plan, shape: Shape, first_line_event_name: Option<String>, start: Start) -> Detected {
    Detected::Read {
        plan,
        shape,
        first_line_event_name,
        start,
    }
}

/// Whether the first non-blank bytes open a JSON value or a `//` comment.
fn starts_json(window: &[u8]) -> bool {
    let rest = trim_start(window);
    matches!(rest.first(), Some(b'{' | b'[')) || rest.starts_with(b"//")
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let skip = bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r'))
        .count();
    bytes.get(skip..).unwrap_or_default()
}

fn detect_json(src: &mut Source, event_name: Option<String>, start: Start) -> Detected {
    let mut want = PEEK_BYTES;
    let probe = loop {
        let probe = probe(src.peek(want));
        if probe.first_line != FirstLine::Unknown || src.at_end() || want >= FIRST_LINE_LIMIT {
            break probe;
        }
        want = (want * 4).min(FIRST_LINE_LIMIT);
    };
    if probe.is_webhook() {
        return Detected::Webhook;
    }
    let lines = match probe.first_line {
        FirstLine::Complete => true,
        FirstLine::Continues => false,
        // One unterminated line to the end of the file: read it as a line (a truncated record
        // then gets the parser's precise message); a very long first line is streamed.
        FirstLine::Unknown => src.at_end() && src.buffer().len() < FIRST_LINE_LIMIT,
    };
    if lines {
        // One line holding a whole array or page reads as lines but is named for what it is.
        let rest = src.buffer().get(probe.first_line_end..).unwrap_or_default();
        let single = src.at_end() && rest.iter().all(u8::is_ascii_whitespace);
        let shape = match probe.document_shape() {
            Shape::JsonDocument => Shape::Ndjson,
            shape if single => shape,
            _ => Shape::Ndjson,
        };
        return read(Plan::Lines, shape, event_name, start);
    }
    read(Plan::Document, probe.document_shape(), event_name, start)
}

/// The first line in the buffer (up to a limit), without its line break.
fn first_line(src: &mut Source) -> Vec<u8> {
    let mut want = PEEK_BYTES;
    loop {
        let window = src.peek(want);
        let end = memchr(b'\n', window).unwrap_or(window.len());
        let found = end < window.len();
        if found || src.at_end() || want >= FIRST_LINE_LIMIT {
            return src.buffer().get(..end).unwrap_or_default().to_vec();
        }
        want = (want * 4).min(FIRST_LINE_LIMIT);
    }
}

/// The event name held by a non-JSON first line (trimmed, quotes removed).
fn event_name_line(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim().trim_start_matches('\u{feff}');
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Consumes through the end of the current line.
fn skip_line(src: &mut Source) {
    while let Fill::Data = src.fill() {
        let data = src.buffer();
        match memchr(b'\n', data) {
            Some(end) => {
                src.consume(end + 1);
                return;
            }
            None => src.consume(data.len()),
        }
    }
}

/// What came after the blank lines.
enum Blank {
    /// A non-blank byte is in the buffer.
    Content,
    /// The stream ended.
    End,
    /// Reading failed; the error is left in the source for the reader to report.
    Failed,
}

/// Consumes whitespace-only lines. Leading spaces of the first content line stay in the buffer.
fn skip_blank(src: &mut Source, start: &mut Start) -> Blank {
    loop {
        match src.fill() {
            Fill::Data => {}
            Fill::End => return Blank::End,
            Fill::Failed(err) => {
                src.put_back_failure(err);
                return Blank::Failed;
            }
        }
        let data = src.buffer();
        let content = data
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        let blank = content.map_or(data, |at| data.get(..at).unwrap_or_default());
        let newlines = memchr::memchr_iter(b'\n', blank).count() as u64;
        let consumed = match (content, memrchr(b'\n', blank)) {
            (Some(_), Some(last)) => last + 1,
            (Some(_), None) => 0,
            (None, _) => blank.len(),
        };
        let tail = match memrchr(b'\n', blank) {
            Some(last) => (consumed - last - 1) as u64,
            None => start.col_skip + consumed as u64,
        };
        start.line += newlines;
        start.col_skip = tail;
        src.consume(consumed);
        if content.is_some() {
            return Blank::Content;
        }
    }
}

/// Whether the first value closes on its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstLine {
    /// Line mode: the first value is complete before the first line break.
    Complete,
    /// Document mode: the first value spans lines (or comments come first).
    Continues,
    /// Not decided within the peeked bytes.
    Unknown,
}

/// What a look at the start of a JSON input shows, without building any tree.
struct Probe {
    first: Option<u8>,
    first_line: FirstLine,
    /// Where the first line ends (after its line break) when the first value closes on it.
    first_line_end: usize,
    /// Keys of the first record-level object: the top-level object, or the first element of a
    /// top-level array.
    keys: Vec<String>,
}

impl Probe {
    fn has(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    fn is_webhook(&self) -> bool {
        let target = self.has("targetId");
        let profiles = self.has("profiles");
        let key_values = self.has("key_values");
        (target && (profiles || key_values)) || (profiles && key_values)
    }

    fn document_shape(&self) -> Shape {
        match self.first {
            Some(b'[') => Shape::JsonArray,
            _ if self.has("records") => Shape::EventsPage,
            _ if self.has("d") && self.keys.len() == 1 => Shape::UploadPayload,
            _ if self.has("status")
                && ["cursor", "next_cursor", "previous_cursor"]
                    .iter()
                    .any(|k| self.has(k)) =>
            {
                Shape::EventsPage
            }
            _ => Shape::JsonDocument,
        }
    }
}

/// Scans the peeked window iteratively (no recursion: nesting only grows a byte stack).
fn probe(window: &[u8]) -> Probe {
    let mut probe = Probe {
        first: None,
        first_line: FirstLine::Unknown,
        first_line_end: window.len(),
        keys: Vec::new(),
    };
    let mut stack: Vec<u8> = Vec::new();
    let mut key_depth = 1;
    let mut keys_open = true;
    let mut expect_key = false;
    let mut seen_newline = false;
    let mut at = 0;
    while let Some(&byte) = window.get(at) {
        match byte {
            b'"' => {
                let is_key = expect_key && stack.last() == Some(&b'{');
                let from = at + 1;
                let mut end = from;
                loop {
                    match memchr3(b'"', b'\\', b'\n', window.get(end..).unwrap_or_default()) {
                        Some(off) if window.get(end + off) == Some(&b'\\') => end += off + 2,
                        Some(off) => {
                            end += off;
                            break;
                        }
                        None => return probe,
                    }
                }
                if window.get(end) == Some(&b'\n') {
                    // A line break inside a string is broken JSON: leave it to the reader.
                    at = end;
                    continue;
                }
                if is_key && keys_open && stack.len() == key_depth {
                    let key = window.get(from..end).unwrap_or_default();
                    probe.keys.push(String::from_utf8_lossy(key).into_owned());
                }
                expect_key = false;
                at = end;
            }
            b'{' | b'[' => {
                if stack.is_empty() {
                    if probe.first.is_some() {
                        return probe;
                    }
                    probe.first = Some(byte);
                    key_depth = if byte == b'{' { 1 } else { 2 };
                }
                stack.push(byte);
                expect_key = byte == b'{';
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
                if stack.is_empty() {
                    if !seen_newline && probe.first_line == FirstLine::Unknown {
                        let rest = window.get(at + 1..).unwrap_or_default();
                        let line_end = memchr(b'\n', rest).map_or(window.len(), |off| at + off + 2);
                        let rest_of_line = window.get(at + 1..line_end).unwrap_or_default();
                        // A comment after the value: a doc snippet, read in document mode.
                        probe.first_line = if trim_start(rest_of_line).starts_with(b"//") {
                            FirstLine::Continues
                        } else {
                            FirstLine::Complete
                        };
                        probe.first_line_end = line_end;
                    }
                    return probe;
                }
                if stack.len() < key_depth {
                    keys_open = false;
                }
            }
            b',' => expect_key = stack.last() == Some(&b'{'),
            b'\n' => {
                if probe.first.is_some() && probe.first_line == FirstLine::Unknown {
                    probe.first_line = FirstLine::Continues;
                }
                seen_newline = true;
            }
            b'/' if window.get(at + 1) == Some(&b'/') => {
                if probe.first_line == FirstLine::Unknown {
                    probe.first_line = FirstLine::Continues;
                }
                match memchr(b'\n', window.get(at..).unwrap_or_default()) {
                    Some(off) => {
                        at += off;
                        continue;
                    }
                    None => return probe,
                }
            }
            b' ' | b'\t' | b'\r' => {}
            _ if stack.is_empty() => return probe,
            _ => {}
        }
        at += 1;
    }
    probe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_finds_first_line_and_keys() {
        let p = probe(b"{\"a\":1,\"b\":{\"c\":2}}\n{\"x\":1}\n");
        assert_eq!(p.first_line, FirstLine::Complete);
        assert_eq!(p.keys, ["a", "b"]);
        let p = probe(b"{\n \"records\": [ {\"k\": 1} ],\n \"status\": \"success\"\n}\n");
        assert_eq!(p.first_line, FirstLine::Continues);
        assert_eq!(p.keys, ["records", "status"]);
        assert_eq!(p.document_shape(), Shape::EventsPage);
        let p = probe(b"[\n {\"targetId\": 1, \"q\": \"\\\"}\", \"profiles\": []}\n]");
        assert_eq!(p.keys, ["targetId", "q", "profiles"]);
        assert!(p.is_webhook());
        let p = probe(b"{\"a\": 1} // done\n");
        assert_eq!(p.first_line, FirstLine::Continues);
        let p = probe(b"{\"a\": 1}  \n{}");
        assert_eq!((p.first_line, p.first_line_end), (FirstLine::Complete, 11));
        let p = probe(b"// c\n{\"d\": [1]}");
        assert_eq!(p.first_line, FirstLine::Continues);
        assert_eq!(p.document_shape(), Shape::UploadPayload);
        let deep = "[".repeat(200_000);
        let p = probe(deep.as_bytes());
        assert_eq!(p.first_line, FirstLine::Unknown);
    }

    #[test]
    fn binary_first_lines() {
        let alone = |line: &[u8]| not_text(line, line).map(NotText::message);
        assert!(alone(b"PK\x03\x04abc").is_some_and(|m| m.contains("ZIP")));
        assert!(alone(b"PAR1\x15").is_some_and(|m| m.contains("Parquet")));
        assert!(alone(&[0x1f, 0x8b, 8]).is_some_and(|m| m.contains("twice")));
        assert!(alone(b"ab\x00c").is_some_and(|m| m.contains("binary")));
        assert_eq!(alone(b"App Launched\r"), None);
        assert_eq!(alone(b"App \xffLaunched"), None);
        // A PNG's first line is clean; the bytes after it are not.
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(not_text(b"\x89PNG\r", png), Some(NotText::Binary));
        let name_then_json = b"App Launched\r\n{\"ts\": 1,\t\"a\": 2}\n\x0c\n";
        assert_eq!(not_text(b"App Launched\r", name_then_json), None);
    }

    #[test]
    fn event_name_line_is_trimmed() {
        assert_eq!(
            event_name_line(b" App Launched \r"),
            Some("App Launched".to_string())
        );
        assert_eq!(event_name_line(b"\"Charged\""), Some("Charged".to_string()));
        assert_eq!(event_name_line(b"  "), None);
    }
}
