//! CSV exports: a header row of dotted paths (`profile.identity`, `eventProps.CT Source`) and one
//! row per record, each turned into the nested object the JSON export would have held.

use std::collections::{HashSet, VecDeque};
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use csv::ByteRecord;
use serde_json::{Map, Value};

use super::limit::MAX_RECORD_BYTES;
use super::source::{BUFFER_BYTES, Source, describe_io};
use super::{Place, RawPayload, RawRecord, ReadItem};

/// Keys whose children are property names: the rest of the header after them is one key, dots
/// and spaces included.
const PROPERTY_CONTAINERS: [&str; 5] = [
    "eventProps",
    "event_props",
    "sessionProps",
    "session_props",
    "profileData",
];

/// Rows handed out per step.
const ROWS_PER_STEP: usize = 1024;

/// Most segments a header path is taken apart into. CleverTap's go four deep at most
/// (`profile.profileData.<property>`); a deeper header keeps its whole name as one key, so that a
/// header of thousands of dots neither nests a record beyond what the mapper can walk nor makes
/// the parent check in [`columns`] quadratic (a 60 KB header of dots hung the reader).
const MAX_PATH_SEGMENTS: usize = 16;

/// One header column.
struct Column {
    /// The header as written, for messages.
    name: String,
    /// Where the cell goes in the record.
    path: Vec<String>,
    /// `all_identities` written as `[a@x.com, 645676746]`: becomes an array.
    identities: bool,
}

/// The bytes under the CSV parser, which stops a row from growing past [`MAX_RECORD_BYTES`]: the
/// parser keeps a row whole until it ends, and one quote that is never closed makes the rest of
/// the file a single row.
struct RowLimited {
    src: Source,
    /// Bytes handed to the parser.
    pulled: u64,
    /// Where the row being parsed starts, in the same count.
    row_start: u64,
}

/// The read error that stops a row over [`MAX_RECORD_BYTES`].
#[derive(Debug)]
struct RowTooLong;

impl std::fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("row over the size limit")
    }
}

impl std::error::Error for RowTooLong {}

impl Read for RowLimited {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // The parser reads a buffer ahead of where it is: allow for it.
        if self.pulled.saturating_sub(self.row_start) > (MAX_RECORD_BYTES + BUFFER_BYTES) as u64 {
            return Err(io::Error::other(RowTooLong));
        }
        let n = self.src.read(out)?;
        self.pulled += n as u64;
        Ok(n)
    }
}

/// Reads CSV rows from a [`Source`].
pub(crate) struct CsvRows {
    file: Arc<Path>,
    reader: csv::Reader<RowLimited>,
    gzip: bool,
    /// Physical line of the header.
    header_line: u64,
    columns: Option<Vec<Column>>,
    row: u64,
    record: ByteRecord,
}

impl CsvRows {
    /// A CSV reader whose header is on `header_line` (the source is positioned on it).
    pub(crate) fn new(file: Arc<Path>, src: Source, header_line: u64) -> Self {
        let gzip = src.is_gzip();
        let reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(BUFFER_BYTES)
            .from_reader(RowLimited {
                src,
                pulled: 0,
                row_start: 0,
            });
        Self {
            file,
            reader,
            gzip,
            header_line,
            columns: None,
            row: 0,
            record: ByteRecord::new(),
        }
    }

    /// Reads a batch of rows. Returns true when the input is finished.
    pub(crate) fn step(&mut self, out: &mut VecDeque<ReadItem>) -> bool {
        if self.columns.is_none() {
            match self.reader.byte_headers() {
                Ok(header) => self.columns = Some(columns(header)),
                Err(err) => {
                    let place = self.place(self.header_line, None);
                    let message =
                        format!("{}; the header row could not be read", self.describe(&err));
                    out.push_back(ReadItem::Unreadable { place, message });
                    return true;
                }
            }
        }
        for _ in 0..ROWS_PER_STEP {
            let row_start = self.reader.position().clone();
            self.reader.get_mut().row_start = row_start.byte();
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {
                    self.row += 1;
                    let item = self.row_item();
                    out.push_back(item);
                }
                Ok(false) => return true,
                Err(err) => {
                    // A row too long is placed where it starts; other errors where they are.
                    let at = if too_long(&err) {
                        row_start.line()
                    } else {
                        self.reader.position().line()
                    };
                    let line = self.header_line + at.saturating_sub(1);
                    let place = self.place(line, Some(self.row + 1));
                    let message = if too_long(&err) {
                        format!(
                            "row {} (from line {line}) is longer than {} MiB, longer than any CleverTap record: a quote at its start is probably not closed; fix the row, as the rest of the file could not be read",
                            self.row + 1,
                            MAX_RECORD_BYTES / (1024 * 1024)
                        )
                    } else {
                        format!(
                            "{}; the rest of the file could not be read",
                            self.describe(&err)
                        )
                    };
                    out.push_back(ReadItem::Unreadable { place, message });
                    return true;
                }
            }
        }
        false
    }

    fn describe(&self, err: &csv::Error) -> String {
        if too_long(err) {
            return format!(
                "the row is longer than {} MiB, longer than any CleverTap record (a quote that is not closed?)",
                MAX_RECORD_BYTES / (1024 * 1024)
            );
        }
        match err.kind() {
            csv::ErrorKind::Io(io) => describe_io(io, self.gzip),
            _ => err.to_string(),
        }
    }

    fn place(&self, line: u64, csv_row: Option<u64>) -> Place {
        Place {
            file: Arc::clone(&self.file),
            line,
            column: 1,
            csv_row,
        }
    }

    /// The current row as a record, or why it cannot be one.
    fn row_item(&self) -> ReadItem {
        let start_line = self.record.position().map_or(1, csv::Position::line);
        let place = self.place(
            self.header_line + start_line.saturating_sub(1),
            Some(self.row),
        );
        let columns = self.columns.as_deref().unwrap_or_default();
        if self.record.len() != columns.len() {
            let message = format!(
                "row {} has {} cells but the header has {} columns: a cell is missing or extra (an unquoted comma or quote?); fix the row",
                self.row,
                self.record.len(),
                columns.len()
            );
            return ReadItem::Unreadable { place, message };
        }
        let mut root = Map::new();
        for (cell, column) in self.record.iter().zip(columns) {
            if cell.is_empty() {
                continue;
            }
            let text = match std::str::from_utf8(cell) {
                Ok(text) => text,
                Err(err) => {
                    let message = format!(
                        "row {}, column `{}`: the text is not valid UTF-8 (at byte {} of the cell); CleverTap exports are UTF-8: convert the file to UTF-8",
                        self.row,
                        column.name,
                        err.valid_up_to() + 1
                    );
                    return ReadItem::Unreadable { place, message };
                }
            };
            let value = if column.identities {
                identities(text)
            } else {
                Value::String(text.to_string())
            };
            insert(&mut root, &column.path, value);
        }
        ReadItem::Record(RawRecord {
            place,
            payload: RawPayload::Json(serde_json::to_vec(&Value::Object(root)).unwrap_or_default()),
        })
    }
}

/// Whether reading stopped at a row over [`MAX_RECORD_BYTES`].
fn too_long(err: &csv::Error) -> bool {
    match err.kind() {
        csv::ErrorKind::Io(io) => io.get_ref().is_some_and(|inner| inner.is::<RowTooLong>()),
        _ => false,
    }
}

/// Parses the header row into columns.
fn columns(header: &ByteRecord) -> Vec<Column> {
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let paths: Vec<Option<(Vec<String>, bool)>> =
        names.iter().map(|name| split_path(name)).collect();
    // A column that is also the parent of another column keeps its whole name as a key, so
    // that a string never has to hold children.
    let parents: HashSet<&[String]> = paths
        .iter()
        .flatten()
        .flat_map(|(path, _)| (1..path.len()).filter_map(move |len| path.get(..len)))
        .collect();
    names
        .iter()
        .zip(&paths)
        .map(|(name, path)| match path {
            Some((path, in_properties)) if !parents.contains(path.as_slice()) => Column {
                name: name.clone(),
                identities: !in_properties && path.last().is_some_and(|k| k == "all_identities"),
                path: path.clone(),
            },
            _ => Column {
                name: name.clone(),
                path: vec![name.clone()],
                identities: false,
            },
        })
        .collect()
}

/// Splits a dotted header; after a property container the rest is one key. Returns the path and
/// whether it ends inside a property container; `None` for headers with empty segments or more
/// than [`MAX_PATH_SEGMENTS`] segments.
fn split_path(name: &str) -> Option<(Vec<String>, bool)> {
    let mut segments = Vec::new();
    let mut rest = name;
    let in_properties = loop {
        if segments.len() >= MAX_PATH_SEGMENTS {
            return None;
        }
        let Some((head, tail)) = rest.split_once('.') else {
            if rest.is_empty() {
                return None;
            }
            segments.push(rest.to_string());
            break false;
        };
        if head.is_empty() {
            return None;
        }
        segments.push(head.to_string());
        if PROPERTY_CONTAINERS.contains(&head) {
            if tail.is_empty() {
                return None;
            }
            segments.push(tail.to_string());
            break true;
        }
        rest = tail;
    };
    (segments.len() <= MAX_PATH_SEGMENTS).then_some((segments, in_properties))
}

/// `[a@x.com, 645676746]` → `["a@x.com", "645676746"]`; other text stays a string.
fn identities(text: &str) -> Value {
    match text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
    {
        Some(inner) => Value::Array(
            inner
                .split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(|id| Value::String(id.to_string()))
                .collect(),
        ),
        None => Value::String(text.to_string()),
    }
}

fn insert(root: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut map = root;
    for segment in parents {
        let slot = map
            .entry(segment.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        match slot {
            Value::Object(inner) => map = inner,
            // A whole-name column took this key (see `columns`): keep the first value.
            _ => return,
        }
    }
    map.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_paths() {
        let path = |name: &str| split_path(name).map(|(p, inside)| (p.join("|"), inside));
        assert_eq!(path("ts"), Some(("ts".into(), false)));
        assert_eq!(
            path("profile.identity"),
            Some(("profile|identity".into(), false))
        );
        assert_eq!(
            path("deviceInfo.dimensions.width"),
            Some(("deviceInfo|dimensions|width".into(), false))
        );
        assert_eq!(
            path("eventProps.CT Source"),
            Some(("eventProps|CT Source".into(), true))
        );
        assert_eq!(
            path("eventProps.Price (U.S.)"),
            Some(("eventProps|Price (U.S.)".into(), true))
        );
        assert_eq!(
            path("profile.profileData.Favorite.Color"),
            Some(("profile|profileData|Favorite.Color".into(), true))
        );
        assert_eq!(
            path("session_props.utm_source"),
            Some(("session_props|utm_source".into(), true))
        );
        assert_eq!(path("a..b"), None);
        assert_eq!(path("eventProps."), None);
        let deepest = vec!["p"; MAX_PATH_SEGMENTS].join(".");
        assert_eq!(split_path(&deepest).map(|(p, _)| p.len()), Some(16));
        assert_eq!(path(&format!("{deepest}.p")), None);
        let last_in_properties = format!("{}.eventProps.a.b", vec!["p"; 14].join("."));
        assert_eq!(
            split_path(&last_in_properties).map(|(p, _)| p.len()),
            Some(16)
        );
        let past_in_properties = format!("{}.eventProps.a.b", vec!["p"; 15].join("."));
        assert_eq!(split_path(&past_in_properties), None);
    }

    #[test]
    fn identities_lists() {
        assert_eq!(
            identities("[a@x.com, 645676746]"),
            serde_json::json!(["a@x.com", "645676746"])
        );
        assert_eq!(identities(" [ ] "), serde_json::json!([]));
        assert_eq!(identities("a@x.com"), serde_json::json!("a@x.com"));
    }

    #[test]
    fn parent_columns_keep_their_whole_name() {
        let header = ByteRecord::from(vec![
            "profile",
            "profile.identity",
            "a..b",
            "eventProps.all_identities",
        ]);
        let cols = columns(&header);
        assert_eq!(cols[0].path, ["profile"]);
        assert_eq!(cols[1].path, ["profile", "identity"]);
        assert_eq!(cols[2].path, ["a..b"]);
        assert!(!cols[3].identities);
    }

    #[test]
    fn a_header_of_thousands_of_dots_is_one_key() {
        // Timed out the fuzz harness (over 10 s): taken apart, it made `columns` quadratic.
        let deep = vec!["p"; 30_000].join(".");
        let cols = columns(&ByteRecord::from(vec!["ts", deep.as_str()]));
        assert_eq!(cols[1].path, [deep]);
    }
}
