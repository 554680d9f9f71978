//! What `map` prints (batches, one per line) and how `check` writes one finding.

use std::borrow::Cow;
use std::io;

use serde::Serialize;

use crate::mapping::{Outcome, PlannedBatch, Severity};

/// Batches' text, one per line, serialised on all cores (a text per 64 batches, in order):
/// batches planned without their events, each record's event appended from its JSON text by
/// `event(record, text)` (`false`: a profile record, no event).
pub fn batch_texts(
    batches: &[PlannedBatch],
    event: impl Fn(usize, &mut Vec<u8>) -> io::Result<bool> + Sync,
) -> io::Result<Vec<Vec<u8>>> {
    use rayon::prelude::*;
    batches
        .par_chunks(64)
        .map(|batches| {
            let mut text = Vec::with_capacity(batches.iter().map(|b| b.bytes + 1).sum());
            for planned in batches {
                let start = text.len();
                // Serialising plain data into memory cannot fail.
                let _ = serde_json::to_writer(&mut text, &planned.batch);
                // `events` is the batch's last key, left out while empty.
                text.pop();
                let open = text.len();
                text.extend_from_slice(br#","events":["#);
                let mut first = true;
                for &record in &planned.records {
                    let before = text.len();
                    if !first {
                        text.push(b',');
                    }
                    if event(record, &mut text)? {
                        first = false;
                    } else {
                        text.truncate(before);
                    }
                }
                if first {
                    text.truncate(open);
                    text.push(b'}');
                } else {
                    text.extend_from_slice(b"]}");
                }
                debug_assert_eq!(text.len() - start, planned.bytes, "a batch's planned size");
                text.push(b'\n');
            }
            Ok(text)
        })
        .collect()
}

/// One finding with its record's place, as `check` prints it (borrowed from the outcome, so
/// millions of findings stream out without being kept).
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow<'a> {
    /// The file.
    pub file: Cow<'a, str>,
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
    pub kind: &'static str,
    /// The source field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'a str>,
    /// The record's status.
    pub status: &'static str,
    /// The event name as written, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<&'a str>,
    /// The sentence for a person.
    pub message: &'a str,
}

impl<'a> FindingRow<'a> {
    /// The finding as a line of `check`'s text output:
    /// `FILE:LINE:COLUMN: SEVERITY: KIND [FIELD]: MESSAGE` (`FILE: row N` for CSV input).
    pub fn write_line(&self, text: &mut Vec<u8>) {
        // Pieces appended one after the other: a million findings go through here.
        let mut number = itoa::Buffer::new();
        text.extend_from_slice(self.file.as_bytes());
        match self.csv_row {
            Some(row) => {
                text.extend_from_slice(b": row ");
                text.extend_from_slice(number.format(row).as_bytes());
            }
            None => {
                text.push(b':');
                text.extend_from_slice(number.format(self.line).as_bytes());
                text.push(b':');
                text.extend_from_slice(number.format(self.column).as_bytes());
            }
        }
        for piece in [": ", self.severity.as_str(), ": ", self.kind] {
            text.extend_from_slice(piece.as_bytes());
        }
        if let Some(field) = self.field {
            text.extend_from_slice(b" [");
            text.extend_from_slice(field.as_bytes());
            text.push(b']');
        }
        text.extend_from_slice(b": ");
        text.extend_from_slice(self.message.as_bytes());
        text.push(b'\n');
    }

    /// Every finding of one outcome.
    pub fn all(outcome: &'a Outcome) -> impl Iterator<Item = FindingRow<'a>> + 'a {
        // The path as text once a record, not once a finding (a record has a dozen).
        let file = outcome.place.file.to_string_lossy();
        outcome.findings.iter().map(move |finding| FindingRow {
            file: file.clone(),
            line: outcome.place.line,
            column: outcome.place.column,
            csv_row: outcome.place.csv_row,
            severity: finding.severity,
            kind: finding.kind.as_str(),
            field: finding.field.as_deref(),
            status: outcome.status.as_str(),
            event: outcome.source_event_name.as_deref(),
            message: &finding.message,
        })
    }
}
