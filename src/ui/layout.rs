//! The window's panels in order: menu, tool bar, progress, errors, tabs, filter, status line,
//! send panel, detail view, and the central table or summary.

use egui::{Align, Layout, RichText};

use super::commands::{Command, OpenMode, Pick, Scope};
use super::format::{counted, human_bytes};
use super::prefs::{ThemePref, file_set_label};
use super::state::App;
use super::tab::Tab;
use crate::records::batches::ExportFormat;
use crate::records::{RECORD_TABS, record_tab_always_shown};

/// Draws the whole window from the state, read only; returns what the panels asked for.
pub fn window_ui(ui: &mut egui::Ui, app: &App) -> Vec<Command> {
    let mut commands = Vec::new();
    egui::Panel::top("menu").show(ui, |ui| menu_ui(ui, app, &mut commands));
    egui::Panel::top("toolbar").show(ui, |ui| {
        toolbar_ui(ui, app, &mut commands);
        errors_ui(ui, app, &mut commands);
        tabs_ui(ui, app, &mut commands);
        if app.tab != Tab::Summary {
            super::filter::filter_ui(ui, app, &mut commands);
        }
    });
    // Reading progress sits at the bottom, beside the status line: the tab row above must not
    // move while files load, or a click aimed at a tab lands on another.
    egui::Panel::bottom("status").show(ui, |ui| {
        if app.load.is_some() {
            progress_ui(ui, app, &mut commands);
        }
        status_ui(ui, app);
    });
    if app.send.open {
        egui::Panel::right("send")
            .default_size(340.0)
            .min_size(260.0)
            .show(ui, |ui| {
                super::send_panel::send_panel_ui(ui, app, &mut commands)
            });
    }
    if app.tab != Tab::Summary {
        // However it was sized (or remembered from a taller window), the detail leaves the
        // table at least a third of the height below the tabs and filters.
        let room = ui.available_height();
        egui::Panel::bottom("detail")
            .resizable(true)
            .default_size(400.0)
            .size_range(160.0..=(room * 2.0 / 3.0).max(160.0))
            .show(ui, |ui| {
                if app.tab == Tab::Users {
                    super::users::batch_detail_ui(ui, app, &mut commands);
                } else {
                    super::detail::detail_ui(ui, app, &mut commands);
                }
                // A resizable panel keeps its size only if its contents fill it.
                ui.take_available_space();
            });
    }
    egui::CentralPanel::default().show(ui, |ui| match app.tab {
        Tab::Records(_) => super::table::records_table_ui(ui, app, &mut commands),
        Tab::Users => super::users::users_table_ui(ui, app, &mut commands),
        Tab::Summary => super::summary::summary_ui(ui, app, &mut commands),
    });
    drop_ui(ui, app, &mut commands);
    if app.edits_panel {
        super::editor::edits_panel_ui(ui.ctx(), &app.edits, &mut commands);
    }
    super::compare_view::compare_windows_ui(ui.ctx(), app, &mut commands);
    if let Some(editor) = &app.editor {
        super::editor::record_editor_ui(ui.ctx(), editor, app.edits.path(), &mut commands);
    }
    if let Some(dialog) = &app.bucket_dialog {
        super::bucket_dialog::bucket_dialog_ui(ui.ctx(), dialog, &mut commands);
    }
    if let Some(dialog) = &app.pull_dialog {
        let documented: Vec<&str> = app
            .engine
            .rules()
            .events
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        super::pull_dialog::pull_dialog_ui(ui.ctx(), dialog, &documented, &mut commands);
    }
    if let Some(editor) = &app.rules_editor {
        super::rules_editor::rules_editor_ui(ui.ctx(), app, editor, &mut commands);
    }
    if let Some(path_box) = &app.path_box {
        super::path_box::path_box_ui(ui.ctx(), path_box, &mut commands);
    }
    commands
}

fn menu_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("Open files…  (Ctrl+O)").clicked() {
                commands.push(Command::ShowDialog(Pick::Open(OpenMode::Replace)));
            }
            if ui.button("Add files…  (Ctrl+Shift+O)").clicked() {
                commands.push(Command::ShowDialog(Pick::Open(OpenMode::Add)));
            }
            if !app.prefs.last_files.is_empty()
                && ui
                    .button("Reopen the last files")
                    .on_hover_text(file_set_label(&app.prefs.last_files))
                    .clicked()
            {
                commands.push(Command::Open(
                    app.prefs.last_files.clone(),
                    OpenMode::Replace,
                ));
            }
            if ui.button("Open from bucket…").clicked() {
                commands.push(Command::Bucket(super::bucket_dialog::BucketAction::Show));
            }
            if ui.button("Pull from CleverTap…").clicked() {
                commands.push(Command::Pull(super::pull_dialog::PullAction::Show));
            }
            ui.menu_button("Open recent", |ui| {
                if app.prefs.recent.is_empty() {
                    ui.label("nothing yet");
                }
                for set in &app.prefs.recent {
                    let label = file_set_label(set);
                    let hover = set
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join("\n");
                    if ui.button(label).on_hover_text(hover).clicked() {
                        commands.push(Command::Open(set.clone(), OpenMode::Replace));
                    }
                }
            });
            ui.separator();
            if ui
                .add_enabled(!app.files.is_empty(), egui::Button::new("Compare with…"))
                .on_hover_text("Compare the loaded files (with the rules in force and the window's edits) with another file or folder, record by record")
                .clicked()
            {
                commands.push(Command::ShowDialog(Pick::Compare));
            }
            export_menu(ui, app, commands);
            if ui
                .add_enabled(!app.records.store().is_empty(), egui::Button::new("Save report…"))
                .on_hover_text("One self-contained HTML file of the loaded records' check (masked when View › Mask personal data is on)")
                .clicked()
            {
                commands.push(Command::ShowDialog(Pick::Report));
            }
            ui.separator();
            if ui.button("Quit").clicked() {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
        ui.menu_button("Edit", |ui| {
            if ui.button("Find  (Ctrl+F)").clicked() {
                commands.push(Command::FocusSearch);
            }
            if ui.button("Select all in view  (Ctrl+A)").clicked() {
                commands.push(Command::SelectAllInView);
            }
            if ui
                .button("Select all in tab, ignoring the filter  (Ctrl+Shift+A)")
                .clicked()
            {
                commands.push(Command::SelectAllInTab);
            }
            if ui.button("Clear selection  (Esc)").clicked() {
                commands.push(Command::ClearSelection);
            }
            ui.separator();
            if ui
                .button(format!("Edits ({})…", app.edits.edits().len()))
                .on_hover_text("The records fixed in this window: revert, send")
                .clicked()
            {
                commands.push(Command::ShowEditsPanel(true));
            }
            if ui
                .add_enabled(!app.edits.edits().is_empty(), egui::Button::new("Save the edits as…"))
                .on_hover_text("Write a copy of the edits file for a script: feedlens send --edits FILE")
                .clicked()
            {
                commands.push(Command::ShowDialog(Pick::SaveEdits));
            }
            if let Some(record) = app.focus {
                ui.separator();
                if ui.button("Copy event as JSON").clicked() {
                    commands.push(Command::CopyEvent(record));
                }
            }
        });
        ui.menu_button("Rules", |ui| {
            ui.label(format!("In use: {}", app.engine.rules().source_name));
            if ui
                .button("Edit rules…")
                .on_hover_text("Edit the rules in force (the built-in ones as a copy) with a preview of what changes")
                .clicked()
            {
                commands.push(Command::OpenRulesEditor);
            }
            if ui
                .add_enabled(
                    app.rules_draft.is_none(),
                    egui::Button::new("Reload rules file  (Ctrl+R)"),
                )
                .on_disabled_hover_text(super::handler::UNSAVED_DRAFT)
                .clicked()
            {
                commands.push(Command::ReloadRules);
            }
            if ui.button("Use a rules file…").clicked() {
                commands.push(Command::ShowDialog(Pick::Rules));
            }
            if ui.button("Use the built-in rules").clicked() {
                commands.push(Command::UseRules(None));
            }
        });
        ui.menu_button("View", |ui| {
            for (theme, name) in [
                (ThemePref::System, "System theme"),
                (ThemePref::Light, "Light"),
                (ThemePref::Dark, "Dark"),
            ] {
                if ui.radio(app.prefs.theme == theme, name).clicked() {
                    commands.push(Command::SetTheme(theme));
                }
            }
            ui.separator();
            let mut masked = app.masked();
            if ui
                .checkbox(&mut masked, "Mask personal data")
                .on_hover_text("Identities, names, emails, phones, tokens and unknown properties as stable pseudonyms in every view, export, copy and screenshot (the allowlist is in the rules' [mask] section)")
                .changed()
            {
                commands.push(Command::SetMask(masked));
            }
            if ui
                .checkbox(&mut app.send.open.clone(), "Send panel")
                .clicked()
            {
                commands.push(Command::ShowSendPanel(!app.send.open));
            }
        });
    });
}

fn export_menu(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    ui.menu_button("Export mParticle batches", |ui| {
        let selected = app.selection.len();
        for (scope, label) in [
            (Scope::Selection, format!("selection ({selected} records)")),
            (Scope::All, "all records".to_string()),
        ] {
            ui.add_enabled_ui(scope == Scope::All || selected > 0, |ui| {
                for (format, name) in [
                    (ExportFormat::Ndjson, "NDJSON"),
                    (ExportFormat::JsonArray, "JSON array"),
                ] {
                    if ui.button(format!("{label} as {name}…")).clicked() {
                        commands.push(Command::ShowDialog(Pick::Export(scope, format)));
                    }
                }
            });
        }
        let mut held = app.prefs.export_held;
        if ui.checkbox(&mut held, "include held records").changed() {
            commands.push(Command::SetExportHeld(held));
        }
    });
}

fn toolbar_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    // Wrapped: in a narrow window a button that does not fit goes, whole, to a second line
    // rather than out of view.
    ui.horizontal_wrapped(|ui| {
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        if ui.button("Open…").clicked() {
            commands.push(Command::ShowDialog(Pick::Open(OpenMode::Replace)));
        }
        if ui.button("Add…").clicked() {
            commands.push(Command::ShowDialog(Pick::Open(OpenMode::Add)));
        }
        ui.separator();
        ui.label("Rules:");
        ui.label(RichText::new(&app.engine.rules().source_name).monospace())
            .on_hover_text("The mapping rules in use (Rules menu to change)");
        if ui
            .add_enabled(app.rules_draft.is_none(), egui::Button::new("Reload rules"))
            .on_hover_text("Read the rules file again and re-map the loaded records (Ctrl+R)")
            .on_disabled_hover_text(super::handler::UNSAVED_DRAFT)
            .clicked()
        {
            commands.push(Command::ReloadRules);
        }
        ui.separator();
        let selected = app.selection.len();
        if ui
            .add_enabled(
                selected > 0,
                egui::Button::new(format!("Send {selected} selected…")),
            )
            .on_hover_text("Open the send panel for the selected records")
            .clicked()
        {
            commands.push(Command::ShowSendPanel(true));
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            if app.masked() {
                ui.label(
                    RichText::new("masked")
                        .strong()
                        .background_color(super::theme::severity_color(2, app.dark()))
                        .color(egui::Color32::BLACK),
                )
                .on_hover_text("Personal data is masked in every view, export and screenshot (View › Mask personal data)");
            }
            // Cut short, not drawn over the buttons, in a narrow window (the status line has
            // the counts too).
            ui.add(
                egui::Label::new(format!(
                    "{} · {}",
                    counted(app.files.len(), "file", "files"),
                    counted(app.records.store().len(), "record", "records")
                ))
                .truncate(),
            );
        });
    });
}

fn progress_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    let Some(load) = &app.load else { return };
    let p = &load.progress;
    ui.horizontal(|ui| {
        let fraction = if p.bytes_total > 0 {
            p.bytes_read as f32 / p.bytes_total as f32
        } else {
            0.0
        };
        let file = p
            .file
            .as_ref()
            .and_then(|f| f.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = format!(
            "Reading {} ({}/{}) · {} of {} · {} records",
            file,
            (p.file_index + 1).min(p.file_count.max(1)),
            p.file_count.max(1),
            human_bytes(p.bytes_read),
            human_bytes(p.bytes_total),
            app.records.store().len()
        );
        ui.add(
            egui::ProgressBar::new(fraction)
                .desired_width(ui.available_width() - 90.0)
                .text(text)
                .animate(true),
        );
        let label = if load.cancelling {
            "Cancelling…"
        } else {
            "Cancel"
        };
        if ui
            .add_enabled(!load.cancelling, egui::Button::new(label))
            .clicked()
        {
            commands.push(Command::CancelLoad);
        }
    });
}

fn errors_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    let color = super::theme::severity_color(3, app.dark());
    for (index, message) in app.errors.iter().enumerate().take(5) {
        ui.horizontal_top(|ui| {
            ui.label(RichText::new("Error").color(color).strong());
            // The message wraps in the width the Dismiss button leaves, so that both stay in
            // the window however long the message (a file's path and what to do).
            let dismiss = 80.0;
            let width = (ui.available_width() - dismiss).max(120.0);
            ui.allocate_ui_with_layout(
                egui::vec2(width, 0.0),
                egui::Layout::top_down(egui::Align::Min),
                |ui| ui.add(egui::Label::new(message.as_str()).wrap()),
            );
            if ui.small_button("Dismiss").clicked() {
                commands.push(Command::DismissError(index));
            }
        });
    }
    if app.errors.len() > 5 {
        ui.label(format!("… and {} more errors", app.errors.len() - 5));
    }
}

fn tabs_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    let views = app.views();
    let filtered = app.query_active() && !app.query.filter.is_empty();
    ui.horizontal_wrapped(|ui| {
        for index in 0..RECORD_TABS as u8 {
            let total = app.base.tabs.get(usize::from(index)).map_or(0, Vec::len);
            if !record_tab_always_shown(index) && total == 0 {
                continue;
            }
            let shown = views.tabs.get(usize::from(index)).map_or(0, Vec::len);
            let tab = Tab::Records(index);
            let label = if filtered {
                format!("{} ({shown} of {total})", tab.name())
            } else {
                format!("{} ({total})", tab.name())
            };
            if ui.selectable_label(app.tab == tab, label).clicked() {
                commands.push(Command::SetTab(tab));
            }
        }
        ui.separator();
        let users = match app.batches.shown() {
            Some(index) if filtered => format!(
                "Users ({} of {})",
                app.visible_batches().len(),
                index.batches.len()
            ),
            Some(index) => format!("Users ({})", index.batches.len()),
            None => "Users (…)".to_string(),
        };
        if ui.selectable_label(app.tab == Tab::Users, users).clicked() {
            commands.push(Command::SetTab(Tab::Users));
        }
        if ui
            .selectable_label(app.tab == Tab::Summary, "Summary")
            .clicked()
        {
            commands.push(Command::SetTab(Tab::Summary));
        }
    });
}

fn status_ui(ui: &mut egui::Ui, app: &App) {
    ui.horizontal(|ui| {
        let a = &app.records.store().accounting;
        ui.label(format!(
            "{} records: {} mapped, {} with warnings, {} held, {} dropped, {} unreadable",
            a.records_read, a.mapped, a.warned, a.held, a.dropped, a.unreadable
        ));
        ui.separator();
        ui.label(RichText::new(format!("Selected: {}", app.selection.len())).strong());
        if app.query_views.is_pending() {
            ui.separator();
            ui.spinner();
            ui.label("filtering…");
        }
        if app.batches.is_pending() {
            ui.separator();
            ui.label("building batches…");
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            ui.add(egui::Label::new(app.status.as_str()).truncate());
        });
    });
}

fn drop_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    let ctx = ui.ctx().clone();
    let hovering = ctx.input(|i| !i.raw.hovered_files.is_empty());
    if hovering {
        let painter = ctx.layer_painter(egui::LayerId::new(
            egui::Order::Foreground,
            egui::Id::unique("drop_overlay"),
        ));
        let rect = ctx.content_rect();
        painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(160));
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "Drop CleverTap files to open them",
            egui::FontId::proportional(24.0),
            egui::Color32::WHITE,
        );
    }
    let dropped: Vec<std::path::PathBuf> = ctx.input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .collect()
    });
    if !dropped.is_empty() {
        commands.push(Command::Dropped(dropped));
    }
    if let Some(paths) = &app.pending_drop {
        egui::Modal::new(egui::Id::unique("drop_question")).show(&ctx, |ui| {
            ui.heading("Open dropped files");
            ui.label(format!(
                "{} is dropped while {} records are loaded.",
                file_set_label(paths),
                app.records.store().len()
            ));
            ui.horizontal(|ui| {
                if ui.button("Add to the loaded files").clicked() {
                    commands.push(Command::AnswerDrop(Some(OpenMode::Add)));
                }
                if ui.button("Replace them").clicked() {
                    commands.push(Command::AnswerDrop(Some(OpenMode::Replace)));
                }
                if ui.button("Cancel").clicked() {
                    commands.push(Command::AnswerDrop(None));
                }
            });
        });
    }
}
