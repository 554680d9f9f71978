//! The edits file: loading, changing (each change written at once, atomically) and saving as.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Edit, EditsError};

/// An edits file and the edits it holds, in the order they were first made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditsFile {
    path: PathBuf,
    edits: Vec<Edit>,
}

impl EditsFile {
    /// Loads an edits file; a file that does not exist yet holds no edits. A later line for
    /// the same record replaces an earlier one.
    pub fn load(path: &Path) -> Result<Self, EditsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(EditsError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let mut file = Self {
            path: path.to_path_buf(),
            edits: Vec::new(),
        };
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let edit: Edit = serde_json::from_str(line).map_err(|error| EditsError::Malformed {
                path: path.to_path_buf(),
                line: index + 1,
                reason: error.to_string(),
            })?;
            file.replace(edit);
        }
        Ok(file)
    }

    /// The edits file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The edits, in the order they were first made.
    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// The edit of the record at `line`, `column` (`csv_row`) of `file`, if any.
    pub fn find(&self, file: &Path, line: u64, column: u64, csv_row: Option<u64>) -> Option<&Edit> {
        self.edits
            .iter()
            .find(|edit| edit.is_at(file, line, column, csv_row))
    }

    /// Adds an edit (replacing a previous edit of the same record) and writes the file.
    pub fn apply(&mut self, edit: Edit) -> Result<(), EditsError> {
        let place = format!("{}:{}:{}", edit.file.display(), edit.line, edit.column);
        super::check_text(&edit.text, &place)?;
        self.replace(edit);
        self.save()
    }

    /// Adds many edits (each replacing a previous edit of its record) and writes the file once:
    /// a quick fix over a selection. Nothing is kept when any text is not one JSON object.
    pub fn apply_all(&mut self, edits: Vec<Edit>) -> Result<usize, EditsError> {
        for edit in &edits {
            let place = format!("{}:{}:{}", edit.file.display(), edit.line, edit.column);
            super::check_text(&edit.text, &place)?;
        }
        let count = edits.len();
        for edit in edits {
            self.replace(edit);
        }
        self.save().map(|()| count)
    }

    /// Drops the edit of one record and writes the file; false when there was none.
    pub fn revert(
        &mut self,
        file: &Path,
        line: u64,
        column: u64,
        csv_row: Option<u64>,
    ) -> Result<bool, EditsError> {
        let before = self.edits.len();
        self.edits
            .retain(|edit| !edit.is_at(file, line, column, csv_row));
        if self.edits.len() == before {
            return Ok(false);
        }
        self.save().map(|()| true)
    }

    /// Drops every edit and writes the (empty) file; returns how many there were.
    pub fn revert_all(&mut self) -> Result<usize, EditsError> {
        let count = self.edits.len();
        self.edits.clear();
        self.save().map(|()| count)
    }

    /// Writes the edits to the file, atomically.
    pub fn save(&self) -> Result<(), EditsError> {
        write_atomic(&self.path, &self.to_ndjson())
    }

    /// Writes the edits to another file, atomically, and keeps that file as this one's path.
    pub fn save_as(&mut self, path: &Path) -> Result<(), EditsError> {
        write_atomic(path, &self.to_ndjson())?;
        self.path = path.to_path_buf();
        Ok(())
    }

    /// The edits as NDJSON, one a line.
    pub fn to_ndjson(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for edit in &self.edits {
            // Plain data into memory: cannot fail.
            let _ = serde_json::to_writer(&mut out, edit);
            out.push(b'\n');
        }
        out
    }

    fn replace(&mut self, edit: Edit) {
        match self
            .edits
            .iter_mut()
            .find(|old| old.is_at(&edit.file, edit.line, edit.column, edit.csv_row))
        {
            Some(old) => *old = edit,
            None => self.edits.push(edit),
        }
    }
}

/// Writes `bytes` to `path` so that a reader (or a crash) sees either the old file whole or the
/// new one whole: a temporary file in the same folder, written and synced, then renamed over.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EditsError> {
    write_atomic_with(path, bytes, || Ok(()))
}

/// [`write_atomic`], calling `before_rename` between the synced temporary file and the rename
/// (the tests fail there, as a crash would).
pub(crate) fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce() -> std::io::Result<()>,
) -> Result<(), EditsError> {
    let io = |source| EditsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path.file_name().map_or_else(
        || "edits".to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let temporary = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        before_rename()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(io(error));
    }
    // The rename is durable once the folder is synced; not every system allows opening one.
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
impl EditsFile {
    /// Changes the edits in memory only, for tests that write them another way.
    pub(crate) fn replace_for_test(&mut self, edit: Edit) {
        self.replace(edit);
    }
}
