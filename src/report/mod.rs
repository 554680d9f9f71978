//! The shareable report: what a check found, gathered chunk by chunk as records are mapped
//! (counts complete, examples capped), rendered as one self-contained HTML file.

mod html;
mod journal;
mod store;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::mapping::{FindingKind, Outcome, RecordStatus, Severity};
use crate::pipeline::Accounting;

pub use html::{ReportInput, RulesUsed, render_html};
pub use journal::{JournalSummary, summarize_journal};
pub use store::{StoreReport, of_store, rules_used, write_store_report};

/// Examples kept per finding kind and per held reason.
pub const EXAMPLES_PER_KIND: usize = 5;
/// A kept example's message and field are cut to this many characters.
const EXAMPLE_CHARS: usize = 240;

/// One finding shown as an example, with its record's place.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// `file:line:column`, or `file: row N` for CSV.
    pub place: String,
    /// info, warning or error.
    pub severity: &'static str,
    /// The record's status.
    pub status: &'static str,
    /// The source field, when there is one.
    pub field: Option<String>,
    /// The event name as written.
    pub event: Option<String>,
    /// The finding's sentence.
    pub message: String,
}

/// The findings of one kind: how many, how serious, and the first few.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindSummary {
    /// Findings of this kind.
    pub count: u64,
    /// Of which errors, warnings, information.
    pub errors: u64,
    /// Warnings.
    pub warnings: u64,
    /// Information.
    pub info: u64,
    /// The first [`EXAMPLES_PER_KIND`] in input order.
    pub examples: Vec<Example>,
}

impl KindSummary {
    fn add(&mut self, severity: Severity, example: impl FnOnce() -> Example) {
        self.count += 1;
        match severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Info => self.info += 1,
        }
        if self.examples.len() < EXAMPLES_PER_KIND {
            self.examples.push(example());
        }
    }

    fn merge(&mut self, other: KindSummary) {
        self.count += other.count;
        self.errors += other.errors;
        self.warnings += other.warnings;
        self.info += other.info;
        let room = EXAMPLES_PER_KIND.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
    }
}

/// What the report gathers: the accounting, findings by kind, held records by reason.
#[derive(Debug, Clone, Default)]
pub struct ReportData {
    /// The counts, complete.
    pub accounting: Accounting,
    /// Findings per kind.
    pub findings: BTreeMap<FindingKind, KindSummary>,
    /// Held records per reason (the kind of their most serious error).
    pub held: BTreeMap<String, KindSummary>,
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(EXAMPLE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn place_of(outcome: &Outcome) -> String {
    let place = &outcome.place;
    let file = place.file.file_name().map_or_else(
        || place.file.to_string_lossy(),
        |name| name.to_string_lossy(),
    );
    match place.csv_row {
        Some(row) => format!("{file}: row {row}"),
        None => format!("{file}:{}:{}", place.line, place.column),
    }
}

impl ReportData {
    /// Gathers one chunk of outcomes (on the thread that mapped them).
    pub fn of_chunk(outcomes: &[Outcome]) -> ReportData {
        let mut data = ReportData::default();
        for outcome in outcomes {
            data.accounting.add(outcome);
            for finding in &outcome.findings {
                data.findings
                    .entry(finding.kind)
                    .or_default()
                    .add(finding.severity, || Example {
                        place: place_of(outcome),
                        severity: finding.severity.as_str(),
                        status: outcome.status.as_str(),
                        field: finding.field.as_deref().map(cut),
                        event: outcome.source_event_name.as_deref().map(cut),
                        message: cut(&finding.message),
                    });
            }
            if outcome.status == RecordStatus::Held {
                let reason = outcome
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .map(|f| f.kind.as_str())
                    .next()
                    .unwrap_or("held");
                let worst = outcome.worst_finding();
                data.held
                    .entry(reason.to_string())
                    .or_default()
                    .add(Severity::Error, || Example {
                        place: place_of(outcome),
                        severity: "error",
                        status: "held",
                        field: worst.and_then(|f| f.field.as_deref()).map(cut),
                        event: outcome.source_event_name.as_deref().map(cut),
                        message: worst.map(|f| cut(&f.message)).unwrap_or_default(),
                    });
            }
        }
        data
    }

    /// Adds a later chunk of the same run (its examples come after this one's).
    pub fn merge(&mut self, other: ReportData) {
        self.accounting.merge(other.accounting);
        for (kind, summary) in other.findings {
            self.findings.entry(kind).or_default().merge(summary);
        }
        for (reason, summary) in other.held {
            self.held.entry(reason).or_default().merge(summary);
        }
    }
}

#[cfg(test)]
mod tests;
