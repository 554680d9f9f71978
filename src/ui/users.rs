//! The Users tab: one row per batch (one user's events, or a profile), with the identities and
//! user attributes mParticle gets; its detail shows the batch and the records in it.

use egui::{Align, RichText, Sense};
use egui_extras::{Column, TableBuilder};

use super::commands::Command;
use super::format::format_time;
use super::format::human_bytes;
use super::state::App;
use super::table::ROW_HEIGHT;
use crate::records::PROFILE_TAB;

const PREFS_KEY: &str = "users";
const TITLES: [(&str, f32); 8] = [
    ("#", 50.0),
    ("Customer ID", 170.0),
    ("Email", 200.0),
    ("User attributes", 320.0),
    ("Device", 170.0),
    ("Events", 60.0),
    ("Size", 70.0),
    ("Endpoint", 120.0),
];

/// Draws the batches table.
pub fn users_table_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    let Some(index) = app.batches.shown().cloned() else {
        ui.vertical_centered(|ui| {
            ui.add_space(40.0);
            let text = if app.records.store().is_empty() {
                "No records loaded."
            } else {
                "Building batches…"
            };
            ui.label(RichText::new(text).weak());
        });
        return;
    };
    let batches = app.visible_batches();
    if batches.is_empty() {
        ui.label(
            RichText::new("No batch: no record is sendable, or none matches the filter.").weak(),
        );
        return;
    }
    let scroll_to = if app.scroll_to_focus.take() {
        app.focus_batch
            .and_then(|b| batches.iter().position(|&x| x == b))
    } else {
        None
    };
    let saved = app.prefs.column_widths.get(PREFS_KEY).cloned();
    ui.style_mut().interaction.selectable_labels = false;
    let mut builder = TableBuilder::new(ui)
        .id_salt("users")
        .striped(true)
        .resizable(true)
        .sense(Sense::click())
        .cell_layout(egui::Layout::left_to_right(Align::Center));
    for (i, (_, width)) in TITLES.iter().enumerate() {
        let width = saved
            .as_ref()
            .and_then(|w| w.get(i).copied())
            .unwrap_or(*width);
        let column = if i + 1 == TITLES.len() {
            Column::remainder().at_least(80.0)
        } else {
            Column::initial(width).at_least(28.0)
        };
        builder = builder.column(column.clip(true));
    }
    if let Some(position) = scroll_to {
        builder = builder.scroll_to_row(position, Some(Align::Center));
    }
    let metas = &app.records.store().metas;
    let mut new_widths = None;
    builder
        .header(22.0, |mut header| {
            for (title, _) in TITLES {
                header.col(|ui| {
                    ui.label(RichText::new(title).strong());
                });
            }
        })
        .body(|body| {
            let widths = body.widths();
            let keep = widths.len().saturating_sub(1);
            if saved.as_ref().is_none_or(|old| {
                old.len() != keep || old.iter().zip(widths).any(|(a, b)| (a - b).abs() > 0.5)
            }) && saved.is_some()
            {
                new_widths = Some(widths[..keep].to_vec());
            }
            body.rows(ROW_HEIGHT, batches.len(), |mut row| {
                let position = row.index();
                let batch = batches[position];
                let Some(info) = index.batches.get(batch as usize) else {
                    return;
                };
                let selected = info
                    .records
                    .iter()
                    .any(|&r| app.selection.contains(r as u32));
                row.set_selected(selected || app.focus_batch == Some(batch));
                let envelope = &info.envelope;
                row.col(|ui| {
                    ui.label(RichText::new((batch + 1).to_string()).weak());
                });
                row.col(|ui| {
                    ui.add(
                        egui::Label::new(
                            envelope
                                .user_identities
                                .customer_id
                                .as_deref()
                                .unwrap_or("—"),
                        )
                        .truncate(),
                    );
                });
                row.col(|ui| {
                    ui.add(
                        egui::Label::new(envelope.user_identities.email.as_deref().unwrap_or("—"))
                            .truncate(),
                    );
                });
                row.col(|ui| {
                    let text = envelope
                        .user_attributes
                        .iter()
                        .map(|(k, v)| match v {
                            serde_json::Value::String(s) => format!("{k}={s}"),
                            other => format!("{k}={other}"),
                        })
                        .collect::<Vec<_>>()
                        .join(" · ");
                    ui.add(
                        egui::Label::new(
                            RichText::new(if text.is_empty() { "—".into() } else { text }).small(),
                        )
                        .truncate(),
                    );
                });
                row.col(|ui| {
                    let device = envelope.device_info.as_ref().map(|d| {
                        [&d.platform, &d.device_manufacturer, &d.device_model]
                            .into_iter()
                            .flatten()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(" ")
                    });
                    ui.add(egui::Label::new(device.unwrap_or_else(|| "—".into())).truncate());
                });
                row.col(|ui| {
                    let events = info
                        .records
                        .iter()
                        .filter(|&&r| metas.get(r).is_some_and(|m| m.tab != PROFILE_TAB))
                        .count();
                    ui.label(if events == 0 {
                        "profile".to_string()
                    } else {
                        events.to_string()
                    });
                });
                row.col(|ui| {
                    ui.label(human_bytes(info.bytes as u64));
                });
                row.col(|ui| {
                    ui.label(if info.historical {
                        "historical"
                    } else {
                        "bulkevents"
                    });
                });
                if row.response().clicked() {
                    commands.push(Command::FocusBatch(batch));
                }
            });
        });
    if let Some(widths) = new_widths {
        commands.push(Command::SetColumnWidths(PREFS_KEY.into(), widths));
    }
}

/// The detail of the focused batch: its JSON and its records.
pub fn batch_detail_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    let (Some(batch), Some(index)) = (app.focus_batch, app.batches.shown().cloned()) else {
        ui.vertical_centered(|ui| {
            ui.add_space(20.0);
            ui.label(
                RichText::new("Select a user to see the batch mParticle gets and its records.")
                    .weak(),
            );
        });
        return;
    };
    let Some(info) = index.batches.get(batch as usize) else {
        return;
    };
    let dark = ui.visuals().dark_mode;
    let epoch = app.records.epoch;
    let stale = app
        .detail
        .batch_cache
        .borrow()
        .as_ref()
        .is_none_or(|(b, e, d, _)| *b != batch || *e != epoch || *d != dark);
    if stale {
        let job =
            super::detail::batch_job(app, &index, batch, dark).map(|job| (batch, epoch, dark, job));
        app.detail.batch_cache.replace(job);
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("Batch {} of {}", batch + 1, index.batches.len())).strong());
        ui.label(format!(
            "{} records · {} · {}",
            info.records.len(),
            human_bytes(info.bytes as u64),
            if info.historical {
                "/bulkevents/historical"
            } else {
                "/bulkevents"
            }
        ));
        ui.separator();
        if ui.button("Copy batch JSON").clicked() {
            commands.push(Command::CopyBatch(batch));
        }
        if ui.button("Select its records").clicked() {
            commands.push(Command::SelectBatch(batch));
        }
    });
    ui.separator();
    let height = ui.available_height();
    let store = app.records.store();
    ui.columns(2, |columns| {
        columns[0].heading("Batch");
        egui::ScrollArea::both()
            .id_salt("batch_json")
            .auto_shrink(false)
            .max_height(height - 30.0)
            .show(&mut columns[0], |ui| {
                if let Some((_, _, _, job)) = app.detail.batch_cache.borrow().as_ref() {
                    ui.add(egui::Label::new(job.clone()).extend());
                }
            });
        columns[1].heading("Records in this batch");
        egui::ScrollArea::vertical()
            .id_salt("batch_records")
            .auto_shrink(false)
            .max_height(height - 30.0)
            .show_rows(
                &mut columns[1],
                ROW_HEIGHT,
                info.records.len(),
                |ui, range| {
                    for &record in &info.records[range] {
                        let Some(meta) = store.metas.get(record) else {
                            continue;
                        };
                        let text = format!(
                            "#{}  {}  {}",
                            record + 1,
                            format_time(meta.time_ms),
                            store.strings.get(meta.sent_name)
                        );
                        if ui
                            .selectable_label(app.focus == Some(record as u32), text)
                            .on_hover_text("Show this record in its tab")
                            .clicked()
                        {
                            commands.push(Command::FocusRecord(record as u32));
                        }
                    }
                },
            );
    });
}
