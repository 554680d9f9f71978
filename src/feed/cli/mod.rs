//! `feedlens send` and `feedlens serve`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod serve;

pub use serve::{ServeArgs, serve};

use super::{
    AttemptStatus, Credentials, FeedSettings, FeedTarget, LocalFeed, LocalFeedConfig, Pod,
    ReceivedSnapshot, RequestOutcome, SendEvent, SendJob, SendPlan, SendSummary, SendTuning,
    Sender, default_journal_path, read_journal,
};
use crate::cli::{EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, InputArgs, engine_for};
use crate::mparticle::Environment;

const SEND_AFTER_HELP: &str = "\
Credentials: FEEDLENS_API_KEY and FEEDLENS_API_SECRET (with --local, a demo pair when unset).
Journal: every attempt is appended to --journal FILE, by default
  $XDG_DATA_HOME/feedlens/send-journal.ndjson (~/.local/share/feedlens/ on Linux,
  ~/Library/Application Support/feedlens/ on macOS, %APPDATA%\\feedlens\\ on Windows).
  --resend-failed sends only the batches it does not show as accepted by the same feed
  (target, key and environment); batch ids are derived from the data, so a second send of an
  accepted batch is dropped by the feed, not doubled.
Exit status: 0 when every selected record was sent and accepted; 1 when something was not
  (rejected, given up, cancelled, held back as invalid, unreadable); 2 on a usage error.
Examples:
  feedlens send samples/* --local
  feedlens send export.jsonl --pod EU1 --dry-run
  feedlens send export.jsonl --pod US1 --resend-failed";

/// `feedlens send` options.
///
/// Maps the files, plans the requests (at most 100 batches and under 256 KB each; batches whose
/// events are all older than 30 days go to /bulkevents/historical) and sends them with retries.
/// The key and secret come from FEEDLENS_API_KEY and FEEDLENS_API_SECRET (for --local, a demo
/// pair when unset). Every attempt is appended to a journal (default:
/// $XDG_DATA_HOME/feedlens/send-journal.ndjson, i.e. ~/.local/share/feedlens/… on Linux);
/// --resend-failed sends only the batches the journal does not show as accepted by this feed.
///
/// Exit status: 0 when every selected record was sent and accepted; 1 when something was not
/// (rejected, given up, cancelled, held back as invalid or unreadable); 2 on a usage error.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).multiple(true).args(["local", "pod", "url"])))]
#[command(after_help = SEND_AFTER_HELP)]
pub struct SendArgs {
    /// The files and mapping settings, as for `feedlens map`.
    #[command(flatten)]
    pub input: InputArgs,
    /// Send to the built-in local feed: one started in this process on a free 127.0.0.1 port,
    /// or, with --url, a `feedlens serve` already running there.
    #[arg(long)]
    pub local: bool,
    /// Send to an mParticle pod.
    #[arg(long, value_name = "POD", conflicts_with_all = ["local", "url"], value_parser = ["US1", "US2", "EU1", "AU1"])]
    pub pod: Option<String>,
    /// Send to this base URL (the /bulkevents paths are appended), e.g.
    /// `https://inbound.mparticle.com/s2s/v2`. Plain `http://` only to 127.0.0.1/localhost.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The batches' environment. production also needs --confirm-production (or typing
    /// "production" at the prompt on a terminal).
    #[arg(long, value_name = "ENV", default_value = "development", value_parser = ["development", "production"])]
    pub environment: String,
    /// Confirms sending to production without a prompt.
    #[arg(long)]
    pub confirm_production: bool,
    /// Print the plan (requests, batches, bytes, target URL, what is held back) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the exact body of request N of the plan (0-based) and send nothing.
    #[arg(long, value_name = "N")]
    pub show_body: Option<usize>,
    /// Send only the batches the journal does not show as accepted by this feed.
    #[arg(long)]
    pub resend_failed: bool,
    /// The send journal (append-only NDJSON, one line per attempt).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Also send records held back as invalid.
    #[arg(long)]
    pub send_held: bool,
    /// With --local and no --url: write what the local feed accepted to this NDJSON file.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Tries per request before giving it up.
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// First retry delay in milliseconds (doubles each retry, with jitter; at least Retry-After).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub backoff_ms: u64,
    /// Longest retry delay in milliseconds (a Retry-After may be longer).
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub max_backoff_ms: u64,
    /// Give a request up after this many seconds without an answer (then retry it).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("feedlens: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Runs `feedlens send`.
pub fn send(args: &SendArgs) -> ExitCode {
    match run_send(args) {
        Ok(code) => code,
        Err(message) => usage_error(&message),
    }
}

fn tuning(args: &SendArgs) -> SendTuning {
    SendTuning {
        concurrency: usize::from(args.concurrency),
        max_attempts: args.max_attempts,
        backoff_base: Duration::from_millis(args.backoff_ms),
        backoff_max: Duration::from_millis(args.max_backoff_ms.max(args.backoff_ms)),
        request_timeout: Duration::from_secs(args.timeout.max(1)),
        ..SendTuning::default()
    }
}

/// Asks for production on a terminal; elsewhere `--confirm-production` is required.
fn confirm_production(args: &SendArgs) -> Result<bool, String> {
    if args.confirm_production {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(
            "sending to production needs --confirm-production (no terminal to ask on)".into(),
        );
    }
    eprint!("Send to the PRODUCTION environment? Type production to confirm: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|error| format!("cannot read the confirmation: {error}"))?;
    Ok(answer.trim() == "production")
}

fn run_send(args: &SendArgs) -> Result<ExitCode, String> {
    crate::cli::check_paths(&args.input.files)?;
    let environment: Environment = args.environment.parse()?;
    let pod = args.pod.as_deref().map(str::parse::<Pod>).transpose()?;
    let target = match (&pod, &args.url) {
        (Some(pod), _) => FeedTarget::Pod(*pod),
        (None, Some(url)) => FeedTarget::Url(url.clone()),
        (None, None) => FeedTarget::Local,
    };
    let mut settings = FeedSettings {
        target,
        environment,
        send_held: args.send_held,
        tuning: tuning(args),
        ..FeedSettings::default()
    };
    // Check the URL before reading anything: refuse insecure targets at once.
    if let FeedTarget::Url(url) = &settings.target {
        super::check_url(url).map_err(|error| error.to_string())?;
    }
    let credentials = match Credentials::from_env() {
        Some(credentials) => credentials,
        None if args.local => Credentials::demo(),
        None => {
            return Err(format!(
                "set {} and {} to the feed's key and secret",
                super::KEY_ENV,
                super::SECRET_ENV
            ));
        }
    };
    let dry_run = args.dry_run || args.show_body.is_some();
    if environment == Environment::Production && !dry_run {
        if !confirm_production(args)? {
            return Err("not confirmed: nothing sent".into());
        }
        settings.production_confirmed = true;
    }
    let engine = engine_for(&args.input, environment)?;
    let (outcomes, read_summary) = crate::pipeline::load(&args.input.files, &engine);
    for failure in &read_summary.failures {
        eprintln!("feedlens: {}", failure.error);
    }
    if !read_summary.failures.is_empty() {
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let masked = crate::mask::masked_records(&outcomes);
    if masked > 0 {
        return Err(format!(
            "{masked} records carry masked identities (an email at @{}, or a customer id shaped id:…): they were masked to be shared (feedlens mask, --mask), and sent they would reach the wrong users or none; nothing sent. Send the original export instead",
            crate::mask::EMAIL_DOMAIN
        ));
    }
    let now_millis = engine.options().now_millis;
    let plan = SendPlan::from_outcomes(
        &outcomes,
        |_, _| true,
        environment,
        args.send_held,
        now_millis,
    );
    drop(outcomes);
    let journal_path = args.journal.clone().unwrap_or_else(default_journal_path);

    if dry_run {
        return Ok(dry_run_output(
            args,
            &settings,
            &credentials,
            plan,
            &journal_path,
        ));
    }

    let local = if matches!(settings.target, FeedTarget::Local) {
        let feed = LocalFeed::start(LocalFeedConfig {
            credentials: credentials.clone(),
            record: args.record.clone(),
            ..LocalFeedConfig::default()
        })
        .map_err(|error| error.to_string())?;
        eprintln!("feedlens send: local feed started at {}", feed.url());
        Some(feed)
    } else {
        None
    };
    let resolved = settings
        .resolve(&credentials, local.as_ref())
        .map_err(|error| error.to_string())?;
    let mut plan = plan;
    if args.resend_failed {
        let contents = read_journal(&journal_path).map_err(|error| error.to_string())?;
        if let Some(line) = contents.torn_last_line {
            eprintln!(
                "feedlens send: the journal's line {line} was cut short (a crash mid-write); it is ignored: {}",
                journal_path.display()
            );
        }
        for (line, error) in contents.unreadable_lines.iter().take(5) {
            eprintln!(
                "feedlens send: journal line {line} is unreadable ({error}); it is ignored: {}",
                journal_path.display()
            );
        }
        plan = plan.excluding(&contents.accepted_for(&resolved));
        eprintln!(
            "feedlens send: resend failed: {} batches already accepted by {} ({}), {} to send",
            plan.already_accepted,
            resolved.journal_target,
            environment.as_str(),
            plan.batch_count()
        );
    }
    eprint!("{}", plan.describe(Some(&resolved)));
    eprintln!("journal: {}", journal_path.display());
    let plan = Arc::new(plan);
    let handle = Sender::start(
        SendJob {
            plan: Arc::clone(&plan),
            target: resolved,
            tuning: settings.tuning.clone(),
            journal: Some(journal_path.clone()),
        },
        || {},
    )
    .map_err(|error| error.to_string())?;
    let cancel = handle.cancel_flag();
    let interrupted = Arc::new(AtomicBool::new(false));
    let interrupted_flag = Arc::clone(&interrupted);
    let _ = ctrlc::set_handler(move || {
        if interrupted_flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nfeedlens send: cancelling (Ctrl-C again to quit at once)…");
        cancel.store(true, Ordering::SeqCst);
    });
    let summary = follow(&handle, &plan);
    let summary = match summary {
        Some(summary) => summary,
        None => handle.wait(),
    };
    print_summary(&summary, &journal_path);
    if let Some(feed) = local {
        print_received(&feed.stop(), args.record.as_deref());
    }
    let held_back = plan.held.held_records > 0 && !plan.held.held_included
        || plan.held.unreadable_records > 0
        || !plan.held.held_batches.is_empty();
    if held_back {
        eprintln!(
            "feedlens send: some selected records were not sent (held back or unreadable): see the plan above"
        );
    }
    Ok(if summary.all_accepted() && !held_back {
        ExitCode::from(EXIT_OK)
    } else {
        ExitCode::from(EXIT_INCOMPLETE)
    })
}

fn dry_run_output(
    args: &SendArgs,
    settings: &FeedSettings,
    credentials: &Credentials,
    plan: SendPlan,
    journal_path: &Path,
) -> ExitCode {
    // The local feed is not started for a dry run: resolve against its would-be URL label.
    let resolved = match settings.target {
        FeedTarget::Local => None,
        _ => {
            let mut preview = settings.clone();
            preview.production_confirmed = true;
            preview.resolve(credentials, None).ok()
        }
    };
    let mut plan = plan;
    if args.resend_failed
        && let Some(resolved) = &resolved
        && let Ok(contents) = read_journal(journal_path)
    {
        plan = plan.excluding(&contents.accepted_for(resolved));
    }
    if let Some(index) = args.show_body {
        return match plan.request_body(index) {
            Some(body) => {
                println!("{body}");
                ExitCode::from(EXIT_OK)
            }
            None => usage_error(&format!(
                "the plan has {} requests: there is no request {index}",
                plan.requests.len()
            )),
        };
    }
    let mut out = std::io::stdout().lock();
    if resolved.is_none() {
        let _ = writeln!(
            out,
            "target: the built-in local feed (started on 127.0.0.1 when sending)"
        );
    }
    let _ = write!(out, "{}", plan.describe(resolved.as_ref()));
    for request in &plan.requests {
        let _ = writeln!(
            out,
            "request {:>4}: POST {} {:>3} batches {:>5} events {:>7} bytes  id {}",
            request.index,
            request.endpoint.path(),
            request.batches.len(),
            request.events,
            request.bytes,
            request.request_id
        );
    }
    let _ = writeln!(
        out,
        "dry run: nothing sent (--show-body N prints a request's exact body)"
    );
    ExitCode::from(EXIT_OK)
}

/// Prints progress and problems until the send finishes; returns its summary.
fn follow(handle: &super::SendHandle, plan: &SendPlan) -> Option<SendSummary> {
    let terminal = std::io::stderr().is_terminal();
    let bar = terminal.then(|| {
        let bar = indicatif::ProgressBar::new(plan.batch_count() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} batches {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut last_line = Instant::now();
    let summary = loop {
        let event = handle.next_event(Duration::from_millis(200));
        match event {
            Some(SendEvent::Finished(summary)) => break Some(summary),
            Some(SendEvent::Attempt(report)) => {
                let request = &plan.requests[report.request];
                let message = match report.status {
                    AttemptStatus::Rejected => Some(format!(
                        "request {} ({} batches) rejected: HTTP {}: {}",
                        report.request,
                        request.batches.len(),
                        report.http_status.unwrap_or_default(),
                        report.error.clone().unwrap_or_default()
                    )),
                    AttemptStatus::GivenUp => Some(format!(
                        "request {} ({} batches) given up after {} tries: {}",
                        report.request,
                        request.batches.len(),
                        report.attempt,
                        report.error.clone().unwrap_or_default()
                    )),
                    AttemptStatus::Retrying => {
                        tracing::info!(
                            "request {} try {} failed ({}), retrying in {} ms",
                            report.request,
                            report.attempt,
                            report.error.clone().unwrap_or_default(),
                            report.retry_in.unwrap_or_default().as_millis()
                        );
                        None
                    }
                    _ => None,
                };
                if let Some(message) = message {
                    match &bar {
                        Some(bar) => bar.println(format!("feedlens send: {message}")),
                        None => eprintln!("feedlens send: {message}"),
                    }
                }
            }
            Some(SendEvent::JournalFailed(message)) => {
                eprintln!("feedlens send: {message}: stopping");
            }
            Some(SendEvent::RequestFinished { .. }) => {}
            None if handle.is_finished() => break None,
            None => {}
        }
        let progress = handle.progress();
        if let Some(bar) = &bar {
            bar.set_position(progress.batches_accepted as u64);
            bar.set_message(format!(
                "{}/{} requests, {} retries, {:.0} batches/s",
                progress.requests_done(),
                progress.requests_total,
                progress.retries,
                progress.batches_per_second()
            ));
        } else if last_line.elapsed() >= Duration::from_secs(5) {
            last_line = Instant::now();
            eprintln!(
                "feedlens send: {}/{} requests done, {}/{} batches accepted, {} retries, {:.0} batches/s",
                progress.requests_done(),
                progress.requests_total,
                progress.batches_accepted,
                progress.batches_total,
                progress.retries,
                progress.batches_per_second()
            );
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    summary
}

fn print_summary(summary: &SendSummary, journal: &Path) {
    let progress = &summary.progress;
    let count =
        |wanted: fn(&RequestOutcome) -> bool| summary.outcomes.iter().filter(|o| wanted(o)).count();
    eprintln!(
        "feedlens send: {} requests: {} accepted, {} rejected, {} given up, {} cancelled; {}/{} batches and {} events accepted, {} bytes sent ({} retries) in {:.1} s, {:.0} batches/s",
        summary.outcomes.len(),
        count(|o| matches!(o, RequestOutcome::Accepted)),
        count(|o| matches!(o, RequestOutcome::Rejected { .. })),
        count(|o| matches!(o, RequestOutcome::GivenUp { .. })),
        count(|o| matches!(o, RequestOutcome::Cancelled)),
        progress.batches_accepted,
        progress.batches_total,
        progress.events_accepted,
        progress.bytes_sent,
        progress.retries,
        progress.elapsed.as_secs_f64(),
        progress.batches_per_second()
    );
    if let Some(error) = &summary.journal_error {
        eprintln!("feedlens send: the journal failed: {error}");
    }
    if !summary.all_accepted() {
        eprintln!(
            "feedlens send: run again with --resend-failed to send what was not accepted (journal: {})",
            journal.display()
        );
    }
}

fn print_received(snapshot: &ReceivedSnapshot, record: Option<&Path>) {
    eprintln!(
        "local feed received: {} requests, {} batches taken ({} events), {} duplicates ignored, {} rejected{}",
        snapshot.requests,
        snapshot.accepted_batches,
        snapshot.events,
        snapshot.duplicate_batches,
        snapshot.bad_requests + snapshot.unauthorized + snapshot.forbidden + snapshot.too_large,
        record.map_or_else(String::new, |path| format!(
            "; recorded to {}",
            path.display()
        ))
    );
}
