//! The record editor: a record's source JSON (or a broken line's text) in a monospace editor,
//! checked as it is typed (line and column of the first error; the last good text kept), and
//! Apply, which writes the edit to the window's edits file (never the input) and maps the
//! records again with it.

use std::path::Path;

use egui::RichText;

use super::commands::Command;
use crate::records::PlaceKey;

/// An open record editor.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordEditor {
    /// The row being edited.
    pub row: u32,
    /// Its place (file, line, column, CSV row), which the edit is kept under.
    pub place: PlaceKey,
    /// The original record's id, when it had one.
    pub original_id: Option<String>,
    /// The text as it was when the editor opened.
    pub original: String,
    /// The text being edited.
    pub text: String,
    /// Why the text is not one JSON object (line, column, reason), if it is not.
    pub error: Option<String>,
    /// The last text that was one JSON object.
    pub last_good: Option<String>,
    /// Whether the record could not be read (its line is repaired into a record).
    pub unreadable: bool,
    /// An edit is being written.
    pub saving: bool,
    /// The record as mapped now ([`crate::diff::record_view`]), what the live diff starts from.
    pub now_view: Option<serde_json::Value>,
    /// The event name the record's file gives records without one.
    pub fallback: Option<String>,
    /// What the last good text changes in the mapped record (None until it differs from the
    /// original), computed when the text changes, not while drawing.
    pub change: Option<Vec<crate::diff::FieldDiff>>,
}

impl RecordEditor {
    /// An editor over `text`.
    pub fn new(
        row: u32,
        place: PlaceKey,
        original_id: Option<String>,
        text: String,
        unreadable: bool,
    ) -> Self {
        let mut editor = RecordEditor {
            row,
            place,
            original_id,
            original: text.clone(),
            text: String::new(),
            error: None,
            last_good: None,
            unreadable,
            saving: false,
            now_view: None,
            fallback: None,
            change: None,
        };
        editor.set_text(text);
        editor
    }

    /// Changes the text and checks it.
    pub fn set_text(&mut self, text: String) {
        self.error = check(&text).err();
        if self.error.is_none() {
            self.last_good = Some(text.clone());
        }
        self.text = text;
    }
}

/// Whether `text` is one JSON object; else the line, column and reason of the first error.
pub fn check(text: &str) -> Result<(), String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err("a record is one JSON object: { … }".into()),
        Err(error) => Err(format!(
            "line {}, column {}: {}",
            error.line(),
            error.column(),
            error
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
        )),
    }
}

/// The text of line `line` (1-based) of `path`, gzip or not: what a broken line held.
pub fn read_line(path: &Path, line: u64) -> std::io::Result<String> {
    use std::io::{BufRead, Read};
    let mut file = std::fs::File::open(path)?;
    let mut magic = [0u8; 2];
    let gzip = file.read(&mut magic)? == 2 && magic == [0x1f, 0x8b];
    let file = std::fs::File::open(path)?;
    let reader: Box<dyn BufRead> = if gzip {
        Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(
            file,
        )))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    let mut bytes = Vec::new();
    for (index, read) in reader.split(b'\n').enumerate() {
        if index as u64 + 1 == line {
            bytes = read?;
            break;
        }
    }
    // A line held beyond the reader's limit is cut: the editor is for a few KB of JSON.
    bytes.truncate(1 << 20);
    Ok(String::from_utf8_lossy(&bytes)
        .trim_end_matches('\r')
        .to_string())
}

/// Draws the editor as a modal window.
pub fn record_editor_ui(
    ctx: &egui::Context,
    editor: &RecordEditor,
    edits_path: &Path,
    commands: &mut Vec<Command>,
) {
    egui::Modal::new(egui::Id::unique("record_editor")).show(ctx, |ui| {
        ui.set_width(760.0);
        let (path, line, column, _) = &editor.place;
        ui.heading(if editor.unreadable {
            "Repair a broken line"
        } else {
            "Edit the record"
        });
        ui.label(
            RichText::new(format!(
                "{}:{line}:{column} · the input file is never changed; the edit is kept in {}",
                path.display(),
                edits_path.display()
            ))
            .small()
            .weak(),
        );
        let mut text = editor.text.clone();
        let label = ui.label(if editor.unreadable {
            "The line as read (make it one JSON object)"
        } else {
            "Record JSON"
        });
        egui::ScrollArea::vertical()
            .id_salt("record_editor_text")
            .max_height(420.0)
            .show(ui, |ui| {
                let rows = text.lines().count().max(1);
                ui.horizontal_top(|ui| {
                    // Line numbers beside the text, for the error's "line N".
                    let numbers: String = (1..=rows).map(|n| format!("{n:>4}\n")).collect();
                    ui.label(RichText::new(numbers).monospace().weak());
                    let mut layouter = |ui: &egui::Ui, text: &dyn egui::TextBuffer, wrap: f32| {
                        super::theme::code_galley(ui, text.as_str(), "json", wrap)
                    };
                    ui.add(
                        egui::TextEdit::multiline(&mut text)
                            .code_editor()
                            .desired_rows(rows.max(12))
                            .desired_width(f32::INFINITY)
                            .layouter(&mut layouter)
                            .id_salt("record_editor_field"),
                    )
                    .labelled_by(label.id);
                });
            });
        if text != editor.text {
            commands.push(Command::SetEditorText(text));
        }
        let dark = ui.visuals().dark_mode;
        match &editor.error {
            Some(error) => {
                ui.label(
                    RichText::new(format!("Not one JSON object: {error}"))
                        .color(super::theme::severity_color(3, dark)),
                );
                if editor.last_good.is_some() {
                    ui.label(
                        RichText::new("Apply uses the last version that was one JSON object.")
                            .small(),
                    );
                }
            }
            None => {
                ui.label(
                    RichText::new("One JSON object: Apply maps it with the rules in force.")
                        .small(),
                );
            }
        }
        change_ui(ui, editor);
        ui.separator();
        ui.horizontal(|ui| {
            let can_apply = editor
                .last_good
                .as_ref()
                .is_some_and(|t| *t != editor.original)
                && !editor.saving;
            if ui
                .add_enabled(can_apply, egui::Button::new("Apply"))
                .on_hover_text("Keep the edit and map the record again")
                .clicked()
            {
                commands.push(Command::ApplyEdit);
            }
            if ui.button("Back to the original").clicked() {
                commands.push(Command::SetEditorText(editor.original.clone()));
            }
            if ui.button("Cancel").clicked() {
                commands.push(Command::CloseEditor);
            }
            if editor.saving {
                ui.spinner();
            }
        });
    });
}

/// "What this edit changes": the live diff of the mapped record, last good text against now.
fn change_ui(ui: &mut egui::Ui, editor: &RecordEditor) {
    let Some(change) = &editor.change else {
        return;
    };
    egui::CollapsingHeader::new("What this edit changes")
        .id_salt("record_editor_change")
        .default_open(true)
        .show(ui, |ui| {
            ui.set_max_height(220.0);
            super::diff_view::diff_ui(
                ui,
                change,
                super::diff_view::DiffLabels::new("mapped now", "with this edit"),
            );
        });
}

/// The Edits panel: every edit in the edits file, with revert, revert all and send.
pub fn edits_panel_ui(
    ctx: &egui::Context,
    edits: &crate::edits::EditsFile,
    commands: &mut Vec<Command>,
) {
    let mut open = true;
    egui::Window::new(format!("Edits ({})", edits.edits().len()))
        .open(&mut open)
        .default_width(640.0)
        .show(ctx, |ui| {
            ui.label(
                RichText::new(format!(
                    "Kept in {}; the input files are never changed. Replay them headless with --edits.",
                    edits.path().display()
                ))
                .small()
                .weak(),
            );
            if edits.edits().is_empty() {
                ui.label("No edits yet: use \"Edit record…\" in the detail view.");
                return;
            }
            ui.horizontal(|ui| {
                if ui.button("Send the edited records…").clicked() {
                    commands.push(Command::SendEdited);
                }
                if ui.button("Revert all").clicked() {
                    commands.push(Command::RevertAllEdits);
                }
                if ui
                    .button("Save as…")
                    .on_hover_text("Write a copy of the edits file (atomically) for a script: feedlens send --edits FILE")
                    .clicked()
                {
                    commands.push(Command::ShowDialog(super::commands::Pick::SaveEdits));
                }
            });
            ui.separator();
            egui::ScrollArea::vertical()
                .id_salt("edits_list")
                .max_height(360.0)
                .show(ui, |ui| {
                    for (index, edit) in edits.edits().iter().enumerate() {
                        ui.horizontal(|ui| {
                            if ui.small_button("Revert").clicked() {
                                commands.push(Command::RevertEdit(index));
                            }
                            if ui
                                .small_button("Compare")
                                .on_hover_text("Show the record, and its mapped event before the edit and after, field by field")
                                .clicked()
                            {
                                commands.push(Command::CompareEdit(index));
                            }
                            let name = edit
                                .file
                                .file_name()
                                .map_or_else(|| edit.file.display().to_string(), |n| {
                                    n.to_string_lossy().into_owned()
                                });
                            ui.label(
                                RichText::new(format!("{name}:{}", edit.line)).monospace(),
                            )
                            .on_hover_text(edit.file.display().to_string());
                            let was = edit.id.as_deref().unwrap_or("a broken line");
                            ui.label(RichText::new(format!("was {was}")).small().weak());
                        });
                        let shown: String = edit.text.chars().take(160).collect();
                        ui.label(RichText::new(shown).monospace().small());
                        ui.add_space(4.0);
                    }
                });
        });
    if !open {
        commands.push(Command::ShowEditsPanel(false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parse_error_names_its_line_and_column() {
        assert!(check("{\"a\": 1}").is_ok());
        let error = check("{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        assert!(error.starts_with("line 3, column 7"), "{error}");
        assert!(check("[1]").is_err());
    }

    #[test]
    fn reads_a_line_of_a_plain_or_gzip_file() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.jsonl");
        std::fs::write(&plain, "one\ntwo\r\nthree\n").unwrap();
        assert_eq!(read_line(&plain, 2).unwrap(), "two");
        let gz = dir.path().join("a.jsonl.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, b"one\ntwo\nthree").unwrap();
        std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
        assert_eq!(read_line(&gz, 3).unwrap(), "three");
    }
}
