//! `feedlens send`: map, plan and send to a feed, with the journal and resend.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::send_report::{follow, print_received, print_summary};
use super::{CliError, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, InputArgs, engine_for, finish};
use crate::feed::{
    Credentials, FeedSettings, FeedTarget, LocalFeed, LocalFeedConfig, LocalFeedHandle, Pod,
    SendJob, SendPlan, SendTuning, Sender, default_journal_path, read_journal,
};
use crate::mparticle::Environment;

const SEND_AFTER_HELP: &str = "\
Credentials: FEEDLENS_API_KEY and FEEDLENS_API_SECRET (with --local, a demo pair when unset;
  a dry run plans without them and says which are missing).
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
    /// Print the plan (requests, batches, bytes, target URL, what is held back) and send nothing;
    /// needs no credentials.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the exact body of request N of the plan (0-based) and send nothing.
    #[arg(long, value_name = "N")]
    pub show_body: Option<usize>,
    /// Send only the batches the journal does not show as accepted by this feed.
    #[arg(long)]
    pub resend_failed: bool,
    /// With --edits: send edited records even when the journal shows that this feed accepted
    /// their originals (mParticle then has both events).
    #[arg(long)]
    pub resend_edited: bool,
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

/// Runs `feedlens send`.
pub fn send(args: &SendArgs) -> ExitCode {
    finish(run_send(args))
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
fn confirm_production(args: &SendArgs) -> Result<bool, CliError> {
    if args.confirm_production {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::ProductionNeedsConfirmation);
    }
    eprint!("Send to the PRODUCTION environment? Type production to confirm: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(CliError::Confirmation)?;
    Ok(answer.trim() == "production")
}

fn run_send(args: &SendArgs) -> Result<ExitCode, CliError> {
    let files = super::input_files(&args.input.files)?;
    let environment: Environment = args.environment.parse().map_err(CliError::Environment)?;
    let pod = args
        .pod
        .as_deref()
        .map(str::parse::<Pod>)
        .transpose()
        .map_err(CliError::Pod)?;
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
        crate::feed::check_url(url)?;
    }
    let dry_run = args.dry_run || args.show_body.is_some();
    // A dry run sends nothing, so it plans without credentials and says which are missing.
    let credentials = match Credentials::from_env() {
        Some(credentials) => Some(credentials),
        None if args.local => Some(Credentials::demo()),
        None if dry_run => None,
        None => return Err(CliError::MissingCredentials),
    };
    if environment == Environment::Production && !dry_run {
        if !confirm_production(args)? {
            return Err(CliError::NotConfirmed);
        }
        settings.production_confirmed = true;
    }
    let engine = engine_for(&args.input, environment)?;
    let edits = super::load_edits(args.input.edits.as_deref(), &files)?;
    let (outcomes, read_summary) = crate::pipeline::load_edited(&files, &engine, edits.as_ref());
    for failure in &read_summary.failures {
        eprintln!("feedlens: {}", failure.error);
    }
    if !read_summary.failures.is_empty() {
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let masked = crate::mask::masked_records(&outcomes);
    if masked > 0 {
        return Err(CliError::Masked { records: masked });
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
        return dry_run_output(args, &settings, credentials.as_ref(), plan, &journal_path);
    }
    let Some(credentials) = credentials else {
        return Err(CliError::MissingCredentials);
    };

    let local = if matches!(settings.target, FeedTarget::Local) {
        let feed = LocalFeed::start(LocalFeedConfig {
            credentials: credentials.clone(),
            record: args.record.clone(),
            ..LocalFeedConfig::default()
        })?;
        eprintln!("feedlens send: local feed started at {}", feed.url());
        Some(feed)
    } else {
        None
    };
    let resolved = settings.resolve(
        &credentials,
        local.as_ref().map(LocalFeedHandle::endpoint).as_ref(),
    )?;
    if let Some(edits) = &edits
        && !args.resend_edited
    {
        let ids = edits.original_ids();
        if !ids.is_empty() {
            let resent = read_journal(&journal_path)?.accepted_records(&resolved, &ids);
            if let Some(first) = resent.iter().map(|(_, time)| time.as_str()).min() {
                return Err(CliError::ResentEdited {
                    records: resent.len(),
                    first: first.get(..16).unwrap_or(first).replace('T', " "),
                });
            }
        }
    }
    let mut plan = plan;
    if args.resend_failed {
        let contents = read_journal(&journal_path)?;
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
    )?;
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
    credentials: Option<&Credentials>,
    plan: SendPlan,
    journal_path: &Path,
) -> Result<ExitCode, CliError> {
    // The local feed is not started for a dry run: resolve against its would-be URL label.
    let resolved = match (&settings.target, credentials) {
        (FeedTarget::Local, _) | (_, None) => None,
        (_, Some(credentials)) => {
            let mut preview = settings.clone();
            preview.production_confirmed = true;
            preview.resolve(credentials, None).ok()
        }
    };
    let base_url = resolved
        .as_ref()
        .map(|resolved| resolved.base_url.to_string())
        .or_else(|| settings.target.base_url());
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
                Ok(ExitCode::from(EXIT_OK))
            }
            None => Err(CliError::NoSuchRequest {
                count: plan.requests.len(),
                index,
            }),
        };
    }
    let mut out = std::io::stdout().lock();
    if base_url.is_none() {
        let _ = writeln!(
            out,
            "target: the built-in local feed (started on 127.0.0.1 when sending)"
        );
    }
    let _ = write!(out, "{}", plan.describe_at(base_url.as_deref()));
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
    if credentials.is_none() {
        let _ = writeln!(out, "{}", missing_credentials());
        if args.resend_failed {
            let _ = writeln!(
                out,
                "--resend-failed: without the key the journal cannot tell what this feed accepted; every batch is listed"
            );
        }
    }
    let _ = writeln!(
        out,
        "dry run: nothing sent (--show-body N prints a request's exact body)"
    );
    Ok(ExitCode::from(EXIT_OK))
}

/// Which of the key and secret the environment lacks, for a dry run's plan.
fn missing_credentials() -> String {
    let unset = |name: &str| std::env::var(name).map_or(true, |value| value.is_empty());
    let missing: Vec<&str> = [crate::feed::KEY_ENV, crate::feed::SECRET_ENV]
        .into_iter()
        .filter(|name| unset(name))
        .collect();
    match missing.as_slice() {
        [one] => format!("credentials: {one} is not set; the real send needs it"),
        _ => format!(
            "credentials: {} are not set; the real send needs them",
            missing.join(" and ")
        ),
    }
}
