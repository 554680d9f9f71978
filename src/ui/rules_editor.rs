//! Rules › Edit: the rules in a TOML editor (coloured, line numbers, the error shown at its
//! line), beside the preview of what the draft would change over every loaded record, with
//! Apply, Discard and Save as. From a record: "Add an alias for this event" and "Treat this
//! property as documented", which edit the draft.

use egui::RichText;

use super::commands::{Command, Pick};
use super::format::one_or_many;
use super::rules_draft::RulesEditor as Editor;
use super::state::App;
use super::theme;
use crate::mapping::{FindingKind, Outcome};
use crate::records::preview::{COUNTED_TABS, Preview};
use crate::records::{PROFILE_TAB, STATUSES, record_tab_name};

fn thousands(count: u64) -> String {
    crate::clevertap::pull::format_count(count)
}

/// "1 record", "2 records".
fn records(count: usize) -> String {
    let word = one_or_many(count, "record", "records");
    format!("{} {word}", thousands(count as u64))
}

/// The name of a counted tab.
fn tab_name(tab: u8) -> &'static str {
    if tab == PROFILE_TAB {
        "Users (profiles)"
    } else {
        record_tab_name(tab)
    }
}

fn status_name(code: u8) -> &'static str {
    STATUSES
        .get(usize::from(code))
        .map_or("?", |status| status.as_str())
}

/// Draws the rules editor as a window.
pub fn rules_editor_ui(
    ctx: &egui::Context,
    app: &App,
    editor: &Editor,
    commands: &mut Vec<Command>,
) {
    let mut open = true;
    egui::Window::new("Rules editor")
        .open(&mut open)
        .default_size([1100.0, 680.0])
        .min_width(700.0)
        .show(ctx, |ui| {
            header_ui(ui, editor, commands);
            ui.separator();
            ui.columns(2, |columns| {
                text_ui(&mut columns[0], editor, commands);
                preview_ui(&mut columns[1], app, editor, commands);
            });
        });
    if !open {
        commands.push(Command::DiscardRulesDraft);
    }
}

fn header_ui(ui: &mut egui::Ui, editor: &Editor, commands: &mut Vec<Command>) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("Draft of {}", editor.from)).strong());
        if let Some(path) = &editor.save_path {
            ui.label(
                RichText::new(format!("saves to {}", path.display()))
                    .small()
                    .weak(),
            );
        }
    });
    ui.horizontal(|ui| {
        let valid = editor.valid.is_some();
        if ui
            .add_enabled(valid, egui::Button::new("Apply"))
            .on_hover_text("Make the last valid draft the rules in force and map the records again")
            .clicked()
        {
            commands.push(Command::ApplyRulesDraft);
        }
        if ui
            .button("Discard")
            .on_hover_text("Close the editor; the rules in force stay as they are")
            .clicked()
        {
            commands.push(Command::DiscardRulesDraft);
        }
        if ui
            .add_enabled(editor.error.is_none(), egui::Button::new("Save as…"))
            .on_hover_text("Write the draft to a rules file (atomically); the built-in rules are never written over")
            .clicked()
        {
            commands.push(Command::ShowDialog(Pick::SaveRules));
        }
        if let Some(note) = &editor.note {
            ui.label(RichText::new(note).small());
        }
    });
}

fn text_ui(ui: &mut egui::Ui, editor: &Editor, commands: &mut Vec<Command>) {
    let dark = ui.visuals().dark_mode;
    match &editor.error {
        Some(error) => {
            ui.label(
                RichText::new(format!(
                    "line {}, column {}: {}",
                    error.line, error.column, error.reason
                ))
                .color(theme::severity_color(3, dark)),
            );
            ui.label(
                RichText::new("The preview shows the last valid draft.")
                    .small()
                    .weak(),
            );
        }
        None => {
            ui.label(
                RichText::new("Valid rules: the preview maps every loaded record with them.")
                    .small()
                    .color(theme::severity_color(0, dark)),
            );
        }
    }
    let mut text = editor.text.clone();
    let error_line = editor.error.as_ref().map(|e| e.line);
    egui::ScrollArea::both()
        .id_salt("rules_editor_text")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.horizontal_top(|ui| {
                line_numbers_ui(ui, text.lines().count().max(1), error_line, dark);
                // No wrapping: each line of the text beside its number.
                let mut layouter = |ui: &egui::Ui, text: &dyn egui::TextBuffer, _wrap: f32| {
                    theme::code_galley(ui, text.as_str(), "toml", f32::INFINITY)
                };
                let field = ui.add(
                    egui::TextEdit::multiline(&mut text)
                        .code_editor()
                        .desired_width(f32::INFINITY)
                        .layouter(&mut layouter)
                        .id_salt("rules_editor_field"),
                );
                // The field has no visible label (the window's title says what it is); screen
                // readers and UI tests find it by this name.
                ui.ctx().accesskit_node_builder(field.id, |node| {
                    node.set_label("Rules (TOML)");
                });
            });
        });
    if text != editor.text {
        commands.push(Command::SetRulesText(text));
    }
}

fn line_numbers_ui(ui: &mut egui::Ui, rows: usize, error_line: Option<usize>, dark: bool) {
    let mut job = egui::text::LayoutJob::default();
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    for row in 1..=rows {
        let color = if Some(row) == error_line {
            theme::severity_color(3, dark)
        } else {
            ui.visuals().weak_text_color()
        };
        job.append(
            &format!("{row:>4}\n"),
            0.0,
            egui::TextFormat::simple(font.clone(), color),
        );
    }
    ui.label(job);
}

fn preview_ui(ui: &mut egui::Ui, app: &App, editor: &Editor, commands: &mut Vec<Command>) {
    ui.heading("Preview");
    if let Some(run) = &editor.running {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!(
                "mapping {} of {} records with the draft…",
                thousands(run.done.load(std::sync::atomic::Ordering::Relaxed) as u64),
                thousands(app.record_count() as u64)
            ));
        });
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    } else if app.load.is_some() {
        ui.label("waiting for the files to be read…");
    }
    let Some(result) = &editor.result else {
        if editor.valid.is_none() {
            ui.label("Nothing to preview until the draft is valid.");
        }
        return;
    };
    let preview = &result.preview;
    if !editor.preview_current(app.data_version) {
        ui.label(
            RichText::new("(of an earlier draft: the new one is being mapped)")
                .small()
                .weak(),
        );
    }
    ui.label(
        RichText::new(format!(
            "{} mapped with the draft in {:.1} s",
            records(preview.rows),
            result.took.as_secs_f64()
        ))
        .small()
        .weak(),
    );
    summary_ui(ui, preview);
    ui.separator();
    changes_ui(ui, editor, preview, commands);
    if let Some(change) = &editor.change {
        ui.separator();
        ui.label(RichText::new(format!("Record {}: in force → draft", change.row + 1)).strong());
        if ui.small_button("Show in the table").clicked() {
            commands.push(Command::FocusRecord(change.row));
        }
        if change.fields.is_empty() {
            ui.label("The mapped record is the same (its tab or status changes only).");
        } else {
            super::diff_view::diff_ui(
                ui,
                &change.fields,
                super::diff_view::DiffLabels::new("rules in force", "draft"),
            );
        }
    }
}

/// The counts: moves per tab, changed statuses and events.
fn summary_ui(ui: &mut egui::Ui, preview: &Preview) {
    let dark = ui.visuals().dark_mode;
    if preview.changed == 0 {
        ui.label(RichText::new("No record would change.").color(theme::severity_color(0, dark)));
        return;
    }
    let moves: Vec<String> = (0..COUNTED_TABS as u8)
        .filter_map(|tab| {
            let delta = preview.tab_delta(tab);
            (delta != 0).then(|| format!("{} {delta:+}", tab_name(tab)))
        })
        .collect();
    if !moves.is_empty() {
        ui.label(RichText::new(moves.join(", ").replace('-', "−")).strong());
    }
    for ((from, to), count) in &preview.moves {
        ui.label(format!(
            "{} {} → {}",
            records(*count),
            tab_name(*from),
            tab_name(*to)
        ));
    }
    ui.label(format!(
        "{} {} status · {} {} a different event or user · {} changed in all",
        records(preview.status_changed),
        one_or_many(preview.status_changed, "changes", "change"),
        records(preview.sent_changed),
        one_or_many(preview.sent_changed, "sends", "send"),
        thousands(preview.changed as u64)
    ));
}

/// The changed records, each opening its diff.
fn changes_ui(ui: &mut egui::Ui, editor: &Editor, preview: &Preview, commands: &mut Vec<Command>) {
    if preview.listed.is_empty() {
        return;
    }
    if preview.listed.len() < preview.changed {
        ui.label(
            RichText::new(format!(
                "the first {} changed records:",
                thousands(preview.listed.len() as u64)
            ))
            .small(),
        );
    }
    let dark = ui.visuals().dark_mode;
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    egui::ScrollArea::vertical()
        .id_salt("rules_preview_changes")
        .max_height(220.0)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, preview.listed.len(), |ui, range| {
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
            for change in &preview.listed[range] {
                let mut what = Vec::new();
                if change.moved() {
                    what.push(format!(
                        "{} → {}",
                        tab_name(change.tab.0),
                        tab_name(change.tab.1)
                    ));
                }
                if change.status.0 != change.status.1 {
                    what.push(format!(
                        "{} → {}",
                        status_name(change.status.0),
                        status_name(change.status.1)
                    ));
                }
                if change.sent_changed {
                    what.push("sends another event".into());
                }
                let label = RichText::new(format!(
                    "#{:<7} {:<26} {}",
                    change.row + 1,
                    change.name_after,
                    what.join(" · ")
                ))
                .monospace()
                .color(theme::status_color(change.status.1, dark));
                let shown = editor.change.as_ref().map(|c| c.row) == Some(change.row);
                if ui.selectable_label(shown, label).clicked() {
                    commands.push(Command::ShowRuleChange(change.row));
                }
            }
        });
}

/// "Rules…" on a record: add an alias for an unknown event name, or treat an undocumented
/// property as documented. Each edits the draft and opens the preview.
pub fn record_rules_menu(
    ui: &mut egui::Ui,
    app: &App,
    outcome: &Outcome,
    commands: &mut Vec<Command>,
) {
    let has = |kind: FindingKind| outcome.findings.iter().any(|f| f.kind == kind);
    let unknown = has(FindingKind::UnknownEvent);
    let undocumented = has(FindingKind::UndocumentedAttribute);
    let Some(spelling) = outcome.source_event_name.clone() else {
        return;
    };
    if !unknown && !undocumented {
        return;
    }
    ui.menu_button("Rules…", |ui| {
        if unknown {
            ui.menu_button(format!("Add an alias: \"{spelling}\" is…"), |ui| {
                egui::ScrollArea::vertical()
                    .max_height(360.0)
                    .show(ui, |ui| {
                        for event in &app.engine.rules().events {
                            if ui.button(&event.name).clicked() {
                                commands.push(Command::AddAlias {
                                    spelling: spelling.clone(),
                                    name: event.name.clone(),
                                });
                                ui.close();
                            }
                        }
                    });
            });
        }
        if undocumented {
            let event = app
                .engine
                .rules()
                .canonical_name(&spelling)
                .unwrap_or(&spelling)
                .to_string();
            ui.menu_button(format!("Treat as documented for {event}…"), |ui| {
                for property in undocumented_properties(app, outcome) {
                    if ui.button(&property).clicked() {
                        commands.push(Command::DocumentAttribute {
                            event: event.clone(),
                            property,
                        });
                        ui.close();
                    }
                }
            });
        }
    });
}

/// The record's event properties that the rules in force do not list for its event.
fn undocumented_properties(app: &App, outcome: &Outcome) -> Vec<String> {
    let rules = app.engine.rules();
    let Some(name) = &outcome.source_event_name else {
        return Vec::new();
    };
    let Some((index, _)) = rules.event(name) else {
        return Vec::new();
    };
    let Some(source) = &outcome.source else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Object(record)) = serde_json::from_slice(source) else {
        return Vec::new();
    };
    // The properties' object, as the findings name it (`eventProps.X`, or the object itself).
    let props_key = outcome
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::UndocumentedAttribute)
        .find_map(|f| f.field.as_deref())
        .map_or("eventProps", |field| {
            field.split('.').next().unwrap_or(field)
        });
    let Some(serde_json::Value::Object(props)) = record.get(props_key) else {
        return Vec::new();
    };
    props
        .keys()
        .filter(|key| !rules.is_documented(index, key))
        .cloned()
        .collect()
}
