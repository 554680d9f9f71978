//! The compare windows: a record before and after its edit, and the Compare window (counts
//! per category, the differing records, each opening its diff view).

use egui::RichText;

use super::commands::Command;
use super::compare::{CompareCommand, CompareJob, Compared, Progress, short_location};
use super::diff_view::{DiffLabels, diff_ui};
use super::state::App;
use super::theme::severity_color;
use crate::diff::Status;

/// Draws the compare windows that are open.
pub fn compare_windows_ui(ctx: &egui::Context, app: &App, commands: &mut Vec<Command>) {
    if let Some(window) = &app.compare.record {
        let mut open = true;
        egui::Window::new("Compare with original")
            .id(egui::Id::unique("record_diff_window"))
            .open(&mut open)
            .default_pos([160.0, 140.0])
            .default_width(900.0)
            .default_height(360.0)
            .show(ctx, |ui| {
                ui.label(
                    RichText::new(format!(
                        "Record {} · {} · its mapped event as the original text maps with the rules in force, and as its edit maps",
                        window.row + 1,
                        window.place
                    ))
                    .small()
                    .weak(),
                );
                progress_ui(ui, &window.diffs, |ui, diffs| {
                    diff_ui(ui, diffs, DiffLabels::new("original", "edited"));
                });
            });
        if !open {
            commands.push(Command::Compare(CompareCommand::CloseRecordDiff));
        }
    }
    if let Some(job) = &app.compare.job {
        let mut open = true;
        egui::Window::new("Compare")
            .id(egui::Id::unique("compare_window"))
            .open(&mut open)
            .default_pos([140.0, 110.0])
            .default_width(900.0)
            .default_height(560.0)
            .show(ctx, |ui| job_ui(ui, job, commands));
        if !open {
            commands.push(Command::Compare(CompareCommand::Close));
        }
    }
}

fn progress_ui<T>(ui: &mut egui::Ui, progress: &Progress<T>, done: impl FnOnce(&mut egui::Ui, &T)) {
    match progress {
        Progress::Running => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("mapping the original…");
            });
        }
        Progress::Failed(error) => {
            ui.label(RichText::new(error).color(severity_color(3, ui.visuals().dark_mode)));
        }
        Progress::Done(value) => done(ui, value),
    }
}

fn job_ui(ui: &mut egui::Ui, job: &CompareJob, commands: &mut Vec<Command>) {
    ui.label(format!("A: the loaded files, {}", job.a_label));
    ui.label(format!("B: {}", job.b_path.display()));
    ui.label(
        RichText::new("Both mapped with the rules in force; records matched by source_message_id (an edited record by its original's).")
            .small()
            .weak(),
    );
    ui.separator();
    match &job.result {
        Progress::Running => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(if job.cancelling {
                    "cancelling…"
                } else {
                    "comparing…"
                });
                if ui
                    .add_enabled(!job.cancelling, egui::Button::new("Cancel"))
                    .clicked()
                {
                    commands.push(Command::Compare(CompareCommand::Cancel));
                }
            });
        }
        Progress::Failed(error) => {
            ui.label(
                RichText::new(format!("The comparison did not end: {error}"))
                    .color(severity_color(3, ui.visuals().dark_mode)),
            );
        }
        Progress::Done(done) => done_ui(ui, job, done, commands),
    }
}

fn done_ui(ui: &mut egui::Ui, job: &CompareJob, done: &Compared, commands: &mut Vec<Command>) {
    let t = &done.totals;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("Same: {}", t.same)).strong());
        ui.separator();
        ui.label(RichText::new(format!("Changed: {}", t.changed)).strong());
        ui.separator();
        ui.label(RichText::new(format!("Only in A: {}", t.only_a)).strong());
        ui.separator();
        ui.label(RichText::new(format!("Only in B: {}", t.only_b)).strong());
        ui.label(
            RichText::new(format!("in {:.1} s", done.elapsed.as_secs_f64()))
                .small()
                .weak(),
        );
    });
    egui::CollapsingHeader::new("By category")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("compare_categories")
                .striped(true)
                .num_columns(7)
                .show(ui, |ui| {
                    for head in ["category", "A", "B", "same", "changed", "only A", "only B"] {
                        ui.label(RichText::new(head).strong());
                    }
                    ui.end_row();
                    for (category, c) in &t.by_category {
                        ui.label(category);
                        for n in [c.a, c.b, c.same, c.changed, c.only_a, c.only_b] {
                            ui.label(n.to_string());
                        }
                        ui.end_row();
                    }
                });
        });
    ui.separator();
    let differing = t.changed + t.only_a + t.only_b;
    if differing == 0 {
        ui.label("A and B map the same.");
        return;
    }
    ui.label(if done.records.len() as u64 == differing {
        format!("{differing} differing records (click a changed one to see its fields)")
    } else {
        format!(
            "the first {} of {differing} differing records (click a changed one to see its fields)",
            done.records.len()
        )
    });
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    let list_height = if job.shown.is_some() { 160.0 } else { 320.0 };
    egui::ScrollArea::vertical()
        .id_salt("compare_records")
        .max_height(list_height)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, done.records.len(), |ui, range| {
            for index in range {
                let Some(record) = done.records.get(index) else {
                    continue;
                };
                let status = match record.status {
                    Status::Changed => format!("changed ({} fields)", record.fields.len()),
                    Status::OnlyA => "only in A".into(),
                    Status::OnlyB => "only in B".into(),
                };
                let text = format!(
                    "{status} · {} → {} · {}",
                    short_location(record.a.as_ref()),
                    short_location(record.b.as_ref()),
                    record.id.as_deref().unwrap_or("(no id: matched by place)")
                );
                let picked = job.shown == Some(index);
                let response = ui.selectable_label(picked, RichText::new(text).monospace());
                if response.clicked() {
                    commands.push(Command::Compare(CompareCommand::Show(index)));
                }
            }
        });
    if let Some(record) = job.shown.and_then(|i| done.records.get(i)) {
        ui.separator();
        ui.push_id("compare_record_diff", |ui| {
            if record.status == Status::Changed {
                diff_ui(ui, &record.fields, DiffLabels::new("A", "B"));
            } else {
                ui.label(format!(
                    "This record is only in {}: nothing to compare it with.",
                    if record.status == Status::OnlyA {
                        "A"
                    } else {
                        "B"
                    }
                ));
            }
        });
    }
}
