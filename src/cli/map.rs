//! `feedlens map`: CleverTap files to mParticle batches, one per line.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::input::{
    InputArgs, accounting_line, exit_code, read_setup, report_failures, run_with_progress,
};
use super::{CliError, finish, output};
use crate::mapping::{Outcome, PlanEvent, PlanItem, RecordStatus, UserFacts, plan_items};
use crate::pipeline::Accounting;
use uuid::Uuid;

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
    /// Masking of personal data (`--mask`, `--mask-salt`), for sharing fixtures.
    #[command(flatten)]
    pub mask: super::MaskOptions,
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
    finish(run_map(args))
}

fn run_map(args: &MapArgs) -> Result<ExitCode, CliError> {
    let environment = args.environment.parse().unwrap_or_default();
    let super::input::Setup {
        files,
        edits,
        engine,
        ..
    } = read_setup(&args.input, environment)?;
    let engine = super::masked_engine(engine, &args.mask).map_err(CliError::Mask)?;
    let mut chunks = Vec::new();
    let mut accounting = Accounting::default();
    let digest = |chunk: Vec<Outcome>| {
        let mut counted = Accounting::default();
        let mut messages = String::new();
        let mut kept = Vec::with_capacity(chunk.len());
        for outcome in chunk {
            counted.add(&outcome);
            if crate::records::sendable(&outcome) {
                // Batches need only what batching reads and the event's text.
                kept.extend(Kept::of(outcome));
            } else if matches!(
                outcome.status,
                RecordStatus::Held | RecordStatus::Unreadable
            ) && let Some(finding) = outcome.worst_finding()
            {
                let _ = writeln!(
                    messages,
                    "{}: {}: {}",
                    outcome.place,
                    outcome.status.as_str(),
                    finding.message
                );
            }
        }
        (counted, messages, kept)
    };
    let summary = run_with_progress(
        &files,
        &engine,
        edits.as_ref(),
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
    match &args.output {
        Some(path) => std::fs::File::create(path)
            .and_then(|file| output::write_batches(std::io::BufWriter::new(file), &plan, events))
            .map_err(|source| CliError::WriteFile {
                path: path.clone(),
                source,
            }),
        None => output::write_batches(std::io::stdout().lock(), &plan, events)
            .map_err(CliError::WriteStdout),
    }?;
    let requests = crate::mapping::split_requests(&plan.batches).len();
    eprintln!(
        "feedlens map: {}; {} batches ({requests} bulk requests)",
        accounting_line(&accounting),
        plan.batches.len(),
    );
    let _ = std::io::stderr().flush();
    // The process ends here: the system takes the memory back at once, where dropping a million
    // records one by one takes a second.
    std::mem::forget((kept, plan));
    Ok(exit_code(&summary, &accounting))
}
