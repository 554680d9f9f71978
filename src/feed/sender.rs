//! The sender: a few worker threads post the plan's requests (a bounded number in flight),
//! retry what may be retried with exponential backoff and jitter (at least `Retry-After`), slow
//! down as the feed's rate limit fills, journal every attempt, and report progress through a
//! channel. Cancel stops cleanly: every request ends accepted, rejected, given up or cancelled.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender as ChannelSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::client::{AttemptResult, FeedClient};
use super::journal::{AttemptStatus, Journal, JournalError, JournalLine};
use super::plan::SendPlan;
use super::report::{AttemptReport, RequestOutcome, SendEvent, SendProgress, SendSummary};
use super::retry::{Throttle, backoff_delay, slow_down_delay};
use super::settings::{ResolvedTarget, SendTuning};

/// Everything a send needs.
#[derive(Debug, Clone)]
pub struct SendJob {
    /// What to send (shared with the window, which keeps showing it).
    pub plan: Arc<SendPlan>,
    /// Where, with which credentials ([`super::FeedSettings::resolve`]).
    pub target: ResolvedTarget,
    /// Concurrency, retries, timeouts.
    pub tuning: SendTuning,
    /// The journal to append to (`None`: no journal, e.g. in a quick test).
    pub journal: Option<PathBuf>,
}

/// Why a send cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The plan was built for another environment than the target's.
    #[error(
        "the plan's batches are for {plan} but the target is set to {target}: plan again for {target}"
    )]
    EnvironmentMismatch {
        /// The plan's environment.
        plan: &'static str,
        /// The target's environment.
        target: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client for {url}: {source}")]
    Client {
        /// The target.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The journal cannot be opened.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A worker thread could not start.
    #[error("cannot start the sender thread: {0}")]
    Thread(std::io::Error),
}

/// Starts sends.
#[derive(Debug, Clone, Copy)]
pub struct Sender;

impl Sender {
    /// Starts sending `job.plan` in the background and returns at once. `wake` is called after
    /// every event (the window passes `move || ctx.request_repaint()`).
    pub fn start(
        job: SendJob,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Result<SendHandle, SendError> {
        if job.plan.environment != job.target.environment && !job.plan.batches.is_empty() {
            return Err(SendError::EnvironmentMismatch {
                plan: job.plan.environment.as_str(),
                target: job.target.environment.as_str(),
            });
        }
        let client =
            FeedClient::new(&job.target, &job.tuning).map_err(|source| SendError::Client {
                url: job.target.base_url.to_string(),
                source,
            })?;
        let journal = job.journal.as_deref().map(Journal::open).transpose()?;
        let plan = &job.plan;
        let progress = SendProgress {
            requests_total: plan.requests.len(),
            batches_total: plan.batch_count(),
            events_total: plan.event_count(),
            bytes_total: plan.total_bytes(),
            ..SendProgress::default()
        };
        let (events, receiver) = std::sync::mpsc::channel();
        let shared = Arc::new(Shared {
            outcomes: Mutex::new(vec![None; plan.requests.len()]),
            plan: Arc::clone(&job.plan),
            target: job.target,
            tuning: job.tuning,
            client,
            journal: journal.map(Mutex::new),
            journal_error: Mutex::new(None),
            next: AtomicUsize::new(0),
            cancel: Arc::new(AtomicBool::new(false)),
            finished: AtomicBool::new(false),
            progress: Mutex::new(progress),
            throttle: Mutex::new(Throttle::default()),
            events: Mutex::new(events),
            wake: Box::new(wake),
            started: Instant::now(),
        });
        let supervisor_shared = Arc::clone(&shared);
        let supervisor =
            crate::thread::spawn_named("feedlens-sender", move || supervise(supervisor_shared))
                .map_err(SendError::Thread)?;
        Ok(SendHandle {
            receiver,
            shared,
            supervisor: Some(supervisor),
        })
    }
}

/// A running (or finished) send. Dropping it lets the send finish in the background.
pub struct SendHandle {
    receiver: Receiver<SendEvent>,
    shared: Arc<Shared>,
    supervisor: Option<JoinHandle<SendSummary>>,
}

impl std::fmt::Debug for SendHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendHandle")
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl SendHandle {
    /// Every event since the last call, without waiting (the window calls it each frame).
    pub fn try_events(&self) -> Vec<SendEvent> {
        self.receiver.try_iter().collect()
    }

    /// The next event, waiting up to `timeout` (the command line's loop).
    pub fn next_event(&self, timeout: Duration) -> Option<SendEvent> {
        self.receiver.recv_timeout(timeout).ok()
    }

    /// The counters now.
    pub fn progress(&self) -> SendProgress {
        self.shared.progress_now()
    }

    /// Asks the send to stop: no new request starts, waits are cut short, requests in flight
    /// finish their current try (bounded by the request timeout) and are journaled.
    pub fn cancel(&self) {
        self.shared.cancel.store(true, Ordering::SeqCst);
    }

    /// A flag that cancels the send when set (for a Ctrl-C handler).
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.shared.cancel)
    }

    /// Whether every request reached its final state and the summary was sent.
    pub fn is_finished(&self) -> bool {
        self.shared.finished.load(Ordering::SeqCst)
    }

    /// Waits for the end and returns the summary.
    pub fn wait(mut self) -> SendSummary {
        match self.supervisor.take().map(JoinHandle::join) {
            Some(Ok(summary)) => summary,
            _ => SendSummary {
                progress: self.shared.progress_now(),
                ..SendSummary::default()
            },
        }
    }
}

struct Shared {
    plan: Arc<SendPlan>,
    target: ResolvedTarget,
    tuning: SendTuning,
    client: FeedClient,
    journal: Option<Mutex<Journal>>,
    journal_error: Mutex<Option<String>>,
    next: AtomicUsize,
    cancel: Arc<AtomicBool>,
    finished: AtomicBool,
    progress: Mutex<SendProgress>,
    outcomes: Mutex<Vec<Option<RequestOutcome>>>,
    throttle: Mutex<Throttle>,
    events: Mutex<ChannelSender<SendEvent>>,
    wake: Box<dyn Fn() + Send + Sync>,
    started: Instant,
}

/// Locks a mutex even if a worker panicked while holding it (the data stays usable).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    fn progress_now(&self) -> SendProgress {
        let mut progress = lock(&self.progress).clone();
        if !self.finished.load(Ordering::SeqCst) {
            progress.elapsed = self.started.elapsed();
        }
        progress
    }

    fn emit(&self, event: SendEvent) {
        let _ = lock(&self.events).send(event);
        (self.wake)();
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// Sleeps up to `duration`, waking early on cancel. Returns false when cancelled.
    fn sleep(&self, duration: Duration) -> bool {
        let until = Instant::now() + duration;
        loop {
            if self.cancelled() {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return true;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(25)));
        }
    }

    /// Waits out a shared pause and the slow-down delay. Returns false when cancelled.
    fn wait_turn(&self) -> bool {
        loop {
            let pause = lock(&self.throttle).pause_until;
            match pause.map(|until| until.saturating_duration_since(Instant::now())) {
                Some(wait) if !wait.is_zero() => {
                    if !self.sleep(wait) {
                        return false;
                    }
                }
                _ => break,
            }
        }
        let delay = lock(&self.throttle).delay;
        delay.is_zero() || self.sleep(delay)
    }

    fn note_rate_limit(&self, percent: u32) {
        lock(&self.throttle).delay = slow_down_delay(&self.tuning, percent);
        lock(&self.progress).rate_limit_percent = Some(percent);
    }

    fn journal(&self, request: usize, attempt: u32, report: &AttemptReport) -> bool {
        let Some(journal) = &self.journal else {
            return true;
        };
        let planned = &self.plan.requests[request];
        let batches = &self.plan.batches[planned.batches.clone()];
        let line = JournalLine {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            target: self.target.journal_target.clone(),
            url: self.target.endpoint_url(planned.endpoint.path()),
            key: self.target.key_fingerprint.clone(),
            environment: self.target.environment,
            request_id: planned.request_id.clone(),
            batch_ids: batches
                .iter()
                .map(|b| b.batch.source_request_id.clone())
                .collect(),
            record_ids: if report.status == AttemptStatus::Accepted {
                batches
                    .iter()
                    .flat_map(|b| &b.batch.events)
                    .map(|event| event.data.source_message_id.clone())
                    .collect()
            } else {
                Vec::new()
            },
            batches: batches.len(),
            events: planned.events,
            bytes: planned.bytes,
            attempt,
            status: report.status,
            http_status: report.http_status,
            latency_ms: (attempt > 0).then_some(report.latency.as_millis() as u64),
            error: report.error.clone(),
        };
        match lock(journal).append(&line) {
            Ok(()) => true,
            Err(error) => {
                let message = error.to_string();
                tracing::error!("{message}");
                self.cancel.store(true, Ordering::SeqCst);
                let first = lock(&self.journal_error).replace(message.clone()).is_none();
                if first {
                    self.emit(SendEvent::JournalFailed(message));
                }
                false
            }
        }
    }

    /// Records an attempt: journal, counters, event.
    fn report(&self, report: AttemptReport) {
        self.journal(report.request, report.attempt, &report);
        {
            let bytes = self.plan.requests[report.request].bytes;
            let mut progress = lock(&self.progress);
            if report.attempt > 0 {
                progress.attempts += 1;
                progress.bytes_sent += bytes;
            }
            if report.status == AttemptStatus::Retrying {
                progress.retries += 1;
            }
        }
        tracing::debug!(
            request = report.request,
            attempt = report.attempt,
            status = report.status.as_str(),
            http_status = report.http_status,
            latency_ms = report.latency.as_millis() as u64,
            "send attempt"
        );
        self.emit(SendEvent::Attempt(report));
    }

    /// Records a request's final state.
    fn finish(&self, request: usize, outcome: RequestOutcome) {
        let planned = &self.plan.requests[request];
        {
            let mut progress = lock(&self.progress);
            match &outcome {
                RequestOutcome::Accepted => {
                    progress.requests_accepted += 1;
                    progress.batches_accepted += planned.batches.len();
                    progress.events_accepted += planned.events;
                    progress.bytes_accepted += planned.bytes;
                }
                RequestOutcome::Rejected { .. } => progress.requests_rejected += 1,
                RequestOutcome::GivenUp { .. } => progress.requests_given_up += 1,
                RequestOutcome::Cancelled => progress.requests_cancelled += 1,
            }
        }
        lock(&self.outcomes)[request] = Some(outcome.clone());
        self.emit(SendEvent::RequestFinished { request, outcome });
    }

    /// Sends one request until it is accepted, rejected, given up or cancelled.
    fn send_request(&self, request: usize) -> RequestOutcome {
        let planned = &self.plan.requests[request];
        let url = self.target.endpoint_url(planned.endpoint.path());
        let body = bytes::Bytes::from(self.plan.request_body_bytes(request).unwrap_or_default());
        let max_attempts = self.tuning.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            if !self.wait_turn() {
                self.report(cancelled_report(request, attempt));
                return RequestOutcome::Cancelled;
            }
            attempt += 1;
            let (result, latency) = self.client.post(&url, body.clone());
            let mut report = AttemptReport {
                request,
                attempt,
                status: AttemptStatus::Accepted,
                http_status: None,
                latency,
                error: None,
                retry_in: None,
            };
            match result {
                AttemptResult::Accepted {
                    http_status,
                    rate_limit_percent,
                } => {
                    if let Some(percent) = rate_limit_percent {
                        self.note_rate_limit(percent);
                    }
                    report.http_status = Some(http_status);
                    self.report(report);
                    return RequestOutcome::Accepted;
                }
                AttemptResult::Rejected { http_status, body } => {
                    report.status = AttemptStatus::Rejected;
                    report.http_status = Some(http_status);
                    report.error = Some(body.clone());
                    self.report(report);
                    return RequestOutcome::Rejected { http_status, body };
                }
                AttemptResult::Retry {
                    http_status,
                    retry_after,
                    error,
                } => {
                    report.http_status = http_status;
                    report.error = Some(error.clone());
                    let too_long = retry_after.filter(|wait| *wait > self.tuning.retry_after_max);
                    if attempt >= max_attempts || too_long.is_some() {
                        report.status = AttemptStatus::GivenUp;
                        let error = match too_long {
                            Some(wait) => format!(
                                "{error} (the feed asked to wait {} s, longer than the {} s allowed)",
                                wait.as_secs(),
                                self.tuning.retry_after_max.as_secs()
                            ),
                            None => error,
                        };
                        report.error = Some(error.clone());
                        self.report(report);
                        return RequestOutcome::GivenUp {
                            attempts: attempt,
                            error,
                        };
                    }
                    if let Some(wait) = retry_after {
                        lock(&self.throttle).pause_for(wait);
                    }
                    let wait = backoff_delay(&self.tuning, attempt, retry_after, fastrand::f64());
                    report.status = AttemptStatus::Retrying;
                    report.retry_in = Some(wait);
                    self.report(report);
                    if !self.sleep(wait) {
                        self.report(cancelled_report(request, attempt));
                        return RequestOutcome::Cancelled;
                    }
                }
            }
        }
    }
}

fn cancelled_report(request: usize, attempt: u32) -> AttemptReport {
    AttemptReport {
        request,
        attempt,
        status: AttemptStatus::Cancelled,
        http_status: None,
        latency: Duration::ZERO,
        error: Some(if attempt == 0 {
            "cancelled before it was sent".to_string()
        } else {
            "cancelled while waiting to retry".to_string()
        }),
        retry_in: None,
    }
}

fn worker(shared: Arc<Shared>) {
    loop {
        if shared.cancelled() {
            break;
        }
        let request = shared.next.fetch_add(1, Ordering::SeqCst);
        if request >= shared.plan.requests.len() {
            break;
        }
        lock(&shared.progress).in_flight += 1;
        let outcome = shared.send_request(request);
        lock(&shared.progress).in_flight -= 1;
        shared.finish(request, outcome);
    }
}

fn supervise(shared: Arc<Shared>) -> SendSummary {
    let workers = shared
        .tuning
        .concurrency
        .clamp(1, 64)
        .min(shared.plan.requests.len().max(1));
    let mut threads = Vec::new();
    for index in 0..workers {
        let worker_shared = Arc::clone(&shared);
        match crate::thread::spawn_named(&format!("feedlens-send-{index}"), move || {
            worker(worker_shared)
        }) {
            Ok(thread) => threads.push(thread),
            Err(error) => tracing::error!("cannot start a sender thread: {error}"),
        }
    }
    if threads.is_empty() {
        // No worker could start: end every request as cancelled rather than leave it unknown.
        shared.cancel.store(true, Ordering::SeqCst);
    }
    for thread in threads {
        let _ = thread.join();
    }
    // Requests never started (cancel, journal failure) end as cancelled, journaled as attempt 0.
    let unsent: Vec<usize> = lock(&shared.outcomes)
        .iter()
        .enumerate()
        .filter(|(_, outcome)| outcome.is_none())
        .map(|(index, _)| index)
        .collect();
    for request in unsent {
        if lock(&shared.journal_error).is_none() {
            shared.report(cancelled_report(request, 0));
        }
        shared.finish(request, RequestOutcome::Cancelled);
    }
    let mut progress = shared.progress_now();
    progress.elapsed = shared.started.elapsed();
    *lock(&shared.progress) = progress.clone();
    shared.finished.store(true, Ordering::SeqCst);
    let summary = SendSummary {
        progress,
        outcomes: lock(&shared.outcomes)
            .iter()
            .map(|outcome| outcome.clone().unwrap_or(RequestOutcome::Cancelled))
            .collect(),
        cancelled: shared.cancelled() && lock(&shared.journal_error).is_none(),
        journal_error: lock(&shared.journal_error).clone(),
    };
    shared.emit(SendEvent::Finished(summary.clone()));
    summary
}
