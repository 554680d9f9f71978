//! `feedlens pull`: events from CleverTap's Get Events API into an NDJSON file, resumable and
//! reconciled with the Get Event Count API.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clevertap::pull::{
    ACCOUNT_ID_ENV, MAX_BATCH_SIZE, PASSCODE_ENV, PullError, PullEvent, PullJob, PullSummary,
    Region, format_count, format_day, run,
};
use crate::cli::{EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE};
use crate::feed::{Secret, SendTuning, check_url};

const PULL_AFTER_HELP: &str = "\
Credentials: FEEDLENS_CLEVERTAP_ACCOUNT_ID and FEEDLENS_CLEVERTAP_PASSCODE (the passcode is
  never written to a file, a log or a message).
State: OUT.pull-state.json beside the output records each event's next cursor and the output's
  length after every page; --resume cuts the output back to it and continues.
Reconciliation: after each event, CleverTap's Get Event Count for the same range is compared
  with the records pulled (printed on standard output).
Exit status: 0 when every event was pulled and its count matches; 1 when a count differs or the
  pull was stopped before the end (Ctrl-C; --resume continues); 2 on a usage error or when
  CleverTap refused (wrong credentials, a fail answer, an expired cursor) or stayed unreachable.
Examples:
  feedlens pull --region eu1 --event 'App Launched' --from 20240301 --to 20240307 -o launched.ndjson
  feedlens pull --region eu1 --event 'App Launched' --from 20240301 --to 20240307 -o launched.ndjson --resume";

/// `feedlens pull` options.
///
/// Asks CleverTap's Get Events API for a cursor per event, pages through it and writes every
/// record as one NDJSON line with its `eventName` (the API's records carry none), so the file
/// opens, maps and sends on its own.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = PULL_AFTER_HELP)]
pub struct PullArgs {
    /// The account's region: the API at https://<region>.api.clevertap.com.
    #[arg(long, value_name = "REGION", required_unless_present = "url", value_parser = ["eu1", "in1", "sg1", "us1", "aps3", "mec1"])]
    pub region: Option<String>,
    /// An event name to pull (repeat for several).
    #[arg(long = "event", value_name = "NAME", required = true)]
    pub events: Vec<String>,
    /// First day, yyyymmdd (inclusive).
    #[arg(long, value_name = "YYYYMMDD")]
    pub from: String,
    /// Last day, yyyymmdd (inclusive).
    #[arg(long, value_name = "YYYYMMDD")]
    pub to: String,
    /// The NDJSON file to write (its state goes to FILE.pull-state.json).
    #[arg(short, long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Records per page (at most 5000).
    #[arg(long, value_name = "N", default_value_t = MAX_BATCH_SIZE, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_BATCH_SIZE)))]
    pub batch_size: u32,
    /// Use this base URL instead of the region's (`/1/events.json` is appended). Plain
    /// `http://` only to 127.0.0.1/localhost.
    #[arg(long, value_name = "BASE")]
    pub url: Option<String>,
    /// Continue the pull recorded in FILE.pull-state.json.
    #[arg(long)]
    pub resume: bool,
    /// Events pulled at once (one request in flight each).
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=15))]
    pub concurrency: u16,
    /// Tries per request before giving up (429, 5xx, timeouts and dropped connections).
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// First retry delay in milliseconds (doubles each retry, with jitter).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub backoff_ms: u64,
    /// Longest retry delay in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub max_backoff_ms: u64,
    /// Give a request up after this many seconds without an answer (then retry it).
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub timeout: u64,
    /// Wait between polls while the count API answers `partial`, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000, hide = true)]
    pub count_poll_ms: u64,
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("feedlens pull: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn parse_day(text: &str, option: &str) -> Result<u32, String> {
    let valid = text.len() == 8
        && chrono::NaiveDate::parse_from_str(text, "%Y%m%d").is_ok()
        && text.bytes().all(|b| b.is_ascii_digit());
    valid
        .then(|| text.parse().ok())
        .flatten()
        .ok_or_else(|| format!("{option} {text:?} is not a day as yyyymmdd (e.g. 20240301)"))
}

fn job_for(args: &PullArgs) -> Result<PullJob, String> {
    let from = parse_day(&args.from, "--from")?;
    let to = parse_day(&args.to, "--to")?;
    if from > to {
        return Err(format!("--from {from} is after --to {to}"));
    }
    let url_text = match (&args.url, &args.region) {
        (Some(url), _) => url.trim().to_string(),
        (None, Some(region)) => region.parse::<Region>()?.base_url(),
        (None, None) => return Err("give --region (or --url)".to_string()),
    };
    let base_url = check_url(&url_text).map_err(|error| match error {
        crate::feed::SettingsError::CredentialsInUrl { url } => format!(
            "the URL holds a user name or password ({url}): give the URL without them, and the credentials in {ACCOUNT_ID_ENV} and {PASSCODE_ENV}"
        ),
        other => other.to_string(),
    })?;
    let mut events: Vec<String> = Vec::new();
    for event in &args.events {
        let event = event.trim().to_string();
        if event.is_empty() {
            return Err("--event needs a name".to_string());
        }
        if events.contains(&event) {
            return Err(format!("--event {event:?} is given twice"));
        }
        events.push(event);
    }
    let mut account_id = std::env::var(ACCOUNT_ID_ENV).unwrap_or_default();
    let mut passcode = Secret::new(std::env::var(PASSCODE_ENV).unwrap_or_default());
    if account_id.trim().is_empty() || passcode.is_empty() {
        // What the window kept in the keyring for this region (or URL), if anything.
        let label = crate::clevertap::pull::keyring_label(match (&args.url, &args.region) {
            (Some(url), _) => url.trim(),
            (None, Some(region)) => region.trim(),
            (None, None) => "",
        });
        if let Ok(Some(kept)) = crate::feed::keyring::load(&label) {
            account_id = kept.key;
            passcode = kept.secret;
        }
    }
    if account_id.trim().is_empty() || passcode.is_empty() {
        return Err(format!(
            "no CleverTap credentials: set {ACCOUNT_ID_ENV} and {PASSCODE_ENV} (or keep them in the keyring from the window's Pull from CleverTap dialog)"
        ));
    }
    Ok(PullJob {
        base_url,
        account_id: account_id.trim().to_string(),
        passcode,
        events,
        range: (from, to),
        batch_size: args.batch_size,
        output: args.output.clone(),
        resume: args.resume,
        concurrency: usize::from(args.concurrency),
        tuning: SendTuning {
            concurrency: usize::from(args.concurrency),
            max_attempts: args.max_attempts,
            backoff_base: Duration::from_millis(args.backoff_ms),
            backoff_max: Duration::from_millis(args.max_backoff_ms.max(args.backoff_ms)),
            request_timeout: Duration::from_secs(args.timeout.max(1)),
            ..SendTuning::default()
        },
        count_poll: Duration::from_millis(args.count_poll_ms),
    })
}

/// Progress lines on stderr: at most one a second per event, and every event's end.
fn progress_printer() -> impl Fn(PullEvent) + Sync {
    let last: Mutex<BTreeMap<String, Instant>> = Mutex::new(BTreeMap::new());
    move |event| match event {
        PullEvent::Started {
            event,
            earlier_records,
        } => {
            if earlier_records > 0 {
                eprintln!(
                    "feedlens pull: {event}: resuming after {} records",
                    format_count(earlier_records)
                );
            }
        }
        PullEvent::Page {
            event,
            pages,
            records,
            run_records,
            run_bytes,
            elapsed,
            ..
        } => {
            let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
            let due = last
                .get(&event)
                .is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
            if due {
                let seconds = elapsed.as_secs_f64().max(1e-3);
                eprintln!(
                    "feedlens pull: {event}: {pages} pages, {} records, {:.1} MB this run, {} records/s",
                    format_count(records),
                    run_bytes as f64 / 1e6,
                    format_count((run_records as f64 / seconds) as u64)
                );
                last.insert(event, Instant::now());
            }
        }
        PullEvent::Retry { event, note } => eprintln!(
            "feedlens pull: {event}: {}; try {} in {:.1} s",
            note.error,
            note.attempt + 1,
            note.wait.as_secs_f64()
        ),
        PullEvent::Finished { event, records } => eprintln!(
            "feedlens pull: {event}: last page written, {} records",
            format_count(records)
        ),
        PullEvent::Reconciled { .. } => {}
    }
}

/// Runs `feedlens pull`.
pub fn pull(args: &PullArgs) -> ExitCode {
    let job = match job_for(args) {
        Ok(job) => job,
        Err(message) => return usage_error(&message),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let (stop, interrupted) = (Arc::clone(&stop), Arc::clone(&interrupted));
        let _ = ctrlc::set_handler(move || {
            if interrupted.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!(
                "\nfeedlens pull: stopping after the current pages (Ctrl-C again to quit at once)…"
            );
            stop.store(true, Ordering::SeqCst);
        });
    }
    let started = Instant::now();
    let printer = progress_printer();
    match run(&job, &stop, &printer) {
        Ok(summary) => report(&job, &summary, started.elapsed()),
        Err(error) => {
            eprintln!("feedlens pull: {error}");
            if matches!(error, PullError::Api { .. } | PullError::BadPage { .. }) {
                eprintln!(
                    "feedlens pull: what was written is kept; once this is fixed, the same command with --resume continues"
                );
            }
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn report(job: &PullJob, summary: &PullSummary, elapsed: Duration) -> ExitCode {
    let (from, to) = job.range;
    let range = format!("{}..{}", format_day(from), format_day(to));
    let mut complete = true;
    for event in &summary.events {
        match (event.done, event.counted) {
            (true, Some(counted)) => {
                let verdict = if counted == event.records {
                    ""
                } else {
                    complete = false;
                    " — DIFFERENT"
                };
                println!(
                    "{} {range}: CleverTap counts {}, pulled {}{verdict}",
                    event.event,
                    format_count(counted),
                    format_count(event.records)
                );
            }
            _ => {
                complete = false;
                println!(
                    "{} {range}: not finished, {} records pulled so far",
                    event.event,
                    format_count(event.records)
                );
            }
        }
    }
    let records: u64 = summary.events.iter().map(|e| e.records).sum();
    eprintln!(
        "feedlens pull: {} records in {} ({:.1} MB) in {:.1} s; state in {}",
        format_count(records),
        job.output.display(),
        summary.output_bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        summary.state_path.display()
    );
    if summary
        .events
        .iter()
        .any(|e| !e.done || e.counted.is_none())
    {
        eprintln!(
            "feedlens pull: stopped before the end: run the same command with --resume to continue"
        );
    }
    if summary
        .events
        .iter()
        .any(|e| e.counted.is_some_and(|c| c != e.records))
    {
        eprintln!(
            "feedlens pull: CleverTap's count differs from the records pulled for some events (above): do not resend them as complete"
        );
    }
    ExitCode::from(if complete { EXIT_OK } else { EXIT_INCOMPLETE })
}
