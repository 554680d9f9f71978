//! The pull's state beside the output (`OUT.pull-state.json`): per event its next cursor,
//! pages and records written, and the output's length after the last page written. It is
//! replaced atomically (temporary file, sync, rename) after every page, so after a crash or a
//! kill the output is cut back to that length: no torn line, no record twice.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Version of the state file's layout.
const VERSION: u32 = 1;

/// One event's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventState {
    /// The event name asked for.
    pub event: String,
    /// The cursor of the next page to fetch; none before the cursor was asked for.
    pub cursor: Option<String>,
    /// The last page was written (it carried no `next_cursor`).
    pub done: bool,
    /// Pages written.
    pub pages: u64,
    /// Records written.
    pub records: u64,
}

/// The whole pull's progress. Holds no passcode (cursors and the account id are not secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullState {
    /// Layout version.
    pub version: u32,
    /// The API's base URL.
    pub base_url: String,
    /// The CleverTap account id (cursors belong to it).
    pub account_id: String,
    /// First day, yyyymmdd.
    pub from: u32,
    /// Last day, yyyymmdd.
    pub to: u32,
    /// The output's length after the last page written.
    pub output_bytes: u64,
    /// Per event, in the order asked.
    pub events: Vec<EventState>,
}

impl PullState {
    /// A pull not started.
    pub fn new(base_url: &str, account_id: &str, range: (u32, u32), events: &[String]) -> Self {
        PullState {
            version: VERSION,
            base_url: base_url.to_string(),
            account_id: account_id.to_string(),
            from: range.0,
            to: range.1,
            output_bytes: 0,
            events: events
                .iter()
                .map(|event| EventState {
                    event: event.clone(),
                    cursor: None,
                    done: false,
                    pages: 0,
                    records: 0,
                })
                .collect(),
        }
    }

    /// Every event's last page is written.
    pub fn all_done(&self) -> bool {
        self.events.iter().all(|event| event.done)
    }
}

/// Trouble with the output or its state file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading or writing a file.
    #[error("{action} {path}: {error}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's error.
        error: std::io::Error,
    },
    /// The state file does not parse.
    #[error("{path} is not a feedlens pull state ({error}): start over without --resume")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// `--resume` with a different pull.
    #[error(
        "{path} is the state of another pull ({what}): resume with the same options, or start over without --resume"
    )]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What differs.
        what: String,
    },
    /// The output lost bytes the state says were written.
    #[error(
        "{path} is {actual} bytes but the pull had written {recorded}: it was changed since; start over without --resume"
    )]
    OutputShort {
        /// The output.
        path: PathBuf,
        /// Its length now.
        actual: u64,
        /// The length the state records.
        recorded: u64,
    },
    /// `--resume` with no state file.
    #[error("nothing to resume: {path} does not exist (run without --resume to start)")]
    NothingToResume {
        /// The state file looked for.
        path: PathBuf,
    },
    /// A fresh pull over an unfinished one.
    #[error(
        "{path} holds an unfinished pull into {output}: add --resume to continue it, or delete {path} to start over"
    )]
    Unfinished {
        /// The state file.
        path: PathBuf,
        /// The output.
        output: PathBuf,
    },
}

/// The state file for an output: `OUT.pull-state.json` beside it.
pub fn state_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".pull-state.json");
    output.with_file_name(name)
}

/// Reads a state file.
pub fn load(path: &Path) -> Result<PullState, StateError> {
    let text = std::fs::read(path).map_err(|error| StateError::Io {
        action: "cannot read",
        path: path.to_path_buf(),
        error,
    })?;
    let state: PullState =
        serde_json::from_slice(&text).map_err(|error| StateError::Unreadable {
            path: path.to_path_buf(),
            error: error.to_string(),
        })?;
    if state.version != VERSION {
        return Err(StateError::Unreadable {
            path: path.to_path_buf(),
            error: format!(
                "layout version {}, this feedlens writes {VERSION}",
                state.version
            ),
        });
    }
    Ok(state)
}

/// Replaces the state file atomically: written to a temporary file, synced, renamed over.
pub fn save(path: &Path, state: &PullState) -> Result<(), StateError> {
    let io = |action, error| StateError::Io {
        action,
        path: path.to_path_buf(),
        error,
    };
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let temporary = path.with_file_name(name);
    // Plain data always serialises.
    let text = serde_json::to_vec_pretty(state).unwrap_or_default();
    let mut file = File::create(&temporary).map_err(|e| io("cannot write", e))?;
    file.write_all(&text)
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| io("cannot write", e))?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(|e| io("cannot replace", e))
}

/// The output and its state, written together: a page's lines, then the state that counts them.
pub struct Journaled {
    file: File,
    path: PathBuf,
    state_path: PathBuf,
    /// The progress as last saved.
    pub state: PullState,
}

impl Journaled {
    /// A fresh pull: the output emptied and the state saved. Refused when the state file shows
    /// an unfinished pull (that needs `--resume` or deleting it).
    pub fn start(output: &Path, state: PullState) -> Result<Journaled, StateError> {
        let state_path = state_path(output);
        if state_path.exists() && load(&state_path).is_ok_and(|old| !old.all_done()) {
            return Err(StateError::Unfinished {
                path: state_path,
                output: output.to_path_buf(),
            });
        }
        let file = File::create(output).map_err(|error| StateError::Io {
            action: "cannot create",
            path: output.to_path_buf(),
            error,
        })?;
        save(&state_path, &state)?;
        Ok(Journaled {
            file,
            path: output.to_path_buf(),
            state_path,
            state,
        })
    }

    /// `--resume`: the saved state (checked against `expected`: same API, account, range and
    /// events), the output cut back to the length it records.
    pub fn resume(output: &Path, expected: &PullState) -> Result<Journaled, StateError> {
        let state_path = state_path(output);
        if !state_path.exists() {
            return Err(StateError::NothingToResume { path: state_path });
        }
        let state = load(&state_path)?;
        let mismatch = |what: String| StateError::Mismatch {
            path: state_path.clone(),
            what,
        };
        if state.base_url != expected.base_url {
            return Err(mismatch(format!(
                "it pulled from {}, not {}",
                state.base_url, expected.base_url
            )));
        }
        if state.account_id != expected.account_id {
            return Err(mismatch("another account id".to_string()));
        }
        if (state.from, state.to) != (expected.from, expected.to) {
            return Err(mismatch(format!(
                "it pulled {}..{}, not {}..{}",
                state.from, state.to, expected.from, expected.to
            )));
        }
        let names = |s: &PullState| s.events.iter().map(|e| e.event.clone()).collect::<Vec<_>>();
        if names(&state) != names(expected) {
            return Err(mismatch(format!("its events are {:?}", names(&state))));
        }
        let io = |action, error| StateError::Io {
            action,
            path: output.to_path_buf(),
            error,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .open(output)
            .map_err(|e| io("cannot open", e))?;
        let actual = file.metadata().map_err(|e| io("cannot read", e))?.len();
        if actual < state.output_bytes {
            return Err(StateError::OutputShort {
                path: output.to_path_buf(),
                actual,
                recorded: state.output_bytes,
            });
        }
        file.set_len(state.output_bytes)
            .and_then(|()| file.seek(SeekFrom::Start(state.output_bytes)))
            .map_err(|e| io("cannot truncate", e))?;
        Ok(Journaled {
            file,
            path: output.to_path_buf(),
            state_path,
            state,
        })
    }

    /// Saves a cursor obtained for `event` (before its first page).
    pub fn set_cursor(&mut self, event: usize, cursor: String) -> Result<(), StateError> {
        if let Some(entry) = self.state.events.get_mut(event) {
            entry.cursor = Some(cursor);
        }
        save(&self.state_path, &self.state)
    }

    /// Appends one page's lines (synced to disk), then saves the state counting them: the next
    /// cursor, or done when there is none.
    pub fn append_page(
        &mut self,
        event: usize,
        lines: &[u8],
        records: u64,
        next_cursor: Option<String>,
    ) -> Result<(), StateError> {
        self.file
            .write_all(lines)
            .and_then(|()| self.file.sync_data())
            .map_err(|error| StateError::Io {
                action: "cannot write",
                path: self.path.clone(),
                error,
            })?;
        self.state.output_bytes += lines.len() as u64;
        if let Some(entry) = self.state.events.get_mut(event) {
            entry.pages += 1;
            entry.records += records;
            entry.done = next_cursor.is_none();
            entry.cursor = next_cursor;
        }
        save(&self.state_path, &self.state)
    }

    /// The state file's path.
    pub fn state_path(&self) -> &Path {
        &self.state_path
    }
}
