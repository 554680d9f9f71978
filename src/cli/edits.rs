//! `--edits FILE` for the commands that read CleverTap files: loads the edits file and finds
//! the edits of the inputs, saying on stderr what applies and what does not.

use std::path::{Path, PathBuf};

use super::CliError;
use crate::edits::{AppliedEdits, EditsFile};

/// The edits of `files` in the edits file at `path` (none without `--edits`). An edits file
/// that cannot be read is an error; edits of an input that changed since are listed on stderr
/// and not applied.
pub fn load_edits(
    path: Option<&Path>,
    files: &[PathBuf],
) -> Result<Option<AppliedEdits>, CliError> {
    let Some(path) = path else {
        return Ok(None);
    };
    if !path.is_file() {
        return Err(CliError::NoSuchFile {
            path: path.to_path_buf(),
        });
    }
    let file = EditsFile::load(path)?;
    let applied = AppliedEdits::resolve(&file, files)?;
    for skipped in &applied.not_applicable {
        eprintln!(
            "feedlens: edit of {}:{}:{} not applied: {}",
            skipped.edit.file.display(),
            skipped.edit.line,
            skipped.edit.column,
            skipped.reason
        );
    }
    eprintln!(
        "feedlens: {} of {} edits in {} apply to these files",
        applied.len(),
        file.edits().len(),
        path.display()
    );
    Ok(Some(applied))
}
