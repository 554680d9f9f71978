//! The window (egui only): CleverTap records and what mParticle gets, side by side, by category.
//!
//! The panels read state and propose [`Command`]s; [`App::apply`] changes the state. Loading,
//! filtering, batching, counting and exporting run on worker threads that report through a
//! channel and wake the window.

mod app;
mod async_state;
mod bucket_dialog;
mod commands;
mod compare;
mod compare_view;
mod detail;
mod detail_state;
mod diff_view;
mod edit;
mod editor;
mod filter;
mod format;
mod handler;
mod json_view;
mod layout;
pub mod loader;
mod path_box;
pub mod prefs;
mod pull_dialog;
pub mod query;
mod quick_fix;
mod rules;
mod rules_draft;
mod rules_editor;
mod screenshot;
mod send;
mod send_panel;
mod send_state;
mod shortcuts;
mod state;
pub mod stats;
mod summary;
mod tab;
mod table;
mod theme;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

pub use bucket_dialog::BucketAction;
pub use commands::{Command, OpenMode, Pick, Scope};
pub use pull_dialog::{PullAction, PullForm};
pub use screenshot::write_png;
pub use send_state::SendForm;
pub use state::{App, StartOptions};
pub use tab::Tab;

/// Window options (without a subcommand, `feedlens [OPTIONS] [FILE]...` opens the window).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WindowArgs {
    /// CleverTap files or folders to open (default: the bundled samples).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// A mapping rules file (default: the last one used, else the built-in rules).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// The CleverTap account's time zone for 14-digit `ts` values (IANA name).
    #[arg(long = "tz", value_name = "ZONE")]
    pub timezone: Option<String>,
    /// Event name for records that have none (Get Events API pages).
    #[arg(long, value_name = "NAME")]
    pub event_name: Option<String>,
    /// Render the window once everything is loaded, write it to OUT.png and exit.
    #[arg(long, value_name = "OUT.png")]
    pub screenshot: Option<PathBuf>,
    /// The tab to show: other, attribution, uninstall, navigation, "user content", location,
    /// unmapped, users, summary.
    #[arg(long, value_name = "NAME")]
    pub tab: Option<String>,
    /// Select the N-th row (from 1) of that tab and show its detail.
    #[arg(long, value_name = "N")]
    pub select: Option<usize>,
    /// Filter by free text.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Open the send panel.
    #[arg(long)]
    pub send_panel: bool,
    /// Mask personal data in every view (as View › Mask personal data), e.g. for screenshots.
    #[arg(long)]
    pub mask: bool,
    /// The edits file the window applies and adds its edits to (default: its own, in the user's
    /// data folder; `map`, `check` and `send` replay it with `--edits`).
    #[arg(long, value_name = "FILE")]
    pub edits: Option<PathBuf>,
    /// Window size in points, WIDTHxHEIGHT, at least 640x400 (default: the size the window had
    /// when last closed, else 1500x950; a size given here is used for this run and not
    /// remembered).
    #[arg(long, value_name = "WxH")]
    pub size: Option<String>,
    /// Theme: light or dark (default: the saved preference, else the system's).
    #[arg(long, value_name = "THEME", value_parser = ["light", "dark"])]
    pub theme: Option<String>,
}

/// The window's size when none is given or remembered.
const DEFAULT_SIZE: &str = "1500x950";

/// The smallest window in which the table, the detail and the Send panel still fit.
const MIN_SIZE: [f32; 2] = [640.0, 400.0];

fn parse_size(text: &str) -> Result<[f32; 2], String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("--size {text}: write WIDTHxHEIGHT, e.g. 1500x950"))?;
    let [min_w, min_h] = MIN_SIZE;
    let parse = |v: &str, min: f32| {
        v.trim().parse::<f32>().ok().filter(|n| *n >= min).ok_or_else(|| {
            format!("--size {text}: the window is at least {min_w}x{min_h} (width from {min_w}, height from {min_h})")
        })
    };
    Ok([parse(w, min_w)?, parse(h, min_h)?])
}

/// Checks the options and turns them into the window's start options.
pub fn start_options(args: &WindowArgs) -> Result<StartOptions, String> {
    let timezone = args
        .timezone
        .as_deref()
        .map(crate::mapping::parse_timezone)
        .transpose()?;
    let tab = match &args.tab {
        Some(name) => Some(Tab::parse(name).ok_or_else(|| {
            format!("--tab {name}: no such tab; use other, attribution, uninstall, navigation, \"user content\", location, unmapped, users or summary")
        })?),
        None => None,
    };
    for file in &args.files {
        if !file.exists() {
            return Err(format!("cannot open {}: no such file", file.display()));
        }
    }
    Ok(StartOptions {
        files: args.files.clone(),
        rules: args.rules.clone(),
        timezone,
        event_name: args.event_name.clone(),
        tab,
        select: args.select,
        filter: args.filter.clone(),
        send_panel: args.send_panel,
        mask: args.mask,
        edits: args.edits.clone(),
        data_dir: None,
        screenshot: args.screenshot.clone(),
        fresh: args.screenshot.is_some(),
    })
}

fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
        || cfg!(any(target_os = "windows", target_os = "macos"))
}

const NO_DISPLAY: &str = "feedlens: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the window cannot open.
Without a display, use the headless commands:
  feedlens check FILE...            read, map and check; print the accounting and every finding
  feedlens map FILE... -o OUT.ndjson write the mParticle batches
  feedlens send FILE...             send the batches to a feed
For pictures of the window on a server, run it under Xvfb: xvfb-run -a feedlens --screenshot OUT.png FILE...";

/// Opens the window (or, with `--screenshot`, renders it once to a PNG).
pub fn run(args: WindowArgs) -> ExitCode {
    let options = match start_options(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("feedlens: {message}");
            return ExitCode::from(2);
        }
    };
    let size = match parse_size(args.size.as_deref().unwrap_or(DEFAULT_SIZE)) {
        Ok(size) => size,
        Err(message) => {
            eprintln!("feedlens: {message}");
            return ExitCode::from(2);
        }
    };
    if !has_display() {
        eprintln!("{NO_DISPLAY}");
        return ExitCode::from(2);
    }
    let screenshot = options.screenshot.is_some();
    let theme = args.theme.clone();
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("feedlens — CleverTap → mParticle")
            .with_app_id("feedlens")
            .with_inner_size(size)
            .with_min_inner_size(MIN_SIZE)
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Glow,
        // A size asked for on the command line is used over the remembered one, and not
        // remembered in its place.
        persist_window: !screenshot && args.size.is_none(),
        window_builder: args.size.is_some().then(|| {
            let hook: eframe::WindowBuilderHook =
                Box::new(move |builder| builder.with_inner_size(size).with_maximized(false));
            hook
        }),
        ..Default::default()
    };
    let failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let failed_in_app = std::sync::Arc::clone(&failed);
    let result = eframe::run_native(
        "feedlens",
        native,
        Box::new(move |cc| {
            let storage = if screenshot { None } else { cc.storage };
            if screenshot {
                // Pictures must not depend on panel sizes saved by earlier runs.
                cc.egui_ctx
                    .memory_mut(|memory| *memory = Default::default());
            }
            let mut app = App::new(storage, options)?;
            if let Some(theme) = theme {
                app.force_theme(&cc.egui_ctx, &theme);
            } else if screenshot {
                app.force_theme(&cc.egui_ctx, "light");
            }
            app.on_screenshot_failure(failed_in_app);
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) if failed.load(std::sync::atomic::Ordering::Relaxed) => ExitCode::from(1),
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let text = error.to_string();
            if text.contains("DISPLAY") || text.contains("display") || text.contains("X server") {
                eprintln!("{NO_DISPLAY}\n(the windowing system said: {text})");
            } else {
                eprintln!("feedlens: the window could not open: {text}");
            }
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn a_size_is_width_by_height_and_no_smaller_than_the_window_can_be() {
        assert_eq!(parse_size("1100x620"), Ok([1100.0, 620.0]));
        assert_eq!(parse_size(" 640 X 400 "), Ok([640.0, 400.0]));
        for text in ["1100", "wide x tall", "300x620", "1100x399"] {
            let error = parse_size(text).unwrap_err();
            assert!(error.starts_with(&format!("--size {text}: ")), "{error}");
        }
        assert!(
            parse_size("300x620")
                .unwrap_err()
                .contains("at least 640x400")
        );
    }
}
