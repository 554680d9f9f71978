//! The Summary tab: the accounting, files, counts per category and per event, events over time
//! (egui_plot), and the coverage of the feed document's 25 events and their attributes.

use egui::RichText;
use egui_plot::{Bar, BarChart, Legend, Plot};

use super::commands::Command;
use super::format::format_time;
use super::format::human_bytes;
use super::state::App;
use super::stats::Stats;
use super::tab::Tab;
use crate::records::{RECORD_TABS, record_tab_name};

/// Most events shown in the per-event chart.
const TOP_EVENTS: usize = 20;

/// Draws the summary.
pub fn summary_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    let Some(stats) = app.stats.shown().cloned() else {
        ui.vertical_centered(|ui| {
            ui.add_space(40.0);
            let text = if app.records.store().is_empty() && app.load.is_none() {
                "No records loaded."
            } else {
                "Counting…"
            };
            ui.label(RichText::new(text).weak());
        });
        return;
    };
    egui::ScrollArea::vertical()
        .id_salt("summary")
        .auto_shrink(false)
        .show(ui, |ui| {
            let width = ui.available_width();
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| {
                    ui.set_width(430.0);
                    accounting_ui(ui, app, &stats);
                    ui.add_space(8.0);
                    files_ui(ui, app);
                });
                let rest = (width - 450.0).max(400.0);
                ui.vertical(|ui| {
                    ui.set_width(rest * 0.45);
                    ui.heading("Records per category");
                    category_plot_ui(ui, &stats, commands);
                });
                ui.vertical(|ui| {
                    ui.set_width(rest * 0.55 - 10.0);
                    ui.heading("Events over time");
                    time_plot_ui(ui, &stats);
                });
            });
            ui.add_space(8.0);
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| {
                    ui.set_width(430.0);
                    ui.heading(format!("Records per event (top {TOP_EVENTS})"));
                    event_plot_ui(ui, &stats);
                });
                ui.vertical(|ui| {
                    coverage_ui(ui, &stats, app.engine.rules().source_name.as_str());
                });
            });
        });
}

fn accounting_ui(ui: &mut egui::Ui, app: &App, stats: &Stats) {
    ui.heading("Accounting");
    let a = &app.records.store().accounting;
    let batches = app.batches.shown();
    egui::Grid::new("accounting").striped(true).show(ui, |ui| {
        for (label, value) in [
            ("Records read", a.records_read),
            ("Mapped", a.mapped),
            ("Mapped with warnings", a.warned),
            ("Held (not sent)", a.held),
            ("Dropped by policy", a.dropped),
            ("Unreadable", a.unreadable),
        ] {
            ui.label(label);
            ui.label(RichText::new(value.to_string()).monospace());
            ui.end_row();
        }
        ui.label("Batches (users)");
        ui.label(
            RichText::new(batches.map_or("…".into(), |b| b.batches.len().to_string())).monospace(),
        );
        ui.end_row();
        if let Some(b) = batches {
            let historical = b.batches.iter().filter(|x| x.historical).count();
            ui.label("of them historical");
            ui.label(RichText::new(historical.to_string()).monospace());
            ui.end_row();
        }
        if let Some((first, last)) = stats.time_range {
            ui.label("Time range (UTC)");
            ui.label(format!("{} – {}", format_time(first), format_time(last)));
            ui.end_row();
        }
    });
    if !a.balanced() || a.records_read as usize != stats.records {
        ui.label(RichText::new("(counts are being updated)").weak());
    }
}

fn files_ui(ui: &mut egui::Ui, app: &App) {
    ui.heading("Files");
    egui::Grid::new("files").striped(true).show(ui, |ui| {
        for file in &app.files {
            ui.label(file.name())
                .on_hover_text(file.path.display().to_string());
            match &file.failure {
                Some(message) => {
                    ui.label(
                        RichText::new(message)
                            .color(super::theme::severity_color(3, ui.visuals().dark_mode)),
                    );
                }
                None => {
                    let size = crate::clevertap::bucket::input_size(&file.path).unwrap_or(0);
                    ui.label(format!(
                        "{}{} · {} records · {}",
                        file.shape.unwrap_or("?"),
                        if file.gzip { " (gzip)" } else { "" },
                        file.records,
                        human_bytes(size)
                    ));
                }
            }
            ui.end_row();
        }
    });
}

fn category_plot_ui(ui: &mut egui::Ui, stats: &Stats, commands: &mut Vec<Command>) {
    let mut bars = Vec::new();
    let mut names = Vec::new();
    for index in 0..RECORD_TABS as u8 {
        let count = stats.per_tab.get(usize::from(index)).copied().unwrap_or(0);
        if index >= 6 && index != crate::records::UNMAPPED_TAB && count == 0 {
            continue;
        }
        let x = names.len() as f64;
        names.push(record_tab_name(index));
        bars.push(
            Bar::new(x, count as f64)
                .name(record_tab_name(index))
                .width(0.7),
        );
    }
    let profiles = stats.per_tab.get(RECORD_TABS).copied().unwrap_or(0);
    if profiles > 0 {
        let x = names.len() as f64;
        names.push("Profiles");
        bars.push(Bar::new(x, profiles as f64).name("Profiles").width(0.7));
    }
    let labels = names.clone();
    let count = names.len();
    Plot::new("per_category")
        .height(240.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show_grid([false, true])
        .x_grid_spacer(move |_| {
            (0..count)
                .map(|i| egui_plot::GridMark {
                    value: i as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .custom_x_axes(vec![
            egui_plot::AxisHints::new_x()
                .label_spacing(10.0..=12.0)
                .formatter(move |mark, _| {
                    let i = mark.value.round();
                    if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                        labels
                            .get(i as usize)
                            .map(|s| s.to_string())
                            .unwrap_or_default()
                    } else {
                        String::new()
                    }
                }),
        ])
        .show(ui, |plot| plot.bar_chart(BarChart::new("records", bars)));
    ui.horizontal_wrapped(|ui| {
        for index in 0..RECORD_TABS as u8 {
            let count = stats.per_tab.get(usize::from(index)).copied().unwrap_or(0);
            if count > 0
                && ui
                    .link(format!("{} ({count})", record_tab_name(index)))
                    .clicked()
            {
                commands.push(Command::SetTab(Tab::Records(index)));
            }
        }
    });
}

fn event_plot_ui(ui: &mut egui::Ui, stats: &Stats) {
    let top: Vec<&(String, u64)> = stats.per_event.iter().take(TOP_EVENTS).collect();
    let bars: Vec<Bar> = top
        .iter()
        .enumerate()
        .map(|(i, (name, n))| Bar::new(-(i as f64), *n as f64).name(name).width(0.7))
        .collect();
    let labels: Vec<String> = top.iter().map(|(n, _)| n.clone()).collect();
    let count = labels.len();
    Plot::new("per_event")
        .height(20.0 * count.max(4) as f64 as f32 + 40.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .y_grid_spacer(move |_| {
            (0..count)
                .map(|i| egui_plot::GridMark {
                    value: -(i as f64),
                    step_size: 1.0,
                })
                .collect()
        })
        .custom_y_axes(vec![
            egui_plot::AxisHints::new_y()
                .label_spacing(8.0..=10.0)
                .min_thickness(170.0)
                .formatter(move |mark, _| {
                    let i = -mark.value.round();
                    if (mark.value + i).abs() < 1e-6 && i >= 0.0 {
                        labels.get(i as usize).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                }),
        ])
        .show_grid([true, false])
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("records", bars).horizontal())
        });
}

fn time_plot_ui(ui: &mut egui::Ui, stats: &Stats) {
    if stats.over_time.is_empty() {
        ui.label(RichText::new("no event has a readable time").weak());
        return;
    }
    let width = stats.bucket_ms as f64 / 1000.0;
    let bars: Vec<Bar> = stats
        .over_time
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|&(t, n)| Bar::new(t as f64 / 1000.0 + width / 2.0, n as f64).width(width * 0.9))
        .collect();
    let unit = match stats.bucket_ms {
        60_000 => "per minute",
        3_600_000 => "per hour",
        86_400_000 => "per day",
        _ => "per week",
    };
    let daily = stats.bucket_ms >= 86_400_000;
    Plot::new("over_time")
        .height(240.0)
        .legend(Legend::default())
        .allow_scroll(false)
        .x_axis_formatter(move |mark, _| {
            chrono::DateTime::from_timestamp(mark.value as i64, 0)
                .map(|t| {
                    let format = if daily { "%Y-%m-%d" } else { "%m-%d %H:%M" };
                    t.format(format).to_string()
                })
                .unwrap_or_default()
        })
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new(format!("events {unit}"), bars));
        });
}

fn coverage_ui(ui: &mut egui::Ui, stats: &Stats, rules_name: &str) {
    ui.heading(format!(
        "Coverage of the feed document's {} events",
        stats.coverage.len()
    ));
    ui.label(
        RichText::new(format!(
            "Which documented events and attributes the loaded samples contain (rules: {rules_name}). Attributes in green appear, in red never appear."
        ))
        .weak(),
    );
    let dark = ui.visuals().dark_mode;
    let seen_color = super::theme::severity_color(0, dark);
    let missing_color = super::theme::severity_color(3, dark);
    let never = stats.coverage.iter().filter(|c| c.records == 0).count();
    ui.label(format!(
        "{} of {} events appear; {never} never appear.",
        stats.coverage.len() - never,
        stats.coverage.len()
    ));
    egui::Grid::new("coverage")
        .striped(true)
        .num_columns(5)
        .min_col_width(60.0)
        .show(ui, |ui| {
            for title in [
                "Event",
                "Category",
                "Records",
                "Attributes (seen / documented)",
                "Undocumented attributes seen",
            ] {
                ui.label(RichText::new(title).strong());
            }
            ui.end_row();
            for event in &stats.coverage {
                let name = RichText::new(&event.name);
                ui.label(if event.records == 0 {
                    name.color(missing_color)
                } else {
                    name.strong()
                });
                ui.label(event.category.label());
                ui.label(if event.records == 0 {
                    RichText::new("never").color(missing_color)
                } else {
                    RichText::new(event.records.to_string()).monospace()
                });
                let seen = event.attributes.iter().filter(|(_, n)| *n > 0).count();
                ui.horizontal_wrapped(|ui| {
                    ui.set_max_width(560.0);
                    ui.label(format!("{seen}/{}:", event.attributes.len()));
                    for (attribute, n) in &event.attributes {
                        let color = if *n > 0 { seen_color } else { missing_color };
                        ui.label(RichText::new(attribute).small().color(color))
                            .on_hover_text(format!("in {n} of {} records", event.records));
                    }
                });
                let extra = event
                    .undocumented
                    .iter()
                    .take(8)
                    .map(|(a, n)| format!("{a} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ");
                ui.add(egui::Label::new(RichText::new(extra).small()).wrap());
                ui.end_row();
            }
        });
}
