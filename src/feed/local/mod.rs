//! The built-in local feed: an mParticle-compatible Events API on 127.0.0.1 for trying sends on
//! a fresh machine and for tests. Basic auth (401 missing, 403 wrong), body parsing and
//! validation (400 with mParticle's error body), size limits (413), 202 on success. Every
//! accepted batch is kept (and written to NDJSON when recording); a repeated
//! `source_request_id` is answered 202 but counted as a duplicate, as mParticle deduplicates.
//!
//! Faults for tests and demos: 503s, 429s with `Retry-After` above a rate, latency, and
//! connections closed without an answer (before or after the batches were taken).

mod server;
mod validate;

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::BufWriter;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::settings::{Credentials, LocalEndpoint};

pub use validate::{Route, validate_body};

/// Requests kept in [`ReceivedSnapshot::recent`].
const RECENT_REQUESTS: usize = 200;

/// Faults to inject. All off by default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Share of requests answered 503 (0.0 to 1.0).
    pub fail_rate: f64,
    /// Above this many batches per second, answer 429 with `Retry-After: 1`.
    pub rate_limit: Option<u32>,
    /// Wait this long before answering each request.
    pub latency: Duration,
    /// Share of requests whose connection is closed without an answer: half of them before the
    /// batches are taken, half after (the client cannot tell which).
    pub drop_rate: f64,
}

/// How to run the local feed.
#[derive(Debug, Clone)]
pub struct LocalFeedConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The credentials it accepts (default: the demo pair).
    pub credentials: Credentials,
    /// Write every accepted batch (one JSON per line) to this file.
    pub record: Option<PathBuf>,
    /// Faults to inject.
    pub faults: Faults,
    /// Seed for the fault dice, for reproducible runs.
    pub seed: Option<u64>,
    /// Keep the body of at most this many received batches for the window's detail view
    /// (summaries of all are kept).
    pub keep_bodies: usize,
}

impl Default for LocalFeedConfig {
    fn default() -> Self {
        Self {
            port: 0,
            credentials: Credentials::demo(),
            record: None,
            faults: Faults::default(),
            seed: None,
            keep_bodies: 10_000,
        }
    }
}

/// Why the local feed cannot start.
#[derive(Debug, thiserror::Error)]
pub enum LocalFeedError {
    /// The port is taken or not allowed.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// The record file cannot be created.
    #[error("cannot create the record file {path}: {source}")]
    Record {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The server's threads cannot start.
    #[error("cannot start the local feed: {0}")]
    Start(std::io::Error),
}

/// One request the feed answered (or dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    /// 1 for the first request.
    pub seq: u64,
    /// When it was answered (RFC 3339, UTC).
    pub time: String,
    /// The path posted to.
    pub path: String,
    /// The answer's status; `None` when the connection was closed without one.
    pub status: Option<u16>,
    /// Batches in the body (0 when it was not read or not valid).
    pub batches: usize,
    /// Batches taken for the first time.
    pub new_batches: usize,
    /// Batches already taken before (same `source_request_id`).
    pub duplicates: usize,
    /// Body bytes.
    pub bytes: usize,
    /// What happened, in a few words.
    pub note: String,
}

/// One batch the feed took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedBatch {
    /// The request that carried it first.
    pub request_seq: u64,
    /// Its `source_request_id`, when it had one.
    pub source_request_id: Option<String>,
    /// The path it came through (`/bulkevents`, `/bulkevents/historical`, `/events`).
    pub endpoint: String,
    /// `user_identities.customer_id`.
    pub customer_id: Option<String>,
    /// `user_identities.email`.
    pub email: Option<String>,
    /// Number of events.
    pub events: usize,
    /// Its size as JSON.
    pub bytes: usize,
    /// The batch as received (kept for the first [`LocalFeedConfig::keep_bodies`] batches).
    pub body: Option<Arc<str>>,
}

/// Counters and the latest requests, for the window's Received view and for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivedSnapshot {
    /// Requests that reached the feed.
    pub requests: u64,
    /// Requests answered 202.
    pub accepted_requests: u64,
    /// Distinct batches taken.
    pub accepted_batches: u64,
    /// Batches received again (same `source_request_id`) and not taken twice.
    pub duplicate_batches: u64,
    /// Events in the distinct batches.
    pub events: u64,
    /// Body bytes of accepted requests.
    pub bytes: u64,
    /// 400 answers.
    pub bad_requests: u64,
    /// 401 answers.
    pub unauthorized: u64,
    /// 403 answers.
    pub forbidden: u64,
    /// 413 answers.
    pub too_large: u64,
    /// 404 and 405 answers.
    pub not_found: u64,
    /// Injected 503 answers.
    pub injected_failures: u64,
    /// Injected 429 answers.
    pub rate_limited: u64,
    /// Connections closed before the batches were taken.
    pub dropped_before: u64,
    /// Connections closed after the batches were taken.
    pub dropped_after: u64,
    /// The latest requests, oldest first.
    pub recent: Vec<ReceivedRequest>,
    /// Writing the record file failed (recording stopped).
    pub record_error: Option<String>,
}

/// Mutable state behind one lock (held only briefly).
struct FeedState {
    snapshot: ReceivedSnapshot,
    recent: VecDeque<ReceivedRequest>,
    seen: HashSet<String>,
    batches: Vec<ReceivedBatch>,
    record: Option<BufWriter<File>>,
    rate_second: u64,
    rate_count: u32,
    rng: fastrand::Rng,
}

struct FeedShared {
    config: LocalFeedConfig,
    state: Mutex<FeedState>,
}

impl FeedShared {
    fn state(&self) -> MutexGuard<'_, FeedState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Starts local feeds.
#[derive(Debug, Clone, Copy)]
pub struct LocalFeed;

impl LocalFeed {
    /// Starts a local feed on 127.0.0.1 in background threads and returns once it listens.
    pub fn start(config: LocalFeedConfig) -> Result<LocalFeedHandle, LocalFeedError> {
        server::start(config)
    }
}

/// A running local feed. Dropping it stops the feed.
pub struct LocalFeedHandle {
    addr: SocketAddr,
    shared: Arc<FeedShared>,
    stop: Option<server::Stopper>,
}

impl std::fmt::Debug for LocalFeedHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFeedHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl LocalFeedHandle {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://127.0.0.1:PORT/v2` (paths `/bulkevents`… follow).
    pub fn url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    /// The credentials it accepts.
    pub fn credentials(&self) -> &Credentials {
        &self.shared.config.credentials
    }

    /// Its URL and credentials, for [`super::FeedSettings::resolve`].
    pub fn endpoint(&self) -> LocalEndpoint {
        LocalEndpoint {
            url: self.url(),
            credentials: self.credentials().clone(),
        }
    }

    /// The faults it injects.
    pub fn faults(&self) -> &Faults {
        &self.shared.config.faults
    }

    /// Counters and the latest requests now.
    pub fn snapshot(&self) -> ReceivedSnapshot {
        let state = self.shared.state();
        let mut snapshot = state.snapshot.clone();
        snapshot.recent = state.recent.iter().cloned().collect();
        snapshot
    }

    /// Number of distinct batches taken so far.
    pub fn batch_count(&self) -> usize {
        self.shared.state().batches.len()
    }

    /// Batches taken, from position `start` on (the window fetches new ones each frame).
    pub fn batches_since(&self, start: usize) -> Vec<ReceivedBatch> {
        let state = self.shared.state();
        state.batches.get(start..).unwrap_or_default().to_vec()
    }

    /// The `source_request_id`s taken, in order of arrival.
    pub fn accepted_ids(&self) -> Vec<String> {
        self.shared
            .state()
            .batches
            .iter()
            .filter_map(|b| b.source_request_id.clone())
            .collect()
    }

    /// Stops the feed (requests in flight are cut off) and returns the final counters.
    pub fn stop(mut self) -> ReceivedSnapshot {
        if let Some(stop) = self.stop.take() {
            stop.stop();
        }
        self.snapshot()
    }
}

impl Drop for LocalFeedHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.stop();
        }
    }
}
