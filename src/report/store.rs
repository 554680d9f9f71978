//! The report of records already loaded (the window's store, masked and edited as it shows
//! them), and the rules' identity (path and content hash) for any report.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{ReportData, ReportInput, RulesUsed, render_html, summarize_journal};
use crate::mapping::{DEFAULT_RULES, Rules};
use crate::records::Store;

/// Rows mapped again and gathered together (one task of the thread pool).
const ROWS_PER_TASK: usize = 4096;

/// Gathers the report's data from every row of `store`, in row order, mapping each row again
/// from the text the store kept (already masked when the store's engine masked, with the edits
/// the load applied) on all cores, a few thousand rows at a time. The counts are the same the
/// store counted when it was loaded.
pub fn of_store(store: &Store) -> ReportData {
    let rows = store.len();
    let tasks = rows.div_ceil(ROWS_PER_TASK);
    let parts: Vec<ReportData> = (0..tasks)
        .into_par_iter()
        .map(|task| {
            let start = task * ROWS_PER_TASK;
            let outcomes: Vec<_> = (start..rows.min(start + ROWS_PER_TASK))
                .filter_map(|row| {
                    let mut outcome = store.outcome(row)?;
                    outcome.source = None;
                    Some(outcome)
                })
                .collect();
            ReportData::of_chunk(&outcomes)
        })
        .collect();
    let mut data = ReportData::default();
    for part in parts {
        data.merge(part);
    }
    data
}

/// The rules a report names: `name` (the rules' source name) and the SHA-256 of the file at
/// `path` as it is now, or of the built-in rules when there is no path.
pub fn rules_used(path: Option<&Path>, name: &str) -> Result<RulesUsed, String> {
    use sha2::{Digest, Sha256};
    let text = match path {
        Some(path) => std::fs::read(path)
            .map_err(|error| format!("cannot read rules file {}: {error}", path.display()))?,
        None => DEFAULT_RULES.as_bytes().to_vec(),
    };
    let sha256 = Sha256::digest(&text)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Ok(RulesUsed {
        name: name.to_string(),
        sha256,
    })
}

/// What a report of loaded records names besides the records: their files, the rules' file,
/// the send journal and whether the records were masked.
#[derive(Debug, Clone, Default)]
pub struct StoreReport {
    /// Files read: (path, shape, gzip).
    pub files: Vec<(String, String, bool)>,
    /// Files that could not be opened: (path, reason).
    pub unopened: Vec<(String, String)>,
    /// The rules file the records were mapped with (None: the built-in rules).
    pub rules_path: Option<PathBuf>,
    /// A send journal to summarise, when there is one.
    pub journal: Option<PathBuf>,
    /// Whether the store's records were masked as they were read.
    pub masked: bool,
}

/// Writes the report of every row of `store` (mapped with `rules`) to `out`, as `feedlens
/// report` would for the same files, rules, edits and masking; returns the records counted.
/// Errors name the file that could not be read or written.
pub fn write_store_report(
    store: &Store,
    rules: &Rules,
    report: StoreReport,
    out: &Path,
) -> Result<u64, String> {
    let rules_used = rules_used(report.rules_path.as_deref(), &rules.source_name)?;
    let journal = match &report.journal {
        Some(path) => {
            let contents = crate::feed::read_journal(path).map_err(|error| error.to_string())?;
            Some(summarize_journal(&contents, &path.display().to_string()))
        }
        None => None,
    };
    let data = of_store(store);
    let input = ReportInput {
        data: &data,
        files: report.files,
        unopened: report.unopened,
        rules: rules_used,
        documented: &rules.events,
        journal,
        masked: report.masked,
        generated: chrono::Utc::now()
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
    };
    let html = render_html(&input)
        .map_err(|error| format!("cannot make the report for {}: {error}", out.display()))?;
    std::fs::write(out, html.as_bytes())
        .map_err(|error| format!("cannot write the report to {}: {error}", out.display()))?;
    Ok(data.accounting.records_read)
}
