//! The diff view: two mapped results field by field (added, removed, changed), coloured as the
//! detail view's trace is. A pure draw function of precomputed differences
//! ([`crate::diff::diff_values`] over two [`crate::diff::record_view`]s): nothing is diffed
//! while drawing, and only the rows in sight are laid out.

use egui::RichText;
use serde_json::Value;

use super::theme::op_color;
use crate::diff::{Change, FieldDiff};
use crate::mapping::TraceOp;

/// Longest value text shown in a cell (the whole value is in its hover text up to
/// [`HOVER_CHARS`]).
const CELL_CHARS: usize = 120;
/// Longest value text in a hover.
const HOVER_CHARS: usize = 4000;

/// What the two sides are called ("original", "edited"; "rules in force", "draft").
#[derive(Debug, Clone, Copy)]
pub struct DiffLabels<'a> {
    /// Side A.
    pub a: &'a str,
    /// Side B.
    pub b: &'a str,
}

impl<'a> DiffLabels<'a> {
    /// Labels for sides A and B.
    pub fn new(a: &'a str, b: &'a str) -> Self {
        Self { a, b }
    }
}

/// The word for a change.
pub fn change_name(change: Change) -> &'static str {
    match change {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Changed => "changed",
    }
}

/// The trace operation whose colour a change takes: added as added, removed as dropped,
/// changed as coerced.
fn change_op(change: Change) -> TraceOp {
    match change {
        Change::Added => TraceOp::Added,
        Change::Removed => TraceOp::Dropped,
        Change::Changed => TraceOp::Coerced,
    }
}

/// The colour of a change, for light or dark themes.
pub fn change_color(change: Change, dark: bool) -> egui::Color32 {
    op_color(change_op(change), dark)
}

/// Counts of added, removed and changed fields.
pub fn counts(diffs: &[FieldDiff]) -> (usize, usize, usize) {
    diffs
        .iter()
        .fold((0, 0, 0), |(added, removed, changed), d| match d.change {
            Change::Added => (added + 1, removed, changed),
            Change::Removed => (added, removed + 1, changed),
            Change::Changed => (added, removed, changed + 1),
        })
}

/// One line saying what differs: "2 changed · 1 added · 0 removed", or "no difference".
pub fn summary(diffs: &[FieldDiff]) -> String {
    if diffs.is_empty() {
        return "no difference".into();
    }
    let (added, removed, changed) = counts(diffs);
    format!("{changed} changed · {added} added · {removed} removed")
}

/// A value as one line of compact JSON, cut to `max` characters (with `…`); `—` when absent.
pub fn value_text(value: Option<&Value>, max: usize) -> String {
    let Some(value) = value else {
        return "—".into();
    };
    let text = match value {
        Value::String(text) => format!("\"{text}\""),
        other => other.to_string(),
    };
    if text.chars().count() > max {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// Draws `diffs` as a table (change, field, A's value, B's value) under a one-line summary and
/// a legend. Rows are virtualised: a diff of thousands of fields draws the visible ones only.
/// Give each diff view its own `ui` id (e.g. `ui.push_id`) when two are shown at once.
pub fn diff_ui(ui: &mut egui::Ui, diffs: &[FieldDiff], labels: DiffLabels<'_>) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(summary(diffs)).strong());
        ui.label(
            RichText::new(format!("· {} → {}", labels.a, labels.b))
                .small()
                .weak(),
        );
        for change in [Change::Changed, Change::Added, Change::Removed] {
            ui.label(
                RichText::new(change_name(change))
                    .small()
                    .strong()
                    .color(change_color(change, dark)),
            );
        }
    });
    if diffs.is_empty() {
        ui.label(RichText::new("Both sides map to the same fields and values.").weak());
        return;
    }
    let width = ui.available_width();
    let change_width = 64.0;
    let path_width = (width * 0.3).clamp(120.0, 360.0);
    let value_width = ((width - change_width - path_width - 24.0) / 2.0).max(80.0);
    let header = |ui: &mut egui::Ui, text: &str, w: f32| {
        cell(
            ui,
            w,
            egui::Label::new(RichText::new(text).strong()).truncate(),
        );
    };
    ui.horizontal(|ui| {
        header(ui, "change", change_width);
        header(ui, "field", path_width);
        header(ui, labels.a, value_width);
        header(ui, labels.b, value_width);
    });
    ui.separator();
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace) + 4.0;
    egui::ScrollArea::vertical()
        .id_salt("diff_view_rows")
        .auto_shrink([false, true])
        .max_height(ui.available_height().max(120.0))
        .show_rows(ui, row_height, diffs.len(), |ui, range| {
            for diff in &diffs[range] {
                row_ui(ui, diff, dark, [change_width, path_width, value_width]);
            }
        });
}

fn row_ui(ui: &mut egui::Ui, diff: &FieldDiff, dark: bool, widths: [f32; 3]) {
    let [change_width, path_width, value_width] = widths;
    let color = change_color(diff.change, dark);
    ui.horizontal(|ui| {
        cell(
            ui,
            change_width,
            egui::Label::new(
                RichText::new(change_name(diff.change))
                    .color(color)
                    .strong()
                    .small(),
            ),
        );
        cell(
            ui,
            path_width,
            egui::Label::new(RichText::new(&diff.path).monospace().color(color)).truncate(),
        )
        .on_hover_text(&diff.path);
        for (value, side_color) in [
            (
                diff.a.as_ref(),
                (diff.change == Change::Removed).then_some(color),
            ),
            (
                diff.b.as_ref(),
                (diff.change != Change::Removed).then_some(color),
            ),
        ] {
            let mut text = RichText::new(value_text(value, CELL_CHARS)).monospace();
            if let (Some(color), Some(_)) = (side_color, value) {
                text = text.color(color);
            }
            let response = cell(ui, value_width, egui::Label::new(text).truncate());
            if value.is_some() {
                response.on_hover_ui(|ui| {
                    ui.label(RichText::new(value_text(value, HOVER_CHARS)).monospace());
                });
            }
        }
    });
}

/// A widget in a cell `width` wide, left-aligned.
fn cell(ui: &mut egui::Ui, width: f32, widget: egui::Label) -> egui::Response {
    let height = ui.spacing().interact_size.y;
    ui.allocate_ui_with_layout(
        egui::vec2(width, height),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_width(width);
            ui.add(widget)
        },
    )
    .inner
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_one_line_and_cut() {
        assert_eq!(value_text(None, 10), "—");
        assert_eq!(value_text(Some(&json!("ab")), 10), "\"ab\"");
        assert_eq!(
            value_text(Some(&json!({"k": [1, 2]})), 100),
            "{\"k\":[1,2]}"
        );
        assert_eq!(value_text(Some(&json!("abcdefghij")), 4), "\"abc…");
    }

    #[test]
    fn the_summary_counts_each_kind_of_change() {
        let diffs = crate::diff::diff_values(
            &json!({"a": 1, "b": 2, "c": 3}),
            &json!({"a": 1, "b": 5, "d": 4}),
        );
        assert_eq!(summary(&diffs), "1 changed · 1 added · 1 removed");
        assert_eq!(summary(&[]), "no difference");
    }
}
