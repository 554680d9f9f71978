//! The records table: one virtual table per tab, the CleverTap side on the left and the
//! mParticle side on the right of each row. Only visible rows build their text.

use egui::{Align, RichText, Sense};
use egui_extras::{Column, TableBuilder};

use super::commands::Command;
use super::format::format_time;
use super::query::SortColumn;
use super::state::App;
use super::tab::Tab;
use super::theme;
use crate::mparticle::EventType;
use crate::records::STATUSES;

/// Row height in points.
pub const ROW_HEIGHT: f32 = 20.0;
const PREFS_KEY: &str = "records";

/// Which side of the row a column belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    CleverTap,
    MParticle,
}

struct ColumnSpec {
    title: &'static str,
    side: Side,
    sort: Option<SortColumn>,
    width: f32,
    hint: &'static str,
}

const COLUMNS: [ColumnSpec; 12] = [
    ColumnSpec {
        title: "#",
        side: Side::CleverTap,
        sort: Some(SortColumn::Input),
        width: 44.0,
        hint: "Record number in input order",
    },
    ColumnSpec {
        title: "Time (UTC)",
        side: Side::CleverTap,
        sort: Some(SortColumn::Time),
        width: 128.0,
        hint: "The record's ts / eventTime",
    },
    ColumnSpec {
        title: "CleverTap event",
        side: Side::CleverTap,
        sort: Some(SortColumn::SourceName),
        width: 150.0,
        hint: "The event name as CleverTap wrote it",
    },
    ColumnSpec {
        title: "Identity",
        side: Side::CleverTap,
        sort: Some(SortColumn::Identity),
        width: 120.0,
        hint: "profile.identity, else the email",
    },
    ColumnSpec {
        title: "Key properties",
        side: Side::CleverTap,
        sort: None,
        width: 150.0,
        hint: "The first event properties",
    },
    ColumnSpec {
        title: "File",
        side: Side::CleverTap,
        sort: Some(SortColumn::Input),
        width: 110.0,
        hint: "File and line",
    },
    ColumnSpec {
        title: "Event type",
        side: Side::MParticle,
        sort: None,
        width: 92.0,
        hint: "event_type as sent",
    },
    ColumnSpec {
        title: "Custom type",
        side: Side::MParticle,
        sort: None,
        width: 80.0,
        hint: "custom_event_type as sent",
    },
    ColumnSpec {
        title: "Event name (sent)",
        side: Side::MParticle,
        sort: Some(SortColumn::SentName),
        width: 160.0,
        hint: "data.event_name as sent",
    },
    ColumnSpec {
        title: "Identities",
        side: Side::MParticle,
        sort: None,
        width: 150.0,
        hint: "user_identities as sent",
    },
    ColumnSpec {
        title: "Attrs",
        side: Side::MParticle,
        sort: Some(SortColumn::Attributes),
        width: 40.0,
        hint: "Number of custom attributes",
    },
    ColumnSpec {
        title: "Status · worst finding",
        side: Side::MParticle,
        sort: Some(SortColumn::Status),
        width: 220.0,
        hint: "How the record ended and its most serious finding",
    },
];

/// Draws the records table of the current tab.
pub fn records_table_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    let Tab::Records(tab_index) = app.tab else {
        return;
    };
    let rows = app.tab_rows();
    if rows.is_empty() {
        empty_ui(ui, app);
        return;
    }
    let scroll_to = if app.scroll_to_focus.take() {
        app.focus
            .and_then(|focus| app.tab_rows().iter().position(|&r| r == focus))
    } else {
        None
    };
    let rows = app.tab_rows();
    let store = app.records.store();
    let dark = ui.visuals().dark_mode;
    let saved = app.prefs.column_widths.get(PREFS_KEY);
    let sort = app.query.sort;

    ui.style_mut().interaction.selectable_labels = false;
    let top = ui.cursor().top();
    let mut builder = TableBuilder::new(ui)
        .id_salt(("records", tab_index))
        .striped(true)
        .resizable(true)
        .sense(Sense::click())
        .cell_layout(egui::Layout::left_to_right(Align::Center));
    for (index, spec) in COLUMNS.iter().enumerate() {
        let width = saved
            .and_then(|w| w.get(index).copied())
            .unwrap_or(spec.width);
        let column = if index + 1 == COLUMNS.len() {
            Column::remainder().at_least(150.0)
        } else {
            Column::initial(width).at_least(28.0)
        };
        builder = builder.column(column.clip(true));
    }
    if let Some(position) = scroll_to {
        builder = builder.scroll_to_row(position, Some(Align::Center));
    }
    let mut new_widths: Option<Vec<f32>> = None;
    let mut boundary_x = None;
    builder
        .header(34.0, |mut header| {
            for spec in &COLUMNS {
                let (rect, _) = header.col(|ui| header_cell_ui(ui, spec, sort, commands));
                if spec.side == Side::MParticle && boundary_x.is_none() {
                    boundary_x = Some(rect.left());
                }
            }
        })
        .body(|body| {
            let widths = body.widths();
            let keep = widths.len().saturating_sub(1);
            let changed = match saved {
                Some(old) => {
                    old.len() != keep || old.iter().zip(widths).any(|(a, b)| (a - b).abs() > 0.5)
                }
                None => COLUMNS
                    .iter()
                    .zip(widths)
                    .take(keep)
                    .any(|(spec, w)| (spec.width - w).abs() > 0.5),
            };
            if changed {
                new_widths = Some(widths[..keep].to_vec());
            }
            body.rows(ROW_HEIGHT, rows.len(), |mut row| {
                let position = row.index();
                let record = rows[position];
                let index = record as usize;
                let (Some(meta), Some(outcome)) = (store.metas.get(index), store.outcome(index))
                else {
                    return;
                };
                let outcome = &outcome;
                row.set_selected(app.selection.contains(record) || app.focus == Some(record));
                let event = outcome.mapped.as_ref().and_then(|m| m.event.as_ref());
                row.col(|ui| {
                    ui.label(RichText::new((index + 1).to_string()).weak());
                });
                row.col(|ui| {
                    ui.label(format_time(meta.time_ms));
                });
                row.col(|ui| {
                    ui.label(store.strings.get(meta.source_name));
                });
                row.col(|ui| {
                    ui.add(egui::Label::new(store.strings.get(meta.identity)).truncate());
                });
                row.col(|ui| {
                    ui.add(
                        egui::Label::new(RichText::new(key_properties(outcome)).small()).truncate(),
                    );
                });
                row.col(|ui| {
                    let file = app
                        .files
                        .get(usize::from(meta.file))
                        .map(|f| f.name())
                        .unwrap_or_default();
                    ui.add(
                        egui::Label::new(
                            RichText::new(format!("{file}:{}", outcome.place.line)).weak(),
                        )
                        .truncate(),
                    );
                });
                row.col(|ui| {
                    ui.label(match event.map(|e| e.event_type) {
                        Some(EventType::CustomEvent) => "custom_event",
                        Some(EventType::Uninstall) => "uninstall",
                        None => "—",
                    });
                });
                row.col(|ui| {
                    ui.label(
                        event
                            .and_then(|e| e.data.custom_event_type.as_deref())
                            .unwrap_or("—"),
                    );
                });
                row.col(|ui| {
                    ui.label(RichText::new(store.strings.get(meta.sent_name)).strong());
                });
                row.col(|ui| {
                    ui.add(egui::Label::new(identities_text(outcome)).truncate());
                });
                row.col(|ui| {
                    ui.label(meta.attributes.to_string());
                });
                let (_, status_cell) = row.col(|ui| {
                    let status = STATUSES
                        .get(usize::from(meta.status))
                        .map_or("", |s| s.as_str());
                    ui.label(
                        RichText::new(status)
                            .color(theme::status_color(meta.status, dark))
                            .strong(),
                    );
                    if let Some(finding) = outcome.worst_finding() {
                        ui.add(
                            egui::Label::new(
                                RichText::new(&finding.message)
                                    .color(theme::severity_color(meta.worst, dark))
                                    .small(),
                            )
                            .truncate(),
                        );
                    }
                });
                if !outcome.findings.is_empty() {
                    status_cell.on_hover_ui(|ui| {
                        for finding in outcome.findings.iter().take(12) {
                            ui.label(format!(
                                "{}: {}",
                                finding.severity.as_str(),
                                finding.message
                            ));
                        }
                    });
                }
                let response = row.response();
                if response.clicked() {
                    let modifiers = click_modifiers(&response.ctx);
                    commands.push(Command::ClickRow {
                        position,
                        toggle: modifiers.command,
                        range: modifiers.shift,
                    });
                }
            });
        });
    if let Some(x) = boundary_x {
        // The line between what CleverTap wrote and what mParticle gets.
        let x = x - ui.spacing().item_spacing.x * 0.5;
        let bottom = ui.min_rect().bottom();
        let stroke = egui::Stroke::new(2.0, ui.visuals().selection.bg_fill);
        ui.painter().vline(x, top..=bottom, stroke);
    }
    if let Some(widths) = new_widths {
        commands.push(Command::SetColumnWidths(PREFS_KEY.into(), widths));
    }
}

/// The modifiers held when the click happened: those of the button release event (a fast
/// ctrl-click can press and release Ctrl within one frame), else the current ones.
pub fn click_modifiers(ctx: &egui::Context) -> egui::Modifiers {
    ctx.input(|input| {
        input
            .events
            .iter()
            .rev()
            .find_map(|event| match event {
                egui::Event::PointerButton {
                    button: egui::PointerButton::Primary,
                    pressed: false,
                    modifiers,
                    ..
                } => Some(*modifiers),
                _ => None,
            })
            .unwrap_or(input.modifiers)
    })
}

fn header_cell_ui(
    ui: &mut egui::Ui,
    spec: &ColumnSpec,
    sort: super::query::Sort,
    commands: &mut Vec<Command>,
) {
    ui.vertical(|ui| {
        ui.spacing_mut().item_spacing.y = 0.0;
        let group = match spec.side {
            Side::CleverTap if spec.title == "Time (UTC)" => "CLEVERTAP (source)",
            Side::MParticle if spec.title == "Event type" => "MPARTICLE (sent)",
            _ => " ",
        };
        ui.label(RichText::new(group).small().weak());
        let arrow =
            match spec.sort {
                Some(column) if column == sort.column && !sort.is_input_order() => {
                    if sort.ascending { " ↑" } else { " ↓" }
                }
                _ => "",
            };
        let text = RichText::new(format!("{}{arrow}", spec.title)).strong();
        match spec.sort {
            Some(column) => {
                if ui
                    .add(egui::Button::new(text).frame(false))
                    .on_hover_text(format!("{} (click to sort)", spec.hint))
                    .clicked()
                {
                    commands.push(Command::SortBy(column));
                }
            }
            None => {
                ui.label(text).on_hover_text(spec.hint);
            }
        }
    });
}

fn empty_ui(ui: &mut egui::Ui, app: &App) {
    ui.vertical_centered(|ui| {
        ui.add_space(40.0);
        let text = if app.load.is_some() {
            "Reading…"
        } else if app.records.store().is_empty() {
            "No records loaded. Open CleverTap files with File › Open, or drop them on the window."
        } else if app.query_active() && !app.query.filter.is_empty() {
            "No record of this tab matches the filter."
        } else {
            "No records in this tab."
        };
        ui.label(RichText::new(text).weak());
    });
}

/// The first event properties as `name=value`, for the table.
pub fn key_properties(outcome: &crate::mapping::Outcome) -> String {
    let Some(mapped) = &outcome.mapped else {
        return outcome
            .worst_finding()
            .map(|f| f.message.clone())
            .unwrap_or_default();
    };
    let mut text = String::new();
    if let Some(event) = &mapped.event {
        for (name, value) in event.data.custom_attributes.iter().take(4) {
            if !text.is_empty() {
                text.push_str(" · ");
            }
            text.push_str(name);
            text.push('=');
            text.extend(value.chars().take(40));
        }
    } else {
        for (name, value) in mapped.user_attributes.iter().take(4) {
            if !text.is_empty() {
                text.push_str(" · ");
            }
            text.push_str(&format!("{name}={value}"));
        }
    }
    text
}

/// The mParticle identities as one line.
pub fn identities_text(outcome: &crate::mapping::Outcome) -> String {
    let Some(mapped) = &outcome.mapped else {
        return "—".into();
    };
    let ids = &mapped.identities;
    match (&ids.customer_id, &ids.email) {
        (Some(c), Some(e)) => format!("customer_id={c} · email={e}"),
        (Some(c), None) => format!("customer_id={c}"),
        (None, Some(e)) => format!("email={e}"),
        (None, None) => "none".into(),
    }
}
