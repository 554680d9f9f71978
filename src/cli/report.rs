//! `feedlens report`: one self-contained HTML file of a check, to share.

use std::path::PathBuf;
use std::process::ExitCode;

use super::InputArgs;
use super::input::{accounting_line, exit_code, read_setup, report_failures};
use super::mask::{MaskOptions, masked_engine};
use crate::mapping::Outcome;
use crate::mparticle::Environment;
use crate::report::{ReportData, ReportInput, render_html, rules_used, summarize_journal};

/// `feedlens report` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The HTML file to write.
    #[arg(short, long, value_name = "OUT", required = true)]
    pub output: PathBuf,
    /// A send journal: the report adds what was sent, accepted, rejected or given up.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    #[command(flatten)]
    pub mask: MaskOptions,
}

/// `feedlens report`: reads and checks the files, writes the report.
pub fn report(args: &ReportArgs) -> ExitCode {
    super::finish(run_report(args))
}

fn run_report(args: &ReportArgs) -> Result<ExitCode, super::CliError> {
    let setup = read_setup(&args.input, Environment::Development)?;
    let engine = masked_engine(setup.engine, &args.mask).map_err(super::CliError::Mask)?;
    let engine = super::input::without_ids(engine);
    let (files, edits) = (setup.files, setup.edits);
    let journal = match &args.journal {
        Some(path) => Some(summarize_journal(
            &crate::feed::read_journal(path)?,
            &path.display().to_string(),
        )),
        None => None,
    };
    let rules = rules_used(args.input.rules.as_deref(), &engine.rules().source_name)
        .map_err(super::CliError::Report)?;
    let mut data = ReportData::default();
    let summary = super::input::run_with_progress(
        &files,
        &engine,
        edits.as_ref(),
        |chunk: Vec<Outcome>| ReportData::of_chunk(&chunk),
        |chunk| data.merge(chunk),
    );
    let input = ReportInput {
        data: &data,
        files: summary
            .files
            .iter()
            .map(|info| {
                let path = info.path.display().to_string();
                (path, info.shape.label().to_string(), info.gzip)
            })
            .collect(),
        unopened: summary
            .failures
            .iter()
            .map(|f| (f.path.display().to_string(), f.error.to_string()))
            .collect(),
        rules,
        documented: &engine.rules().events,
        journal,
        masked: args.mask.mask,
        generated: chrono::Utc::now()
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
    };
    let html = render_html(&input)
        .map_err(|error| super::CliError::Report(format!("cannot make the report: {error}")))?;
    std::fs::write(&args.output, html.as_bytes()).map_err(|source| super::CliError::WriteFile {
        path: args.output.clone(),
        source,
    })?;
    report_failures(&summary);
    let accounting = &data.accounting;
    eprintln!(
        "feedlens report: {}; written to {} ({} KB)",
        accounting_line(accounting),
        args.output.display(),
        html.len().div_ceil(1024)
    );
    Ok(exit_code(&summary, accounting))
}
