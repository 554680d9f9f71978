//! The report's view of a send journal: per request, how its last attempt ended.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::feed::JournalContents;

/// Requests, batches and events that ended one way.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatusCount {
    /// Requests whose last attempt ended so.
    pub requests: u64,
    /// Their batches.
    pub batches: u64,
    /// Their events.
    pub events: u64,
}

/// What a journal says was sent, and how it ended.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JournalSummary {
    /// The journal file.
    pub path: String,
    /// Attempts written (one line each).
    pub attempts: u64,
    /// Distinct requests.
    pub requests: u64,
    /// Per final status (`accepted`, `rejected`, `given_up`, `cancelled`, `retrying` when the
    /// send was stopped between tries).
    pub by_status: BTreeMap<&'static str, StatusCount>,
    /// HTTP statuses seen, with how many attempts got each.
    pub http_statuses: BTreeMap<u16, u64>,
    /// The feeds sent to (`local` or base URLs).
    pub targets: BTreeSet<String>,
    /// The first and last attempt's time.
    pub first: Option<String>,
    /// The last attempt's time.
    pub last: Option<String>,
    /// Lines that could not be read (a torn last line included).
    pub unreadable_lines: u64,
}

/// Summarises a journal read with [`crate::feed::read_journal`].
pub fn summarize_journal(contents: &JournalContents, path: &str) -> JournalSummary {
    let mut summary = JournalSummary {
        path: path.to_string(),
        attempts: contents.lines.len() as u64,
        unreadable_lines: contents.unreadable_lines.len() as u64
            + u64::from(contents.torn_last_line.is_some()),
        ..JournalSummary::default()
    };
    // The last attempt of each request says how it ended.
    let mut last = HashMap::new();
    for (index, line) in contents.lines.iter().enumerate() {
        last.insert(line.request_id.as_str(), index);
        summary.targets.insert(line.target.clone());
        if let Some(status) = line.http_status {
            *summary.http_statuses.entry(status).or_default() += 1;
        }
    }
    summary.requests = last.len() as u64;
    for index in last.into_values() {
        let line = &contents.lines[index];
        let count = summary.by_status.entry(line.status.as_str()).or_default();
        count.requests += 1;
        count.batches += line.batches as u64;
        count.events += line.events as u64;
    }
    summary.first = contents.lines.first().map(|line| line.time.clone());
    summary.last = contents.lines.last().map(|line| line.time.clone());
    summary
}
