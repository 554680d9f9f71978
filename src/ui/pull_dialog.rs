//! File › Pull from CleverTap…: region, account id, passcode (masked, kept in a [`Secret`]),
//! the events to pull (the rules' documented names to tick, others typed), the days and the
//! output file. The library's pull runs on a worker thread with a progress line per event and
//! Cancel; the reconciliation shows as each event completes, and the output opens at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::commands::{Command, OpenMode};
use super::state::{App, Msg};
use crate::clevertap::pull::{self, PullEvent, PullJob, PullSummary, Region, format_count};
use crate::feed::{Credentials, Secret, SendTuning};

/// What the pull form holds.
#[derive(Debug, Clone, PartialEq)]
pub struct PullForm {
    /// The account's region.
    pub region: Region,
    /// Another API base URL (a stand-in on 127.0.0.1); empty: the region's.
    pub url: String,
    /// The CleverTap account id.
    pub account_id: String,
    /// The CleverTap passcode.
    pub passcode: Secret,
    /// Ticked event names.
    pub events: BTreeSet<String>,
    /// Other event names, comma-separated.
    pub typed_events: String,
    /// First day, yyyymmdd.
    pub from: String,
    /// Last day, yyyymmdd.
    pub to: String,
    /// The NDJSON output file.
    pub output: String,
}

impl Default for PullForm {
    fn default() -> Self {
        Self {
            region: Region::Eu1,
            url: String::new(),
            account_id: std::env::var(pull::ACCOUNT_ID_ENV).unwrap_or_default(),
            passcode: Secret::new(std::env::var(pull::PASSCODE_ENV).unwrap_or_default()),
            events: BTreeSet::new(),
            typed_events: String::new(),
            from: String::new(),
            to: String::new(),
            output: "pulled.ndjson".to_string(),
        }
    }
}

/// What the dialog asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum PullAction {
    /// Show the dialog.
    Show,
    /// The form changed.
    SetForm(Box<PullForm>),
    /// Start pulling.
    Start,
    /// Stop after the pages in flight.
    Cancel,
    /// Fill the account id and passcode from the operating system's keyring.
    KeyringLoad,
    /// Keep the account id and passcode in the operating system's keyring.
    KeyringStore,
    /// Close the dialog (a running pull is cancelled).
    Close,
}

/// From the pull's worker thread: its run number and what happened.
pub enum PullMsg {
    /// Progress.
    Event(u64, PullEvent),
    /// A page was written, and kept as a file of its own to be shown at once.
    PageFile(u64, PathBuf),
    /// The end (the summary, or why the pull stopped).
    Done(u64, Result<PullSummary, String>),
    /// The keyring's answer: whether it was asked to keep the credentials, and the account id
    /// and passcode it holds (none when it holds nothing or was storing), or why not.
    Keyring(bool, Result<Option<Credentials>, String>),
}

/// The dialog's state.
#[derive(Debug, Default)]
pub struct PullDialog {
    form: PullForm,
    runs: u64,
    running: Option<(u64, Arc<AtomicBool>)>,
    /// One line per event, by name.
    lines: BTreeMap<String, String>,
    outcome: Option<Result<String, String>>,
    /// The running pull's pages, each in a file of its own, shown in the tabs as they arrive
    /// (the output itself is opened when the pull ends).
    pages: Option<tempfile::TempDir>,
    /// Page files written and not yet read, and whether this pull's first page was read.
    unread: Vec<PathBuf>,
    showing: bool,
}

impl PullDialog {
    fn is_running(&self) -> bool {
        self.running.is_some()
    }
}

fn day(text: &str, what: &str) -> Result<u32, String> {
    let text = text.trim();
    let valid = text.len() == 8 && chrono::NaiveDate::parse_from_str(text, "%Y%m%d").is_ok();
    valid
        .then(|| text.parse().ok())
        .flatten()
        .ok_or_else(|| format!("the {what} day {text:?} is not a day as yyyymmdd (e.g. 20240301)"))
}

/// The job the form describes, or what is missing.
fn job_of(form: &PullForm) -> Result<PullJob, String> {
    let range = (day(&form.from, "first")?, day(&form.to, "last")?);
    if range.0 > range.1 {
        return Err("the first day is after the last".to_string());
    }
    let mut events: Vec<String> = form.events.iter().cloned().collect();
    for typed in form.typed_events.split(',').map(str::trim) {
        if !typed.is_empty() && !events.iter().any(|e| e == typed) {
            events.push(typed.to_string());
        }
    }
    if events.is_empty() {
        return Err("tick or type at least one event".to_string());
    }
    if form.account_id.trim().is_empty() || form.passcode.is_empty() {
        return Err("give the account id and the passcode".to_string());
    }
    if form.output.trim().is_empty() {
        return Err("give the output file".to_string());
    }
    let url = if form.url.trim().is_empty() {
        form.region.base_url()
    } else {
        form.url.trim().to_string()
    };
    let base_url = crate::feed::check_url(&url).map_err(|error| error.to_string())?;
    Ok(PullJob {
        base_url,
        account_id: form.account_id.trim().to_string(),
        passcode: form.passcode.clone(),
        events,
        range,
        batch_size: pull::MAX_BATCH_SIZE,
        output: PathBuf::from(form.output.trim()),
        resume: false,
        concurrency: 2,
        tuning: SendTuning::default(),
        count_poll: Duration::from_secs(2),
    })
}

impl App {
    /// Applies a [`PullAction`].
    pub(super) fn on_pull_action(&mut self, action: PullAction) {
        let send = self.sender();
        let dialog = self.pull_dialog.get_or_insert_with(PullDialog::default);
        match action {
            PullAction::Show => {}
            PullAction::SetForm(form) => dialog.form = *form,
            PullAction::Start => {
                if dialog.is_running() {
                    return;
                }
                let job = match job_of(&dialog.form) {
                    Ok(job) => job,
                    Err(message) => {
                        dialog.outcome = Some(Err(message));
                        return;
                    }
                };
                dialog.runs += 1;
                let run = dialog.runs;
                let stop = Arc::new(AtomicBool::new(false));
                dialog.running = Some((run, Arc::clone(&stop)));
                dialog.lines = job
                    .events
                    .iter()
                    .map(|event| (event.clone(), "waiting".to_string()))
                    .collect();
                dialog.outcome = None;
                // Each page also goes to a file of its own, read as it arrives: the output is
                // being written by several events at once, never read while it grows.
                dialog.pages = tempfile::Builder::new()
                    .prefix("feedlens-pull-pages-")
                    .tempdir()
                    .ok();
                dialog.unread.clear();
                dialog.showing = false;
                let pages = dialog.pages.as_ref().map(|dir| dir.path().to_path_buf());
                let numbered = std::sync::atomic::AtomicU64::new(0);
                let spawned = crate::thread::spawn_named("feedlens-pull", move || {
                    let on_event = |event: PullEvent| {
                        if let (PullEvent::Page { lines, .. }, Some(pages)) = (&event, &pages) {
                            let number = numbered.fetch_add(1, Ordering::Relaxed);
                            let path = pages.join(format!("page-{number:06}.ndjson"));
                            if std::fs::write(&path, &lines[..]).is_ok() {
                                send(Msg::Pull(PullMsg::PageFile(run, path)));
                            }
                        }
                        send(Msg::Pull(PullMsg::Event(run, event)));
                    };
                    let result = pull::run(&job, &stop, &on_event).map_err(|e| e.to_string());
                    send(Msg::Pull(PullMsg::Done(run, result)));
                });
                if let Err(error) = spawned {
                    dialog.running = None;
                    dialog.outcome =
                        Some(Err(crate::thread::start_failed("feedlens-pull", &error)));
                }
            }
            PullAction::KeyringLoad | PullAction::KeyringStore => {
                let label = keyring_label(&dialog.form);
                let storing = action == PullAction::KeyringStore;
                let store = storing.then(|| {
                    Credentials::new(dialog.form.account_id.trim(), dialog.form.passcode.expose())
                });
                dialog.outcome = None;
                // The keyring may wait on the session's keyring service: not on the UI thread.
                let spawned = crate::thread::spawn_named("feedlens-keyring", move || {
                    let reply = match store {
                        Some(credentials) => {
                            crate::feed::keyring::store(&label, &credentials).map(|()| None)
                        }
                        None => crate::feed::keyring::load(&label),
                    };
                    send(Msg::Pull(PullMsg::Keyring(
                        storing,
                        reply.map_err(|e| e.to_string()),
                    )));
                });
                if let Err(error) = spawned {
                    dialog.outcome =
                        Some(Err(crate::thread::start_failed("feedlens-keyring", &error)));
                }
            }
            PullAction::Cancel => {
                if let Some((_, stop)) = &dialog.running {
                    stop.store(true, Ordering::Relaxed);
                }
            }
            PullAction::Close => {
                if let Some((_, stop)) = &dialog.running {
                    stop.store(true, Ordering::Relaxed);
                }
                self.pull_dialog = None;
            }
        }
    }

    /// Reads the pages a running pull wrote since the last ones were read, when no other
    /// reading is under way: the first page replaces what is loaded, the next ones are added.
    pub(super) fn show_pulled_pages(&mut self) {
        if self.load.is_some() {
            return;
        }
        let Some(dialog) = &mut self.pull_dialog else {
            return;
        };
        if dialog.unread.is_empty() {
            return;
        }
        let pages = std::mem::take(&mut dialog.unread);
        let mode = if dialog.showing {
            OpenMode::Add
        } else {
            OpenMode::Replace
        };
        dialog.showing = true;
        self.load_files(pages, mode, false);
    }

    /// Takes in the pull's progress and end; opens the output when the pull ends.
    pub(super) fn on_pull_msg(&mut self, msg: PullMsg) {
        let Some(dialog) = &mut self.pull_dialog else {
            return;
        };
        match msg {
            PullMsg::Event(run, event) if dialog.running.as_ref().is_some_and(|r| r.0 == run) => {
                let (name, line) = progress_line(event);
                dialog.lines.insert(name, line);
            }
            PullMsg::Event(..) => {}
            PullMsg::PageFile(run, path) if dialog.running.as_ref().is_some_and(|r| r.0 == run) => {
                dialog.unread.push(path);
            }
            PullMsg::PageFile(..) => {}
            PullMsg::Keyring(_, Ok(Some(credentials))) => {
                dialog.form.account_id = credentials.key.clone();
                dialog.form.passcode = credentials.secret.clone();
                dialog.outcome = Some(Ok("account id and passcode taken from the keyring".into()));
            }
            PullMsg::Keyring(false, Ok(None)) => {
                dialog.outcome = Some(Err(format!(
                    "the keyring holds nothing for {}",
                    keyring_label(&dialog.form)
                )));
            }
            PullMsg::Keyring(true, Ok(None)) => {
                dialog.outcome = Some(Ok(format!(
                    "account id and passcode kept in the keyring for {}",
                    keyring_label(&dialog.form)
                )));
            }
            PullMsg::Keyring(_, Err(error)) => dialog.outcome = Some(Err(error)),
            PullMsg::Done(run, result) => {
                if dialog.running.as_ref().is_none_or(|r| r.0 != run) {
                    return;
                }
                dialog.running = None;
                dialog.unread.clear();
                let output = PathBuf::from(dialog.form.output.trim());
                match result {
                    Ok(summary) => {
                        let records: u64 = summary.events.iter().map(|e| e.records).sum();
                        let all = summary
                            .events
                            .iter()
                            .all(|e| e.done && e.counted == Some(e.records));
                        dialog.outcome = Some(if all {
                            Ok(format!(
                                "{} records in {}, every event reconciled",
                                format_count(records),
                                output.display()
                            ))
                        } else {
                            Err(format!(
                                "{} records in {}: not every event is complete or reconciled (see above)",
                                format_count(records),
                                output.display()
                            ))
                        });
                        if records > 0 {
                            self.start_load(vec![output], OpenMode::Replace);
                        }
                    }
                    Err(message) => dialog.outcome = Some(Err(message)),
                }
            }
        }
    }
}

/// The keyring entry of the form's account: per region (or per API URL), as `pull` reads it.
pub(crate) fn keyring_label(form: &PullForm) -> String {
    crate::clevertap::pull::keyring_label(if form.url.trim().is_empty() {
        form.region.as_str()
    } else {
        form.url.trim()
    })
}

/// An event's progress in a line.
fn progress_line(event: PullEvent) -> (String, String) {
    match event {
        PullEvent::Started {
            event,
            earlier_records,
        } => (
            event,
            format!(
                "started ({} records earlier)",
                format_count(earlier_records)
            ),
        ),
        PullEvent::Page {
            event,
            pages,
            records,
            run_bytes,
            elapsed,
            run_records,
            ..
        } => {
            let rate = run_records as f64 / elapsed.as_secs_f64().max(0.001);
            (
                event,
                format!(
                    "{pages} pages, {} records, {:.1} MB, {rate:.0} records/s",
                    format_count(records),
                    run_bytes as f64 / 1e6
                ),
            )
        }
        PullEvent::Retry { event, note } => (event, format!("retrying: {note:?}")),
        PullEvent::Finished { event, records } => (
            event,
            format!("{} records, counting…", format_count(records)),
        ),
        PullEvent::Reconciled {
            event,
            counted,
            pulled,
        } => {
            let verdict = if counted == pulled {
                ""
            } else {
                " — DIFFERENT"
            };
            (
                event,
                format!(
                    "CleverTap counts {}, pulled {}{verdict}",
                    format_count(counted),
                    format_count(pulled)
                ),
            )
        }
    }
}

/// Draws the dialog; `documented` are the rules' event names to tick.
pub(super) fn pull_dialog_ui(
    ctx: &egui::Context,
    dialog: &PullDialog,
    documented: &[&str],
    commands: &mut Vec<Command>,
) {
    let mut open = true;
    let mut form = dialog.form.clone();
    let running = dialog.is_running();
    egui::Window::new("Pull from CleverTap")
        .open(&mut open)
        .default_width(520.0)
        .show(ctx, |ui| {
            ui.add_enabled_ui(!running, |ui| form_ui(ui, &mut form, documented));
            ui.separator();
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(!running, egui::Button::new("Pull"))
                    .clicked()
                {
                    commands.push(Command::Pull(PullAction::Start));
                }
                if ui
                    .add_enabled(running, egui::Button::new("Cancel"))
                    .clicked()
                {
                    commands.push(Command::Pull(PullAction::Cancel));
                }
                if running {
                    ui.spinner();
                }
                ui.separator();
                if ui
                    .add_enabled(!running, egui::Button::new("Load from the keyring"))
                    .clicked()
                {
                    commands.push(Command::Pull(PullAction::KeyringLoad));
                }
                if ui
                    .add_enabled(!running, egui::Button::new("Remember in the keyring"))
                    .on_hover_text(
                        "Keep the account id and passcode in the operating system's keyring",
                    )
                    .clicked()
                {
                    commands.push(Command::Pull(PullAction::KeyringStore));
                }
            });
            for (event, line) in &dialog.lines {
                ui.label(format!("{event}: {line}"));
            }
            match &dialog.outcome {
                Some(Ok(message)) => {
                    ui.label(message);
                }
                Some(Err(message)) => {
                    ui.colored_label(ui.visuals().error_fg_color, message);
                }
                None => {}
            }
        });
    if form != dialog.form {
        commands.push(Command::Pull(PullAction::SetForm(Box::new(form))));
    }
    if !open {
        commands.push(Command::Pull(PullAction::Close));
    }
}

fn form_ui(ui: &mut egui::Ui, form: &mut PullForm, documented: &[&str]) {
    egui::Grid::new("pull_form").num_columns(2).show(ui, |ui| {
        ui.label("Region");
        ui.horizontal(|ui| {
            for region in Region::ALL {
                ui.radio_value(&mut form.region, region, region.as_str());
            }
        });
        ui.end_row();
        // Each field is named by its label, for screen readers and UI tests alike.
        let label = ui.label("API URL");
        ui.add(
            egui::TextEdit::singleline(&mut form.url)
                .hint_text("the region's (or a stand-in on 127.0.0.1)")
                .desired_width(300.0),
        )
        .labelled_by(label.id);
        ui.end_row();
        let label = ui.label("Account id");
        ui.add(egui::TextEdit::singleline(&mut form.account_id).desired_width(300.0))
            .labelled_by(label.id);
        ui.end_row();
        let label = ui.label("Passcode");
        // The field edits a copy that lives for this frame only; the state keeps a `Secret`.
        let mut typed = zeroize::Zeroizing::new(form.passcode.expose().to_string());
        if ui
            .add(
                egui::TextEdit::singleline(&mut *typed)
                    .password(true)
                    .desired_width(300.0),
            )
            .labelled_by(label.id)
            .changed()
        {
            form.passcode = Secret::new(typed.as_str());
        }
        ui.end_row();
        ui.label("Days");
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut form.from)
                    .hint_text("20240301")
                    .desired_width(90.0),
            );
            ui.label("to");
            ui.add(
                egui::TextEdit::singleline(&mut form.to)
                    .hint_text("20240307")
                    .desired_width(90.0),
            );
        });
        ui.end_row();
        let label = ui.label("Output");
        ui.add(egui::TextEdit::singleline(&mut form.output).desired_width(300.0))
            .labelled_by(label.id);
        ui.end_row();
    });
    ui.label("Events");
    egui::ScrollArea::vertical()
        .max_height(320.0)
        .show(ui, |ui| {
            egui::Grid::new("pull_events")
                .num_columns(2)
                .show(ui, |ui| {
                    for (index, name) in documented.iter().enumerate() {
                        let mut ticked = form.events.contains(*name);
                        if ui.checkbox(&mut ticked, *name).changed() {
                            if ticked {
                                form.events.insert((*name).to_string());
                            } else {
                                form.events.remove(*name);
                            }
                        }
                        if index % 2 == 1 {
                            ui.end_row();
                        }
                    }
                });
        });
    ui.horizontal(|ui| {
        ui.label("Other events");
        ui.add(
            egui::TextEdit::singleline(&mut form.typed_events)
                .hint_text("names, comma-separated")
                .desired_width(300.0),
        );
    });
}
