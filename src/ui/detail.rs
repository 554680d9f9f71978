//! The detail view: the source record and what mParticle gets (the event and its batch) as JSON
//! side by side, keys coloured by their trace, the trace as a table and the findings.

use std::collections::HashMap;

use egui::RichText;
use egui::text::LayoutJob;
use serde_json::Value;

use super::commands::Command;
use super::detail_state::{Cache, CacheKey};
use super::format::format_time;
use super::json_view::{Paint, json_job, source_value};
use super::state::App;
use super::theme::{self, OPS, op_color, op_name};
use crate::mapping::{Outcome, TraceEntry, TraceOp};
use crate::records::batches::{BatchIndex, NO_BATCH};
use crate::records::{STATUSES, severity_code, status_code};

fn ops_by(trace: &[TraceEntry], source_side: bool) -> HashMap<String, TraceOp> {
    trace
        .iter()
        .filter_map(|entry| {
            let path = if source_side {
                &entry.source
            } else {
                &entry.target
            };
            (!path.is_empty()).then(|| (path.clone(), entry.op))
        })
        .collect()
}

fn job(
    value: &Value,
    ops: &HashMap<String, TraceOp>,
    prefix: &str,
    dim: bool,
    highlight: Option<&str>,
    dark: bool,
) -> LayoutJob {
    json_job(
        value,
        &Paint {
            ops,
            prefix,
            dim_untraced: dim,
            highlight,
            dark,
        },
    )
}

/// The facts a record gives its batch, as JSON (for held and profile records).
fn user_facts(outcome: &Outcome) -> Option<Value> {
    let mapped = outcome.mapped.as_ref()?;
    let mut facts = serde_json::Map::new();
    if !mapped.identities.is_empty() {
        facts.insert(
            "user_identities".into(),
            serde_json::to_value(&mapped.identities).ok()?,
        );
    }
    if !mapped.user_attributes.is_empty() {
        facts.insert(
            "user_attributes".into(),
            serde_json::to_value(&mapped.user_attributes).ok()?,
        );
    }
    if let Some(device) = &mapped.device_info {
        facts.insert("device_info".into(), serde_json::to_value(device).ok()?);
    }
    if let Some(app) = &mapped.application_info {
        facts.insert("application_info".into(), serde_json::to_value(app).ok()?);
    }
    Some(Value::Object(facts))
}

/// A record's trace: the one kept on the outcome, else mapped again with tracing from its
/// source (bulk loads map without traces; the detail view needs one record's only).
pub(super) fn trace_of(app: &App, outcome: &Outcome) -> Vec<TraceEntry> {
    if let Some(mapped) = &outcome.mapped
        && !mapped.trace.is_empty()
    {
        return mapped.trace.clone();
    }
    let Some(source) = outcome
        .source
        .as_deref()
        .and_then(|text| crate::clevertap::parse_text(&outcome.place, text).ok())
    else {
        return Vec::new();
    };
    app.engine
        .map_traced(
            outcome.place.clone(),
            &source,
            outcome.source_event_name.as_deref(),
        )
        .mapped
        .map(|m| m.trace)
        .unwrap_or_default()
}

fn record_cache(
    app: &App,
    key: CacheKey,
    outcome: &Outcome,
    batches: Option<&BatchIndex>,
) -> Cache {
    let trace = trace_of(app, outcome);
    let picked = app.detail.highlight.and_then(|i| trace.get(i));
    let source_ops = ops_by(&trace, true);
    let target_ops = ops_by(&trace, false);
    let dark = key.dark;
    let source = outcome.source.as_deref().map(|value| {
        job(
            &source_value(value),
            &source_ops,
            "",
            true,
            picked.map(|e| e.source.as_str()),
            dark,
        )
    });
    let target_highlight = picked.map(|e| e.target.as_str());
    let event = match outcome.mapped.as_ref() {
        Some(mapped) => match &mapped.event {
            Some(event) => serde_json::to_value(event)
                .ok()
                .map(|v| job(&v, &target_ops, "events[].", false, target_highlight, dark)),
            None => {
                user_facts(outcome).map(|v| job(&v, &target_ops, "", false, target_highlight, dark))
            }
        },
        None => None,
    };
    let record = key.record.map(|r| r as usize);
    let batch = batches
        .and_then(|b| {
            let index = *b.record_batch.get(record?)?;
            (index != NO_BATCH)
                .then(|| b.batch_preview(index as usize, record, app.records.store(), 1))?
        })
        .map(|v| job(&v, &target_ops, "", false, target_highlight, dark));
    Cache {
        key,
        source,
        event,
        batch,
        trace,
    }
}

/// Draws the detail of the focused record (or, in the Users tab, of the focused batch).
pub fn detail_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    let Some(record) = app.focus else {
        ui.vertical_centered(|ui| {
            ui.add_space(20.0);
            ui.label(RichText::new("Select a row to see the source record, the mapped event, its trace and findings.").weak());
        });
        return;
    };
    let batches = app.batches.shown().cloned();
    let key = CacheKey {
        epoch: app.records.epoch,
        record: Some(record),
        batch: None,
        highlight: app.detail.highlight,
        dark: ui.visuals().dark_mode,
    };
    let Some(outcome) = app.records.store().outcome(record as usize) else {
        return;
    };
    let stale = app
        .detail
        .cache
        .borrow()
        .as_ref()
        .is_none_or(|c| c.key != key);
    if stale {
        let cache = record_cache(app, key, &outcome, batches.as_deref());
        app.detail.cache.replace(Some(cache));
    }
    let cached = app.detail.cache.borrow();
    let Some(cache) = cached.as_ref() else {
        return;
    };
    let dark = ui.visuals().dark_mode;
    let batch_index = batches
        .as_ref()
        .and_then(|b| b.record_batch.get(record as usize).copied())
        .filter(|&b| b != NO_BATCH);

    header_ui(
        ui,
        app,
        record,
        &outcome,
        batch_index,
        batches.as_deref(),
        commands,
    );
    legend_ui(ui, dark);
    ui.separator();
    let height = ui.available_height();
    ui.columns(3, |columns| {
        columns[0].heading("Source record");
        egui::ScrollArea::both()
            .id_salt("detail_source")
            .auto_shrink(false)
            .max_height(height - 30.0)
            .show(&mut columns[0], |ui| match &cache.source {
                Some(job) => {
                    ui.add(egui::Label::new(job.clone()).extend());
                }
                None => {
                    ui.label(
                        RichText::new(match &outcome.mapped {
                            None => "The record could not be read: see its findings.",
                            Some(_) => "The source record was not kept.",
                        })
                        .weak(),
                    );
                }
            });

        let is_profile = outcome.mapped.as_ref().is_some_and(|m| m.event.is_none());
        columns[1].heading(if is_profile {
            "Mapped user facts"
        } else {
            "Mapped event"
        });
        egui::ScrollArea::both()
            .id_salt("detail_mapped")
            .auto_shrink(false)
            .max_height(height - 30.0)
            .show(&mut columns[1], |ui| {
                match &cache.event {
                    Some(job) => {
                        ui.add(egui::Label::new(job.clone()).extend());
                    }
                    None => {
                        ui.label(RichText::new("Nothing is sent for this record.").weak());
                    }
                }
                ui.add_space(8.0);
                ui.heading("Batch");
                match (&cache.batch, batch_index) {
                    (Some(job), Some(index)) => {
                        if let Some(info) =
                            batches.as_ref().and_then(|b| b.batches.get(index as usize))
                        {
                            ui.label(
                                RichText::new(format!(
                                    "batch {} · {} events · {} bytes · {}",
                                    index + 1,
                                    info.records.len(),
                                    info.bytes,
                                    if info.historical {
                                        "/bulkevents/historical"
                                    } else {
                                        "/bulkevents"
                                    }
                                ))
                                .small(),
                            );
                        }
                        ui.add(egui::Label::new(job.clone()).extend());
                    }
                    _ if app.batches.is_pending()
                        || (crate::records::sendable(&outcome)
                            && (app.is_loading()
                                || batches
                                    .as_ref()
                                    .is_none_or(|b| b.record_batch.len() <= record as usize))) =>
                    {
                        // A mapped record is batched once every file is read.
                        ui.label(RichText::new("building batches once the files are read…").weak());
                    }
                    _ => {
                        ui.label(
                            RichText::new(format!(
                                "In no batch: {} records are not sent.",
                                STATUSES
                                    .get(usize::from(status_code(outcome.status)))
                                    .map_or("", |s| s.as_str())
                            ))
                            .weak(),
                        );
                    }
                }
            });

        findings_ui(&mut columns[2], &outcome, dark);
        columns[2].heading("Trace");
        let trace = cache.trace.as_slice();
        trace_ui(&mut columns[2], trace, app.detail.highlight, dark, commands);
    });
}

#[allow(clippy::too_many_arguments)]
fn header_ui(
    ui: &mut egui::Ui,
    app: &App,
    record: u32,
    outcome: &Outcome,
    batch_index: Option<u32>,
    batches: Option<&BatchIndex>,
    commands: &mut Vec<Command>,
) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("Record {}", record + 1)).strong());
        ui.label(RichText::new(outcome.place.to_string()).monospace().small());
        let code = status_code(outcome.status);
        ui.label(
            RichText::new(outcome.status.as_str())
                .color(theme::status_color(code, dark))
                .strong(),
        );
        if let Some(time) = outcome.timestamp_millis() {
            ui.label(format_time(time) + " UTC");
        }
        if app.selection.contains(record) {
            ui.label(RichText::new("selected").italics());
        }
        if app.is_edited(record) {
            ui.label(
                RichText::new("edited")
                    .italics()
                    .color(theme::severity_color(2, dark)),
            )
            .on_hover_text(format!(
                "mapped from its edit in {}",
                app.edits.path().display()
            ));
        }
        ui.separator();
        let label = if outcome.status == crate::mapping::RecordStatus::Unreadable {
            "Repair the line…"
        } else {
            "Edit record…"
        };
        if ui
            .button(label)
            .on_hover_text(
                "Edit the CleverTap record and map it again; the input file is never changed",
            )
            .clicked()
        {
            commands.push(Command::EditRecord(record));
        }
        if app.is_edited(record)
            && ui
                .button("Compare with original")
                .on_hover_text("The mapped event before the edit (the original text, mapped with the rules in force) and after, field by field")
                .clicked()
        {
            commands.push(Command::Compare(
                super::compare::CompareCommand::WithOriginal(record),
            ));
        }
        super::rules_editor::record_rules_menu(ui, app, outcome, commands);
        super::quick_fix::quick_fix_menu_ui(ui, app, outcome, commands);
        if outcome
            .mapped
            .as_ref()
            .and_then(|m| m.event.as_ref())
            .is_some()
            && ui.button("Copy event JSON").clicked()
        {
            commands.push(Command::CopyEvent(record));
        }
        if let Some(index) = batch_index {
            if ui.button("Copy batch JSON").clicked() {
                commands.push(Command::CopyBatch(index));
            }
            let size = batches
                .and_then(|b| b.batches.get(index as usize))
                .map_or(0, |b| b.records.len());
            if ui.button(format!("Select its batch ({size})")).clicked() {
                commands.push(Command::SelectBatch(index));
            }
        }
        if outcome.source.is_some() && ui.button("Copy source JSON").clicked() {
            commands.push(Command::CopySource(record));
        }
    });
}

fn legend_ui(ui: &mut egui::Ui, dark: bool) {
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new("Keys coloured by the mapping:")
                .small()
                .weak(),
        );
        for op in OPS {
            ui.label(
                RichText::new(op_name(op))
                    .small()
                    .color(op_color(op, dark))
                    .strong(),
            );
        }
        ui.label(
            RichText::new("· grey source keys are not used")
                .small()
                .weak(),
        );
    });
}

fn findings_ui(ui: &mut egui::Ui, outcome: &Outcome, dark: bool) {
    ui.heading("Findings");
    if outcome.findings.is_empty() {
        ui.label(RichText::new("none").weak());
        return;
    }
    egui::ScrollArea::vertical()
        .id_salt("detail_findings")
        .max_height(ui.available_height() * 0.35)
        .auto_shrink([false, true])
        .show(ui, |ui| {
            let mut findings: Vec<_> = outcome.findings.iter().collect();
            findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
            for finding in findings {
                ui.horizontal_wrapped(|ui| {
                    let code = severity_code(finding.severity);
                    ui.label(
                        RichText::new(finding.severity.as_str())
                            .color(theme::severity_color(code, dark))
                            .strong(),
                    );
                    if let Some(field) = &finding.field {
                        ui.label(RichText::new(field).monospace().small());
                    }
                    ui.label(&finding.message);
                });
            }
        });
}

fn trace_ui(
    ui: &mut egui::Ui,
    trace: &[TraceEntry],
    highlight: Option<usize>,
    dark: bool,
    commands: &mut Vec<Command>,
) {
    if trace.is_empty() {
        ui.label(RichText::new("no trace").weak());
        return;
    }
    ui.label(
        RichText::new("Click an entry to highlight its fields in both JSON views.")
            .small()
            .weak(),
    );
    egui::ScrollArea::both()
        .id_salt("detail_trace")
        .auto_shrink(false)
        .show(ui, |ui| {
            egui::Grid::new("trace_grid")
                .striped(true)
                .num_columns(4)
                .show(ui, |ui| {
                    ui.label(RichText::new("op").strong());
                    ui.label(RichText::new("source (CleverTap)").strong());
                    ui.label(RichText::new("target (mParticle)").strong());
                    ui.label(RichText::new("note").strong());
                    ui.end_row();
                    for (index, entry) in trace.iter().enumerate() {
                        let picked = highlight == Some(index);
                        let op = RichText::new(op_name(entry.op))
                            .color(op_color(entry.op, dark))
                            .strong();
                        if ui.selectable_label(picked, op).clicked() {
                            commands.push(Command::HighlightTrace((!picked).then_some(index)));
                        }
                        ui.label(
                            RichText::new(if entry.source.is_empty() {
                                "—"
                            } else {
                                &entry.source
                            })
                            .monospace(),
                        );
                        ui.label(
                            RichText::new(if entry.target.is_empty() {
                                "(not sent)"
                            } else {
                                &entry.target
                            })
                            .monospace(),
                        );
                        ui.label(entry.note.as_deref().unwrap_or(""));
                        ui.end_row();
                    }
                });
        });
}

/// A JSON preview of a batch with its first events, coloured with the first record's trace.
pub fn batch_job(app: &App, index: &BatchIndex, batch: u32, dark: bool) -> Option<LayoutJob> {
    let store = app.records.store();
    let info = index.batches.get(batch as usize)?;
    let first = info.records.first().copied();
    let preview = index.batch_preview(batch as usize, first, store, 2)?;
    let ops = first
        .and_then(|r| store.outcome(r))
        .map(|outcome| ops_by(&trace_of(app, &outcome), false))
        .unwrap_or_default();
    Some(job(&preview, &ops, "", false, None, dark))
}
