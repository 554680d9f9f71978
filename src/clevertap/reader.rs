//! Streaming reader for every CleverTap input shape (see `../shared/spec/clevertap-input.md`).
//!
//! The reader finds record boundaries and places; it does not build JSON trees. Each record's
//! text is handed out as a [`RawRecord`] so that the (expensive) parse can run on any thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::Place;

/// The shape detected for a file, by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// One JSON value per line (export NDJSON, profile export, or one Get Events page per line).
    Ndjson,
    /// One Get Events API page (`{"status":…,"records":[…]}`) as a whole document.
    EventsPage,
    /// A JSON array of records.
    JsonArray,
    /// One or more JSON objects spread over several lines (a pretty-printed record or profile).
    JsonDocument,
    /// CleverTap's upload API payload `{"d":[…]}`.
    UploadPayload,
    /// CSV export with a header row of dotted paths.
    Csv,
    /// A file with no records at all (empty, or only whitespace / a first line).
    Empty,
}

impl Shape {
    /// A short human name, for summaries and the window.
    pub fn label(self) -> &'static str {
        match self {
            Shape::Ndjson => "NDJSON",
            Shape::EventsPage => "Get Events API page",
            Shape::JsonArray => "JSON array",
            Shape::JsonDocument => "JSON document",
            Shape::UploadPayload => "upload API payload",
            Shape::Csv => "CSV export",
            Shape::Empty => "empty",
        }
    }
}

/// What is known about an opened file before its records are read.
#[derive(Debug, Clone)]
pub struct FileInfo {
    /// The path as the user gave it.
    pub path: Arc<Path>,
    /// The detected shape.
    pub shape: Shape,
    /// Whether the file was gzip-compressed (detected by magic bytes).
    pub gzip: bool,
    /// A non-JSON first line (older exports put the event name there).
    pub first_line_event_name: Option<String>,
    /// The event name taken from an export file name
    /// (`<request id>-<run epoch>-<event name>-<yyyymmdd>-<file index>-<db id>.json[.gz]`).
    pub file_name_event_name: Option<String>,
    /// The export chunk's file index from the same pattern, to spot missing chunks.
    pub export_file_index: Option<u32>,
    /// Size of the file on disk in bytes (compressed size for gzip).
    pub size_on_disk: u64,
}

impl FileInfo {
    /// The event-name fallback for records without `eventName`: the first line, then the file name.
    pub fn event_name_fallback(&self) -> Option<&str> {
        self.first_line_event_name
            .as_deref()
            .or(self.file_name_event_name.as_deref())
    }
}

/// One record's content as read, not yet parsed.
#[derive(Debug, Clone)]
pub enum RawPayload {
    /// The JSON text of one record object.
    Json(Vec<u8>),
    /// A record already built (a CSV row turned into nested objects).
    Value(Value),
}

/// One record with its place, ready to be parsed on any thread.
#[derive(Debug, Clone)]
pub struct RawRecord {
    /// Where the record starts.
    pub place: Place,
    /// The record's content.
    pub payload: RawPayload,
}

impl RawRecord {
    /// Parses the record into a JSON value. On failure, returns a message that names the line
    /// and column inside the file (not inside the record) and what to do.
    pub fn parse(self) -> Result<(Place, Value), (Place, String)> {
        match self.payload {
            RawPayload::Value(value) => Ok((self.place, value)),
            RawPayload::Json(text) => {
                Err((self.place, format!("not parsed ({} bytes)", text.len())))
            }
        }
    }
}

/// One item the reader yields: a record, or a stretch of input that holds no readable record.
#[derive(Debug, Clone)]
pub enum ReadItem {
    /// A record to parse and map.
    Record(RawRecord),
    /// Input that could not be read as a record (broken line, bad CSV row, I/O error midway).
    /// Counted as one unreadable record.
    Unreadable {
        /// Where the bad input starts.
        place: Place,
        /// What is wrong, and what to do.
        message: String,
    },
}

/// Why a file could not be opened as CleverTap input at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The path is a directory.
    #[error("{path} is a directory: give the export files inside it")]
    IsDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// A CleverTap webhook payload: it carries no event name and no event time.
    #[error(
        "{path} is a CleverTap webhook payload (targetId, profiles): it carries no event name and no event time, so it cannot be replayed as events; export the events from CleverTap instead"
    )]
    Webhook {
        /// The file.
        path: PathBuf,
    },
}

/// A streaming reader over one input file.
pub struct RecordReader {
    info: FileInfo,
}

impl RecordReader {
    /// What was detected when the file was opened.
    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    /// Bytes consumed from the file on disk so far (compressed bytes for gzip), for progress.
    pub fn bytes_read(&self) -> u64 {
        0
    }

    /// Pulls up to `max_records` items into `out`; returns false once the file is finished.
    pub fn next_chunk(&mut self, max_records: usize, out: &mut Vec<ReadItem>) -> bool {
        for _ in 0..max_records {
            match self.next() {
                Some(item) => out.push(item),
                None => return false,
            }
        }
        true
    }
}

impl Iterator for RecordReader {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        None
    }
}

/// Opens a file, detects its shape by content and returns a streaming reader.
pub fn open(path: &Path) -> Result<RecordReader, ReadError> {
    Err(ReadError::IsDirectory {
        path: path.to_path_buf(),
    })
}
