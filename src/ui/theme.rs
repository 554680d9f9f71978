//! Colours with a meaning: trace operations, severities and statuses, for light and dark themes.

use egui::Color32;

use crate::mapping::TraceOp;

/// The colour of a trace operation.
pub fn op_color(op: TraceOp, dark: bool) -> Color32 {
    let (light, darkc) = match op {
        TraceOp::Copied => (
            Color32::from_rgb(0x2e, 0x7d, 0x32),
            Color32::from_rgb(0x81, 0xc7, 0x84),
        ),
        TraceOp::Renamed => (
            Color32::from_rgb(0x8a, 0x5a, 0x00),
            Color32::from_rgb(0xff, 0xd5, 0x4f),
        ),
        TraceOp::Coerced => (
            Color32::from_rgb(0xc4, 0x4d, 0x00),
            Color32::from_rgb(0xff, 0xa7, 0x26),
        ),
        TraceOp::Flattened => (
            Color32::from_rgb(0x6a, 0x1b, 0x9a),
            Color32::from_rgb(0xce, 0x93, 0xd8),
        ),
        TraceOp::Dropped => (
            Color32::from_rgb(0xc6, 0x28, 0x28),
            Color32::from_rgb(0xef, 0x9a, 0x9a),
        ),
        TraceOp::Added => (
            Color32::from_rgb(0x15, 0x65, 0xc0),
            Color32::from_rgb(0x90, 0xca, 0xf9),
        ),
    };
    if dark { darkc } else { light }
}

/// The word for a trace operation.
pub fn op_name(op: TraceOp) -> &'static str {
    match op {
        TraceOp::Copied => "copied",
        TraceOp::Renamed => "renamed",
        TraceOp::Coerced => "coerced",
        TraceOp::Flattened => "flattened",
        TraceOp::Dropped => "dropped",
        TraceOp::Added => "added",
    }
}

/// Every operation, for the legend.
pub const OPS: [TraceOp; 6] = [
    TraceOp::Copied,
    TraceOp::Renamed,
    TraceOp::Coerced,
    TraceOp::Flattened,
    TraceOp::Dropped,
    TraceOp::Added,
];

/// The colour of a severity code (1 info, 2 warning, 3 error).
pub fn severity_color(code: u8, dark: bool) -> Color32 {
    match (code, dark) {
        (3, false) => Color32::from_rgb(0xc6, 0x28, 0x28),
        (3, true) => Color32::from_rgb(0xff, 0x6b, 0x6b),
        (2, false) => Color32::from_rgb(0xb2, 0x6a, 0x00),
        (2, true) => Color32::from_rgb(0xff, 0xc1, 0x07),
        (1, false) => Color32::from_rgb(0x15, 0x65, 0xc0),
        (1, true) => Color32::from_rgb(0x90, 0xca, 0xf9),
        (_, false) => Color32::from_rgb(0x2e, 0x7d, 0x32),
        (_, true) => Color32::from_rgb(0x81, 0xc7, 0x84),
    }
}

/// The colour of a status code ([`crate::records::status_code`]).
pub fn status_color(code: u8, dark: bool) -> Color32 {
    match code {
        0 => severity_color(0, dark),
        1 => severity_color(2, dark),
        2 => {
            if dark {
                Color32::GRAY
            } else {
                Color32::DARK_GRAY
            }
        }
        _ => severity_color(3, dark),
    }
}

/// Applies a theme preference.
pub fn apply_theme(ctx: &egui::Context, theme: super::prefs::ThemePref) {
    use super::prefs::ThemePref;
    ctx.set_theme(match theme {
        ThemePref::System => egui::ThemePreference::System,
        ThemePref::Light => egui::ThemePreference::Light,
        ThemePref::Dark => egui::ThemePreference::Dark,
    });
}

/// The default fonts, with the monospace font as a fallback for the proportional one: it has
/// the arrows and box characters that trace notes and data use.
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    if let Some(family) = fonts.families.get_mut(&egui::FontFamily::Proportional)
        && !family.iter().any(|name| name == "Hack")
    {
        family.push("Hack".into());
    }
    ctx.set_fonts(fonts);
}

/// `text` laid out as code in `language` ("toml", "json"), coloured by token for the theme in
/// use; wrapped at `wrap` points (`f32::INFINITY`: one row a line). For an editor's layouter.
pub fn code_galley(
    ui: &egui::Ui,
    text: &str,
    language: &str,
    wrap: f32,
) -> std::sync::Arc<egui::Galley> {
    let theme = egui_extras::syntax_highlighting::CodeTheme::from_style(ui.style());
    let mut job =
        egui_extras::syntax_highlighting::highlight(ui.ctx(), ui.style(), &theme, text, language);
    job.wrap.max_width = wrap;
    ui.fonts_mut(|fonts| fonts.layout_job(job))
}
