//! What the record editor's commands do: open it on a record, keep an edit (written to the
//! edits file off the UI thread) and map the records again with it.

use std::collections::HashSet;
use std::sync::Arc;

use super::commands::Command;
use super::editor::{RecordEditor, read_line};
use super::format::counted;
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
        let mut editor = RecordEditor::new(
            row,
            place,
            original_id,
            text,
            outcome.status == RecordStatus::Unreadable,
        );
        editor.now_view = Some(crate::diff::record_view(&outcome));
        // The file's event name stands in only for records that have none of their own.
        let own_name = outcome.source.as_deref().is_some_and(|source| {
            let record = source_value(source);
            record.get("eventName").is_some() || record.get("evtName").is_some()
        });
        editor.fallback = if own_name || outcome.source.is_none() {
            None
        } else {
            outcome.source_event_name.clone()
        };
        self.editor = Some(editor);
    }

    /// The editor's text changed: check it and, when its last good text changed, map that text
    /// (one record, with the rules in force) for "what this edit changes".
    pub(super) fn set_editor_text(&mut self, text: String) {
        let Some(editor) = &mut self.editor else {
            return;
        };
        let before = editor.last_good.clone();
        editor.set_text(text);
        if editor.last_good == before && editor.change.is_some() {
            return;
        }
        editor.change = match (&editor.last_good, &editor.now_view) {
            (Some(good), Some(now)) if *good != editor.original => {
                let (path, line, column, csv_row) = &editor.place;
                let place = crate::clevertap::Place {
                    file: Arc::clone(path),
                    line: *line,
                    column: *column,
                    csv_row: (*csv_row > 0).then_some(*csv_row),
                };
                // Mapped as Apply keeps it: the compact text.
                let compact = serde_json::from_str::<serde_json::Value>(good)
                    .and_then(|value| serde_json::to_vec(&value))
                    .unwrap_or_else(|_| good.clone().into_bytes());
                let item = crate::clevertap::ReadItem::Record(crate::clevertap::RawRecord {
                    place,
                    payload: crate::clevertap::RawPayload::Json(compact),
                });
                let mapped =
                    crate::pipeline::map_item(&self.engine, item, editor.fallback.as_deref());
                Some(crate::diff::diff_values(
                    now,
                    &crate::diff::record_view(&mapped),
                ))
            }
            _ => None,
        };
    }

    /// Writes a copy of the edits file to `path` (atomically, off the UI thread), for a script
    /// to replay with `--edits`; the window keeps its own file.
    pub(super) fn save_edits_as(&mut self, path: std::path::PathBuf) {
        let bytes = self.edits.to_ndjson();
        let count = self.edits.edits().len();
        let send = self.sender();
        let spawned = crate::thread::spawn_named("feedlens-edits-save", move || {
            let result = crate::edits::write_atomic(&path, &bytes)
                .map(|()| {
                    format!(
                        "saved the edits ({count}) to {}: replay them with feedlens map|check|send --edits {} FILE…",
                        path.display(),
                        path.display()
                    )
                })
                .map_err(|error| format!("the edits were not saved: {error}"));
            send(Msg::EditsSavedAs(result));
        });
        if let Err(error) = spawned {
            self.errors
                .push(crate::thread::start_failed("feedlens-edits-save", &error));
        }
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
    pub(super) fn change_edits<E: std::fmt::Display>(
        &mut self,
        change: impl FnOnce(&mut crate::edits::EditsFile) -> Result<(), E> + Send + 'static,
    ) {
        let mut edits = self.edits.clone();
        let send = self.sender();
        let spawned = crate::thread::spawn_named("feedlens-edit", move || {
            let result = change(&mut edits)
                .map(|()| edits)
                .map_err(|error| error.to_string());
            send(Msg::EditSaved(result));
        });
        match spawned {
            Ok(_) => self.edits_saving += 1,
            Err(error) => {
                self.errors
                    .push(crate::thread::start_failed("feedlens-edit", &error));
                if let Some(editor) = &mut self.editor {
                    editor.saving = false;
                }
            }
        }
    }

    /// The edit is in the edits file: map the records again with it.
    pub(super) fn on_edit_saved(&mut self, result: Result<crate::edits::EditsFile, String>) {
        self.edits_saving = self.edits_saving.saturating_sub(1);
        match result {
            Ok(edits) => {
                self.status = format!(
                    "edit kept in {} ({}); the input file is unchanged",
                    edits.path().display(),
                    counted(edits.edits().len(), "edit", "edits")
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
    /// read, a worker holding the records) and the files must be read again.
    fn apply_edits_in_place(&mut self, before: &crate::edits::EditsFile) -> bool {
        if self.load.is_some() {
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

    /// The row of the edit at `index` of the edits file, if it is loaded.
    pub(super) fn row_of_edit(&self, index: usize) -> Option<u32> {
        let edit = self.edits.edits().get(index)?;
        let places = HashSet::from([(edit.line, edit.column, edit.csv_row.unwrap_or(0))]);
        self.records
            .store()
            .rows_at(&places)
            .into_iter()
            .find(|(_, (path, line, column, csv_row))| {
                edit.is_at(path, *line, *column, (*csv_row > 0).then_some(*csv_row))
            })
            .map(|(row, _)| row as u32)
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
