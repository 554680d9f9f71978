//! What the send panel's commands do: start the local feed, plan the records selected now,
//! send or resend the failed part of the plan, take in the sender's reports, read and write
//! the keyring. The state is [`super::send_state`]; the panel only draws it.

use std::collections::HashSet;
use std::sync::Arc;

use super::format::{counted, one_or_many};
use super::send_state::{
    KeyringReply, PlanStamp, PlannedSend, SendForm, SendResult, keyring_label, outcome_words,
    stale_reason,
};
use super::state::{App, Msg};
use crate::feed::{
    AcceptedInPlan, FeedTarget, LocalFeed, LocalFeedConfig, SendEvent, SendJob, SendPlan, Sender,
    mark_accepted, read_journal,
};
use crate::records::{Selection, sendable_row};
use crate::thread::spawn_named;

impl App {
    /// The stamp a plan made now would carry.
    pub(super) fn plan_stamp(&self) -> PlanStamp {
        let form = &self.send.form;
        let local = self.send.local.as_ref().map(|local| local.endpoint());
        PlanStamp {
            data: self.data_version,
            selection: (!form.send_all).then(|| self.selection.version()),
            settings: (form.settings.environment, form.settings.send_held),
            feed: (form.settings.resolve(&form.credentials(), local.as_ref()))
                .ok()
                .map(|target| (target.journal_target, target.key_fingerprint)),
        }
    }

    /// A new form from the panel: a target change starts the local feed when needed.
    pub(super) fn set_send_form(&mut self, form: SendForm) {
        let target_changed = form.settings.target != self.send.form.settings.target;
        self.prefs.feed = form.settings.clone();
        self.prefs.feed_url = form.url.clone();
        self.send.form = form;
        if target_changed {
            self.send.error = None;
            self.ensure_local_feed();
        }
    }

    /// Starts the built-in local feed if the local target is chosen and none runs.
    pub(super) fn ensure_local_feed(&mut self) {
        if self.send.form.settings.target == FeedTarget::Local && self.send.local.is_none() {
            match LocalFeed::start(LocalFeedConfig::default()) {
                Ok(handle) => self.send.local = Some(handle),
                Err(error) => {
                    self.send.error = Some(format!("the local feed cannot start: {error}"))
                }
            }
        }
    }

    /// Plans the records selected now (or every record): in the background, from their ids.
    pub(super) fn plan_send(&mut self) {
        self.ensure_local_feed();
        let stamp = self.plan_stamp();
        let chosen: Option<Selection> = (!self.send.form.send_all).then(|| self.selection.clone());
        let count = chosen
            .as_ref()
            .map_or(self.records.store().len(), Selection::len);
        if count == 0 {
            self.send.error = Some("nothing to plan: select records first".into());
            return;
        }
        self.send.generation += 1;
        let generation = self.send.generation;
        self.send.plan.start(generation);
        self.send.error = None;
        let store = self.records.share();
        let now = self.engine_now();
        let settings = self.send.form.settings.clone();
        let target = settings.resolve(
            &self.send.form.credentials(),
            self.send
                .local
                .as_ref()
                .map(|local| local.endpoint())
                .as_ref(),
        );
        let send = self.sender();
        let edits = (!self.edits.edits().is_empty()).then(|| self.edits.clone());
        let journal_path = self.journal.clone();
        let spawned = spawn_named("feedlens-plan", move || {
            let wanted = |row: usize| chosen.as_ref().is_none_or(|s| s.contains(row as u32));
            let mut files = HashSet::new();
            let mut records = 0;
            // The originals' ids of the edited records planned: were they sent already?
            let mut originals: Vec<String> = Vec::new();
            for (row, meta) in store.metas.iter().enumerate() {
                if wanted(row) {
                    records += 1;
                    files.insert(meta.file);
                    if let Some(edits) = &edits
                        && sendable_row(meta)
                        && let Some((path, line, column, csv_row)) = store.place_key(row)
                        && let Some(edit) =
                            edits.find(&path, line, column, (csv_row > 0).then_some(csv_row))
                        && let Some(id) = &edit.id
                    {
                        originals.push(id.clone());
                    }
                }
            }
            let outcomes = store.outcomes_where(|row, _| wanted(row));
            // Masked records (feedlens mask output) would reach the wrong users or none.
            let masked = crate::mask::masked_records(&outcomes);
            let refusal = (masked > 0).then(|| {
                format!(
                    "{} {} masked identities (made to be shared, not sent): nothing can be sent; open the original export",
                    counted(masked, "record", "records"),
                    one_or_many(masked, "carries", "carry")
                )
            });
            let plan = SendPlan::from_outcomes(
                &outcomes,
                |row, _| wanted(row),
                settings.environment,
                settings.send_held,
                now,
            );
            drop(outcomes);
            drop(store);
            let mut resent = Vec::new();
            let (accepted, target_error) = match &target {
                Ok(target) => (
                    read_journal(&journal_path)
                        .map(|journal| {
                            let ids: Vec<&str> = originals.iter().map(String::as_str).collect();
                            resent = journal.accepted_records(target, &ids);
                            mark_accepted(&journal, &plan, target)
                        })
                        .map_err(|error| error.to_string()),
                    None,
                ),
                Err(error) => (Ok(AcceptedInPlan::default()), Some(error.to_string())),
            };
            let mut text = format!(
                "{} from {}\n{}",
                counted(records, "record", "records"),
                counted(files.len(), "file", "files"),
                plan.describe(target.as_ref().ok())
            );
            if let Some(error) = target_error {
                text.push_str(&format!("to send: {error}\n"));
            }
            let (accepted, journal_error) = match accepted {
                Ok(accepted) => (Some(accepted), None),
                Err(error) => (None, Some(error)),
            };
            let planned = PlannedSend {
                plan: Arc::new(plan),
                text,
                records,
                files: files.len(),
                accepted,
                stamp,
                refusal,
                resent,
            };
            send(Msg::Planned(generation, Arc::new(planned), journal_error));
        });
        if let Err(error) = spawned {
            self.send.plan.abandon();
            self.send.error = Some(format!("cannot start planning: {error}"));
        }
    }

    /// A plan arrived.
    pub(super) fn on_planned(
        &mut self,
        generation: u64,
        planned: Arc<PlannedSend>,
        journal_error: Option<String>,
    ) {
        let accepted: HashSet<String> = match &planned.accepted {
            Some(marks) => planned
                .plan
                .batches
                .iter()
                .zip(&marks.accepted)
                .filter(|(_, accepted)| **accepted)
                .map(|(b, _)| b.batch.source_request_id.clone())
                .collect(),
            None => HashSet::new(),
        };
        if self.send.plan.finish(generation, planned) {
            self.send.accepted = accepted;
            self.send.confirm_resent = false;
            self.send.result = SendResult::default();
            self.send.handle = None;
            self.send.log.clear();
            if let Some(error) = journal_error {
                self.send.error = Some(format!("the journal could not be read: {error}"));
            }
        }
    }

    /// Sends the current plan, or only its batches the feed has not accepted (`failed_only`).
    pub(super) fn start_send(&mut self, failed_only: bool) {
        self.send.error = None;
        let Some(planned) = self.send.plan.shown().cloned() else {
            self.send.error = Some("plan first".into());
            return;
        };
        if let Some(reason) = stale_reason(&planned, &self.plan_stamp()) {
            self.send.error = Some(reason.to_string());
            return;
        }
        if let Some(warning) = planned.resent_warning()
            && !self.send.confirm_resent
        {
            self.send.error = Some(format!("{warning}. Tick \"Send them anyway\" to send."));
            return;
        }
        if self.send.sending() {
            return;
        }
        let plan = if failed_only {
            Arc::new(planned.plan.excluding(&self.send.accepted))
        } else {
            Arc::clone(&planned.plan)
        };
        if plan.batch_count() == 0 {
            self.send.error = Some("nothing left to send: the feed accepted every batch".into());
            return;
        }
        self.ensure_local_feed();
        let target = match self.send.form.settings.resolve(
            &self.send.form.credentials(),
            self.send
                .local
                .as_ref()
                .map(|local| local.endpoint())
                .as_ref(),
        ) {
            Ok(target) => target,
            Err(error) => {
                self.send.error = Some(error.to_string());
                return;
            }
        };
        let wake = self.ctx.clone();
        let job = SendJob {
            plan: Arc::clone(&plan),
            target,
            tuning: self.send.form.settings.tuning.clone(),
            journal: Some(self.journal.clone()),
        };
        match Sender::start(job, move || {
            if let Some(ctx) = &wake {
                ctx.request_repaint();
            }
        }) {
            Ok(handle) => {
                self.send.log.clear();
                self.send.progress = handle.progress();
                self.send.result = SendResult {
                    outcomes: vec![None; plan.requests.len()],
                    plan: Some(plan),
                    ..SendResult::default()
                };
                self.send.handle = Some(handle);
            }
            Err(error) => self.send.error = Some(error.to_string()),
        }
    }

    /// Takes in what the running send reported.
    pub(super) fn poll_send(&mut self) {
        let Some(handle) = &self.send.handle else {
            return;
        };
        let events = handle.try_events();
        self.send.progress = handle.progress();
        for event in events {
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
                    let line = format!("request {}: {}", request + 1, outcome_words(&outcome));
                    if let Some(slot) = self.send.result.outcomes.get_mut(request) {
                        *slot = Some(outcome);
                    }
                    line
                }
                SendEvent::JournalFailed(message) => {
                    self.send.result.journal_error = Some(message.clone());
                    format!("journal: {message}")
                }
                SendEvent::Finished(summary) => {
                    self.send.result.finished = true;
                    self.send.result.cancelled = summary.cancelled;
                    let accepted = self.send.result.accepted_batches();
                    self.send.accepted.extend(accepted);
                    format!(
                        "finished: {} of {} batches accepted{}",
                        summary.progress.batches_accepted,
                        summary.progress.batches_total,
                        if summary.cancelled {
                            " (cancelled)"
                        } else {
                            ""
                        }
                    )
                }
            };
            self.send.log.push(line);
        }
        let excess = self.send.log.len().saturating_sub(200);
        self.send.log.drain(..excess);
        if self.send.sending()
            && let Some(ctx) = &self.ctx
        {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    /// Reads or writes the keyring off the UI thread.
    pub(super) fn keyring(&mut self, store: bool) {
        let label = keyring_label(&self.send.form.settings.target);
        let credentials = self.send.form.credentials();
        let send = self.sender();
        self.send.keyring_busy = true;
        let spawned = spawn_named("feedlens-keyring", move || {
            let reply = if store {
                KeyringReply::Stored(
                    label.clone(),
                    crate::feed::keyring::store(&label, &credentials).map_err(|e| e.to_string()),
                )
            } else {
                KeyringReply::Loaded(
                    label.clone(),
                    crate::feed::keyring::load(&label).map_err(|e| e.to_string()),
                )
            };
            send(Msg::Keyring(reply));
        });
        if let Err(error) = spawned {
            self.send.keyring_busy = false;
            self.send.error = Some(format!("cannot reach the keyring: {error}"));
        }
    }

    /// A keyring answer arrived.
    pub(super) fn on_keyring(&mut self, reply: KeyringReply) {
        self.send.keyring_busy = false;
        match reply {
            KeyringReply::Loaded(_, Ok(Some(credentials))) => {
                self.send.form.key = credentials.key.clone();
                self.send.form.secret = credentials.secret.clone();
                self.send.error = None;
                self.status = "key and secret taken from the keyring".into();
            }
            KeyringReply::Loaded(label, Ok(None)) => {
                self.send.error = Some(format!("the keyring holds nothing for {label}"));
            }
            KeyringReply::Stored(label, Ok(())) => {
                self.status = format!("key and secret kept in the keyring for {label}");
            }
            KeyringReply::Loaded(_, Err(error)) | KeyringReply::Stored(_, Err(error)) => {
                self.send.error = Some(error);
            }
        }
    }
}
