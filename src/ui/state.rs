//! The window's state: what the panels read (through `&App`) and what the one handler
//! ([`App::apply`] in `handler.rs`) and the worker messages change. This module imports no
//! panel: the panels import it, and `app.rs` drives the frame.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use super::async_state::Async;
use super::commands::Command;
use super::detail_state::DetailState;
use super::loader::{LoadEvent, LoadHandle};
use super::path_box::PathBox;
use super::prefs::Prefs;
use super::query::{FilterBar, Query, QueryWorker, Views};
use super::send_state::{KeyringReply, PlannedSend, SendState};
use super::stats::Stats;
use super::tab::Tab;
use crate::mapping::Engine;
use crate::records::batches::BatchIndex;
use crate::records::{LoadedFile, PlaceKey, Records, Selection};

/// Where a screenshot run is.
pub struct ScreenshotPlan {
    pub(super) out: PathBuf,
    pub(super) started: Instant,
    pub(super) idle_frames: u32,
    pub(super) requested: bool,
    pub(super) image: Arc<Mutex<Option<Arc<egui::ColorImage>>>>,
}

/// A message from a worker thread.
pub enum Msg {
    /// From the loading thread of a run.
    Load(u64, LoadEvent),
    /// Filtered and sorted views.
    Views(u64, Views),
    /// Batches built.
    Batches(u64, Arc<BatchIndex>),
    /// Summary figures.
    Stats(u64, Arc<Stats>),
    /// A file dialog closed.
    Picked(super::commands::Pick, Vec<PathBuf>),
    /// An export ended (message for the status line, or an error).
    Exported(Result<String, crate::records::batches::ExportError>),
    /// A send plan was built (generation, plan, why the journal could not be read).
    Planned(u64, Arc<PlannedSend>, Option<String>),
    /// The keyring answered.
    Keyring(KeyringReply),
    /// An edit was written to the edits file (the file as it now is), or why not.
    EditSaved(Result<crate::edits::EditsFile, String>),
    /// The report was saved (message for the status line), or why not.
    ReportSaved(Result<String, String>),
    /// A bucket listing for the Open from bucket dialog.
    Bucket(super::bucket_dialog::BucketMsg),
    /// Progress or the end of a pull from CleverTap.
    Pull(super::pull_dialog::PullMsg),
    /// A rules preview finished.
    RulesPreview(super::rules_draft::PreviewResult),
    /// A compare worker answered.
    Compare(super::compare::CompareMsg),
    /// A copy of the edits file was written (the status line's message), or why not.
    EditsSavedAs(Result<String, String>),
}

/// The selection and focus of a re-map, by place, until their rows are read again.
#[derive(Debug)]
pub(super) struct Reselect {
    pub(super) selected: HashSet<PlaceKey>,
    pub(super) focus: Option<PlaceKey>,
}

/// How the window starts.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Files (or folders) to open.
    pub files: Vec<PathBuf>,
    /// A rules file (else the one in the preferences, else built in).
    pub rules: Option<PathBuf>,
    /// Account time zone override.
    pub timezone: Option<chrono_tz::Tz>,
    /// Event name fallback.
    pub event_name: Option<String>,
    /// The tab to show.
    pub tab: Option<Tab>,
    /// Select the N-th row (1-based) of that tab.
    pub select: Option<usize>,
    /// Free-text filter to apply.
    pub filter: Option<String>,
    /// Open the send panel.
    pub send_panel: bool,
    /// Render, save a PNG and close.
    pub screenshot: Option<PathBuf>,
    /// Mask personal data (also when the preferences say otherwise).
    pub mask: bool,
    /// The edits file (default: the window's own, in its data folder).
    pub edits: Option<PathBuf>,
    /// The folder of the window's send journal, mask salt and own edits file (default:
    /// `feedlens/` in the user's data folder, as for `feedlens send`).
    pub data_dir: Option<PathBuf>,
    /// Ignore stored preferences (tests, screenshots).
    pub fresh: bool,
}

/// The window.
pub struct App {
    pub(super) tx: Sender<Msg>,
    pub(super) rx: Receiver<Msg>,
    pub(super) ctx: Option<egui::Context>,
    pub(super) prefs: Prefs,
    pub(super) engine: Engine,
    pub(super) rules_path: Option<PathBuf>,
    /// Rules applied from the editor and not saved: what the draft started from and its text
    /// (else the rules are the file's or the built-in ones).
    pub(super) rules_draft: Option<(String, String)>,
    /// The rules editor, when open.
    pub(super) rules_editor: Option<super::rules_draft::RulesEditor>,
    pub(super) timezone: Option<chrono_tz::Tz>,
    pub(super) event_name: Option<String>,
    pub(super) records: Records,
    pub(super) files: Vec<LoadedFile>,
    pub(super) load: Option<LoadHandle>,
    pub(super) next_load_id: u64,
    pub(super) last_load: Option<(Duration, bool)>,
    pub(super) base: Views,
    pub(super) query: Query,
    pub(super) query_views: Async<Views>,
    pub(super) query_dirty: bool,
    pub(super) last_query_start: Instant,
    pub(super) query_worker: QueryWorker,
    pub(super) generation: u64,
    pub(super) batches: Async<Arc<BatchIndex>>,
    pub(super) stats: Async<Arc<Stats>>,
    pub(super) tab: Tab,
    pub(super) selection: Selection,
    pub(super) focus: Option<u32>,
    pub(super) focus_batch: Option<u32>,
    /// Scroll the table to the focused row on its next drawing (a one-shot flag it takes).
    pub(super) scroll_to_focus: std::cell::Cell<bool>,
    pub(super) filter_bar: FilterBar,
    pub(super) detail: DetailState,
    pub(super) errors: Vec<String>,
    pub(super) status: String,
    pub(super) pending_drop: Option<Vec<PathBuf>>,
    pub(super) send: SendState,
    /// Bumped whenever the loaded records change (opened, added, mapped again): a plan made
    /// before is stale.
    pub(super) data_version: u64,
    pub(super) screenshot: Option<ScreenshotPlan>,
    pub(super) pending_select: Option<usize>,
    /// The record editor, when one is open.
    pub(super) editor: Option<super::editor::RecordEditor>,
    /// Whether the Edits panel is shown.
    pub(super) edits_panel: bool,
    /// The window's edits (its file in the user's data folder): applied when files are read.
    pub(super) edits: crate::edits::EditsFile,
    /// The send journal: sends are recorded there and "Resend failed" reads it. The mask salt
    /// is its neighbour ([`App::salt_path`]).
    pub(super) journal: PathBuf,
    /// Changes to the edits file being written off the UI thread (an edit saved, a quick fix,
    /// a revert), whose records are mapped again when each is written.
    pub(super) edits_saving: usize,
    /// The compare windows (record diff, Compare with…).
    pub(super) compare: super::compare::CompareState,
    /// The quick fix menu's counts (by records, data version, selection version and focus).
    pub(super) fix_counts: std::cell::RefCell<Option<super::quick_fix::FixCounts>>,
    /// The path box, when a path is asked for.
    pub(super) path_box: Option<PathBox>,
    /// What a re-map selects and focuses again as its rows arrive.
    pub(super) reselect: Option<Reselect>,
    pub(super) failure_flag: Option<Arc<std::sync::atomic::AtomicBool>>,
    pub(super) rebuild_due: bool,
    pub(super) startup: Option<StartOptions>,
    pub(super) commands: Vec<Command>,
    /// The Open from bucket dialog, when shown.
    pub(super) bucket_dialog: Option<super::bucket_dialog::BucketDialog>,
    /// The Pull from CleverTap dialog, when shown.
    pub(super) pull_dialog: Option<super::pull_dialog::PullDialog>,
}

/// The window's state in short, for logs and tests: files, counts, tab, selection, status and
/// the send panel (whose secret never shows).
impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let files: Vec<&Path> = self.files.iter().map(|file| &*file.path).collect();
        f.debug_struct("App")
            .field("files", &files)
            .field("records", &self.record_count())
            .field("accounting", &self.records.store().accounting)
            .field("tab", &self.tab)
            .field("selected", &self.selection.len())
            .field("busy", &self.is_busy())
            .field("status", &self.status)
            .field("errors", &self.errors)
            .field("prefs", &self.prefs)
            .field("send", &self.send)
            .finish_non_exhaustive()
    }
}

impl App {
    /// "Now" of the engine, for age checks in plans.
    pub(super) fn engine_now(&self) -> i64 {
        self.engine.options().now_millis
    }

    /// Whether a filter or sort is being computed.
    pub fn query_pending(&self) -> bool {
        self.query_dirty || self.query_views.is_pending()
    }

    /// Whether loading or any computation is still running (tests wait for this to end).
    pub fn is_busy(&self) -> bool {
        self.startup.is_some()
            || self.load.is_some()
            || self.records.has_pending()
            || self.query_views.is_pending()
            || self.query_dirty
            || self.batches.is_pending()
            || self.stats.is_pending()
            || self.pending_select.is_some()
            || self.send.plan.is_pending()
            || self
                .rules_editor
                .as_ref()
                .is_some_and(|editor| editor.preview_due(self.data_version))
            || self.compare.is_pending()
            || self.edits_saving > 0
    }

    /// Whether files are being read (or read rows wait to be appended).
    pub fn is_loading(&self) -> bool {
        self.load.is_some() || self.records.has_pending()
    }

    /// Records loaded.
    pub fn record_count(&self) -> usize {
        self.records.store().len()
    }

    /// Records selected.
    pub fn selected_count(&self) -> usize {
        self.selection.len()
    }

    /// The mask salt's file: beside the send journal, as `feedlens mask` keeps it.
    pub(super) fn salt_path(&self) -> PathBuf {
        crate::mask::salt_beside(&self.journal)
    }

    /// Whether personal data is masked in every view.
    pub fn masked(&self) -> bool {
        self.engine.options().mask.is_some()
    }

    /// The tab shown.
    pub fn tab(&self) -> Tab {
        self.tab
    }

    /// Error messages shown in the window.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// The status line (what the last action did).
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The name of the rules in force (a file, the built-in rules, or an applied draft).
    pub fn rules_name(&self) -> &str {
        &self.engine.rules().source_name
    }

    /// The rules editor's draft text, when the editor is open.
    pub fn rules_draft_text(&self) -> Option<&str> {
        self.rules_editor
            .as_ref()
            .map(|editor| editor.text.as_str())
    }

    /// The focused record.
    pub fn focused_record(&self) -> Option<u32> {
        self.focus
    }

    /// Queues a command, as a panel would.
    pub fn push(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// The views shown: the query's when one is active, else input order.
    pub(super) fn views(&self) -> &Views {
        if self.query_active() {
            self.query_views.shown().unwrap_or(&self.base)
        } else {
            &self.base
        }
    }

    pub(super) fn query_active(&self) -> bool {
        !self.query.filter.is_empty() || !self.query.sort.is_input_order()
    }

    /// The rows of the current record tab.
    pub(super) fn tab_rows(&self) -> &[u32] {
        match self.tab {
            Tab::Records(index) => self
                .views()
                .tabs
                .get(usize::from(index))
                .map_or(&[], Vec::as_slice),
            _ => &[],
        }
    }

    pub(super) fn dark(&self) -> bool {
        self.ctx
            .as_ref()
            .is_some_and(|c| c.global_style().visuals.dark_mode)
    }
}
