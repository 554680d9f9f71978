//! Sending to a feed: settings, the send plan, the sender (background threads, retries,
//! journal), and the built-in local feed. The window's send panel and `feedlens send` use the
//! same pieces; nothing here is async or UI.
//!
//! # Using it (window or command line)
//! ```no_run
//! use std::sync::Arc;
//! use feedlens::feed::*;
//! # let outcomes: Vec<feedlens::mapping::Outcome> = Vec::new();
//! # let now_millis = 0;
//! // 1. Settings (persist these; the credentials are kept apart and never serialized).
//! let settings = FeedSettings::default(); // target: the local feed, environment: development
//! let credentials = Credentials::from_env().unwrap_or_default();
//!
//! // 2. The local feed, when the target is Local (keep the handle while the window is open).
//! let local = LocalFeed::start(LocalFeedConfig::default())?;
//!
//! // 3. Resolve: checks http:// vs loopback, production confirmation, credentials.
//! let target = settings.resolve(&credentials, Some(&local.endpoint()))?;
//!
//! // 4. Plan (this is also the dry run): batches, requests, bytes, held back and why.
//! let plan = SendPlan::from_outcomes(&outcomes, |_, _| true, settings.environment,
//!     settings.send_held, now_millis);
//! println!("{}", plan.describe(Some(&target)));
//! let _first_body = plan.request_body(0);
//!
//! // Which batches this feed already accepted (journal), and "resend failed":
//! let journal = default_journal_path();
//! let marks = accepted_in_plan(&journal, &plan, &target)?;
//! let accepted = read_journal(&journal)?.accepted_for(&target);
//! let plan = plan.excluding(&accepted);
//!
//! // 5. Send in the background; drain events each frame; cancel any time.
//! let handle = Sender::start(
//!     SendJob { plan: Arc::new(plan), target, tuning: settings.tuning.clone(),
//!               journal: Some(journal) },
//!     || { /* ctx.request_repaint() */ },
//! )?;
//! for event in handle.try_events() { /* SendEvent::Attempt / RequestFinished / Finished */ }
//! let progress = handle.progress(); // requests, batches, events, bytes, batches_per_second()
//! handle.cancel();
//!
//! // 6. The Received view: local.snapshot() (counters, recent requests),
//! //    local.batches_since(n) (batches taken, with bodies).
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod journal;
pub mod keyring;
mod local;
mod plan;
mod report;
mod retry;
mod sender;
mod settings;

/// Shared with the CleverTap pull (`crate::clevertap::pull`): one retry policy, one error text.
pub(crate) use client::{client_builder, error_chain};
pub(crate) use retry::backoff_delay;

pub use journal::{
    AcceptedInPlan, AttemptStatus, Journal, JournalContents, JournalError, JournalLine,
    accepted_in_plan, default_journal_path, journal_in, mark_accepted, read_journal,
};
pub use local::{
    Faults, LocalFeed, LocalFeedConfig, LocalFeedError, LocalFeedHandle, ReceivedBatch,
    ReceivedRequest, ReceivedSnapshot, Route, validate_body,
};
pub use plan::{Endpoint, HeldBatch, HeldSummary, PlannedRequest, SendPlan};
pub use report::{AttemptReport, RequestOutcome, SendEvent, SendProgress, SendSummary};
pub use sender::{SendError, SendHandle, SendJob, Sender};
pub use settings::{
    Credentials, DEMO_KEY, DEMO_SECRET, FeedSettings, FeedTarget, KEY_ENV, LocalEndpoint, Pod,
    ResolvedTarget, SECRET_ENV, Secret, SendTuning, SettingsError, check_url,
};
