//! The path box: wherever a file is chosen (Open, Add, Export, a rules file), a path can be
//! typed or pasted, with folder and file names completed from the disk, with or without a
//! system file dialog ("Browse…" opens one where the desktop has it).

use std::path::{Path, PathBuf};

use egui::RichText;

use super::commands::{Command, OpenMode, Pick};

/// Most completions listed under the field.
const COMPLETIONS_MAX: usize = 200;

/// An open path box.
#[derive(Debug, Clone, PartialEq)]
pub struct PathBox {
    /// What the path is for.
    pub pick: Pick,
    /// The path as typed.
    pub text: String,
    /// Names in the typed path's folder that start with what follows its last `/`
    /// (folders end with `/`), sorted, folders first.
    pub completions: Vec<String>,
    /// A note under the field (why the system dialog did not open, why a path is refused).
    pub note: Option<String>,
    /// A system file dialog is open.
    pub browsing: bool,
}

impl PathBox {
    /// A box for `pick`, starting from `start` (a folder or file).
    pub fn new(pick: Pick, start: String) -> Self {
        let mut path_box = PathBox {
            pick,
            text: start,
            completions: Vec::new(),
            note: None,
            browsing: false,
        };
        path_box.complete();
        path_box
    }

    /// The box's title and its confirm button.
    pub fn labels(&self) -> (&'static str, &'static str) {
        match self.pick {
            Pick::Open(OpenMode::Replace) => ("Open CleverTap files", "Open"),
            Pick::Open(OpenMode::Add) => ("Add CleverTap files", "Add"),
            Pick::Rules => ("Use a mapping rules file", "Use these rules"),
            Pick::Export(..) => ("Export mParticle batches to", "Export"),
            Pick::Report => ("Save the report (HTML) to", "Save report"),
            Pick::SaveRules => ("Save the rules draft as", "Save"),
            Pick::Compare => (
                "Compare the loaded files with (a file or folder)",
                "Compare",
            ),
            Pick::SaveEdits => ("Save the edits as", "Save"),
        }
    }

    /// Changes the text and lists the completions again.
    pub fn set_text(&mut self, text: String) {
        self.text = text;
        self.note = None;
        self.complete();
    }

    /// Lists the entries of the typed folder that start with the typed name.
    fn complete(&mut self) {
        self.completions = completions(&self.text);
    }

    /// The longest text every completion starts with (what Tab fills in).
    pub fn common_completion(&self) -> Option<String> {
        let (folder, _) = split(&self.text);
        let first = self.completions.first()?;
        let common = self
            .completions
            .iter()
            .fold(first.as_str(), |common, name| {
                let len = common
                    .char_indices()
                    .zip(name.chars())
                    .take_while(|((_, a), b)| a == b)
                    .last()
                    .map_or(0, |((i, a), _)| i + a.len_utf8());
                &common[..len]
            });
        Some(format!("{folder}{common}"))
    }

    /// The path to use, or why it cannot be used.
    pub fn chosen(&self) -> Result<PathBuf, String> {
        let text = self.text.trim();
        if text.is_empty() {
            return Err("type or paste a path".into());
        }
        let path = expand_home(text);
        match self.pick {
            Pick::Open(_) | Pick::Rules | Pick::Compare if !path.exists() => {
                Err(format!("no such file or folder: {}", path.display()))
            }
            Pick::Rules if path.is_dir() => Err(format!(
                "{} is a folder: choose the rules file (.toml) inside it",
                path.display()
            )),
            Pick::Export(..) | Pick::SaveRules | Pick::SaveEdits | Pick::Report
                if path.is_dir() =>
            {
                Err(format!(
                    "{} is a folder: add a file name to it",
                    path.display()
                ))
            }
            Pick::Export(..) | Pick::SaveRules | Pick::SaveEdits | Pick::Report => {
                match path.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() && !parent.is_dir() => {
                        Err(format!("the folder {} does not exist", parent.display()))
                    }
                    _ => Ok(path),
                }
            }
            _ => Ok(path),
        }
    }
}

/// `~/x` → the home folder's `x`.
fn expand_home(text: &str) -> PathBuf {
    match (text.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(text),
    }
}

/// The folder part (up to and with the last `/`) and the name being typed.
fn split(text: &str) -> (&str, &str) {
    match text.rfind('/') {
        Some(at) => (&text[..=at], &text[at + 1..]),
        None => ("", text),
    }
}

/// Entries of the typed folder whose names start with the typed name, folders first.
pub fn completions(text: &str) -> Vec<String> {
    let (folder, name) = split(text);
    let dir = if folder.is_empty() {
        PathBuf::from(".")
    } else {
        expand_home(folder)
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut found: Vec<(bool, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let entry_name = entry.file_name().to_string_lossy().into_owned();
            let hidden = entry_name.starts_with('.') && !name.starts_with('.');
            if hidden || !entry_name.starts_with(name) {
                return None;
            }
            let is_dir = entry.path().is_dir();
            Some((!is_dir, if is_dir { entry_name + "/" } else { entry_name }))
        })
        .collect();
    found.sort();
    found.truncate(COMPLETIONS_MAX);
    found.into_iter().map(|(_, name)| name).collect()
}

/// Draws the path box as a modal window.
pub fn path_box_ui(ctx: &egui::Context, path_box: &PathBox, commands: &mut Vec<Command>) {
    let (title, confirm) = path_box.labels();
    egui::Modal::new(egui::Id::unique("path_box")).show(ctx, |ui| {
        ui.set_width(620.0);
        ui.heading(title);
        let mut text = path_box.text.clone();
        let mut submit = false;
        ui.horizontal(|ui| {
            let label = ui.label("Path");
            let id = ui.make_persistent_id("path_box_text");
            // Tab completes the common part of the names listed below (taken before the field
            // would move the keyboard focus with it).
            if ui.memory(|m| m.has_focus(id))
                && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Tab))
                && let Some(common) = path_box.common_completion()
            {
                text = common;
            }
            let response = ui
                .add(
                    egui::TextEdit::singleline(&mut text)
                        .id(id)
                        .desired_width(460.0)
                        .hint_text("/path/to/export.jsonl.gz or a folder"),
                )
                .labelled_by(label.id);
            if !response.has_focus() && !response.lost_focus() {
                response.request_focus();
            }
            submit = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        });
        if text != path_box.text {
            commands.push(Command::SetPathText(text));
        }
        if let Some(note) = &path_box.note {
            ui.label(
                RichText::new(note).color(super::theme::severity_color(2, ui.visuals().dark_mode)),
            );
        }
        if !path_box.completions.is_empty() {
            egui::ScrollArea::vertical()
                .id_salt("path_completions")
                .max_height(220.0)
                .show(ui, |ui| {
                    let (folder, _) = split(&path_box.text);
                    for name in &path_box.completions {
                        if ui
                            .selectable_label(false, RichText::new(name).monospace())
                            .clicked()
                        {
                            commands.push(Command::SetPathText(format!("{folder}{name}")));
                        }
                    }
                });
        }
        ui.separator();
        ui.horizontal(|ui| {
            if ui.button(confirm).clicked() || submit {
                commands.push(Command::ConfirmPath);
            }
            ui.add_enabled_ui(!path_box.browsing, |ui| {
                if ui
                    .button("Browse…")
                    .on_hover_text("The system's file dialog (needs xdg-desktop-portal or zenity)")
                    .clicked()
                {
                    commands.push(Command::BrowsePath);
                }
            });
            if ui.button("Cancel").clicked() {
                commands.push(Command::ClosePathBox);
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_folders_first_and_the_common_prefix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("exports")).unwrap();
        std::fs::write(dir.path().join("export-1.jsonl"), "").unwrap();
        std::fs::write(dir.path().join("export-2.jsonl"), "").unwrap();
        std::fs::write(dir.path().join(".hidden"), "").unwrap();
        let base = format!("{}/", dir.path().display());
        let mut path_box = PathBox::new(Pick::Rules, format!("{base}exp"));
        assert_eq!(
            path_box.completions,
            vec!["exports/", "export-1.jsonl", "export-2.jsonl"]
        );
        assert_eq!(
            path_box.common_completion().as_deref(),
            Some(format!("{base}export").as_str())
        );
        path_box.set_text(format!("{base}export-"));
        assert_eq!(
            path_box.common_completion().as_deref(),
            Some(format!("{base}export-").as_str())
        );
        path_box.set_text(base.clone());
        assert!(!path_box.completions.iter().any(|n| n == ".hidden"));
        assert!(path_box.chosen().is_err(), "a folder is not a rules file");
        path_box.set_text(format!("{base}export-1.jsonl"));
        assert_eq!(
            path_box.chosen().unwrap(),
            dir.path().join("export-1.jsonl")
        );
    }
}
