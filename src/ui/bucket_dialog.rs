//! File › Open from bucket…: a URL box, the export runs under the prefix (run epoch, events,
//! chunks, sizes, gaps) listed on a worker thread, and opening a whole run or chosen chunks.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use super::commands::{Command, OpenMode};
use super::format::human_bytes;
use super::state::{App, Msg};
use crate::clevertap::{ChunkReport, ExportRun, bucket};

/// What the dialog asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum BucketAction {
    /// Show the dialog.
    Show,
    /// The URL box changed.
    SetUrl(String),
    /// List the export runs under the URL.
    List,
    /// Tick or untick a chunk.
    Toggle(PathBuf),
    /// Open every chunk of a run (by its position in the listing).
    OpenRun(usize),
    /// Open the ticked chunks.
    OpenChosen,
    /// Close the dialog.
    Close,
}

/// A listing from the worker: its request number and the runs, or why not.
pub struct BucketMsg(u64, Result<Listing, String>);

/// The export runs under a URL.
#[derive(Debug)]
pub struct Listing {
    /// The URL listed.
    pub url: String,
    /// Its runs and other files.
    pub report: ChunkReport,
}

/// The dialog's state.
#[derive(Debug, Default)]
pub struct BucketDialog {
    url: String,
    requests: u64,
    pending: Option<u64>,
    listing: Option<Result<Arc<Listing>, String>>,
    chosen: BTreeSet<PathBuf>,
}

impl App {
    /// Applies a [`BucketAction`].
    pub(super) fn on_bucket_action(&mut self, action: BucketAction) {
        let send = self.sender();
        let dialog = self.bucket_dialog.get_or_insert_with(BucketDialog::default);
        match action {
            BucketAction::Show => {}
            BucketAction::SetUrl(url) => dialog.url = url,
            BucketAction::List => {
                let url = dialog.url.trim().to_string();
                if !bucket::is_url(std::path::Path::new(&url)) {
                    dialog.listing = Some(Err(format!(
                        "{url:?} is not a bucket URL: give s3://bucket/prefix, gs://bucket/prefix or az://container/prefix"
                    )));
                    return;
                }
                dialog.requests += 1;
                let request = dialog.requests;
                dialog.pending = Some(request);
                let spawned = crate::thread::spawn_named("feedlens-bucket", move || {
                    let listed = bucket::list(std::path::Path::new(&url))
                        .map(|objects| {
                            let files: Vec<(PathBuf, u64)> = objects
                                .into_iter()
                                .map(|object| (object.url, object.size))
                                .collect();
                            Listing {
                                report: ChunkReport::of(&files),
                                url,
                            }
                        })
                        .map_err(|error| error.to_string());
                    send(Msg::Bucket(BucketMsg(request, listed)));
                });
                if let Err(error) = spawned {
                    dialog.pending = None;
                    dialog.listing =
                        Some(Err(crate::thread::start_failed("feedlens-bucket", &error)));
                }
            }
            BucketAction::Toggle(path) => {
                if !dialog.chosen.remove(&path) {
                    dialog.chosen.insert(path);
                }
            }
            BucketAction::OpenRun(index) => {
                let paths: Vec<PathBuf> = match &dialog.listing {
                    Some(Ok(listing)) => listing
                        .report
                        .runs
                        .get(index)
                        .map(|run| run.chunks.iter().map(|c| c.path.clone()).collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                if !paths.is_empty() {
                    self.bucket_dialog = None;
                    self.start_load(paths, OpenMode::Replace);
                }
            }
            BucketAction::OpenChosen => {
                let paths: Vec<PathBuf> = match &dialog.listing {
                    // In the listing's order: chunk order.
                    Some(Ok(listing)) => listing_paths(listing)
                        .filter(|path| dialog.chosen.contains(*path))
                        .cloned()
                        .collect(),
                    _ => Vec::new(),
                };
                if !paths.is_empty() {
                    self.bucket_dialog = None;
                    self.start_load(paths, OpenMode::Replace);
                }
            }
            BucketAction::Close => self.bucket_dialog = None,
        }
    }

    /// Takes in a listing.
    pub(super) fn on_bucket_msg(&mut self, BucketMsg(request, listed): BucketMsg) {
        if let Some(dialog) = &mut self.bucket_dialog
            && dialog.pending == Some(request)
        {
            dialog.pending = None;
            dialog.chosen.clear();
            dialog.listing = Some(listed.map(Arc::new));
        }
    }
}

fn listing_paths(listing: &Listing) -> impl Iterator<Item = &PathBuf> {
    listing
        .report
        .runs
        .iter()
        .flat_map(|run| run.chunks.iter().map(|chunk| &chunk.path))
        .chain(listing.report.others.iter())
}

fn name_of(path: &std::path::Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The run's epoch as a UTC time (seconds or milliseconds).
fn epoch_label(epoch: u64) -> String {
    let seconds = if epoch >= 100_000_000_000 {
        epoch / 1000
    } else {
        epoch
    };
    i64::try_from(seconds)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|time| format!("{epoch} ({} UTC)", time.format("%Y-%m-%d %H:%M")))
        .unwrap_or_else(|| epoch.to_string())
}

/// Draws the dialog.
pub(super) fn bucket_dialog_ui(
    ctx: &egui::Context,
    dialog: &BucketDialog,
    commands: &mut Vec<Command>,
) {
    let mut open = true;
    egui::Window::new("Open from bucket")
        .open(&mut open)
        .default_width(560.0)
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                let label = ui.label("URL");
                let mut url = dialog.url.clone();
                let response = ui
                    .add(
                        egui::TextEdit::singleline(&mut url)
                            .hint_text("s3://bucket/prefix")
                            .desired_width(380.0),
                    )
                    .labelled_by(label.id);
                if response.changed() {
                    commands.push(Command::Bucket(BucketAction::SetUrl(url)));
                }
                let enter = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if ui
                    .add_enabled(dialog.pending.is_none(), egui::Button::new("List"))
                    .clicked()
                    || enter
                {
                    commands.push(Command::Bucket(BucketAction::List));
                }
            });
            ui.small("Credentials come from the environment, as for the cloud's own CLI.");
            ui.separator();
            if dialog.pending.is_some() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("listing…");
                });
            }
            match &dialog.listing {
                None => {}
                Some(Err(error)) => {
                    ui.colored_label(ui.visuals().error_fg_color, error);
                }
                Some(Ok(listing)) => listing_ui(ui, listing, dialog, commands),
            }
        });
    if !open {
        commands.push(Command::Bucket(BucketAction::Close));
    }
}

fn listing_ui(
    ui: &mut egui::Ui,
    listing: &Listing,
    dialog: &BucketDialog,
    commands: &mut Vec<Command>,
) {
    let report = &listing.report;
    ui.label(format!(
        "{}: {} export run(s), {} other file(s)",
        listing.url,
        report.runs.len(),
        report.others.len()
    ));
    for finding in report.findings(&listing.url) {
        ui.colored_label(ui.visuals().warn_fg_color, finding);
    }
    egui::ScrollArea::vertical()
        .max_height(360.0)
        .show(ui, |ui| {
            for (index, run) in report.runs.iter().enumerate() {
                run_ui(ui, index, run, dialog, commands);
            }
            if !report.others.is_empty() {
                ui.strong("Other files");
                for path in &report.others {
                    chunk_row(ui, path, None, dialog, commands);
                }
            }
        });
    ui.separator();
    ui.horizontal(|ui| {
        let count = dialog.chosen.len();
        if ui
            .add_enabled(
                count > 0,
                egui::Button::new(format!("Open {count} chosen chunk(s)")),
            )
            .clicked()
        {
            commands.push(Command::Bucket(BucketAction::OpenChosen));
        }
        if ui.button("Close").clicked() {
            commands.push(Command::Bucket(BucketAction::Close));
        }
    });
}

fn run_ui(
    ui: &mut egui::Ui,
    index: usize,
    run: &ExportRun,
    dialog: &BucketDialog,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.strong(format!("Run {}", epoch_label(run.run_epoch)));
        if ui.button("Open run").clicked() {
            commands.push(Command::Bucket(BucketAction::OpenRun(index)));
        }
    });
    let gaps = run.gaps_label();
    ui.label(format!(
        "{} · {} chunk(s) · {} · gaps: {gaps}",
        run.event_names().join(", "),
        run.chunks.len(),
        human_bytes(run.bytes())
    ));
    egui::CollapsingHeader::new("chunks")
        .id_salt(("bucket_run", index))
        .show(ui, |ui| {
            for chunk in &run.chunks {
                chunk_row(ui, &chunk.path, Some(chunk.size), dialog, commands);
            }
        });
    ui.add_space(4.0);
}

fn chunk_row(
    ui: &mut egui::Ui,
    path: &std::path::Path,
    size: Option<u64>,
    dialog: &BucketDialog,
    commands: &mut Vec<Command>,
) {
    let mut ticked = dialog.chosen.contains(path);
    let label = match size {
        Some(size) => format!("{} ({})", name_of(path), human_bytes(size)),
        None => name_of(path),
    };
    if ui.checkbox(&mut ticked, label).changed() {
        commands.push(Command::Bucket(BucketAction::Toggle(path.to_path_buf())));
    }
}
