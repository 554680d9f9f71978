//! What `check` prints: the findings as records are checked (all, or those `--severity` and
//! `--max-findings` let through), then the files, the accounting and the counts.

use std::io::{self, Write};

use serde::Serialize;

use super::output::FindingRow;
use crate::mapping::{Outcome, Severity};
use crate::pipeline::{Accounting, RunSummary};

#[derive(Serialize)]
struct ReportTail<'a> {
    /// Findings not in the list (below `--severity`, over `--max-findings`); present only when
    /// either option is given, so the default report stays as it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    findings_left_out: Option<usize>,
    #[serde(flatten)]
    accounting: &'a Accounting,
    files: Vec<FileReport>,
    unopened: Vec<Unopened>,
    /// What is wrong with the export runs read (a missing chunk, several run epochs); present
    /// only when something is.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    chunk_warnings: &'a [String],
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

/// What separates two findings in `--json` output.
const SEPARATOR: &[u8] = b",\n";

/// Which findings `check` lists; the counts always cover every finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingFilter {
    /// The least severe finding listed.
    pub min_severity: Severity,
    /// List at most this many (`None`: all).
    pub max: Option<usize>,
}

impl Default for FindingFilter {
    /// Every finding listed: `check`'s default.
    fn default() -> Self {
        Self {
            min_severity: Severity::Info,
            max: None,
        }
    }
}

impl FindingFilter {
    /// Whether every finding is listed.
    pub fn is_everything(&self) -> bool {
        *self == FindingFilter::default()
    }
}

/// One chunk's findings rendered as `check` prints them, on the thread that mapped the chunk.
pub struct CheckChunk {
    text: Vec<u8>,
    /// Where each rendered finding ends in `text`.
    ends: Vec<usize>,
    /// Findings severe enough to list, rendered or not.
    wanted: usize,
    by_severity: [usize; 3],
}

impl CheckChunk {
    /// Renders the findings of `outcomes` that `filter` lists: lines of text, or JSON objects
    /// each after a separator. No chunk can add more than `filter.max` to the list, so no more
    /// are rendered; every finding is counted.
    pub fn render(outcomes: &[Outcome], json: bool, filter: FindingFilter) -> Self {
        // Sized for the text lines first (a little more than their messages), so that the
        // buffer is not grown and copied again and again.
        let sized: usize = outcomes
            .iter()
            .flat_map(|outcome| {
                let file = outcome.place.file.as_os_str().len();
                outcome.findings.iter().map(move |finding| {
                    file + finding.message.len()
                        + finding.field.as_ref().map_or(0, String::len)
                        + 64
                })
            })
            .sum();
        let mut chunk = Self {
            text: Vec::with_capacity(if filter.max.is_none() { sized } else { 0 }),
            ends: Vec::new(),
            wanted: 0,
            by_severity: [0; 3],
        };
        let most = filter.max.unwrap_or(usize::MAX);
        for finding in outcomes.iter().flat_map(FindingRow::all) {
            chunk.by_severity[finding.severity as usize] += 1;
            if finding.severity < filter.min_severity {
                continue;
            }
            chunk.wanted += 1;
            if chunk.ends.len() >= most {
                continue;
            }
            if json {
                chunk.text.extend_from_slice(SEPARATOR);
                // Writing plain data into memory cannot fail.
                let _ = serde_json::to_writer(&mut chunk.text, &finding);
            } else {
                finding.write_line(&mut chunk.text);
            }
            chunk.ends.push(chunk.text.len());
        }
        chunk
    }
}

/// What `check` prints, streamed: findings as records are checked, the accounting at the end.
/// Nothing is kept per record, so memory stays flat however large the input.
pub struct CheckOutput<W: Write> {
    out: W,
    json: bool,
    filter: FindingFilter,
    /// Findings written.
    listed: usize,
    /// Findings severe enough to list, written or not.
    wanted: usize,
    by_severity: [usize; 3],
}

impl<W: Write> CheckOutput<W> {
    /// Starts the output: one JSON object (`--json`, its `findings` first) or text, listing the
    /// findings `filter` lets through.
    pub fn start(mut out: W, json: bool, filter: FindingFilter) -> io::Result<Self> {
        if json {
            out.write_all(b"{\"findings\":[")?;
        }
        Ok(Self {
            out,
            json,
            filter,
            listed: 0,
            wanted: 0,
            by_severity: [0; 3],
        })
    }

    /// Writes one chunk's findings, rendered by [`CheckChunk::render`], up to the filter's most.
    pub fn chunk(&mut self, chunk: CheckChunk) -> io::Result<()> {
        let room = self.filter.max.map_or(usize::MAX, |max| max - self.listed);
        let take = chunk.ends.len().min(room);
        let end = take.checked_sub(1).map_or(0, |last| chunk.ends[last]);
        let mut text = &chunk.text[..end];
        if self.json && self.listed == 0 {
            // Every finding of a chunk follows a separator; the first of all needs none.
            text = text.strip_prefix(SEPARATOR).unwrap_or(text);
        }
        self.out.write_all(text)?;
        self.listed += take;
        self.wanted += chunk.wanted;
        for (total, count) in self.by_severity.iter_mut().zip(chunk.by_severity) {
            *total += count;
        }
        Ok(())
    }

    /// Findings less severe than the filter's least, and findings over its most.
    fn left_out(&self) -> (usize, usize) {
        let total: usize = self.by_severity.iter().sum();
        (total - self.wanted, self.wanted - self.listed)
    }

    /// The end of the findings summary: what the list above holds.
    fn listed_note(&self) -> String {
        let (below, over) = self.left_out();
        let mut parts = Vec::new();
        if below > 0 {
            let least = match self.filter.min_severity {
                Severity::Info => "info",
                Severity::Warning => "warn",
                Severity::Error => "error",
            };
            parts.push(format!("{below} less severe than --severity {least}"));
        }
        if over > 0 {
            let max = self.filter.max.unwrap_or_default();
            parts.push(format!("{over} more over --max-findings {max}"));
        }
        if parts.is_empty() {
            "listed above".to_string()
        } else {
            format!(
                "{} listed above; {} left out",
                self.listed,
                parts.join(" and ")
            )
        }
    }

    /// Writes the accounting, the counts per category and event, and the files read.
    pub fn finish(
        mut self,
        accounting: &Accounting,
        summary: &RunSummary,
        chunk_warnings: &[String],
    ) -> io::Result<()> {
        let files: Vec<FileReport> = summary
            .files
            .iter()
            .map(|info| FileReport {
                file: info.path.display().to_string(),
                shape: info.shape.label(),
                gzip: info.gzip,
                event_name_fallback: info.event_name_fallback().map(str::to_string),
            })
            .collect();
        if self.json {
            let unopened = summary
                .failures
                .iter()
                .map(|f| Unopened {
                    file: f.path.display().to_string(),
                    message: f.error.to_string(),
                })
                .collect();
            let (below, over) = self.left_out();
            let tail = serde_json::to_string(&ReportTail {
                findings_left_out: (!self.filter.is_everything()).then_some(below + over),
                accounting,
                files,
                unopened,
                chunk_warnings,
            })?;
            // `tail` is an object: continue the open one with its members.
            self.out.write_all(b"],")?;
            self.out
                .write_all(tail.get(1..).unwrap_or("}").as_bytes())?;
            writeln!(self.out)?;
            return self.out.flush();
        }
        let (_, over) = self.left_out();
        let note = self.listed_note();
        let out = &mut self.out;
        if over > 0 {
            writeln!(
                out,
                "… and {over} more findings (use --max-findings to see more)"
            )?;
        }
        if self.listed > 0 || over > 0 {
            writeln!(out)?;
        }
        for file in &files {
            let gzip = if file.gzip { ", gzip" } else { "" };
            writeln!(out, "{}: {}{gzip}", file.file, file.shape)?;
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
        let [info, warnings, errors] = self.by_severity;
        writeln!(
            out,
            "\nFindings: {errors} errors, {warnings} warnings, {info} information ({note})"
        )?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::clevertap::Place;

    fn unreadable(lines: std::ops::Range<u64>) -> Vec<Outcome> {
        let file: Arc<Path> = Arc::from(Path::new("x.jsonl"));
        lines
            .map(|line| Outcome::unreadable(Place::at(file.clone(), line, 1), "bad".into()))
            .collect()
    }

    #[test]
    fn json_chunks_join_into_one_document_in_order_whatever_chunks_are_empty() {
        let all = FindingFilter::default();
        let mut chunked = CheckOutput::start(Vec::new(), true, all).unwrap();
        for chunk in [
            unreadable(0..0),
            unreadable(1..4),
            unreadable(4..4),
            unreadable(4..6),
        ] {
            chunked
                .chunk(CheckChunk::render(&chunk, true, all))
                .unwrap();
        }
        let mut whole = CheckOutput::start(Vec::new(), true, all).unwrap();
        whole
            .chunk(CheckChunk::render(&unreadable(1..6), true, all))
            .unwrap();
        assert_eq!(chunked.out, whole.out);
        assert_eq!((chunked.listed, chunked.by_severity), (5, [0, 0, 5]));
        let mut document = whole.out;
        document.extend_from_slice(b"]}");
        let report: serde_json::Value = serde_json::from_slice(&document).unwrap();
        let lines: Vec<u64> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn the_most_listed_spans_chunks_and_the_rest_are_counted() {
        let filter = FindingFilter {
            min_severity: Severity::Info,
            max: Some(4),
        };
        let mut output = CheckOutput::start(Vec::new(), true, filter).unwrap();
        for chunk in [unreadable(1..4), unreadable(4..7), unreadable(7..9)] {
            output
                .chunk(CheckChunk::render(&chunk, true, filter))
                .unwrap();
        }
        assert_eq!((output.listed, output.left_out()), (4, (0, 4)));
        let mut document = output.out;
        document.extend_from_slice(b"]}");
        let report: serde_json::Value = serde_json::from_slice(&document).unwrap();
        let lines: Vec<u64> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, [1, 2, 3, 4]);
        let errors_only = FindingFilter {
            min_severity: Severity::Error,
            max: None,
        };
        let mut output = CheckOutput::start(Vec::new(), false, errors_only).unwrap();
        output
            .chunk(CheckChunk::render(&unreadable(1..3), false, errors_only))
            .unwrap();
        assert_eq!((output.listed, output.left_out()), (2, (0, 0)));
    }
}
