//! What the commands that read CleverTap files share: the input arguments, the engine they
//! build, the files they read, and the run with a progress bar.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::{CliError, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE};
use crate::mapping::{Engine, MapOptions, Outcome, Rules};
use crate::mparticle::Environment;
use crate::pipeline::{self, Accounting, Progress, RunSummary};

/// Inputs and mapping settings shared by the commands that read CleverTap files.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// CleverTap files: export NDJSON, Get Events API pages, JSON arrays, CSV, profile exports,
    /// any of them gzip-compressed. The shape is detected from the content. A folder stands for
    /// the files directly inside it, in name order (hidden, .toml, .md and .txt files skipped);
    /// s3://bucket/prefix, gs://bucket/prefix and az://container/prefix (or an object's URL)
    /// for the export chunks under it, in chunk order, streamed.
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
    /// An edits file (NDJSON, written by the window): its records replace the inputs' records
    /// at the same places. Edits of an input that changed since are not applied.
    #[arg(long, value_name = "FILE")]
    pub edits: Option<PathBuf>,
}

/// Builds the engine from the input arguments, or explains what is wrong.
pub fn engine_for(input: &InputArgs, environment: Environment) -> Result<Engine, CliError> {
    let rules = match &input.rules {
        Some(path) => Rules::load(path),
        None => Rules::default_rules(),
    }?;
    let timezone = input
        .timezone
        .as_deref()
        .map(crate::mapping::parse_timezone)
        .transpose()
        .map_err(CliError::Timezone)?;
    let options = MapOptions {
        event_name: input.event_name.clone(),
        timezone,
        environment,
        ..MapOptions::default()
    };
    Ok(Engine::new(Arc::new(rules), options))
}

/// The files to read: each folder stands for the CleverTap files inside it, sorted by name, as
/// the window opens it ([`crate::clevertap::folder_files`]); each bucket URL (`s3://`, `gs://`,
/// `az://`) for the object it names or the objects under its prefix, export chunks in chunk
/// order ([`crate::clevertap::bucket::list`]). A path that does not exist, a folder with no
/// CleverTap files or a prefix that cannot be listed is a usage error before anything is read.
/// A folder's or prefix's export runs with a missing chunk, or chunks of several runs, are
/// reported on stderr first ([`crate::clevertap::ChunkReport::findings`]).
pub fn input_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    Ok(inputs(paths)?.0)
}

/// `engine` for a command that prints findings and counts and never an id (`check`,
/// `report`): the records' texts are not digested into ids, a tenth of the mapping's time.
pub fn without_ids(engine: Engine) -> Engine {
    Engine::new(
        Arc::new(engine.rules().clone()),
        MapOptions {
            ids: false,
            ..engine.options().clone()
        },
    )
}

/// [`input_files`], with the warnings about export runs it wrote on stderr (for `check
/// --json`, which lists them too).
pub(crate) fn inputs(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<String>), CliError> {
    let mut files = Vec::with_capacity(paths.len());
    let mut warnings = Vec::new();
    for path in paths {
        if crate::clevertap::bucket::is_url(path) {
            let objects: Vec<(PathBuf, u64)> = crate::clevertap::bucket::list(path)?
                .into_iter()
                .map(|object| (object.url, object.size))
                .collect();
            // An object's own URL is one chosen chunk, not a run to check.
            if !matches!(objects.as_slice(), [(url, _)] if url == path) {
                warnings.extend(report_chunks(path, &objects));
            }
            files.extend(objects.into_iter().map(|(url, _)| url));
        } else if path.is_dir() {
            let inside =
                crate::clevertap::folder_files(path).map_err(|source| CliError::Folder {
                    path: path.clone(),
                    source,
                })?;
            if inside.is_empty() {
                return Err(CliError::EmptyFolder { path: path.clone() });
            }
            let sized: Vec<(PathBuf, u64)> = inside
                .iter()
                .map(|file| (file.clone(), file.metadata().map(|m| m.len()).unwrap_or(0)))
                .collect();
            warnings.extend(report_chunks(path, &sized));
            files.extend(inside);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(CliError::NoSuchFile { path: path.clone() });
        }
    }
    Ok((files, warnings))
}

/// Says on stderr, before anything is read or sent, what is wrong with the export runs in a
/// folder or under a prefix (a missing chunk, several run epochs); returns what it said.
fn report_chunks(source: &std::path::Path, files: &[(PathBuf, u64)]) -> Vec<String> {
    let source = source.display().to_string();
    let findings = crate::clevertap::ChunkReport::of(files).findings(&source);
    for finding in &findings {
        eprintln!("feedlens: warning: {finding}");
    }
    findings.iter().map(ToString::to_string).collect()
}

/// Runs the pipeline with a progress bar on a terminal: each chunk of outcomes is digested on
/// the thread that mapped it, then handed to `sink` in input order.
pub(crate) fn run_with_progress<T: Send>(
    files: &[PathBuf],
    engine: &Engine,
    edits: Option<&crate::edits::AppliedEdits>,
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
    let summary = pipeline::run_edited(
        files,
        engine,
        edits,
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

pub(crate) fn report_failures(summary: &RunSummary) {
    for failure in &summary.failures {
        eprintln!("feedlens: {}", failure.error);
    }
}

pub(crate) fn exit_code(summary: &RunSummary, accounting: &Accounting) -> ExitCode {
    if !summary.failures.is_empty() {
        ExitCode::from(EXIT_USAGE)
    } else if accounting.all_mapped() {
        ExitCode::from(EXIT_OK)
    } else {
        ExitCode::from(EXIT_INCOMPLETE)
    }
}

/// What every command that reads CleverTap files sets up first.
pub(crate) struct Setup {
    /// The files (folders and prefixes expanded).
    pub files: Vec<PathBuf>,
    /// The edits that apply to them (`--edits`).
    pub edits: Option<crate::edits::AppliedEdits>,
    /// The engine.
    pub engine: Engine,
    /// What is wrong with the export runs read (said on stderr already).
    pub chunk_warnings: Vec<String>,
}

/// The files, edits and engine of a command that reads CleverTap files ([`Setup`]).
pub(crate) fn read_setup(input: &InputArgs, environment: Environment) -> Result<Setup, CliError> {
    let (files, chunk_warnings) = inputs(&input.files)?;
    let edits = super::load_edits(input.edits.as_deref(), &files)?;
    let engine = engine_for(input, environment)?;
    Ok(Setup {
        files,
        edits,
        engine,
        chunk_warnings,
    })
}

/// A run's accounting in one line, as `map`, `mask` and `report` end with it.
pub(crate) fn accounting_line(accounting: &Accounting) -> String {
    format!(
        "{} records read: {} mapped, {} with warnings, {} held, {} dropped, {} unreadable",
        accounting.records_read,
        accounting.mapped,
        accounting.warned,
        accounting.held,
        accounting.dropped,
        accounting.unreadable
    )
}
