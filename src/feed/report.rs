//! What a send reports: each attempt, each request's end, progress counters and the summary.

use std::time::Duration;

use super::journal::AttemptStatus;

/// How a request finally ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestOutcome {
    /// The feed took it (2xx).
    Accepted,
    /// The feed refused it (400, 401, 403, …); never retried. `body` is the feed's answer.
    Rejected {
        /// The HTTP status.
        http_status: u16,
        /// The answer body (mParticle's `{"errors":[…]}`), or the status line.
        body: String,
    },
    /// Every allowed try failed.
    GivenUp {
        /// Tries made.
        attempts: u32,
        /// The last error.
        error: String,
    },
    /// Cancelled before it was accepted (it may be resent).
    Cancelled,
}

/// One attempt, as it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptReport {
    /// Index into [`super::SendPlan::requests`].
    pub request: usize,
    /// 1 for the first try.
    pub attempt: u32,
    /// How it ended.
    pub status: AttemptStatus,
    /// HTTP status, when an answer came.
    pub http_status: Option<u16>,
    /// Time to the answer or error.
    pub latency: Duration,
    /// Error text or answer body, when not accepted.
    pub error: Option<String>,
    /// When retrying: how long the sender waits first.
    pub retry_in: Option<Duration>,
}

/// What the sender reports through [`super::SendHandle::try_events`].
#[derive(Debug, Clone)]
pub enum SendEvent {
    /// One attempt ended.
    Attempt(AttemptReport),
    /// A request reached its final state.
    RequestFinished {
        /// Index into [`super::SendPlan::requests`].
        request: usize,
        /// How it ended.
        outcome: RequestOutcome,
    },
    /// The journal could not be written: the send stops (nothing more is sent unjournaled).
    JournalFailed(String),
    /// All done (the last event).
    Finished(SendSummary),
}

/// Counters for a progress display. `*_total` come from the plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SendProgress {
    /// Requests in the plan.
    pub requests_total: usize,
    /// Batches in the plan.
    pub batches_total: usize,
    /// Events in the plan.
    pub events_total: usize,
    /// Body bytes in the plan.
    pub bytes_total: usize,
    /// Requests accepted.
    pub requests_accepted: usize,
    /// Requests rejected.
    pub requests_rejected: usize,
    /// Requests given up.
    pub requests_given_up: usize,
    /// Requests cancelled.
    pub requests_cancelled: usize,
    /// Batches in accepted requests.
    pub batches_accepted: usize,
    /// Events in accepted requests.
    pub events_accepted: usize,
    /// Bytes of accepted requests.
    pub bytes_accepted: usize,
    /// Bytes posted, retries included.
    pub bytes_sent: usize,
    /// Attempts made.
    pub attempts: usize,
    /// Attempts that will be (or were) retried.
    pub retries: usize,
    /// Requests being sent or waiting to retry right now.
    pub in_flight: usize,
    /// The last `X-mp-rate-limit-percentage-used` seen.
    pub rate_limit_percent: Option<u32>,
    /// Time since the start (frozen at the end).
    pub elapsed: Duration,
}

impl SendProgress {
    /// Requests in a final state.
    pub fn requests_done(&self) -> usize {
        self.requests_accepted
            + self.requests_rejected
            + self.requests_given_up
            + self.requests_cancelled
    }

    /// Accepted batches per second so far.
    pub fn batches_per_second(&self) -> f64 {
        per_second(self.batches_accepted, self.elapsed)
    }

    /// Accepted events per second so far.
    pub fn events_per_second(&self) -> f64 {
        per_second(self.events_accepted, self.elapsed)
    }

    /// Posted bytes per second so far.
    pub fn bytes_per_second(&self) -> f64 {
        per_second(self.bytes_sent, self.elapsed)
    }
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

/// The end of a send.
#[derive(Debug, Clone, Default)]
pub struct SendSummary {
    /// Final counters.
    pub progress: SendProgress,
    /// One outcome per request of the plan.
    pub outcomes: Vec<RequestOutcome>,
    /// The user cancelled.
    pub cancelled: bool,
    /// The journal failed (the send stopped).
    pub journal_error: Option<String>,
}

impl SendSummary {
    /// Every request accepted (the command line's exit code 0).
    pub fn all_accepted(&self) -> bool {
        self.journal_error.is_none()
            && self
                .outcomes
                .iter()
                .all(|outcome| *outcome == RequestOutcome::Accepted)
    }
}
