//! What the record editor's commands do: open it on a record, keep an edit (written to the
//! edits file off the UI thread) and map the records again with it.

use std::collections::HashSet;
use std::sync::Arc;

use super::commands::Command;
use super::editor::{RecordEditor, read_line};
use super::json_view::source_value;
use super::state::{App, Msg};
use crate::edits::{Edit, file_sha256, sha256_hex};
use crate::mapping::RecordStatus;

impl App {
    /// Opens the editor on `row`: its edit if it has one, else its source record (pretty), else
    /// (a broken line) the line as it is in the file.
    pub(super) fn open_editor(&mut self, row: u32) {
        let store = self.records.store();
        let (Some(place), Some(outcome)) =
            (store.place_key(row as usize), store.outcome(row as usize))
        else {
            return;
        };
        let (path, line, column, csv_row) = &place;
        let existing = self
            .edits
            .find(path, *line, *column, (*csv_row > 0).then_some(*csv_row));
        let unreadable = outcome.status == RecordStatus::Unreadable && existing.is_none();
        let pretty =
            |text: &[u8]| serde_json::to_string_pretty(&source_value(text)).unwrap_or_default();
        let text = match (existing, &outcome.source) {
            (Some(edit), _) => pretty(edit.text.as_bytes()),
            (None, Some(source)) => pretty(source),
            (None, None) if unreadable => match read_line(path, *line) {
                Ok(text) => text,
                Err(error) => {
                    self.errors.push(format!(
                        "cannot read {}:{line} to repair it: {error}",
                        path.display()
                    ));
                    return;
                }
            },
            (None, None) => return,
        };
        let original_id = match existing {
            Some(edit) => edit.id.clone(),
            None => outcome.mapped.as_ref().map(|m| m.record_id.to_string()),
        };
        self.editor = Some(RecordEditor::new(
            row,
            place,
            original_id,
            text,
            outcome.status == RecordStatus::Unreadable,
        ));
    }

    /// Keeps the editor's last good text as the record's edit: the edits file is written (a
    /// temporary file, then renamed) off the UI thread, then the records are mapped again.
    pub(super) fn apply_edit(&mut self) {
        let Some(editor) = &mut self.editor else {
            return;
        };
        let Some(text) = editor.last_good.clone() else {
            return;
        };
        // One line a record in the edits file: the compact form of the JSON (key order kept).
        let compact = serde_json::from_str::<serde_json::Value>(&text)
            .and_then(|value| serde_json::to_string(&value))
            .unwrap_or(text);
        let (path, line, column, csv_row) = editor.place.clone();
        let csv_row = (csv_row > 0).then_some(csv_row);
        let existing = self.edits.find(&path, line, column, csv_row).cloned();
        let original_sha256 = match &existing {
            Some(edit) => edit.original_sha256.clone(),
            None => self
                .records
                .store()
                .outcome(editor.row as usize)
                .and_then(|outcome| outcome.source)
                .map(|source| sha256_hex(&source)),
        };
        let id = editor.original_id.clone();
        editor.saving = true;
        self.change_edits(move |edits| {
            let file_sha256 = file_sha256(&path)?;
            edits.apply(Edit {
                file: path.to_path_buf(),
                file_sha256,
                line,
                column,
                csv_row,
                id,
                original_sha256,
                text: compact,
            })
        });
    }

    /// Changes a copy of the edits file on a worker thread (hashing inputs, writing the file
    /// atomically); the result comes back as [`Msg::EditSaved`], which maps the records again.
    fn change_edits(
        &mut self,
        change: impl FnOnce(&mut crate::edits::EditsFile) -> Result<(), crate::edits::EditsError>
        + Send
        + 'static,
    ) {
        let mut edits = self.edits.clone();
        let send = self.sender();
        let spawned = crate::thread::spawn_named("feedlens-edit", move || {
            let result = change(&mut edits)
                .map(|()| edits)
                .map_err(|error| error.to_string());
            send(Msg::EditSaved(result));
        });
        if let Err(error) = spawned {
            self.errors
                .push(crate::thread::start_failed("feedlens-edit", &error));
            if let Some(editor) = &mut self.editor {
                editor.saving = false;
            }
        }
    }

    /// The edit is in the edits file: map the records again with it.
    pub(super) fn on_edit_saved(&mut self, result: Result<crate::edits::EditsFile, String>) {
        match result {
            Ok(edits) => {
                self.status = format!(
                    "edit kept in {} ({} edits); the input file is unchanged",
                    edits.path().display(),
                    edits.edits().len()
                );
                let before = std::mem::replace(&mut self.edits, edits);
                self.editor = None;
                if !self.apply_edits_in_place(&before) {
                    self.remap();
                }
            }
            Err(error) => {
                if let Some(editor) = &mut self.editor {
                    editor.saving = false;
                }
                self.errors.push(format!("the edit was not kept: {error}"));
            }
        }
    }

    /// Maps again, in place, the rows whose edit changed between `before` and the window's
    /// edits now (added, changed or reverted), so an edit shows on the next frame: the other
    /// rows, the selection and the focus stay. `false` when that cannot be done (files being
    /// read, a worker holding the records, masking on) and the files must be read again.
    fn apply_edits_in_place(&mut self, before: &crate::edits::EditsFile) -> bool {
        if self.load.is_some() || self.masked() {
            return false;
        }
        let changed: Vec<&Edit> = self
            .edits
            .edits()
            .iter()
            .filter(|edit| !before.edits().contains(edit))
            .chain(before.edits().iter().filter(|edit| {
                self.edits
                    .find(&edit.file, edit.line, edit.column, edit.csv_row)
                    .is_none()
            }))
            .collect();
        let places: HashSet<(u64, u64, u64)> = changed
            .iter()
            .map(|edit| (edit.line, edit.column, edit.csv_row.unwrap_or(0)))
            .collect();
        let rows: Vec<(usize, Option<Vec<u8>>)> = self
            .records
            .store()
            .rows_at(&places)
            .into_iter()
            .filter(|(_, (path, line, column, csv_row))| {
                changed.iter().any(|edit| {
                    edit.is_at(path, *line, *column, (*csv_row > 0).then_some(*csv_row))
                })
            })
            .map(|(row, (path, line, column, csv_row))| {
                let text = self
                    .edits
                    .find(&path, line, column, (csv_row > 0).then_some(csv_row))
                    .map(|edit| edit.text.clone().into_bytes());
                (row, text)
            })
            .collect();
        let Some(store) = self.records.store_mut() else {
            return false;
        };
        let mut moved = Vec::new();
        for (row, text) in rows {
            let tab = store.metas.get(row).map(|meta| meta.tab);
            store.set_row_text(row, text);
            let now = store.metas.get(row).map(|meta| meta.tab);
            if let (Some(tab), Some(now)) = (tab, now)
                && tab != now
            {
                moved.push((row as u32, tab, now));
            }
        }
        for (row, from, to) in moved {
            self.base.move_row(row, from, to);
        }
        // What was derived from the records is made again; the rows keep their numbers.
        self.data_version += 1;
        self.detail.invalidate();
        self.query_dirty = true;
        self.rebuild_due = true;
        if let Some(focus) = self.focus {
            self.commands.push(Command::FocusRecord(focus));
        }
        true
    }

    /// Drops one edit (`Some(position)`) or all of them, writing the file off the UI thread;
    /// the records are then mapped again as read.
    pub(super) fn revert_edits(&mut self, which: Option<usize>) {
        let target = which.and_then(|index| self.edits.edits().get(index).cloned());
        if which.is_some() && target.is_none() {
            return;
        }
        self.change_edits(move |edits| match &target {
            Some(edit) => edits
                .revert(&edit.file, edit.line, edit.column, edit.csv_row)
                .map(|_| ()),
            None => edits.revert_all().map(|_| ()),
        });
    }

    /// Selects exactly the edited records and opens the send panel to plan them.
    pub(super) fn send_edited(&mut self) {
        self.selection.clear();
        let rows = self.records.store().len() as u32;
        for row in 0..rows {
            if self.is_edited(row) {
                self.selection.set(row, true);
            }
        }
        self.send.form.send_all = false;
        self.send.open = true;
        self.ensure_local_feed();
        self.status = format!(
            "{} edited records selected: plan them in the send panel",
            self.selection.len()
        );
    }

    /// Whether the record at `row` is shown with an edit applied.
    pub(super) fn is_edited(&self, row: u32) -> bool {
        let Some((path, line, column, csv_row)) = self.records.store().place_key(row as usize)
        else {
            return false;
        };
        self.edits
            .find(
                &Arc::clone(&path),
                line,
                column,
                (csv_row > 0).then_some(csv_row),
            )
            .is_some()
    }
}

/// The value at a dotted path of a record (`profile.objectId`), as text, when it is a
/// non-empty string or a number.
pub fn text_at(record: &serde_json::Value, path: &str) -> Option<String> {
    let value = path
        .split('.')
        .try_fold(record, |value, key| value.get(key))?;
    match value {
        serde_json::Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Fields of a record's profile that can stand in for its missing identity: its non-empty
/// text and number values.
pub fn identity_candidates(source: &[u8]) -> Vec<String> {
    let record = source_value(source);
    let Some(profile) = record.get("profile").and_then(|p| p.as_object()) else {
        return Vec::new();
    };
    profile
        .keys()
        .map(|key| format!("profile.{key}"))
        .filter(|path| text_at(&record, path).is_some())
        .collect()
}

impl App {
    /// Rows a quick fix works on: the selected held records, else the focused one.
    pub(super) fn quick_fix_rows(&self) -> Vec<u32> {
        let held = crate::records::status_code(RecordStatus::Held);
        let metas = &self.records.store().metas;
        let selected: Vec<u32> = self
            .selection
            .iter()
            .filter(|&row| metas.get(row as usize).is_some_and(|m| m.status == held))
            .collect();
        if selected.is_empty() {
            self.focus.into_iter().collect()
        } else {
            selected
        }
    }

    /// Sets `profile.identity` from the field at `from` in each held record without an
    /// identity (the selected ones, else the focused one): one edit each, written at once.
    pub(super) fn quick_fix_identity(&mut self, from: &str) {
        let store = self.records.store();
        let mut planned = Vec::new();
        let mut skipped = 0;
        for row in self.quick_fix_rows() {
            let Some(outcome) = store.outcome(row as usize) else {
                continue;
            };
            let missing = outcome
                .findings
                .iter()
                .any(|finding| finding.kind == crate::mapping::FindingKind::MissingIdentity);
            let (Some(source), Some(place)) = (&outcome.source, store.place_key(row as usize))
            else {
                continue;
            };
            let mut record = source_value(source);
            let value = text_at(&record, from);
            let (true, Some(value), Some(profile)) = (
                missing,
                value,
                record.get_mut("profile").and_then(|p| p.as_object_mut()),
            ) else {
                skipped += 1;
                continue;
            };
            profile.insert("identity".into(), serde_json::Value::String(value));
            let (path, line, column, csv_row) = place;
            let csv_row = (csv_row > 0).then_some(csv_row);
            let existing = self.edits.find(&path, line, column, csv_row);
            planned.push(Edit {
                file: path.to_path_buf(),
                file_sha256: String::new(),
                line,
                column,
                csv_row,
                id: match existing {
                    Some(edit) => edit.id.clone(),
                    None => outcome.mapped.as_ref().map(|m| m.record_id.to_string()),
                },
                original_sha256: match existing {
                    Some(edit) => edit.original_sha256.clone(),
                    None => Some(sha256_hex(source)),
                },
                text: serde_json::to_string(&record).unwrap_or_default(),
            });
        }
        if planned.is_empty() {
            self.status = format!("nothing to fix: no held record without an identity has {from}");
            return;
        }
        self.status = format!(
            "setting the customer id from {from} on {} records{}…",
            planned.len(),
            if skipped > 0 {
                format!(
                    " ({skipped} selected records skipped: not held for identity, or no {from})"
                )
            } else {
                String::new()
            }
        );
        self.change_edits(move |edits| {
            let mut hashes: std::collections::HashMap<std::path::PathBuf, String> =
                std::collections::HashMap::new();
            let planned = planned
                .into_iter()
                .map(|mut edit| {
                    let hash = match hashes.get(&edit.file) {
                        Some(hash) => hash.clone(),
                        None => {
                            let hash = file_sha256(&edit.file)?;
                            hashes.insert(edit.file.clone(), hash.clone());
                            hash
                        }
                    };
                    edit.file_sha256 = hash;
                    Ok(edit)
                })
                .collect::<Result<Vec<Edit>, crate::edits::EditsError>>()?;
            edits.apply_all(planned).map(|_| ())
        });
    }
}
