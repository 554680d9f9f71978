//! `feedlens report`: one self-contained HTML file of a check, to share.

use std::path::PathBuf;
use std::process::ExitCode;

use super::input::{accounting_line, exit_code, read_setup, report_failures};
use super::mask::{MaskOptions, masked_engine};
use super::{EXIT_USAGE, InputArgs};
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
    let usage = |message: &str| {
        eprintln!("feedlens: {message}");
        ExitCode::from(EXIT_USAGE)
    };
    let (files, edits, engine) = match read_setup(&args.input, Environment::Development)
        .map_err(|error| error.to_string())
        .and_then(|setup| {
            let engine = masked_engine(setup.engine, &args.mask)?;
            Ok((setup.files, setup.edits, engine))
        }) {
        Ok(setup) => setup,
        Err(message) => return usage(&message),
    };
    let journal = match &args.journal {
        Some(path) => match crate::feed::read_journal(path) {
            Ok(contents) => Some(summarize_journal(&contents, &path.display().to_string())),
            Err(error) => return usage(&error.to_string()),
        },
        None => None,
    };
    let rules = match rules_used(args.input.rules.as_deref(), &engine.rules().source_name) {
        Ok(rules) => rules,
        Err(message) => return usage(&message),
    };
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
    let html = match render_html(&input) {
        Ok(html) => html,
        Err(error) => return usage(&format!("cannot make the report: {error}")),
    };
    if let Err(error) = std::fs::write(&args.output, html.as_bytes()) {
        return usage(&format!("cannot write {}: {error}", args.output.display()));
    }
    report_failures(&summary);
    let accounting = &data.accounting;
    eprintln!(
        "feedlens report: {}; written to {} ({} KB)",
        accounting_line(accounting),
        args.output.display(),
        html.len().div_ceil(1024)
    );
    exit_code(&summary, accounting)
}
