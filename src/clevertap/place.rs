use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// Where a record (or a problem) is in its input file: 1-based line and column of the first
/// byte of the record for JSON input, or the 1-based data row for CSV (the header is row 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Place {
    /// The file as the user named it.
    pub file: Arc<Path>,
    /// 1-based line of the record's first byte (for CSV: the physical line where the row starts).
    pub line: u64,
    /// 1-based column (in bytes) of the record's first byte; 1 for CSV rows.
    pub column: u64,
    /// 1-based CSV data row, when the record came from a CSV file.
    pub csv_row: Option<u64>,
}

impl Place {
    /// A place at a line and column of a JSON file.
    pub fn at(file: Arc<Path>, line: u64, column: u64) -> Self {
        Self {
            file,
            line,
            column,
            csv_row: None,
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.csv_row {
            Some(row) => write!(f, "{}: row {row} (line {})", self.file.display(), self.line),
            None => write!(f, "{}:{}:{}", self.file.display(), self.line, self.column),
        }
    }
}
