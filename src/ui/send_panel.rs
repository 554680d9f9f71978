//! The send panel: where to send (the local feed, an mParticle pod, a URL), a dry-run plan of
//! the records selected when Plan is pressed, sending with progress and cancel, the result per
//! request, "Resend failed", and what the local feed received. It only reads the state
//! ([`super::send::SendState`]) and pushes commands; the sending itself is `crate::feed`.

use egui::RichText;

use super::commands::Command;
use super::format::counted;
use super::send_state::{SendForm, outcome_words, stale_reason};
use super::state::App;
use crate::feed::{FeedTarget, Pod, Secret};
use crate::mparticle::Environment;

/// Draws the send panel.
pub fn send_panel_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    let state = &app.send;
    ui.horizontal(|ui| {
        ui.heading("Send to a feed");
        if ui.small_button("Close").clicked() {
            commands.push(Command::ShowSendPanel(false));
        }
    });
    egui::ScrollArea::vertical()
        .id_salt("send_panel")
        .show(ui, |ui| {
            let mut form = state.form.clone();
            form_ui(ui, app, &mut form, commands);
            if form != state.form {
                commands.push(Command::SetSendForm(Box::new(form)));
            }
            ui.separator();
            plan_ui(ui, app, commands);
            result_ui(ui, app);
            local_feed_ui(ui, app);
        });
}

fn form_ui(ui: &mut egui::Ui, app: &App, form: &mut SendForm, commands: &mut Vec<Command>) {
    let state = &app.send;
    ui.label(format!("Selected records: {}", app.selection.len()));
    ui.checkbox(&mut form.send_all, "send every loaded record instead");

    ui.separator();
    ui.label(RichText::new("Target").strong());
    let target = &mut form.settings.target;
    ui.radio_value(
        target,
        FeedTarget::Local,
        "Local feed (built in, for trying)",
    );
    ui.horizontal(|ui| {
        let pod = match target {
            FeedTarget::Pod(pod) => *pod,
            _ => Pod::US1,
        };
        ui.radio_value(target, FeedTarget::Pod(pod), "mParticle pod");
        for candidate in Pod::ALL {
            if ui
                .selectable_label(*target == FeedTarget::Pod(candidate), candidate.as_str())
                .clicked()
            {
                *target = FeedTarget::Pod(candidate);
            }
        }
    });
    ui.horizontal(|ui| {
        if ui
            .radio(matches!(target, FeedTarget::Url(_)), "URL")
            .clicked()
        {
            *target = FeedTarget::Url(form.url.clone());
        }
        let label = ui.label("base URL");
        if ui
            .add(
                egui::TextEdit::singleline(&mut form.url)
                    .hint_text("https://…/v2")
                    .desired_width(180.0),
            )
            .labelled_by(label.id)
            .changed()
            && matches!(target, FeedTarget::Url(_))
        {
            *target = FeedTarget::Url(form.url.clone());
        }
    });
    match (&form.settings.target, &state.local) {
        (FeedTarget::Local, Some(local)) => {
            ui.label(RichText::new(format!("local feed at {}", local.url())).small());
        }
        (FeedTarget::Local, None) => {
            ui.label(RichText::new("the local feed starts when you plan").small());
        }
        _ => credentials_ui(ui, state.keyring_busy, form, commands),
    }
    ui.horizontal(|ui| {
        ui.label("Environment");
        let env = &mut form.settings.environment;
        ui.radio_value(env, Environment::Development, "development");
        ui.radio_value(env, Environment::Production, "production");
    });
    if form.settings.environment == Environment::Production {
        ui.checkbox(
            &mut form.settings.production_confirmed,
            "I mean production: this is live data",
        );
    }
    ui.checkbox(&mut form.settings.send_held, "also send held records");
}

fn credentials_ui(
    ui: &mut egui::Ui,
    keyring_busy: bool,
    form: &mut SendForm,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        let label = ui.label("API key");
        ui.add(egui::TextEdit::singleline(&mut form.key).desired_width(200.0))
            .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        let label = ui.label("Secret");
        // The field edits a copy that lives for this frame only; the state keeps a `Secret`.
        let mut typed = zeroize::Zeroizing::new(form.secret.expose().to_string());
        let response = ui
            .add(
                egui::TextEdit::singleline(&mut *typed)
                    .password(true)
                    .desired_width(200.0),
            )
            .labelled_by(label.id);
        if response.changed() {
            form.secret = Secret::new(typed.as_str());
        }
    });
    ui.horizontal(|ui| {
        ui.add_enabled_ui(!keyring_busy, |ui| {
            if ui
                .small_button("Remember in the keyring")
                .on_hover_text("Store the key and secret in the operating system's keyring")
                .clicked()
            {
                commands.push(Command::KeyringStore);
            }
            if ui.small_button("Use the keyring's").clicked() {
                commands.push(Command::KeyringLoad);
            }
        });
        if keyring_busy {
            ui.spinner();
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

fn plan_ui(ui: &mut egui::Ui, app: &App, commands: &mut Vec<Command>) {
    let state = &app.send;
    let scope_count = if state.form.send_all {
        app.records.store().len()
    } else {
        app.selection.len()
    };
    let planning = state.plan.is_pending();
    ui.add_enabled_ui(!planning && scope_count > 0 && !app.is_loading(), |ui| {
        if ui
            .button(format!(
                "Plan {} (dry run)",
                counted(scope_count, "record", "records")
            ))
            .on_hover_text("Build the batches and requests of exactly these records; Send sends this plan and nothing else")
            .clicked()
        {
            commands.push(Command::PlanSend);
        }
    });
    if planning {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("planning…");
        });
    }
    let Some(planned) = state.plan.shown() else {
        return;
    };
    let stale = stale_reason(planned, &app.plan_stamp());
    ui.label(RichText::new(&planned.text).monospace().small());
    // What the journal showed when planning, and what this feed accepted since: after a send
    // the line says so, rather than the count at planning. Counted once a frame (a plan can
    // hold a hundred thousand batches).
    let unaccepted = state.unaccepted_batches();
    let already = planned.plan.batch_count() - unaccepted;
    if already > 0 {
        ui.label(format!(
            "Journal: this feed already accepted {already} of these {} batches",
            planned.plan.batch_count()
        ));
    }
    if let Some(accepted) = &planned.accepted
        && accepted.accepted_count > 0
        && let Some(line) = accepted.torn_last_line
    {
        ui.label(
            RichText::new(format!(
                "the journal's last line ({line}) was cut off by a crash; it is ignored"
            ))
            .small(),
        );
    }
    if let Some(reason) = stale {
        ui.label(RichText::new(reason).color(super::theme::severity_color(2, app.dark())));
    }
    let resent = planned.resent_warning();
    if let Some(warning) = &resent {
        ui.label(RichText::new(warning).color(super::theme::severity_color(2, app.dark())));
        let mut confirmed = state.confirm_resent;
        if ui
            .checkbox(&mut confirmed, "Send them anyway")
            .on_hover_text("mParticle keeps both the original event and the edited one")
            .changed()
        {
            commands.push(Command::ConfirmResent(confirmed));
        }
    }
    ui.horizontal(|ui| {
        let idle = stale.is_none() && !state.sending() && !planning;
        let ready = idle
            && planned.plan.batch_count() > 0
            && (resent.is_none() || state.confirm_resent);
        if ui
            .add_enabled(ready, egui::Button::new("Send"))
            .on_disabled_hover_text(stale.unwrap_or("plan first"))
            .clicked()
        {
            commands.push(Command::StartSend);
        }
        let failed = (state.result.finished && state.result.failed().next().is_some())
            || (already > 0 && unaccepted > 0);
        let label = if failed {
            format!("Resend failed ({})", counted(unaccepted, "batch", "batches"))
        } else {
            "Resend failed".to_string()
        };
        if ui
            .add_enabled(idle && failed && unaccepted > 0, egui::Button::new(label))
            .on_hover_text("Send only the batches this feed has not accepted (this send's result and the journal)")
            .on_disabled_hover_text("Nothing failed: after a send with refused or given-up requests, this sends exactly those batches")
            .clicked()
        {
            commands.push(Command::ResendFailed);
        }
        if ui
            .add_enabled(state.sending(), egui::Button::new("Cancel"))
            .clicked()
        {
            commands.push(Command::CancelSend);
        }
    });
    if let Some(error) = &state.error {
        ui.label(RichText::new(error).color(super::theme::severity_color(3, app.dark())));
    }
}

fn result_ui(ui: &mut egui::Ui, app: &App) {
    let state = &app.send;
    if state.handle.is_none() {
        if let (Some(error), None) = (&state.error, state.plan.shown()) {
            ui.label(RichText::new(error).color(super::theme::severity_color(3, app.dark())));
        }
        return;
    }
    let p = &state.progress;
    let failed: Vec<_> = state.result.failed().collect();
    let red = super::theme::severity_color(3, app.dark());
    let fraction = if p.requests_total > 0 {
        p.requests_done() as f32 / p.requests_total as f32
    } else {
        1.0
    };
    let mut bar = egui::ProgressBar::new(fraction).text(format!(
        "{}/{} requests · {}/{} batches accepted · {:.0} batches/s",
        p.requests_done(),
        p.requests_total,
        p.batches_accepted,
        p.batches_total,
        p.batches_per_second()
    ));
    if !failed.is_empty() {
        bar = bar.fill(red.gamma_multiply(0.8));
    }
    ui.add(bar);
    if state.result.finished {
        let what = state.plan.shown().map_or_else(String::new, |planned| {
            format!(
                " of {} from {}",
                counted(planned.records, "record", "records"),
                counted(planned.files, "file", "files")
            )
        });
        if failed.is_empty() && !state.result.cancelled {
            ui.label(RichText::new(format!("Sent: the feed accepted every batch{what}")).strong());
        } else {
            let batches: usize = failed
                .iter()
                .filter_map(|(request, _)| state.result.plan.as_ref()?.requests.get(*request))
                .map(|r| r.batches.len())
                .sum();
            ui.label(
                RichText::new(format!(
                    "Failed: {} of {} requests ({batches} batches) were not accepted",
                    failed.len(),
                    state.result.outcomes.len()
                ))
                .color(red)
                .strong(),
            );
            for (request, outcome) in failed.iter().take(5) {
                ui.label(
                    RichText::new(format!(
                        "request {}: {}",
                        request + 1,
                        outcome_words(outcome)
                    ))
                    .color(red),
                );
            }
        }
        if let Some(error) = &state.result.journal_error {
            ui.label(RichText::new(format!("journal: {error}")).color(red));
        }
    }
    for line in state.log.iter().rev().take(8) {
        ui.label(RichText::new(line).small());
    }
}

/// What the built-in feed received, while it is the target: beside another feed's send it
/// read as that feed's (0 requests after a send to a URL).
fn local_feed_ui(ui: &mut egui::Ui, app: &App) {
    let Some(local) = &app.send.local else {
        return;
    };
    if app.send.form.settings.target != FeedTarget::Local {
        return;
    }
    ui.separator();
    ui.label(RichText::new("Received by the local feed").strong());
    let snapshot = local.snapshot();
    ui.label(format!(
        "{} requests · {} batches accepted · {} duplicates · {} events",
        snapshot.requests, snapshot.accepted_batches, snapshot.duplicate_batches, snapshot.events
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
