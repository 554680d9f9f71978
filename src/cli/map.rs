//! `feedlens map`: CleverTap files to mParticle batches, one per line.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::input::{
    InputArgs, accounting_line, exit_code, read_setup, report_failures, run_with_progress,
};
use super::{CliError, finish, output};
use rayon::prelude::*;

use crate::mapping::{Outcome, PlannedBatch, RecordStatus, RequestSplitter};
use crate::pipeline::Accounting;
use crate::records::kept::{DEFAULT_MEMORY_BUDGET, Kept, KeptChunk};

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

/// Users (or profile records) whose batches are built and written at once.
const UNITS_AT_ONCE: usize = 4096;

/// How many batches and bulk requests were written.
#[derive(Default)]
struct BatchCounts {
    batches: usize,
    requests: RequestSplitter,
}

impl BatchCounts {
    fn add(&mut self, batches: &[PlannedBatch]) {
        self.batches += batches.len();
        for batch in batches {
            self.requests.starts_request(batch);
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
    // What batching reads of each record sent, compactly; events past the budget go to a
    // temporary file. A failure to write it ends the run (the output would lack records).
    let mut kept = Kept::new(DEFAULT_MEMORY_BUDGET, UNITS_AT_ONCE);
    let mut kept_error = None;
    let mut accounting = Accounting::default();
    let digest = |chunk: Vec<Outcome>| {
        let mut counted = Accounting::default();
        let mut messages = String::new();
        let mut keeping = KeptChunk::new();
        for outcome in chunk {
            counted.add(&outcome);
            if crate::records::sendable(&outcome) {
                // Batches need only what batching reads and the event's text.
                keeping.add(outcome);
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
        (counted, messages, keeping)
    };
    let summary = run_with_progress(
        &files,
        &engine,
        edits.as_ref(),
        digest,
        |(counted, messages, keeping)| {
            accounting.merge(counted);
            eprint!("{messages}");
            if kept_error.is_none()
                && let Err(error) = kept.push(keeping)
            {
                kept_error = Some(error);
            }
        },
    );
    if let Some(source) = kept_error {
        return Err(CliError::Spill { source });
    }
    report_failures(&summary);
    let now = engine.options().now_millis;
    let item = |i: usize| kept.item(i);
    let units = kept.units();
    // Batches are built and written a few thousand users at a time, so that memory holds a
    // window of batches, not every batch of the run. A window's text is written on a thread of
    // its own while the next window is built.
    let mut counts = BatchCounts::default();
    let write = |mut out: Box<dyn Write + Send>| -> std::io::Result<()> {
        std::thread::scope(|scope| {
            // No queue: one window written while the next is built, at most.
            let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(0);
            // A failure to start it is the command's error, not a panic.
            let writer = crate::thread::spawn_scoped_named(
                scope,
                "feedlens-map-write",
                move || -> std::io::Result<()> {
                    for texts in receive {
                        for text in texts {
                            out.write_all(&text)?;
                        }
                    }
                    out.flush()
                },
            )?;
            let built = (|| -> std::io::Result<()> {
                let mut units = units.into_iter();
                for number in 0.. {
                    let window: Vec<_> = units.by_ref().take(UNITS_AT_ONCE).collect();
                    if window.is_empty() {
                        break;
                    }
                    // The window's spilled events, read back at once (they were laid out by
                    // window).
                    let loaded = kept.load_window(number)?;
                    let events = |i: usize, text: &mut Vec<u8>| kept.write_event(i, &loaded, text);
                    let batches: Vec<PlannedBatch> = window
                        .into_par_iter()
                        .map(|unit| crate::mapping::unit_batches(&item, unit, environment, now))
                        .collect::<Vec<_>>()
                        .into_iter()
                        .flatten()
                        .collect();
                    counts.add(&batches);
                    let texts = output::batch_texts(&batches, events)?;
                    if send.send(texts).is_err() {
                        // The writer stopped on an error, which it returns.
                        break;
                    }
                }
                Ok(())
            })();
            drop(send);
            let written = writer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            built.and(written)
        })
    };
    match &args.output {
        Some(path) => std::fs::File::create(path)
            .and_then(|file| write(Box::new(std::io::BufWriter::new(file))))
            .map_err(|source| CliError::WriteFile {
                path: path.clone(),
                source,
            }),
        None => write(Box::new(std::io::stdout())).map_err(CliError::WriteStdout),
    }?;
    eprintln!(
        "feedlens map: {}; {} batches ({} bulk requests)",
        accounting_line(&accounting),
        counts.batches,
        counts.requests.requests(),
    );
    let _ = std::io::stderr().flush();
    // The process ends here: the system takes the memory back at once, where dropping a million
    // records one by one takes a second.
    std::mem::forget(kept);
    Ok(exit_code(&summary, &accounting))
}
