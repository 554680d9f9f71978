//! The filter bar: free text, event name, identity, status, time range and file.

use egui::RichText;

use super::commands::Command;
use super::query::{Filter, parse_time_bound};
use super::state::App;
use crate::records::STATUSES;

/// Most event names listed in the event menu.
const EVENT_MENU_MAX: usize = 500;

/// Draws the filter bar and proposes the filter when it changed.
pub fn filter_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    let store = app.records.store();
    let mut edited = app.filter_bar.draft.clone();
    let draft = &mut edited;
    let mut time_error = None;
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Search");
        let search = ui
            .add(
                egui::TextEdit::singleline(&mut draft.text)
                    .hint_text("names and values (Ctrl+F)")
                    .desired_width(200.0),
            )
            .labelled_by(label.id);
        if app.filter_bar.request_focus.take() {
            search.request_focus();
        }

        let label = ui.label("Event");
        let shown = if draft.event.is_empty() {
            "any".to_string()
        } else {
            draft.event.clone()
        };
        let combo = egui::ComboBox::from_id_salt("event_filter")
            .selected_text(shown)
            .width(170.0)
            .height(400.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut draft.event, String::new(), "any");
                let mut names: Vec<&str> = store
                    .event_names
                    .iter()
                    .map(|&id| store.strings.get(id))
                    .collect();
                names.sort_unstable_by_key(|n| n.to_lowercase());
                names.dedup();
                for name in names.into_iter().take(EVENT_MENU_MAX) {
                    ui.selectable_value(&mut draft.event, name.to_string(), name);
                }
            });
        combo.response.labelled_by(label.id);

        let label = ui.label("Identity");
        ui.add(
            egui::TextEdit::singleline(&mut draft.identity)
                .hint_text("customer id or email")
                .desired_width(140.0),
        )
        .labelled_by(label.id);

        let label = ui.label("Status");
        let shown = draft
            .status
            .and_then(|s| STATUSES.get(usize::from(s)))
            .map_or("any", |s| s.as_str());
        let combo = egui::ComboBox::from_id_salt("status_filter")
            .selected_text(shown)
            .width(90.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut draft.status, None, "any");
                for (code, status) in STATUSES.iter().enumerate() {
                    ui.selectable_value(&mut draft.status, Some(code as u8), status.as_str());
                }
            });
        combo.response.labelled_by(label.id);

        let label = ui.label("From");
        ui.add(
            egui::TextEdit::singleline(&mut draft.time_from)
                .hint_text("YYYY-MM-DD")
                .desired_width(120.0),
        )
        .labelled_by(label.id);
        let label = ui.label("To");
        ui.add(
            egui::TextEdit::singleline(&mut draft.time_to)
                .hint_text("YYYY-MM-DD")
                .desired_width(120.0),
        )
        .labelled_by(label.id);

        let label = ui.label("File");
        let shown = draft
            .file
            .and_then(|f| app.files.get(usize::from(f)))
            .map_or_else(|| "any".to_string(), |f| f.name());
        let combo = egui::ComboBox::from_id_salt("file_filter")
            .selected_text(shown)
            .width(160.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut draft.file, None, "any");
                for (index, file) in app.files.iter().enumerate() {
                    ui.selectable_value(&mut draft.file, Some(index as u16), file.name());
                }
            });
        combo.response.labelled_by(label.id);

        if ui
            .add_enabled(!draft.is_empty(), egui::Button::new("Clear filter"))
            .clicked()
        {
            *draft = Filter::default();
        }

        for (text, end) in [(&draft.time_from, false), (&draft.time_to, true)] {
            if let Err(message) = parse_time_bound(text, end) {
                time_error = Some(message);
            }
        }
        if let Some(message) = &time_error {
            ui.label(
                RichText::new(message)
                    .color(super::theme::severity_color(3, ui.visuals().dark_mode)),
            );
        }
    });
    if edited != app.filter_bar.draft {
        commands.push(Command::SetFilterDraft(edited.clone()));
    }
    if time_error.is_none() && edited != app.query.filter {
        commands.push(Command::SetFilter(edited));
    }
}
