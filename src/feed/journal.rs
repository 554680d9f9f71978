//! The send journal: an append-only NDJSON file, one line per attempt, flushed and synced line by
//! line so it survives a crash. "Resend failed" and the window's "already accepted" marks read it.
//! It never holds the secret (nor the key: only a fingerprint of it).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::plan::SendPlan;
use super::settings::ResolvedTarget;
use crate::mparticle::Environment;

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    /// 2xx: the feed took every batch of the request.
    Accepted,
    /// A 4xx that must not be retried (400, 401, 403, 413 …).
    Rejected,
    /// 429, 5xx, a timeout or a connection error: another try follows.
    Retrying,
    /// The last allowed try failed (or the feed asked to wait too long).
    GivenUp,
    /// Cancelled by the user before it could finish (attempt 0: never sent).
    Cancelled,
}

impl AttemptStatus {
    /// Snake-case name, as written in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Accepted => "accepted",
            AttemptStatus::Rejected => "rejected",
            AttemptStatus::Retrying => "retrying",
            AttemptStatus::GivenUp => "given_up",
            AttemptStatus::Cancelled => "cancelled",
        }
    }
}

/// One journal line: one attempt of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalLine {
    /// When the attempt ended (RFC 3339, UTC).
    pub time: String,
    /// The feed: `local` or the base URL ([`ResolvedTarget::journal_target`]).
    pub target: String,
    /// The full URL posted to.
    pub url: String,
    /// Fingerprint of the feed's key ([`super::Credentials::key_fingerprint`]).
    pub key: String,
    /// The batches' environment.
    pub environment: Environment,
    /// Deterministic request id ([`super::PlannedRequest::request_id`]).
    pub request_id: String,
    /// The `source_request_id` of every batch in the request.
    pub batch_ids: Vec<String>,
    /// The `source_message_id` of every event in the request, on an accepted attempt (absent
    /// on others, and in journals written before feedlens kept them): how a plan knows that an
    /// edited record's original was sent already.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub record_ids: Vec<String>,
    /// Number of batches.
    pub batches: usize,
    /// Number of events.
    pub events: usize,
    /// Body bytes.
    pub bytes: usize,
    /// 1 for the first try; 0 for a request cancelled before it was ever sent.
    pub attempt: u32,
    /// How it ended.
    pub status: AttemptStatus,
    /// The HTTP status, when an answer came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Time from sending to the answer or the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// The error or the feed's answer body, when not accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Journal trouble; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Could not open or create.
    #[error("cannot open the send journal {path}: {source}")]
    Open {
        /// The journal.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Could not write or sync.
    #[error("cannot write to the send journal {path}: {source}")]
    Write {
        /// The journal.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Could not read.
    #[error("cannot read the send journal {path}: {source}")]
    Read {
        /// The journal.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// An open journal, appending.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Opens (or creates, with its folder) a journal for appending. A torn last line left by a
    /// crash is closed with a newline first, so it stays one unreadable line of its own.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let open_error = |source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(open_error)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(open_error)?;
        let length = file.metadata().map_err(open_error)?.len();
        if length > 0 {
            file.seek(SeekFrom::Start(length - 1)).map_err(open_error)?;
            let mut last = [0u8; 1];
            file.read_exact(&mut last).map_err(open_error)?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(open_error)?;
            }
        }
        Ok(Journal {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one line and syncs it to disk.
    pub fn append(&mut self, line: &JournalLine) -> Result<(), JournalError> {
        let mut text = serde_json::to_vec(line).map_err(|error| JournalError::Write {
            path: self.path.clone(),
            source: std::io::Error::other(error),
        })?;
        text.push(b'\n');
        self.file
            .write_all(&text)
            .and_then(|()| self.file.sync_data())
            .map_err(|source| JournalError::Write {
                path: self.path.clone(),
                source,
            })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A journal as read back.
#[derive(Debug, Clone, Default)]
pub struct JournalContents {
    /// Every readable line, in file order.
    pub lines: Vec<JournalLine>,
    /// The last line was cut short (a crash mid-write): its line number (1-based).
    pub torn_last_line: Option<usize>,
    /// Other lines that could not be read: line number and why.
    pub unreadable_lines: Vec<(usize, String)>,
}

impl JournalContents {
    /// `source_request_id`s of the batches the feed (`target` with key fingerprint `key`)
    /// accepted for `environment`.
    pub fn accepted_batches(
        &self,
        target: &str,
        key: &str,
        environment: Environment,
    ) -> HashSet<String> {
        self.lines
            .iter()
            .filter(|line| {
                line.status == AttemptStatus::Accepted
                    && line.target == target
                    && line.key == key
                    && line.environment == environment
            })
            .flat_map(|line| line.batch_ids.iter().cloned())
            .collect()
    }

    /// Accepted batches for a resolved target.
    pub fn accepted_for(&self, target: &ResolvedTarget) -> HashSet<String> {
        self.accepted_batches(
            &target.journal_target,
            &target.key_fingerprint,
            target.environment,
        )
    }

    /// Of `ids` (events' `source_message_id`s), those that `target` accepted, each with the
    /// time it was first accepted, in the order of `ids`.
    pub fn accepted_records(&self, target: &ResolvedTarget, ids: &[&str]) -> Vec<(String, String)> {
        let wanted: HashSet<&str> = ids.iter().copied().collect();
        let mut first: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        for line in &self.lines {
            if line.status != AttemptStatus::Accepted
                || line.target != target.journal_target
                || line.key != target.key_fingerprint
                || line.environment != target.environment
            {
                continue;
            }
            for id in &line.record_ids {
                if wanted.contains(id.as_str()) {
                    first.entry(id.as_str()).or_insert(line.time.as_str());
                }
            }
        }
        ids.iter()
            .filter_map(|id| Some((id.to_string(), first.get(id)?.to_string())))
            .collect()
    }
}

/// Reads a journal. A missing file is an empty journal; a torn last line is tolerated and
/// reported in [`JournalContents::torn_last_line`].
pub fn read_journal(path: &Path) -> Result<JournalContents, JournalError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(JournalContents::default());
        }
        Err(source) => {
            return Err(JournalError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut contents = JournalContents::default();
    let mut reader = BufReader::new(file);
    let mut buffer = Vec::new();
    let mut number = 0;
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|source| JournalError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        if read == 0 {
            break;
        }
        number += 1;
        let complete = buffer.last() == Some(&b'\n');
        let text = buffer.trim_ascii();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_slice::<JournalLine>(text) {
            Ok(line) => contents.lines.push(line),
            Err(_) if !complete => contents.torn_last_line = Some(number),
            Err(error) => contents.unreadable_lines.push((number, error.to_string())),
        }
    }
    Ok(contents)
}

/// Which batches of a plan a feed already accepted, per the journal (the window's marks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptedInPlan {
    /// One flag per [`SendPlan::batches`] entry.
    pub accepted: Vec<bool>,
    /// How many are set.
    pub accepted_count: usize,
    /// The journal had a torn last line (reported, otherwise ignored).
    pub torn_last_line: Option<usize>,
}

/// Reads the journal and marks the plan's batches that `target` already accepted.
pub fn accepted_in_plan(
    journal: &Path,
    plan: &SendPlan,
    target: &ResolvedTarget,
) -> Result<AcceptedInPlan, JournalError> {
    Ok(mark_accepted(&read_journal(journal)?, plan, target))
}

/// Marks the plan's batches that `target` accepted, per a journal read already.
pub fn mark_accepted(
    contents: &JournalContents,
    plan: &SendPlan,
    target: &ResolvedTarget,
) -> AcceptedInPlan {
    let accepted_ids = contents.accepted_for(target);
    let accepted: Vec<bool> = plan
        .batches
        .iter()
        .map(|planned| accepted_ids.contains(&planned.batch.source_request_id))
        .collect();
    AcceptedInPlan {
        accepted_count: accepted.iter().filter(|&&a| a).count(),
        accepted,
        torn_last_line: contents.torn_last_line,
    }
}

/// The default journal: `feedlens/send-journal.ndjson` in the user's data folder
/// (`$XDG_DATA_HOME`, `~/.local/share`, `~/Library/Application Support` or `%APPDATA%`), else
/// in the current folder. One journal serves every send: batch ids are derived from the data.
pub fn default_journal_path() -> PathBuf {
    let env_dir = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        env_dir("APPDATA")
    } else if cfg!(target_os = "macos") {
        env_dir("HOME").map(|home| home.join("Library/Application Support"))
    } else {
        env_dir("XDG_DATA_HOME").or_else(|| env_dir("HOME").map(|home| home.join(".local/share")))
    };
    base.map_or_else(
        || PathBuf::from("feedlens-send-journal.ndjson"),
        |dir| journal_in(&dir.join("feedlens")),
    )
}

/// The send journal of feedlens's data folder `dir` (the window's, when it is given one).
pub fn journal_in(dir: &Path) -> PathBuf {
    dir.join("send-journal.ndjson")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(status: AttemptStatus, ids: &[&str]) -> JournalLine {
        JournalLine {
            time: "2024-01-01T00:00:00Z".into(),
            target: "local".into(),
            url: "http://127.0.0.1:1/v2/bulkevents".into(),
            key: "abc".into(),
            environment: Environment::Development,
            request_id: "r".into(),
            batch_ids: ids.iter().map(|s| s.to_string()).collect(),
            record_ids: Vec::new(),
            batches: ids.len(),
            events: 1,
            bytes: 10,
            attempt: 1,
            status,
            http_status: Some(202),
            latency_ms: Some(3),
            error: None,
        }
    }

    #[test]
    fn torn_last_line_is_tolerated_and_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        let mut journal = Journal::open(&path).unwrap();
        journal
            .append(&line(AttemptStatus::Accepted, &["a", "b"]))
            .unwrap();
        drop(journal);
        // A crash mid-write leaves half a line.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"time":"2024-01-01T00:00:0"#).unwrap();
        drop(file);
        let read = read_journal(&path).unwrap();
        assert_eq!(read.lines.len(), 1);
        assert_eq!(read.torn_last_line, Some(2));
        // Appending after the crash keeps lines apart.
        let mut journal = Journal::open(&path).unwrap();
        journal
            .append(&line(AttemptStatus::Accepted, &["c"]))
            .unwrap();
        let read = read_journal(&path).unwrap();
        assert_eq!(read.lines.len(), 2);
        assert_eq!(read.torn_last_line, None);
        assert_eq!(read.unreadable_lines.len(), 1);
        let accepted = read.accepted_batches("local", "abc", Environment::Development);
        assert_eq!(accepted.len(), 3);
        assert!(
            read.accepted_batches("local", "abc", Environment::Production)
                .is_empty()
        );
        assert!(
            read.accepted_batches("https://x", "abc", Environment::Development)
                .is_empty()
        );
    }

    #[test]
    fn only_accepted_lines_count() {
        let contents = JournalContents {
            lines: vec![
                line(AttemptStatus::Retrying, &["a"]),
                line(AttemptStatus::GivenUp, &["a"]),
                line(AttemptStatus::Rejected, &["b"]),
                line(AttemptStatus::Accepted, &["c"]),
            ],
            ..JournalContents::default()
        };
        let accepted = contents.accepted_batches("local", "abc", Environment::Development);
        assert_eq!(accepted, HashSet::from(["c".to_string()]));
    }

    #[test]
    fn missing_journal_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let read = read_journal(&dir.path().join("none.ndjson")).unwrap();
        assert!(read.lines.is_empty());
    }
}
