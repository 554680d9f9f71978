//! Why a command cannot run: every usage error of `map`, `check`, `send` and `serve`, printed
//! as `feedlens: MESSAGE` with exit status 2.

use std::path::PathBuf;

use crate::feed::{JournalError, LocalFeedError, SendError, SettingsError};
use crate::mapping::RulesError;

/// A usage error, or something that stops a command before it has done its work.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An input path that does not exist.
    #[error("cannot open {}: no such file", path.display())]
    NoSuchFile {
        /// The path as given.
        path: PathBuf,
    },
    /// An input folder that holds no file that may be CleverTap input.
    #[error(
        "{} holds no CleverTap files (sub-folders, hidden files and .toml, .md, .txt files are skipped): give the export files, or a folder that holds them",
        path.display()
    )]
    EmptyFolder {
        /// The folder as given.
        path: PathBuf,
    },
    /// A bucket URL given as input that cannot be listed.
    #[error(transparent)]
    Bucket(#[from] crate::clevertap::BucketError),
    /// An input folder that cannot be listed.
    #[error("cannot list the folder {}: {source}", path.display())]
    Folder {
        /// The folder as given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The records carry masked identities: sent, they would reach the wrong users or none.
    #[error(
        "{records} records carry masked identities (an email at @{}, or a customer id shaped id:…): they were masked to be shared (feedlens mask, --mask), and sent they would reach the wrong users or none; nothing sent. Send the original export instead",
        crate::mask::EMAIL_DOMAIN
    )]
    Masked {
        /// How many.
        records: usize,
    },
    /// Edited records whose original the feed accepted already, without --resend-edited.
    #[error(
        "{records} edited records were sent before, unedited, on {first} UTC: sending the edited ones adds a second event in mParticle; nothing sent. Pass --resend-edited to send them anyway, or leave their edits out"
    )]
    ResentEdited {
        /// How many.
        records: usize,
        /// When the first of their originals was accepted.
        first: String,
    },
    /// Masking cannot start (the salt cannot be read or made).
    #[error("{0}")]
    Mask(String),
    /// The edits file cannot be read or does not fit the inputs.
    #[error(transparent)]
    Edits(#[from] crate::edits::EditsError),
    /// The rules file cannot be read or is broken.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// `--tz` names no time zone.
    #[error("{0}")]
    Timezone(String),
    /// `--environment` is not development or production.
    #[error("{0}")]
    Environment(String),
    /// `--pod` names no pod.
    #[error("{0}")]
    Pod(String),
    /// The report cannot be made (its rules file cannot be read, its template fails).
    #[error("{0}")]
    Report(String),
    /// The output file cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `map`'s temporary file of events (past its memory budget) cannot be written or read.
    #[error(
        "cannot keep the batches' events in a temporary file in {dir}: {source}; free some space there, or set TMPDIR to a folder with room",
        dir = std::env::temp_dir().display()
    )]
    Spill {
        /// Why.
        source: std::io::Error,
    },
    /// Standard output cannot be written (a closed pipe, a full disk).
    #[error("cannot write to standard output: {0}")]
    WriteStdout(#[source] std::io::Error),
    /// The target, URL or environment cannot be used.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A real send with no key or secret in the environment.
    #[error(
        "set {} and {} to the feed's key and secret",
        crate::feed::KEY_ENV,
        crate::feed::SECRET_ENV
    )]
    MissingCredentials,
    /// Production, with no `--confirm-production` and no terminal to ask on.
    #[error("sending to production needs --confirm-production (no terminal to ask on)")]
    ProductionNeedsConfirmation,
    /// The answer to the production prompt could not be read.
    #[error("cannot read the confirmation: {0}")]
    Confirmation(#[source] std::io::Error),
    /// The production prompt was not answered `production`.
    #[error("not confirmed: nothing sent")]
    NotConfirmed,
    /// The local feed cannot start.
    #[error(transparent)]
    LocalFeed(#[from] LocalFeedError),
    /// The send journal cannot be read.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The sender cannot start.
    #[error(transparent)]
    Send(#[from] SendError),
    /// `serve` given a key without a secret, or a secret without a key.
    #[error(
        "a {given} to accept but no {missing}: pass --{missing} or set {env} (or give neither, for the demo pair)"
    )]
    ServeHalfCredentials {
        /// What was given: `key` or `secret`.
        given: &'static str,
        /// What is missing: `secret` or `key`.
        missing: &'static str,
        /// The environment variable that would give it.
        env: &'static str,
    },
    /// `--show-body N` beyond the plan's last request.
    #[error("the plan has {count} requests: there is no request {index}")]
    NoSuchRequest {
        /// Requests in the plan.
        count: usize,
        /// The request asked for.
        index: usize,
    },
}
