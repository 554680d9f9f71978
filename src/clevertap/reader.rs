//! Streaming reader for every CleverTap input shape (see `../shared/spec/clevertap-input.md`).
//!
//! The reader finds record boundaries and places; it does not build JSON trees. Each record's
//! text is handed out as a [`RawRecord`] so that the (expensive) parse can run on any thread.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Place;
use super::csv_rows::CsvRows;
use super::detect::{Detected, Plan, detect};
use super::file_name::parse_export_file_name;
use super::lines::LineReader;
use super::parse::Json;
use super::parse::parse_record;
use super::scan::{Scanner, Scope};
use super::source::{Fill, Source, decoded_stream, describe_io};

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
    /// Not CleverTap text at all (binary data, an archive, UTF-16): the file is one unreadable
    /// record that says what it is.
    NotText(NotText),
}

/// What a file that is not CleverTap text holds instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotText {
    /// Bytes that are not text (an image, a PDF, an executable…).
    Binary,
    /// UTF-16 text; CleverTap exports are UTF-8.
    Utf16,
    /// A ZIP archive.
    Zip,
    /// A Parquet file.
    Parquet,
    /// gzip inside gzip.
    GzipTwice,
}

impl NotText {
    /// What the file holds, for the list of files read.
    pub fn label(self) -> &'static str {
        match self {
            NotText::Binary => "binary data, not CleverTap text",
            NotText::Utf16 => "UTF-16 text, not UTF-8",
            NotText::Zip => "ZIP archive, not CleverTap text",
            NotText::Parquet => "Parquet file, not CleverTap text",
            NotText::GzipTwice => "gzip-compressed twice",
        }
    }

    /// Why the file is refused and what to do: its one unreadable record's message.
    pub fn message(self) -> &'static str {
        match self {
            NotText::Binary => {
                "the file is not text (it holds binary data): open a CleverTap export (NDJSON, JSON or CSV, optionally gzip-compressed)"
            }
            NotText::Utf16 => {
                "the file is UTF-16 text; CleverTap exports are UTF-8: save or convert the file as UTF-8 and open it again"
            }
            NotText::Zip => "the file is a ZIP archive: unzip it and open the files inside",
            NotText::Parquet => {
                "the file is Parquet, which is not read: export the events from CleverTap as JSON or CSV"
            }
            NotText::GzipTwice => {
                "the file is gzip-compressed twice: decompress it once (gunzip) and open the result"
            }
        }
    }
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
            Shape::Empty => "empty file: no records",
            Shape::NotText(what) => what.label(),
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
    /// The JSON text of one record object (for CSV, the row turned into nested objects).
    Json(Vec<u8>),
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
    /// and column inside the file (not inside the record) and what to do, e.g.
    /// ``line 7, column 31: expected `,` or `}` (the line is not complete JSON; fix or remove it)``.
    /// A record that is valid JSON but not an object is an error too. The place returned is
    /// always the record's own place.
    pub fn parse(self) -> Result<(Place, Json), (Place, String)> {
        let RawPayload::Json(text) = &self.payload;
        match parse_record(&self.place, text) {
            Ok(value) => Ok((self.place, value)),
            Err(message) => Err((self.place, message)),
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

/// Record text after which [`RecordReader::next_chunk`] stops adding (about four records of the
/// longest size read, or thousands of ordinary ones).
pub(crate) const CHUNK_TEXT_BYTES: usize = 4 * super::MAX_RECORD_BYTES;

/// A streaming reader over one input file.
///
/// Yields [`ReadItem`]s in file order: records (unparsed, to parse on any thread) and stretches
/// of input that hold no readable record. Memory is bounded by the largest single record (or
/// line), not by the file, and never above [`MAX_RECORD_BYTES`](super::MAX_RECORD_BYTES) for
/// JSON: a longer record is one [`ReadItem::Unreadable`] with its size. A line or record whose
/// text is broken JSON comes out as a record whose [`RawRecord::parse`] fails with the place;
/// input that cannot even be split into records (text that is not JSON, broken structure, ragged
/// CSV rows, I/O errors) comes out as [`ReadItem::Unreadable`]. Either way each counts as one
/// unreadable record.
pub struct RecordReader {
    info: FileInfo,
    bytes_read: Arc<AtomicU64>,
    backend: Backend,
    pending: VecDeque<ReadItem>,
}

/// The reader for the detected shape; each owns the byte source.
enum Backend {
    Lines { src: Source, lines: LineReader },
    Document { src: Source, scanner: Box<Scanner> },
    Csv(Box<CsvRows>),
    Finished,
}

impl Backend {
    /// Reads about one buffer's worth. Returns true when the input is finished.
    fn step(&mut self, out: &mut VecDeque<ReadItem>) -> bool {
        match self {
            Backend::Lines { src, lines } => lines.step(src, out),
            Backend::Document { src, scanner } => match src.fill() {
                Fill::Data => {
                    let data = src.buffer();
                    scanner.feed(data, out);
                    let used = data.len();
                    src.consume(used);
                    false
                }
                Fill::End => {
                    scanner.finish(out);
                    true
                }
                Fill::Failed(err) => {
                    scanner.fail(&describe_io(&err, src.is_gzip()), out);
                    true
                }
            },
            Backend::Csv(rows) => rows.step(out),
            Backend::Finished => true,
        }
    }
}

impl RecordReader {
    /// What was detected when the file was opened.
    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    /// Bytes consumed from the file on disk so far (compressed bytes for gzip), for progress.
    /// Runs ahead of the records handed out by at most one read buffer.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Whether every item has been handed out.
    pub fn is_finished(&self) -> bool {
        self.pending.is_empty() && matches!(self.backend, Backend::Finished)
    }

    /// Appends up to `max_records` items (at least one) to `out`, so that a pipeline can parse
    /// chunks in parallel; stops early once they hold 64 MiB of record text, so
    /// that a file of very long records does not make a chunk of thousands of them. Returns
    /// false, adding nothing, once the file is finished:
    /// `while reader.next_chunk(10_000, &mut chunk) { … chunk.drain(..) … }`.
    pub fn next_chunk(&mut self, max_records: usize, out: &mut Vec<ReadItem>) -> bool {
        let max_records = max_records.max(1);
        let mut added = 0;
        let mut text_bytes = 0;
        while added < max_records && text_bytes < CHUNK_TEXT_BYTES && self.fill_pending() {
            while added < max_records && text_bytes < CHUNK_TEXT_BYTES {
                let Some(item) = self.pending.pop_front() else {
                    break;
                };
                if let ReadItem::Record(RawRecord {
                    payload: RawPayload::Json(text),
                    ..
                }) = &item
                {
                    text_bytes += text.len();
                }
                out.push(item);
                added += 1;
            }
        }
        added > 0
    }

    /// Makes sure an item is pending unless the file is finished.
    fn fill_pending(&mut self) -> bool {
        while self.pending.is_empty() {
            if matches!(self.backend, Backend::Finished) {
                return false;
            }
            if self.backend.step(&mut self.pending) {
                // Dropping the source closes the file.
                self.backend = Backend::Finished;
            }
        }
        true
    }
}

impl Iterator for RecordReader {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        if self.fill_pending() {
            self.pending.pop_front()
        } else {
            None
        }
    }
}

/// Opens a file, detects its shape by content and returns a streaming reader.
///
/// Refuses directories, unreadable paths and CleverTap webhook payloads. Gzip is detected by its
/// magic bytes (any extension); a UTF-8 BOM is skipped.
pub fn open(path: &Path) -> Result<RecordReader, ReadError> {
    let io_error = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes_read = Arc::new(AtomicU64::new(0));
    let (stream, gzip, size) = if super::bucket::is_url(path) {
        let (body, size) = super::bucket::open(path).map_err(io_error)?;
        let (stream, gzip) = decoded_stream(body, Arc::clone(&bytes_read)).map_err(io_error)?;
        (stream, gzip, size)
    } else {
        let metadata = std::fs::metadata(path).map_err(io_error)?;
        if metadata.is_dir() {
            return Err(ReadError::IsDirectory {
                path: path.to_path_buf(),
            });
        }
        let disk_file = File::open(path).map_err(io_error)?;
        let (stream, gzip) =
            decoded_stream(disk_file, Arc::clone(&bytes_read)).map_err(io_error)?;
        (stream, gzip, metadata.len())
    };
    let mut src = Source::new(stream, gzip);
    let (plan, shape, first_line_event_name, start) = match detect(&mut src) {
        Detected::Webhook => {
            return Err(ReadError::Webhook {
                path: path.to_path_buf(),
            });
        }
        Detected::Read {
            plan,
            shape,
            first_line_event_name,
            start,
        } => (plan, shape, first_line_event_name, start),
    };
    tracing::debug!(path = %path.display(), ?plan, ?shape, gzip, "opened CleverTap input");
    let file: Arc<Path> = Arc::from(path);
    let export = path
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(parse_export_file_name);
    let info = FileInfo {
        path: Arc::clone(&file),
        shape,
        gzip,
        first_line_event_name,
        file_name_event_name: export.as_ref().map(|name| name.event_name.clone()),
        export_file_index: export.map(|name| name.file_index),
        size_on_disk: size,
    };
    let mut pending = VecDeque::new();
    let backend = match plan {
        Plan::Lines => Backend::Lines {
            lines: LineReader::new(file, start.line, start.col_skip),
            src,
        },
        Plan::Document => {
            let scanner = Box::new(Scanner::new(
                file,
                Scope::File,
                start.line,
                start.col_skip + 1,
            ));
            Backend::Document { src, scanner }
        }
        Plan::Csv => Backend::Csv(Box::new(CsvRows::new(file, src, start.line))),
        Plan::Nothing => Backend::Finished,
        Plan::Refuse(message) => {
            pending.push_back(ReadItem::Unreadable {
                place: Place::at(file, start.line, 1),
                message,
            });
            Backend::Finished
        }
    };
    Ok(RecordReader {
        info,
        bytes_read,
        backend,
        pending,
    })
}
