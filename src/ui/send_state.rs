//! The send panel's state: the form the user fills in, the local feed, the plan (built from the
//! records selected when Plan was pressed), the send in progress and its result. The panel
//! draws it ([`super::send_panel`]); the handler changes it ([`super::send`]).

use std::collections::HashSet;
use std::sync::Arc;

use super::async_state::Async;
use crate::feed::{
    AcceptedInPlan, Credentials, FeedSettings, FeedTarget, LocalFeedHandle, RequestOutcome, Secret,
    SendHandle, SendPlan, SendProgress,
};

/// What the user fills in: where to send and with which credentials. The secret is a
/// [`Secret`]: it never shows in `Debug`, a log or a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SendForm {
    /// Target, environment, held records, tuning (persisted with the preferences).
    pub settings: FeedSettings,
    /// The base URL typed for a URL target (persisted).
    pub url: String,
    /// The API key.
    pub key: String,
    /// The API secret.
    pub secret: Secret,
    /// Plan every loaded record instead of the selection.
    pub send_all: bool,
}

impl SendForm {
    /// The credentials typed (trimmed).
    pub fn credentials(&self) -> Credentials {
        Credentials::new(self.key.trim(), self.secret.expose().trim())
    }
}

/// What a plan was built from: the records and settings at the moment Plan was pressed. A plan
/// whose stamp differs from the window's current one is stale and cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStamp {
    /// The loaded data's version ([`App`] bumps it whenever records are opened, added, closed
    /// or mapped again).
    pub data: u64,
    /// The selection's version, or `None` when every record was planned.
    pub selection: Option<u64>,
    /// The settings that shape batches: environment and whether held records go.
    pub settings: (crate::mparticle::Environment, bool),
    /// The feed the plan's "already accepted" marks were read for, as the journal names it
    /// (target and key fingerprint), if the form names one.
    pub feed: Option<(String, String)>,
}

/// A plan ready to send, with what it was built from.
#[derive(Debug, Clone)]
pub struct PlannedSend {
    /// The batches and requests.
    pub plan: Arc<SendPlan>,
    /// What the panel prints of it.
    pub text: String,
    /// Records it was built from, and from how many files.
    pub records: usize,
    /// Files those records come from.
    pub files: usize,
    /// Which batches this feed already accepted (journal), if the journal could be read.
    pub accepted: Option<AcceptedInPlan>,
    /// What it was built from.
    pub stamp: PlanStamp,
    /// Why it must not be sent at all (records with masked identities), if so.
    pub refusal: Option<String>,
    /// Edited records whose original this feed accepted already (per the journal): the
    /// original's id and when it was accepted. Sending them needs a confirmation.
    pub resent: Vec<(String, String)>,
}

impl PlannedSend {
    /// The warning about edited records whose original was sent already, if any.
    pub fn resent_warning(&self) -> Option<String> {
        let first = self.resent.iter().map(|(_, time)| time.as_str()).min()?;
        let day = first.get(..16).unwrap_or(first).replace('T', " ");
        Some(format!(
            "{} of these records were sent before, unedited, on {day} UTC: sending the edited ones adds a second event in mParticle",
            self.resent.len()
        ))
    }
}

/// How the last send ended, per request.
#[derive(Debug, Clone, Default)]
pub struct SendResult {
    /// The plan that was sent (all or the failed part of the planned one).
    pub plan: Option<Arc<SendPlan>>,
    /// Final outcome per request of that plan, as they arrive.
    pub outcomes: Vec<Option<RequestOutcome>>,
    /// Whether the send has ended.
    pub finished: bool,
    /// Whether it was cancelled.
    pub cancelled: bool,
    /// The journal could not be written (the send stopped).
    pub journal_error: Option<String>,
}

impl SendResult {
    /// Requests that ended without being accepted, with their outcome.
    pub fn failed(&self) -> impl Iterator<Item = (usize, &RequestOutcome)> {
        self.outcomes
            .iter()
            .enumerate()
            .filter_map(|(index, outcome)| match outcome {
                Some(RequestOutcome::Accepted) | None => None,
                Some(outcome) => Some((index, outcome)),
            })
    }

    /// `source_request_id`s of the batches the feed accepted in this send.
    pub fn accepted_batches(&self) -> HashSet<String> {
        let Some(plan) = &self.plan else {
            return HashSet::new();
        };
        self.outcomes
            .iter()
            .enumerate()
            .filter(|(_, outcome)| matches!(outcome, Some(RequestOutcome::Accepted)))
            .filter_map(|(index, _)| plan.requests.get(index))
            .flat_map(|request| plan.batches[request.batches.clone()].iter())
            .map(|planned| planned.batch.source_request_id.clone())
            .collect()
    }
}

/// The send panel's state.
#[derive(Debug, Default)]
pub struct SendState {
    /// Whether the panel is shown.
    pub open: bool,
    /// The form.
    pub form: SendForm,
    /// The built-in local feed, started when the local target is chosen.
    pub local: Option<LocalFeedHandle>,
    /// The plan: pending while it is built, the last one kept.
    pub plan: Async<Arc<PlannedSend>>,
    /// The running or last send.
    pub handle: Option<SendHandle>,
    /// Its counters.
    pub progress: SendProgress,
    /// How it ended, request by request.
    pub result: SendResult,
    /// Batches the feed accepted from the current plan (journal and this session's sends).
    pub accepted: HashSet<String>,
    /// Its attempts, newest last.
    pub log: Vec<String>,
    /// The last error, in words.
    pub error: Option<String>,
    /// A keyring read or write is running.
    pub keyring_busy: bool,
    /// Plan as soon as the records are loaded (the panel opened from the command line).
    pub auto_plan: bool,
    /// The last plan asked for (an older one arriving late is dropped).
    pub(super) generation: u64,
    /// The user confirmed sending edited records whose original was sent already (for the
    /// plan shown; a new plan asks again).
    pub confirm_resent: bool,
}

impl SendState {
    /// The state at start: open or not, credentials from the environment, persisted settings.
    pub fn new(open: bool, settings: FeedSettings, url: String) -> Self {
        let credentials = Credentials::from_env().unwrap_or_default();
        Self {
            open,
            auto_plan: open,
            form: SendForm {
                settings,
                url,
                key: credentials.key.clone(),
                secret: credentials.secret.clone(),
                send_all: false,
            },
            plan: Async::Idle,
            ..Self::default()
        }
    }

    /// Whether a send is running.
    pub fn sending(&self) -> bool {
        self.handle.is_some() && !self.result.finished
    }

    /// Batches of the current plan that the feed has not accepted (journal and this session).
    pub fn unaccepted_batches(&self) -> usize {
        let Some(planned) = self.plan.shown() else {
            return 0;
        };
        planned
            .plan
            .batches
            .iter()
            .filter(|b| !self.accepted.contains(&b.batch.source_request_id))
            .count()
    }
}

/// Why a plan cannot be sent as it is, in words (None: it can).
pub fn stale_reason<'a>(planned: &'a PlannedSend, current: &PlanStamp) -> Option<&'a str> {
    if let Some(refusal) = &planned.refusal {
        Some(refusal)
    } else if planned.stamp.data != current.data {
        Some("the loaded records changed: plan again")
    } else if planned.stamp.selection != current.selection {
        Some("the selection changed: plan again")
    } else if planned.stamp.settings != current.settings {
        Some("the environment or held-records setting changed: plan again")
    } else if planned.stamp.feed != current.feed {
        Some("the feed or its key changed: plan again")
    } else {
        None
    }
}

/// A request's end in words, for the panel.
pub fn outcome_words(outcome: &RequestOutcome) -> String {
    match outcome {
        RequestOutcome::Accepted => "accepted".to_string(),
        RequestOutcome::Rejected { http_status, body } => {
            format!("refused by the feed with HTTP {http_status}: {body}")
        }
        RequestOutcome::GivenUp { attempts, error } => {
            format!("given up after {attempts} tries; the last said: {error}")
        }
        RequestOutcome::Cancelled => "cancelled before the feed accepted it".to_string(),
    }
}

/// The keyring entry a target's credentials are kept under.
pub fn keyring_label(target: &FeedTarget) -> String {
    match target {
        FeedTarget::Local => "local".to_string(),
        FeedTarget::Pod(pod) => pod.as_str().to_string(),
        FeedTarget::Url(url) => url.trim().to_string(),
    }
}

/// A keyring answer.
#[derive(Debug)]
pub enum KeyringReply {
    /// Credentials read (None: nothing kept for that target).
    Loaded(String, Result<Option<Credentials>, String>),
    /// Credentials stored (or why not).
    Stored(String, Result<(), String>),
}
