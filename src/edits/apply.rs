//! Edits resolved against the input files of a run: which apply, which do not and why, and the
//! per-file [`EditSet`] the pipeline consults by place.

use std::path::{Path, PathBuf};

use super::{Edit, EditsError, EditsFile, file_sha256};
use crate::clevertap::{Place, RawPayload, RawRecord, ReadItem};

/// The key of a record's place within its file.
type PlaceKey = (u64, u64, Option<u64>);

fn key(place: &Place) -> PlaceKey {
    (place.line, place.column, place.csv_row)
}

/// The edits of one input file, found by place: one hash lookup per record.
#[derive(Debug, Clone, Default)]
pub struct EditSet {
    by_place: foldhash::HashMap<PlaceKey, Edit>,
}

impl EditSet {
    /// The edit of the record at `place`, if any.
    pub fn get(&self, place: &Place) -> Option<&Edit> {
        self.by_place.get(&key(place))
    }

    /// Number of edits.
    pub fn len(&self) -> usize {
        self.by_place.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_place.is_empty()
    }

    /// The item to map: the edited record when there is an edit at the item's place (it keeps
    /// the place; an unreadable line becomes a record), else the item as read. A record whose
    /// text is not the one the edit was made on is left as read, with a warning.
    pub fn edited(&self, item: ReadItem) -> ReadItem {
        let place = match &item {
            ReadItem::Record(raw) => &raw.place,
            ReadItem::Unreadable { place, .. } => place,
        };
        let Some(edit) = self.get(place) else {
            return item;
        };
        if let ReadItem::Record(raw) = &item {
            let RawPayload::Json(text) = &raw.payload;
            if !edit.matches_original(text) {
                tracing::warn!(
                    "{place}: the record is not the one the edit was made on (its text's hash differs): the edit is not applied"
                );
                return item;
            }
        }
        ReadItem::Record(RawRecord {
            place: place.clone(),
            payload: RawPayload::Json(edit.text.clone().into_bytes()),
        })
    }
}

/// An edit that is not applied, with the reason.
#[derive(Debug, Clone)]
pub struct NotApplicable {
    /// The edit.
    pub edit: Edit,
    /// Why it is not applied.
    pub reason: String,
}

/// The edits of an edits file that apply to a run's input files, by file.
#[derive(Debug, Default)]
pub struct AppliedEdits {
    files: Vec<(PathBuf, EditSet)>,
    /// Edits of input files that changed since the edits were made: not applied.
    pub not_applicable: Vec<NotApplicable>,
}

impl AppliedEdits {
    /// Finds the edits of each input file: an edit names its file by path (a relative path is
    /// taken from the current folder, else from the edits file's folder) or, for a file moved
    /// since, by file name and content hash. An input file whose hash is not the one an edit
    /// was made on gets none of its edits: they are listed in `not_applicable`. Edits of files
    /// that are not inputs are left out.
    pub fn resolve(edits: &EditsFile, inputs: &[PathBuf]) -> Result<Self, EditsError> {
        let base = edits.path().parent().map(Path::to_path_buf);
        let edit_paths: Vec<Option<PathBuf>> = edits
            .edits()
            .iter()
            .map(|edit| canonical(&edit.file, base.as_deref()))
            .collect();
        let mut used = vec![false; edits.edits().len()];
        let mut applied = AppliedEdits::default();
        for input in inputs {
            let input_path = canonical(input, None);
            let name = input.file_name();
            let by_path: Vec<usize> = (0..edits.edits().len())
                .filter(|&i| !used[i] && input_path.is_some() && edit_paths[i] == input_path)
                .collect();
            let by_name: Vec<usize> = (0..edits.edits().len())
                .filter(|&i| !used[i] && !by_path.contains(&i))
                .filter(|&i| name.is_some() && edits.edits()[i].file.file_name() == name)
                .collect();
            if by_path.is_empty() && by_name.is_empty() {
                continue;
            }
            let hash = file_sha256(input)?;
            let mut set = EditSet::default();
            for &i in &by_path {
                used[i] = true;
                let edit = &edits.edits()[i];
                if edit.file_sha256 == hash {
                    set.by_place
                        .insert((edit.line, edit.column, edit.csv_row), edit.clone());
                } else {
                    applied.not_applicable.push(NotApplicable {
                        edit: edit.clone(),
                        reason: format!(
                            "{} changed since the edit was made (its SHA-256 was {}, it is now {}): the edit is not applied; make it again on the file as it is",
                            input.display(),
                            short(&edit.file_sha256),
                            short(&hash)
                        ),
                    });
                }
            }
            for &i in &by_name {
                let edit = &edits.edits()[i];
                if edit.file_sha256 == hash {
                    used[i] = true;
                    set.by_place
                        .insert((edit.line, edit.column, edit.csv_row), edit.clone());
                }
            }
            if !set.is_empty() {
                applied.files.push((input.clone(), set));
            }
        }
        Ok(applied)
    }

    /// The edits of one input file (the path as given to [`AppliedEdits::resolve`]).
    pub fn for_file(&self, path: &Path) -> Option<&EditSet> {
        self.files
            .iter()
            .find(|(file, _)| file == path)
            .map(|(_, set)| set)
    }

    /// Number of edits that apply.
    pub fn len(&self) -> usize {
        self.files.iter().map(|(_, set)| set.len()).sum()
    }

    /// Whether no edit applies.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ids of the originals of the edited records (those that had one), sorted.
    pub fn original_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .files
            .iter()
            .flat_map(|(_, set)| set.by_place.values())
            .filter_map(|edit| edit.id.as_deref())
            .collect();
        ids.sort_unstable();
        ids
    }
}

/// The canonical form of `path`, a relative path tried from the current folder, then from
/// `base`.
fn canonical(path: &Path, base: Option<&Path>) -> Option<PathBuf> {
    if crate::clevertap::bucket::is_url(path) {
        // A bucket object's URL names it already.
        return Some(path.to_path_buf());
    }
    std::fs::canonicalize(path).ok().or_else(|| {
        let base = base.filter(|_| path.is_relative())?;
        std::fs::canonicalize(base.join(path)).ok()
    })
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
