//! What `map` and `check` print.

use std::io::{self, Write};

use serde::Serialize;

use crate::mapping::{BatchPlan, Outcome, Severity};
use crate::pipeline::{Accounting, RunSummary};

/// Writes one batch per line.
pub fn write_batches(mut out: impl Write, plan: &BatchPlan) -> io::Result<()> {
    for planned in &plan.batches {
        serde_json::to_writer(&mut out, &planned.batch)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// One finding with its record's place, as `check` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// 1-based CSV row, for CSV input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csv_row: Option<u64>,
    /// info, warning or error.
    pub severity: Severity,
    /// What the finding is about.
    pub kind: String,
    /// The source field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The record's status.
    pub status: String,
    /// The event name as written, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The sentence for a person.
    pub message: String,
}

impl FindingRow {
    /// Every finding of one outcome.
    pub fn all(outcome: &Outcome) -> impl Iterator<Item = FindingRow> + '_ {
        outcome.findings.iter().map(move |finding| FindingRow {
            file: outcome.place.file.display().to_string(),
            line: outcome.place.line,
            column: outcome.place.column,
            csv_row: outcome.place.csv_row,
            severity: finding.severity,
            kind: finding.kind.as_str().to_string(),
            field: finding.field.clone(),
            status: outcome.status.as_str().to_string(),
            event: outcome.source_event_name.clone(),
            message: finding.message.clone(),
        })
    }
}

#[derive(Serialize)]
struct CheckReport<'a> {
    #[serde(flatten)]
    accounting: &'a Accounting,
    files: Vec<FileReport>,
    unopened: Vec<Unopened>,
    findings: &'a [FindingRow],
}

#[derive(Serialize)]
struct FileReport {
    file: String,
    shape: &'static str,
    gzip: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_name_fallback: Option<String>,
}

#[derive(Serialize)]
struct Unopened {
    file: String,
    message: String,
}

/// `check --json`: one JSON object.
pub fn check_json(
    out: &mut impl Write,
    accounting: &Accounting,
    summary: &RunSummary,
    findings: &[FindingRow],
) -> io::Result<()> {
    let report = CheckReport {
        accounting,
        files: summary
            .files
            .iter()
            .map(|info| FileReport {
                file: info.path.display().to_string(),
                shape: info.shape.label(),
                gzip: info.gzip,
                event_name_fallback: info.event_name_fallback().map(str::to_string),
            })
            .collect(),
        unopened: summary
            .failures
            .iter()
            .map(|f| Unopened {
                file: f.path.display().to_string(),
                message: f.error.to_string(),
            })
            .collect(),
        findings,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

/// `check` as text for a person.
pub fn check_text(
    out: &mut impl Write,
    accounting: &Accounting,
    summary: &RunSummary,
    findings: &[FindingRow],
) -> io::Result<()> {
    for info in &summary.files {
        let gzip = if info.gzip { ", gzip" } else { "" };
        writeln!(out, "{}: {}{gzip}", info.path.display(), info.shape.label())?;
    }
    writeln!(
        out,
        "\n{} records read: {} mapped, {} mapped with warnings, {} held, {} dropped, {} unreadable",
        accounting.records_read,
        accounting.mapped,
        accounting.warned,
        accounting.held,
        accounting.dropped,
        accounting.unreadable
    )?;
    writeln!(out, "\nBy category:")?;
    for (category, count) in &accounting.by_category {
        writeln!(out, "  {count:>8}  {category}")?;
    }
    writeln!(out, "\nBy event:")?;
    for (event, count) in &accounting.by_event {
        writeln!(out, "  {count:>8}  {event}")?;
    }
    let count = |severity| findings.iter().filter(|f| f.severity == severity).count();
    writeln!(
        out,
        "\nFindings: {} errors, {} warnings, {} information",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    )?;
    for finding in findings {
        let place = match finding.csv_row {
            Some(row) => format!("{}: row {row}", finding.file),
            None => format!("{}:{}:{}", finding.file, finding.line, finding.column),
        };
        let field = finding
            .field
            .as_deref()
            .map(|f| format!(" [{f}]"))
            .unwrap_or_default();
        writeln!(
            out,
            "{place}: {}: {}{field}: {}",
            finding.severity.as_str(),
            finding.kind,
            finding.message
        )?;
    }
    Ok(())
}
