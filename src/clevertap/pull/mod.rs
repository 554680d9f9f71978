//! Pulling events from CleverTap's Get Events API into an NDJSON file: a cursor per event,
//! its pages one request at a time, a few events at once; every record written with its
//! `eventName`; the state saved beside the output after every page (`--resume` continues from
//! it); each event reconciled with the Get Event Count API. No UI: `feedlens pull` and the
//! tests drive it.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use feedlens::clevertap::pull::{PullJob, Region, run};
//! use feedlens::feed::{Secret, SendTuning};
//! let job = PullJob {
//!     base_url: feedlens::feed::check_url(&Region::Eu1.base_url())?,
//!     account_id: "ACCOUNT".into(),
//!     passcode: Secret::new("…"),
//!     events: vec!["App Launched".into()],
//!     range: (20240301, 20240307),
//!     batch_size: 5000,
//!     output: "app_launched.ndjson".into(),
//!     resume: false,
//!     concurrency: 2,
//!     tuning: SendTuning::default(),
//!     count_poll: std::time::Duration::from_secs(2),
//! };
//! let summary = run(&job, &AtomicBool::new(false), &|event| eprintln!("{event:?}"))?;
//! assert!(summary.complete());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod api;
mod lines;
mod region;
pub mod standin;
mod state;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use api::{ApiError, RetryNote};
pub use region::{Region, format_count, format_day};
pub use state::{EventState, PullState, StateError, state_path};

use crate::feed::{Secret, SendTuning};
use state::Journaled;

/// Environment variable holding the CleverTap account id.
pub const ACCOUNT_ID_ENV: &str = "FEEDLENS_CLEVERTAP_ACCOUNT_ID";
/// Environment variable holding the CleverTap passcode.
pub const PASSCODE_ENV: &str = "FEEDLENS_CLEVERTAP_PASSCODE";
/// The operating system keyring's entry for a CleverTap account of a region (`eu1`) or API URL:
/// the window keeps the account id and passcode there when asked, and `feedlens pull` reads it
/// when the environment gives none.
pub fn keyring_label(region_or_url: &str) -> String {
    format!("clevertap:{region_or_url}")
}

/// The API's largest `batch_size`.
pub const MAX_BATCH_SIZE: u32 = 5000;

/// What to pull and where to.
#[derive(Debug, Clone)]
pub struct PullJob {
    /// The API's base URL (checked: https, or http to loopback); `/1/…` paths are appended.
    pub base_url: reqwest::Url,
    /// The CleverTap account id.
    pub account_id: String,
    /// The CleverTap passcode.
    pub passcode: Secret,
    /// Event names, one cursor each.
    pub events: Vec<String>,
    /// First and last day, yyyymmdd, both inclusive.
    pub range: (u32, u32),
    /// Records per page asked for (at most [`MAX_BATCH_SIZE`]).
    pub batch_size: u32,
    /// The NDJSON output; its state goes beside it ([`state_path`]).
    pub output: PathBuf,
    /// Continue the pull the state file records instead of starting over.
    pub resume: bool,
    /// Events pulled at once (each with one request in flight).
    pub concurrency: usize,
    /// Retries, backoff and timeouts: the sender's policy.
    pub tuning: SendTuning,
    /// Wait between polls while the count API answers `partial`.
    pub count_poll: Duration,
}

/// Progress, reported as it happens.
#[derive(Debug, Clone)]
pub enum PullEvent {
    /// An event's pull begins (or continues, with what earlier runs wrote).
    Started {
        /// The event.
        event: String,
        /// Records written by earlier runs (`--resume`).
        earlier_records: u64,
    },
    /// A page was written.
    Page {
        /// The event.
        event: String,
        /// Pages written in all.
        pages: u64,
        /// Records written in all.
        records: u64,
        /// Records written by this run.
        run_records: u64,
        /// Bytes written by this run for this event.
        run_bytes: u64,
        /// Since this run started this event.
        elapsed: Duration,
        /// The page's records as written (NDJSON), for a caller that shows them as they come
        /// (shared with the writer, not copied).
        lines: std::sync::Arc<Vec<u8>>,
    },
    /// A request failed and will be tried again.
    Retry {
        /// The event.
        event: String,
        /// What failed and the wait.
        note: RetryNote,
    },
    /// The event's last page is written.
    Finished {
        /// The event.
        event: String,
        /// Records written in all.
        records: u64,
    },
    /// The event's count from the Get Event Count API, against the records pulled.
    Reconciled {
        /// The event.
        event: String,
        /// CleverTap's count.
        counted: u64,
        /// Records pulled.
        pulled: u64,
    },
}

/// One event at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSummary {
    /// The event.
    pub event: String,
    /// Pages written in all.
    pub pages: u64,
    /// Records written in all.
    pub records: u64,
    /// Its last page is written.
    pub done: bool,
    /// CleverTap's count for the range, when asked (after the last page).
    pub counted: Option<u64>,
}

impl EventSummary {
    /// Complete and CleverTap's count equals the records pulled.
    pub fn reconciled(&self) -> bool {
        self.done && self.counted == Some(self.records)
    }
}

/// The end of a run.
#[derive(Debug, Clone)]
pub struct PullSummary {
    /// Per event, in the order asked.
    pub events: Vec<EventSummary>,
    /// The output's length.
    pub output_bytes: u64,
    /// The state file.
    pub state_path: PathBuf,
    /// Time spent writing pages and the state (synced), in all events: against the run's
    /// length, whether the writer could be the bottleneck.
    pub write_time: Duration,
}

impl PullSummary {
    /// Every event pulled to its last page and reconciled.
    pub fn complete(&self) -> bool {
        self.events.iter().all(EventSummary::reconciled)
    }
}

/// Why a pull stopped with an error (what was written stays, and `--resume` continues).
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The HTTP client could not be built.
    #[error("cannot set up HTTP: {0}")]
    Client(#[from] reqwest::Error),
    /// The output or its state file.
    #[error(transparent)]
    State(#[from] StateError),
    /// A call to CleverTap failed.
    #[error("{event}: {error}")]
    Api {
        /// The event.
        event: String,
        /// What failed.
        error: ApiError,
    },
    /// CleverTap no longer takes the saved cursor (cursors expire).
    #[error(
        "{event}: CleverTap no longer accepts the cursor for its next page ({message}). {output} keeps the {records} {event} records written so far, and resuming cannot fetch the rest: start that event again into a new file (the same command with only --event {event:?}, without --resume, and another -o), then use that file for {event:?} instead of these records"
    )]
    CursorRejected {
        /// The event.
        event: String,
        /// CleverTap's answer.
        message: String,
        /// The output.
        output: String,
        /// Records of the event already written.
        records: u64,
    },
    /// A thread could not start (the system is out of threads or memory).
    #[error("{0}")]
    Thread(String),
    /// A page that is not CleverTap's JSON.
    #[error(
        "{event}: a page from CleverTap is not JSON with a records list ({error}); run again with --resume"
    )]
    BadPage {
        /// The event.
        event: String,
        /// The parser's message.
        error: String,
    },
}

/// A Get Events page: the records are kept as their raw text.
#[derive(serde::Deserialize)]
struct Page<'a> {
    #[serde(default)]
    next_cursor: Option<String>,
    #[serde(borrow, default)]
    records: Vec<sonic_rs::LazyValue<'a>>,
}

struct Shared<'a> {
    job: &'a PullJob,
    api: api::Api,
    journaled: Mutex<Journaled>,
    counted: Mutex<Vec<Option<u64>>>,
    write_time: Mutex<Duration>,
    stop: &'a AtomicBool,
    on_event: &'a (dyn Fn(PullEvent) + Sync),
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs the pull until every event is written and reconciled, `stop` is set (the current pages
/// are finished first) or an error; on an error `stop` is set so the other events stop too.
pub fn run(
    job: &PullJob,
    stop: &AtomicBool,
    on_event: &(dyn Fn(PullEvent) + Sync),
) -> Result<PullSummary, PullError> {
    let base = job.base_url.as_str().trim_end_matches('/').to_string();
    let fresh = PullState::new(&base, &job.account_id, job.range, &job.events);
    let journaled = if job.resume {
        Journaled::resume(&job.output, &fresh)?
    } else {
        Journaled::start(&job.output, fresh)?
    };
    let shared = Shared {
        job,
        api: api::Api::new(&job.base_url, &job.account_id, &job.passcode, &job.tuning)?,
        journaled: Mutex::new(journaled),
        counted: Mutex::new(vec![None; job.events.len()]),
        write_time: Mutex::new(Duration::ZERO),
        stop,
        on_event,
    };
    let next = AtomicUsize::new(0);
    let first_error: Mutex<Option<PullError>> = Mutex::new(None);
    let workers = job.concurrency.clamp(1, job.events.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let started = crate::thread::spawn_scoped_named(scope, "feedlens-pull", || {
                loop {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= job.events.len() {
                        break;
                    }
                    if let Err(error) = shared.pull_event(index) {
                        stop.store(true, Ordering::SeqCst);
                        lock(&first_error).get_or_insert(error);
                        break;
                    }
                }
            });
            if let Err(error) = started {
                stop.store(true, Ordering::SeqCst);
                lock(&first_error).get_or_insert(PullError::Thread(crate::thread::start_failed(
                    "feedlens-pull",
                    &error,
                )));
                break;
            }
        }
    });
    if let Some(error) = lock(&first_error).take() {
        return Err(error);
    }
    let journaled = lock(&shared.journaled);
    let counted = lock(&shared.counted);
    Ok(PullSummary {
        events: journaled
            .state
            .events
            .iter()
            .zip(counted.iter())
            .map(|(event, counted)| EventSummary {
                event: event.event.clone(),
                pages: event.pages,
                records: event.records,
                done: event.done,
                counted: *counted,
            })
            .collect(),
        output_bytes: journaled.state.output_bytes,
        state_path: journaled.state_path().to_path_buf(),
        write_time: *lock(&shared.write_time),
    })
}

impl Shared<'_> {
    /// The event's pages: fetched and made into lines on this thread while a writer thread
    /// writes the page before (pages in order, the state saved after each), so writing and
    /// syncing overlap the next request. Still one request in flight per cursor.
    fn pages(&self, index: usize, name: &str, cursor: Option<String>) -> Result<(), PullError> {
        let (send, receive) = std::sync::mpsc::sync_channel::<(Vec<u8>, u64, Option<String>)>(1);
        std::thread::scope(|scope| {
            let writer = crate::thread::spawn_scoped_named(
                scope,
                "feedlens-pull-write",
                move || -> Result<(), PullError> {
                    let started = Instant::now();
                    let (mut run_records, mut run_bytes) = (0, 0);
                    for (buffer, count, next) in receive {
                        let buffer = std::sync::Arc::new(buffer);
                        let last = next.is_none();
                        let (pages, records) = {
                            let mut journaled = lock(&self.journaled);
                            let writing = Instant::now();
                            if let Err(error) = journaled.append_page(index, &buffer, count, next) {
                                self.stop.store(true, Ordering::SeqCst);
                                return Err(error.into());
                            }
                            *lock(&self.write_time) += writing.elapsed();
                            let entry = &journaled.state.events[index];
                            (entry.pages, entry.records)
                        };
                        run_records += count;
                        run_bytes += buffer.len() as u64;
                        (self.on_event)(PullEvent::Page {
                            event: name.to_string(),
                            pages,
                            records,
                            run_records,
                            run_bytes,
                            elapsed: started.elapsed(),
                            lines: buffer,
                        });
                        if last {
                            break;
                        }
                    }
                    Ok(())
                },
            )
            .map_err(|error| {
                PullError::Thread(crate::thread::start_failed("feedlens-pull-write", &error))
            })?;
            let fetched = self.fetch_pages(index, name, cursor, &send);
            drop(send);
            writer.join().unwrap_or(Ok(()))?;
            fetched
        })
    }

    /// Fetches pages from `cursor` (or a new cursor) and hands each page's lines to `send`
    /// until the last page, a stop, or the writer's end.
    fn fetch_pages(
        &self,
        index: usize,
        name: &str,
        mut cursor: Option<String>,
        send: &std::sync::mpsc::SyncSender<(Vec<u8>, u64, Option<String>)>,
    ) -> Result<(), PullError> {
        let api_error = |error| PullError::Api {
            event: name.to_string(),
            error,
        };
        let on_retry = |note| {
            (self.on_event)(PullEvent::Retry {
                event: name.to_string(),
                note,
            })
        };
        let prefix = lines::event_prefix(name);
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let current = match cursor.take() {
                Some(cursor) => cursor,
                None => {
                    let fetched = self.api.request_cursor(
                        name,
                        self.job.range,
                        self.job.batch_size,
                        self.stop,
                        &on_retry,
                    );
                    let fetched = match fetched {
                        Err(ApiError::Stopped) => return Ok(()),
                        other => other.map_err(api_error)?,
                    };
                    lock(&self.journaled).set_cursor(index, fetched.clone())?;
                    fetched
                }
            };
            let body = match self.api.page(&current, self.stop, &on_retry) {
                Ok(body) => body,
                Err(ApiError::Stopped) => return Ok(()),
                Err(ApiError::Fail { message, .. }) => {
                    self.stop.store(true, Ordering::SeqCst);
                    let records = lock(&self.journaled).state.events[index].records;
                    return Err(PullError::CursorRejected {
                        event: name.to_string(),
                        message,
                        output: self.job.output.display().to_string(),
                        records,
                    });
                }
                Err(error) => return Err(api_error(error)),
            };
            let page: Page<'_> =
                sonic_rs::from_slice(&body).map_err(|error| PullError::BadPage {
                    event: name.to_string(),
                    error: error.to_string(),
                })?;
            let mut buffer = Vec::with_capacity(body.len());
            for record in &page.records {
                lines::push_record_line(&mut buffer, record.as_raw_str().as_bytes(), &prefix);
            }
            let count = page.records.len() as u64;
            let next = page.next_cursor.filter(|next| !next.is_empty());
            let last = next.is_none();
            if send.send((buffer, count, next.clone())).is_err() || last {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// One event: its cursor (saved), its pages in order, then its count.
    fn pull_event(&self, index: usize) -> Result<(), PullError> {
        let name = self.job.events[index].clone();
        let api_error = |error| PullError::Api {
            event: name.clone(),
            error,
        };
        let on_retry = |note| {
            (self.on_event)(PullEvent::Retry {
                event: name.clone(),
                note,
            })
        };
        let saved = lock(&self.journaled).state.events[index].clone();
        (self.on_event)(PullEvent::Started {
            event: name.clone(),
            earlier_records: saved.records,
        });
        if !saved.done {
            self.pages(index, &name, saved.cursor)?;
        }
        if !lock(&self.journaled).state.events[index].done {
            // Stopped before the last page.
            return Ok(());
        }
        let pulled = lock(&self.journaled).state.events[index].records;
        (self.on_event)(PullEvent::Finished {
            event: name.clone(),
            records: pulled,
        });
        let counted = match self.api.count(
            &name,
            self.job.range,
            self.job.count_poll,
            self.stop,
            &on_retry,
        ) {
            Ok(counted) => counted,
            Err(ApiError::Stopped) => return Ok(()),
            Err(error) => return Err(api_error(error)),
        };
        lock(&self.counted)[index] = Some(counted);
        (self.on_event)(PullEvent::Reconciled {
            event: name,
            counted,
            pulled,
        });
        Ok(())
    }
}
