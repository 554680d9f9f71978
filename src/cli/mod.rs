//! The headless commands `map` and `check`: argument definitions and their runs.

mod mask;
mod output;
mod report;

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::mapping::{
    Engine, MapOptions, Outcome, PlanEvent, PlanItem, RecordStatus, Rules, UserFacts, plan_items,
};
use crate::mparticle::Environment;
use crate::pipeline::{self, Accounting, Progress, RunSummary};
use uuid::Uuid;

pub use mask::{MaskArgs, MaskOptions, mask, masked_engine};
pub use output::{CheckChunk, CheckOutput, FindingRow};
pub use report::{ReportArgs, report};

/// Exit code: every record mapped (warnings allowed).
pub const EXIT_OK: u8 = 0;
/// Exit code: some records were held or unreadable (the rest were still processed).
pub const EXIT_INCOMPLETE: u8 = 1;
/// Exit code: a usage error, or a file that cannot be opened.
pub const EXIT_USAGE: u8 = 2;

/// Inputs and mapping settings shared by the commands that read CleverTap files.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// CleverTap files: export NDJSON, Get Events API pages, JSON arrays, CSV, profile exports,
    /// any of them gzip-compressed. The shape is detected from the content.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// A mapping rules file (a copy of the built-in assets/mapping.toml, edited).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Event name for records that have none (Get Events API pages), used when neither the
    /// file's first line nor its export file name gives one.
    #[arg(long, value_name = "NAME")]
    pub event_name: Option<String>,
    /// The CleverTap account's time zone for 14-digit `ts` values (IANA name, default: the
    /// rules' timezone, UTC).
    #[arg(long = "tz", value_name = "ZONE")]
    pub timezone: Option<String>,
}

/// `feedlens map` options.
#[derive(Debug, Clone, clap::Args)]
pub struct MapArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Write the batches here instead of standard output.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// The batches' environment.
    #[arg(long, value_name = "ENV", default_value = "development", value_parser = ["development", "production"])]
    pub environment: String,
    #[command(flatten)]
    pub mask: MaskOptions,
}

/// `feedlens check` options.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub mask: MaskOptions,
}

/// Logging to stderr, filtered by `RUST_LOG` (default: warnings).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Builds the engine from the input arguments, or explains what is wrong.
pub fn engine_for(input: &InputArgs, environment: Environment) -> Result<Engine, String> {
    let rules = match &input.rules {
        Some(path) => Rules::load(path),
        None => Rules::default_rules(),
    }
    .map_err(|error| error.to_string())?;
    let timezone = input
        .timezone
        .as_deref()
        .map(crate::mapping::parse_timezone)
        .transpose()?;
    let options = MapOptions {
        event_name: input.event_name.clone(),
        timezone,
        environment,
        ..MapOptions::default()
    };
    Ok(Engine::new(Arc::new(rules), options))
}

/// Paths that do not exist or are directories: a usage error before anything is read.
pub fn check_paths(files: &[PathBuf]) -> Result<(), String> {
    for path in files {
        if path.is_dir() {
            return Err(format!(
                "{} is a directory: give the export files inside it",
                path.display()
            ));
        }
        if !path.exists() {
            return Err(format!("cannot open {}: no such file", path.display()));
        }
    }
    Ok(())
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("feedlens: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Runs the pipeline with a progress bar on a terminal: each chunk of outcomes is digested on
/// the thread that mapped it, then handed to `sink` in input order.
fn run_with_progress<T: Send>(
    files: &[PathBuf],
    engine: &Engine,
    digest: impl Fn(Vec<Outcome>) -> T + Sync,
    mut sink: impl FnMut(T),
) -> RunSummary {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let on_progress = |progress: &Progress| {
        if let Some(bar) = &bar {
            bar.set_length(progress.bytes_total);
            bar.set_position(progress.bytes_read);
            bar.set_message(format!("{} records", progress.records));
        }
    };
    let summary = pipeline::run_with(
        files,
        engine,
        &AtomicBool::new(false),
        on_progress,
        |_, chunk| digest(chunk),
        |_, digested| sink(digested),
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    summary
}

fn report_failures(summary: &RunSummary) {
    for failure in &summary.failures {
        eprintln!("feedlens: {}", failure.error);
    }
}

fn exit_code(summary: &RunSummary, accounting: &Accounting) -> ExitCode {
    if !summary.failures.is_empty() {
        ExitCode::from(EXIT_USAGE)
    } else if accounting.all_mapped() {
        ExitCode::from(EXIT_OK)
    } else {
        ExitCode::from(EXIT_INCOMPLETE)
    }
}

/// What `map` keeps of a record it sends: what batching reads of it, and its event as JSON.
struct Kept {
    group_key: String,
    timestamp: Option<i64>,
    record_id: Uuid,
    facts: UserFacts,
    /// `None` for a profile record.
    event: Option<Box<[u8]>>,
}

impl Kept {
    fn of(outcome: Outcome) -> Option<Kept> {
        let timestamp = outcome.timestamp_millis();
        let mapped = outcome.mapped?;
        Some(Kept {
            timestamp,
            record_id: mapped.record_id,
            // The record is the map's own: its facts are moved, not copied.
            facts: UserFacts {
                identities: mapped.identities,
                user_attributes: mapped.user_attributes,
                device_info: mapped.device_info,
                application_info: mapped.application_info,
            },
            // Serialising plain data into memory cannot fail.
            event: mapped
                .event
                .map(|event| serde_json::to_vec(&event).unwrap_or_default().into()),
            group_key: mapped.group_key,
        })
    }

    fn item(&self) -> PlanItem<'_> {
        PlanItem {
            group_key: &self.group_key,
            timestamp: self.timestamp,
            record_id: self.record_id,
            facts: self.facts.view(),
            event: self
                .event
                .as_ref()
                .map_or(PlanEvent::Profile, |event| PlanEvent::Sized(event.len())),
        }
    }
}

/// `feedlens map`: writes one batch per line.
pub fn map(args: &MapArgs) -> ExitCode {
    if let Err(message) = check_paths(&args.input.files) {
        return usage_error(&message);
    }
    let environment = args.environment.parse().unwrap_or_default();
    let engine = match engine_for(&args.input, environment)
        .and_then(|engine| masked_engine(engine, &args.mask))
    {
        Ok(engine) => engine,
        Err(message) => return usage_error(&message),
    };
    let mut chunks = Vec::new();
    let mut accounting = Accounting::default();
    let digest = |chunk: Vec<Outcome>| {
        let mut counted = Accounting::default();
        let mut messages = String::new();
        let mut kept = Vec::with_capacity(chunk.len());
        for outcome in chunk {
            counted.add(&outcome);
            match outcome.status {
                RecordStatus::Mapped | RecordStatus::Warned => {
                    // Batches need only what batching reads and the event's text.
                    kept.extend(Kept::of(outcome));
                }
                RecordStatus::Held | RecordStatus::Unreadable => {
                    if let Some(finding) = outcome.worst_finding() {
                        let _ = writeln!(
                            messages,
                            "{}: {}: {}",
                            outcome.place,
                            outcome.status.as_str(),
                            finding.message
                        );
                    }
                }
                RecordStatus::Dropped => {}
            }
        }
        (counted, messages, kept)
    };
    let summary = run_with_progress(
        &args.input.files,
        &engine,
        digest,
        |(counted, messages, kept)| {
            accounting.merge(counted);
            eprint!("{messages}");
            chunks.push(kept);
        },
    );
    // Put together once at their final size: growing one vector of a million records as they
    // arrive copies them over and over.
    let mut kept = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
    for chunk in chunks {
        kept.extend(chunk);
    }
    report_failures(&summary);
    let now = engine.options().now_millis;
    let plan = plan_items(
        kept.len(),
        |i| kept.get(i).map(Kept::item),
        environment,
        now,
    );
    let events = |i: usize| kept.get(i)?.event.as_deref();
    let written = match &args.output {
        Some(path) => std::fs::File::create(path)
            .and_then(|file| output::write_batches(std::io::BufWriter::new(file), &plan, events))
            .map_err(|error| format!("cannot write {}: {error}", path.display())),
        None => output::write_batches(std::io::stdout().lock(), &plan, events)
            .map_err(|error| format!("cannot write to standard output: {error}")),
    };
    if let Err(message) = written {
        return usage_error(&message);
    }
    let requests = crate::mapping::split_requests(&plan.batches).len();
    eprintln!(
        "feedlens map: {} records read: {} mapped, {} with warnings, {} held, {} dropped, {} unreadable; {} batches ({} bulk requests)",
        accounting.records_read,
        accounting.mapped,
        accounting.warned,
        accounting.held,
        accounting.dropped,
        accounting.unreadable,
        plan.batches.len(),
        requests
    );
    let _ = std::io::stderr().flush();
    // The process ends here: the system takes the memory back at once, where dropping a million
    // records one by one takes a second.
    std::mem::forget((kept, plan));
    exit_code(&summary, &accounting)
}

/// `feedlens check`: the accounting, counts per category and event, and every finding.
pub fn check(args: &CheckArgs) -> ExitCode {
    if let Err(message) = check_paths(&args.input.files) {
        return usage_error(&message);
    }
    let engine = match engine_for(&args.input, Environment::Development)
        .and_then(|engine| masked_engine(engine, &args.mask))
    {
        Ok(engine) => engine,
        Err(message) => return usage_error(&message),
    };
    let mut accounting = Accounting::default();
    let stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut output = match CheckOutput::start(stdout, args.json) {
        Ok(output) => output,
        Err(error) => return usage_error(&format!("cannot write to standard output: {error}")),
    };
    let mut written = Ok(());
    let digest = |chunk: Vec<Outcome>| {
        let mut counted = Accounting::default();
        chunk.iter().for_each(|outcome| counted.add(outcome));
        (counted, CheckChunk::render(&chunk, args.json))
    };
    let summary = run_with_progress(&args.input.files, &engine, digest, |(counted, chunk)| {
        accounting.merge(counted);
        if written.is_ok() {
            written = output.chunk(chunk);
        }
    });
    if let Err(error) = written.and_then(|()| output.finish(&accounting, &summary)) {
        return usage_error(&format!("cannot write to standard output: {error}"));
    }
    report_failures(&summary);
    exit_code(&summary, &accounting)
}
