//! The send panel: where to send (the local feed, an mParticle pod, a URL), a dry-run plan of
//! the selection, sending with progress and cancel, and what the local feed received. The
//! sending itself is `crate::feed`.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

use egui::RichText;

use super::app::App;
use super::commands::Command;
use crate::feed::{
    AcceptedInPlan, Credentials, FeedSettings, FeedTarget, LocalFeed, LocalFeedConfig,
    LocalFeedHandle, Pod, SendEvent, SendHandle, SendJob, SendPlan, SendProgress, Sender,
    accepted_in_plan, default_journal_path,
};
use crate::mparticle::Environment;

/// State of the send panel.
#[derive(Default)]
pub struct SendPanel {
    /// Whether the panel is shown.
    pub open: bool,
    settings: FeedSettings,
    url: String,
    key: String,
    secret: String,
    send_all: bool,
    local: Option<LocalFeedHandle>,
    plan: Option<Arc<SendPlan>>,
    plan_text: String,
    /// What the journal says this feed already accepted of the plan (reopened samples).
    accepted: Option<AcceptedInPlan>,
    planning: Option<Receiver<(SendPlan, Result<AcceptedInPlan, String>)>>,
    handle: Option<SendHandle>,
    /// Plan as soon as there is a selection (when opened from the command line).
    auto_plan: bool,
    progress: SendProgress,
    log: Vec<String>,
    error: Option<String>,
}

/// What the panel holds, for logs and bug reports: the secret shows as `***` (or nothing when
/// none was typed), the plan and the sending as counts.
impl std::fmt::Debug for SendPanel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendPanel")
            .field("open", &self.open)
            .field("settings", &self.settings)
            .field("url", &self.url)
            .field("key", &self.key)
            .field("secret", &if self.secret.is_empty() { "" } else { "***" })
            .field("send_all", &self.send_all)
            .field("local", &self.local.as_ref().map(LocalFeedHandle::url))
            .field(
                "planned_batches",
                &self.plan.as_ref().map(|p| p.batch_count()),
            )
            .field("planning", &self.planning.is_some())
            .field("sending", &self.sending())
            .field("progress", &self.progress)
            .field("log", &self.log)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl SendPanel {
    /// A panel, open or not.
    pub fn new(open: bool) -> Self {
        let credentials = Credentials::from_env().unwrap_or_default();
        Self {
            open,
            auto_plan: open,
            key: credentials.key.clone(),
            secret: credentials.secret.expose().to_string(),
            ..Self::default()
        }
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(self.key.trim(), self.secret.trim())
    }

    fn ensure_local(&mut self) {
        if self.settings.target == FeedTarget::Local && self.local.is_none() {
            match LocalFeed::start(LocalFeedConfig::default()) {
                Ok(handle) => self.local = Some(handle),
                Err(error) => self.error = Some(format!("the local feed cannot start: {error}")),
            }
        }
    }

    fn poll(&mut self) {
        if let Some(rx) = &self.planning
            && let Ok((plan, accepted)) = rx.try_recv()
        {
            let target = self
                .settings
                .resolve(&self.credentials(), self.local.as_ref())
                .ok();
            self.plan_text = plan.describe(target.as_ref());
            match accepted {
                Ok(accepted) => self.accepted = Some(accepted),
                Err(message) => {
                    self.accepted = None;
                    self.error = Some(message);
                }
            }
            self.plan = Some(Arc::new(plan));
            self.planning = None;
        }
        if let Some(handle) = &self.handle {
            for event in handle.try_events() {
                let line = match event {
                    SendEvent::Attempt(report) => format!(
                        "request {} attempt {}: {}{}",
                        report.request + 1,
                        report.attempt,
                        report
                            .http_status
                            .map_or_else(|| "no answer".into(), |s| format!("HTTP {s}")),
                        report.error.map(|e| format!(" ({e})")).unwrap_or_default()
                    ),
                    SendEvent::RequestFinished { request, outcome } => {
                        format!("request {} finished: {outcome:?}", request + 1)
                    }
                    SendEvent::JournalFailed(message) => format!("journal: {message}"),
                    SendEvent::Finished(summary) => format!(
                        "finished: {} of {} batches accepted{}",
                        summary.progress.batches_accepted,
                        summary.progress.batches_total,
                        if summary.cancelled {
                            " (cancelled)"
                        } else {
                            ""
                        }
                    ),
                };
                self.log.push(line);
            }
            self.progress = handle.progress();
            let excess = self.log.len().saturating_sub(200);
            self.log.drain(..excess);
        }
    }

    fn sending(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.is_finished())
    }
}

/// Draws the send panel.
pub fn send_panel_ui(ui: &mut egui::Ui, app: &mut App, commands: &mut Vec<Command>) {
    let selected = app.selection.len();
    let store = app.records.share();
    let selection = app.selection.clone();
    let now = app.engine_now();
    let app_busy = app.is_busy();
    let ctx = ui.ctx().clone();
    let panel = &mut app.send_panel;
    panel.ensure_local();
    panel.poll();
    if panel.sending() || panel.planning.is_some() {
        ctx.request_repaint_after(std::time::Duration::from_millis(100));
    }

    ui.horizontal(|ui| {
        ui.heading("Send to a feed");
        if ui.small_button("Close").clicked() {
            commands.push(Command::ShowSendPanel(false));
        }
    });
    egui::ScrollArea::vertical()
        .id_salt("send_panel")
        .show(ui, |ui| {
            ui.label(format!("Selected records: {selected}"));
            ui.checkbox(&mut panel.send_all, "send every loaded record instead");

            ui.separator();
            ui.label(RichText::new("Target").strong());
            let mut target = panel.settings.target.clone();
            ui.radio_value(
                &mut target,
                FeedTarget::Local,
                "Local feed (built in, for trying)",
            );
            ui.horizontal(|ui| {
                let pod = match &target {
                    FeedTarget::Pod(pod) => *pod,
                    _ => Pod::US1,
                };
                ui.radio_value(&mut target, FeedTarget::Pod(pod), "mParticle pod");
                for candidate in Pod::ALL {
                    if ui
                        .selectable_label(target == FeedTarget::Pod(candidate), candidate.as_str())
                        .clicked()
                    {
                        target = FeedTarget::Pod(candidate);
                    }
                }
            });
            ui.horizontal(|ui| {
                if ui
                    .radio(matches!(target, FeedTarget::Url(_)), "URL")
                    .clicked()
                {
                    target = FeedTarget::Url(panel.url.clone());
                }
                let label = ui.label("base URL");
                if ui
                    .add(
                        egui::TextEdit::singleline(&mut panel.url)
                            .hint_text("https://…/v2")
                            .desired_width(180.0),
                    )
                    .labelled_by(label.id)
                    .changed()
                    && matches!(target, FeedTarget::Url(_))
                {
                    target = FeedTarget::Url(panel.url.clone());
                }
            });
            if target != panel.settings.target {
                panel.settings.target = target;
                panel.plan = None;
                panel.ensure_local();
            }
            match (&panel.settings.target, &panel.local) {
                (FeedTarget::Local, Some(local)) => {
                    ui.label(RichText::new(format!("local feed at {}", local.url())).small());
                }
                _ => {
                    ui.horizontal(|ui| {
                        let label = ui.label("API key");
                        ui.add(egui::TextEdit::singleline(&mut panel.key).desired_width(200.0))
                            .labelled_by(label.id);
                    });
                    ui.horizontal(|ui| {
                        let label = ui.label("Secret");
                        ui.add(
                            egui::TextEdit::singleline(&mut panel.secret)
                                .password(true)
                                .desired_width(200.0),
                        )
                        .labelled_by(label.id);
                    });
                    ui.horizontal(|ui| {
                        let feed = keyring_label(&panel.settings.target);
                        if ui
                            .small_button("Remember in the keyring")
                            .on_hover_text("Store the key and secret in the operating system's keyring")
                            .clicked()
                        {
                            panel.error = crate::feed::keyring::store(&feed, &panel.credentials())
                                .err()
                                .map(|error| error.to_string());
                        }
                        if ui.small_button("Use the keyring's").clicked() {
                            match crate::feed::keyring::load(&feed) {
                                Ok(Some(credentials)) => {
                                    panel.key = credentials.key.clone();
                                    panel.secret = credentials.secret.expose().to_string();
                                    panel.error = None;
                                }
                                Ok(None) => {
                                    panel.error = Some(format!("the keyring holds nothing for {feed}"));
                                }
                                Err(error) => panel.error = Some(error.to_string()),
                            }
                        }
                    });
                    ui.label(
                        RichText::new(
                            "The secret stays in memory unless you put it in the keyring; it is never written to a file.",
                        )
                        .small()
                        .weak(),
                    );
                }
            }
            ui.horizontal(|ui| {
                ui.label("Environment");
                let env = &mut panel.settings.environment;
                ui.radio_value(env, Environment::Development, "development");
                ui.radio_value(env, Environment::Production, "production");
            });
            if panel.settings.environment == Environment::Production {
                ui.checkbox(
                    &mut panel.settings.production_confirmed,
                    "I mean production: this is live data",
                );
            }
            ui.checkbox(&mut panel.settings.send_held, "also send held records");

            ui.separator();
            let scope_count = if panel.send_all {
                store.len()
            } else {
                selected
            };
            ui.add_enabled_ui(panel.planning.is_none() && scope_count > 0, |ui| {
                let auto = panel.auto_plan && !app_busy;
                if auto {
                    panel.auto_plan = false;
                }
                if ui
                    .button(format!("Plan {scope_count} records (dry run)"))
                    .clicked()
                    || auto
                {
                    let (tx, rx) = channel();
                    let environment = panel.settings.environment;
                    let send_held = panel.settings.send_held;
                    let all = panel.send_all;
                    let wake = ctx.clone();
                    let store = Arc::clone(&store);
                    let target = panel
                        .settings
                        .resolve(&panel.credentials(), panel.local.as_ref());
                    std::thread::spawn(move || {
                        let chosen = |index: usize| all || selection.contains(index as u32);
                        let outcomes = store.outcomes_where(|index, _| chosen(index));
                        let plan = SendPlan::from_outcomes(
                            &outcomes,
                            |index, _| chosen(index),
                            environment,
                            send_held,
                            now,
                        );
                        drop(store);
                        // Which of these batches this feed already accepted (the journal).
                        let accepted = match &target {
                            Ok(target) => accepted_in_plan(&default_journal_path(), &plan, target)
                                .map_err(|error| error.to_string()),
                            Err(_) => Ok(AcceptedInPlan::default()),
                        };
                        let _ = tx.send((plan, accepted));
                        wake.request_repaint();
                    });
                    panel.planning = Some(rx);
                    panel.plan = None;
                    panel.accepted = None;
                }
            });
            if panel.planning.is_some() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("planning…");
                });
            }
            if panel.plan.is_some() {
                ui.label(RichText::new(&panel.plan_text).monospace().small());
            }
            let already = panel.accepted.as_ref().map_or(0, |a| a.accepted_count);
            if let (Some(plan), Some(accepted)) = (&panel.plan, &panel.accepted)
                && already > 0
            {
                ui.label(format!(
                    "Journal: this feed already accepted {already} of these {} batches",
                    plan.batch_count()
                ));
                if let Some(line) = accepted.torn_last_line {
                    ui.label(
                        RichText::new(format!(
                            "the journal's last line ({line}) was cut off by a crash; it is ignored"
                        ))
                        .small(),
                    );
                }
            }
            ui.horizontal(|ui| {
                let ready =
                    panel.plan.as_ref().is_some_and(|p| p.batch_count() > 0) && !panel.sending();
                if ui.add_enabled(ready, egui::Button::new("Send")).clicked() {
                    start_send(panel, &ctx);
                }
                let resend = ready && already > 0;
                if ui
                    .add_enabled(resend, egui::Button::new("Resend failed"))
                    .on_hover_text(
                        "Send only the batches the journal does not show as accepted by this feed",
                    )
                    .clicked()
                {
                    resend_failed(panel, &ctx);
                }
                if ui
                    .add_enabled(panel.sending(), egui::Button::new("Cancel"))
                    .clicked()
                    && let Some(handle) = &panel.handle
                {
                    handle.cancel();
                }
            });
            if let Some(error) = &panel.error {
                ui.label(
                    RichText::new(error)
                        .color(super::theme::severity_color(3, ui.visuals().dark_mode)),
                );
            }
            if panel.handle.is_some() {
                let p = &panel.progress;
                let fraction = if p.requests_total > 0 {
                    p.requests_done() as f32 / p.requests_total as f32
                } else {
                    1.0
                };
                ui.add(egui::ProgressBar::new(fraction).text(format!(
                    "{}/{} requests · {}/{} batches accepted · {:.0} batches/s",
                    p.requests_done(),
                    p.requests_total,
                    p.batches_accepted,
                    p.batches_total,
                    p.batches_per_second()
                )));
                for line in panel.log.iter().rev().take(8) {
                    ui.label(RichText::new(line).small());
                }
            }
            if let Some(local) = &panel.local {
                ui.separator();
                ui.label(RichText::new("Received by the local feed").strong());
                let snapshot = local.snapshot();
                ui.label(format!(
                    "{} requests · {} batches accepted · {} duplicates · {} events",
                    snapshot.requests,
                    snapshot.accepted_batches,
                    snapshot.duplicate_batches,
                    snapshot.events
                ));
                for request in snapshot.recent.iter().rev().take(6) {
                    ui.label(
                        RichText::new(format!(
                            "#{} {} {} · {} batches ({} new) · {}",
                            request.seq,
                            request.path,
                            request.status.map_or("-".into(), |s| s.to_string()),
                            request.batches,
                            request.new_batches,
                            request.note
                        ))
                        .small(),
                    );
                }
            }
        });
}

/// The keyring entry a target's credentials are kept under.
fn keyring_label(target: &FeedTarget) -> String {
    match target {
        FeedTarget::Local => "local".to_string(),
        FeedTarget::Pod(pod) => pod.as_str().to_string(),
        FeedTarget::Url(url) => url.trim().to_string(),
    }
}

/// Narrows the plan to the batches the journal does not show as accepted, then sends.
fn resend_failed(panel: &mut SendPanel, ctx: &egui::Context) {
    let (Some(plan), Some(accepted)) = (&panel.plan, &panel.accepted) else {
        return;
    };
    let ids: std::collections::HashSet<String> = plan
        .batches
        .iter()
        .zip(&accepted.accepted)
        .filter(|(_, accepted)| **accepted)
        .map(|(planned, _)| planned.batch.source_request_id.clone())
        .collect();
    let remaining = plan.excluding(&ids);
    panel.plan_text = format!(
        "resend failed: {} batches already accepted are left out\n",
        ids.len()
    );
    panel.plan = Some(Arc::new(remaining));
    panel.accepted = None;
    start_send(panel, ctx);
}

fn start_send(panel: &mut SendPanel, ctx: &egui::Context) {
    panel.error = None;
    let Some(plan) = panel.plan.clone() else {
        return;
    };
    let target = match panel
        .settings
        .resolve(&panel.credentials(), panel.local.as_ref())
    {
        Ok(target) => target,
        Err(error) => {
            panel.error = Some(error.to_string());
            return;
        }
    };
    let wake = ctx.clone();
    let job = SendJob {
        plan,
        target,
        tuning: panel.settings.tuning.clone(),
        journal: Some(default_journal_path()),
    };
    match Sender::start(job, move || wake.request_repaint()) {
        Ok(handle) => {
            panel.log.clear();
            panel.handle = Some(handle);
        }
        Err(error) => panel.error = Some(error.to_string()),
    }
}
