//! Record edits: repairs of input records that never touch the input files. They live in an
//! edits file (NDJSON, one [`Edit`] a line) written atomically, and are applied when the input
//! is read again ([`AppliedEdits`], consulted by the pipeline by place).
//!
//! An edit names its input file by path and content hash (SHA-256 of the file's bytes): if the
//! file changed since, its edits are reported as not applicable, never silently applied.

mod apply;
mod file;

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use apply::{AppliedEdits, EditSet, NotApplicable};
pub use file::{EditsFile, write_atomic};

/// One edited record: where it is, what it was, and its new JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// The input file as the user named it (or an absolute path).
    pub file: PathBuf,
    /// SHA-256 (lower-case hex) of the input file's bytes when the edit was made.
    pub file_sha256: String,
    /// 1-based line of the record's first byte (as the reader's `Place`).
    pub line: u64,
    /// 1-based column of the record's first byte.
    pub column: u64,
    /// 1-based CSV data row, for CSV input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv_row: Option<u64>,
    /// The original record's `source_message_id`, when it had one (an unreadable line or a
    /// record with no event name has none): an edited record is matched with its original by it.
    #[serde(default)]
    pub id: Option<String>,
    /// SHA-256 of the original record's text, when it was readable.
    #[serde(default)]
    pub original_sha256: Option<String>,
    /// The edited record: the JSON text of one object.
    pub text: String,
}

impl Edit {
    /// Whether this edit is of the record at `line`, `column` (and `csv_row`) of `file`.
    pub fn is_at(&self, file: &Path, line: u64, column: u64, csv_row: Option<u64>) -> bool {
        self.line == line
            && self.column == column
            && self.csv_row == csv_row
            && same_file(&self.file, file)
    }

    /// Whether `text` is the original record's text (true when no hash was kept).
    pub fn matches_original(&self, text: &[u8]) -> bool {
        self.original_sha256
            .as_deref()
            .is_none_or(|hash| hash == sha256_hex(text))
    }
}

/// Errors of the edits file.
#[derive(Debug, thiserror::Error)]
pub enum EditsError {
    /// The edits file (or an input file being hashed) could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line of the edits file is not an edit.
    #[error(
        "{path}:{line}: not an edit ({reason}); each line must be one JSON object with file, file_sha256, line, column, id, original_sha256 and text: fix or remove the line"
    )]
    Malformed {
        /// The edits file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An edited text that is not one JSON object.
    #[error("the edited text of {place} is not a JSON object ({reason}): fix it before applying")]
    NotAnObject {
        /// The record's place, as text.
        place: String,
        /// What is wrong.
        reason: String,
    },
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex SHA-256 of a file's bytes, read in blocks.
pub fn file_sha256(path: &Path) -> Result<String, EditsError> {
    use sha2::{Digest, Sha256};
    let io = |source| EditsError::Io {
        path: path.to_path_buf(),
        source,
    };
    // A bucket object (s3://, gs://, az://) is hashed as it streams, like a file.
    let mut file: Box<dyn Read> = if crate::clevertap::bucket::is_url(path) {
        crate::clevertap::bucket::open(path).map_err(io)?.0
    } else {
        Box::new(std::fs::File::open(path).map_err(io)?)
    };
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        let read = file.read(&mut buffer).map_err(io)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    text
}

/// Whether two paths name the same file: equal, or equal once made canonical.
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
}

/// Checks that `text` is one JSON object, as an edit's text must be.
pub fn check_text(text: &str, place: &str) -> Result<(), EditsError> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(other) => Err(EditsError::NotAnObject {
            place: place.to_string(),
            reason: format!("found {}", kind(&other)),
        }),
        Err(error) => Err(EditsError::NotAnObject {
            place: place.to_string(),
            reason: format!("line {}, column {}: {error}", error.line(), error.column()),
        }),
    }
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
