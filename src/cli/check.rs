//! `feedlens check`: the accounting, counts per category and event, and the findings.

use std::process::ExitCode;

use super::check_output::{CheckChunk, CheckOutput, FindingFilter};
use super::input::{InputArgs, exit_code, read_setup, report_failures, run_with_progress};
use super::{CliError, finish};
use crate::mapping::{Outcome, Severity};
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
    /// The least severe finding listed (info lists every finding). The counts always cover
    /// every finding.
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = SeverityArg::Info)]
    pub severity: SeverityArg,
    /// List at most N findings, then say how many more there are (with --json:
    /// `findings_left_out`). The counts always cover every finding.
    #[arg(long, value_name = "N")]
    pub max_findings: Option<usize>,
    /// Masking of personal data (`--mask`, `--mask-salt`).
    #[command(flatten)]
    pub mask: super::MaskOptions,
}

/// `--severity`: the least severe finding `check` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SeverityArg {
    /// Every finding.
    Info,
    /// Warnings and errors.
    #[value(alias = "warning")]
    Warn,
    /// Errors only.
    Error,
}

impl CheckArgs {
    /// Which findings to list.
    pub fn filter(&self) -> FindingFilter {
        FindingFilter {
            min_severity: match self.severity {
                SeverityArg::Info => Severity::Info,
                SeverityArg::Warn => Severity::Warning,
                SeverityArg::Error => Severity::Error,
            },
            max: self.max_findings,
        }
    }
}

/// `feedlens check`: the accounting, counts per category and event, and every finding.
pub fn check(args: &CheckArgs) -> ExitCode {
    finish(run_check(args))
}

fn run_check(args: &CheckArgs) -> Result<ExitCode, CliError> {
    let super::input::Setup {
        files,
        edits,
        engine,
        chunk_warnings,
    } = read_setup(&args.input, Environment::Development)?;
    let engine = super::masked_engine(engine, &args.mask).map_err(CliError::Mask)?;
    let engine = super::input::without_ids(engine);
    let filter = args.filter();
    let mut accounting = Accounting::default();
    let stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut output =
        CheckOutput::start(stdout, args.json, filter).map_err(CliError::WriteStdout)?;
    let mut written = Ok(());
    let digest = |chunk: Vec<Outcome>| {
        let mut counted = Accounting::default();
        chunk.iter().for_each(|outcome| counted.add(outcome));
        (counted, CheckChunk::render(&chunk, args.json, filter))
    };
    let summary = run_with_progress(
        &files,
        &engine,
        edits.as_ref(),
        digest,
        |(counted, chunk)| {
            accounting.merge(counted);
            if written.is_ok() {
                written = output.chunk(chunk);
            }
        },
    );
    written
        .and_then(|()| output.finish(&accounting, &summary, &chunk_warnings))
        .map_err(CliError::WriteStdout)?;
    report_failures(&summary);
    Ok(exit_code(&summary, &accounting))
}
