//! `feedlens check`: the accounting, counts per category and event, and the findings.

use std::process::ExitCode;

use super::input::{
    InputArgs, check_paths, engine_for, exit_code, report_failures, run_with_progress,
};
use super::output::{CheckChunk, CheckOutput};
use super::usage_error;
use crate::mapping::Outcome;
use crate::mparticle::Environment;
use crate::pipeline::Accounting;

/// `feedlens check` options.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `feedlens check`: the accounting, counts per category and event, and every finding.
pub fn check(args: &CheckArgs) -> ExitCode {
    if let Err(message) = check_paths(&args.input.files) {
        return usage_error(&message);
    }
    let engine = match engine_for(&args.input, Environment::Development) {
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
