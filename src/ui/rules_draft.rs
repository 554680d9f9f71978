//! The rules editor's state and what changes it: a draft of the rules, checked as it is typed
//! (the last valid text is kept), previewed over every loaded record in the background
//! (cancelled and started again as the draft changes), and applied, discarded or saved.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::state::{App, Msg};
use crate::diff::FieldDiff;
use crate::mapping::{Engine, Rules, RulesError};
use crate::records::preview::Preview;

/// How long the draft must stay unchanged before its preview starts.
const PREVIEW_AFTER: Duration = Duration::from_millis(200);

/// A draft that is not valid rules: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub reason: String,
}

/// A preview being computed.
#[derive(Debug)]
pub struct PreviewRun {
    /// The draft version it previews.
    pub version: u64,
    /// Set to stop it.
    pub cancel: Arc<AtomicBool>,
    /// Rows compared so far.
    pub done: Arc<AtomicUsize>,
    /// When it started.
    pub started: Instant,
}

/// A finished preview.
#[derive(Debug, Clone)]
pub struct PreviewResult {
    /// The draft version and data version it was computed for.
    pub version: u64,
    /// See `version`.
    pub data_version: u64,
    /// What would change.
    pub preview: Arc<Preview>,
    /// How long it took.
    pub took: Duration,
}

/// One changed record opened in the editor: its mapped side under the rules in force and under
/// the draft, field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeView {
    /// The row.
    pub row: u32,
    /// The fields that differ.
    pub fields: Vec<FieldDiff>,
}

/// The open rules editor.
#[derive(Debug)]
pub struct RulesEditor {
    /// What the draft started from (a file, or the built-in rules).
    pub from: String,
    /// Where Save as writes (the file the draft started from or was saved to last).
    pub save_path: Option<PathBuf>,
    /// The text being edited.
    pub text: String,
    /// Why the text is not valid rules, if it is not.
    pub error: Option<DraftError>,
    /// The last valid text and its rules: what is previewed and applied.
    pub valid: Option<(String, Arc<Rules>)>,
    /// Bumped whenever the valid draft changes.
    pub version: u64,
    /// When the valid draft last changed: the preview starts once typing pauses.
    pub changed: Instant,
    /// The running preview.
    pub running: Option<PreviewRun>,
    /// The last finished preview.
    pub result: Option<PreviewResult>,
    /// The changed record shown.
    pub change: Option<ChangeView>,
    /// A message for the user (saved, an alias could not be added, …).
    pub note: Option<String>,
}

/// The name a draft's rules carry in messages and reports.
fn draft_name(from: &str) -> String {
    format!("draft of {from} (edited in the window)")
}

fn draft_error(error: &RulesError) -> DraftError {
    match error {
        RulesError::Syntax {
            line,
            column,
            reason,
            ..
        }
        | RulesError::Invalid {
            line,
            column,
            reason,
            ..
        } => DraftError {
            line: *line,
            column: *column,
            reason: reason.clone(),
        },
        RulesError::Io { .. } => DraftError {
            line: 1,
            column: 1,
            reason: error.to_string(),
        },
    }
}

impl RulesEditor {
    /// An editor over `text`, started from `from`.
    fn new(from: String, save_path: Option<PathBuf>, text: String) -> Self {
        let mut editor = RulesEditor {
            from,
            save_path,
            text: String::new(),
            error: None,
            valid: None,
            version: 0,
            changed: Instant::now(),
            running: None,
            result: None,
            change: None,
            note: None,
        };
        editor.set_text(text);
        editor
    }

    /// Changes the text and checks it; a valid text becomes the draft (a new version).
    pub fn set_text(&mut self, text: String) {
        match Rules::parse(&text, &draft_name(&self.from)) {
            Ok(rules) => {
                self.error = None;
                if self.valid.as_ref().is_none_or(|(valid, _)| *valid != text) {
                    self.valid = Some((text.clone(), Arc::new(rules)));
                    self.version += 1;
                    self.changed = Instant::now();
                }
            }
            Err(error) => self.error = Some(draft_error(&error)),
        }
        self.text = text;
    }

    /// Whether the preview shown is of the draft as it is and the records as they are.
    pub fn preview_current(&self, data_version: u64) -> bool {
        self.result
            .as_ref()
            .is_some_and(|r| r.version == self.version && r.data_version == data_version)
    }

    /// Whether a preview of the draft as it is has yet to start or end.
    pub fn preview_due(&self, data_version: u64) -> bool {
        self.valid.is_some() && (self.running.is_some() || !self.preview_current(data_version))
    }

    fn cancel_preview(&mut self) {
        if let Some(run) = self.running.take() {
            run.cancel.store(true, Ordering::Relaxed);
        }
    }
}

impl Drop for RulesEditor {
    fn drop(&mut self) {
        self.cancel_preview();
    }
}

impl App {
    /// Opens the rules editor on the rules in force: the file's text as it is on disk, or a
    /// copy of the built-in rules (never written over: Save as asks where).
    pub(super) fn open_rules_editor(&mut self) {
        if self.rules_editor.is_some() {
            return;
        }
        let (from, save_path, text) = match (&self.rules_draft, &self.rules_path) {
            (Some((from, text)), _) => (from.clone(), self.rules_path.clone(), text.clone()),
            (None, Some(path)) => match std::fs::read_to_string(path) {
                Ok(text) => (path.display().to_string(), Some(path.clone()), text),
                Err(error) => {
                    self.errors.push(format!(
                        "cannot open the rules file {} in the editor: {error}",
                        path.display()
                    ));
                    return;
                }
            },
            (None, None) => (
                crate::mapping::DEFAULT_RULES_NAME.to_string(),
                None,
                crate::mapping::DEFAULT_RULES.to_string(),
            ),
        };
        self.rules_editor = Some(RulesEditor::new(from, save_path, text));
        self.keep_preview_current();
    }

    /// The draft's text changed.
    pub(super) fn set_rules_text(&mut self, text: String) {
        if let Some(editor) = &mut self.rules_editor {
            editor.set_text(text);
            editor.note = None;
        }
        self.keep_preview_current();
    }

    /// Starts a preview when the draft or the records changed since the last one (the one
    /// running, now out of date, is cancelled). Waits while files are read.
    pub(super) fn keep_preview_current(&mut self) {
        let data_version = self.data_version;
        let loading = self.load.is_some();
        let Some(editor) = &mut self.rules_editor else {
            return;
        };
        let Some(rules) = editor.valid.as_ref().map(|(_, rules)| Arc::clone(rules)) else {
            return;
        };
        let running = editor.running.as_ref().map(|run| run.version);
        if loading || editor.preview_current(data_version) || running == Some(editor.version) {
            return;
        }
        // Typing: the preview of every record starts once the draft has not changed for a
        // moment, so a keystroke's frame never waits for it.
        let quiet = editor.changed.elapsed();
        if quiet < PREVIEW_AFTER {
            if let Some(ctx) = &self.ctx {
                ctx.request_repaint_after(PREVIEW_AFTER - quiet);
            }
            return;
        }
        editor.cancel_preview();
        let store = self.records.share();
        let Some(options) = store.engine().map(|engine| engine.options().clone()) else {
            return;
        };
        let draft = Engine::new(rules, options);
        let run = PreviewRun {
            version: editor.version,
            cancel: Arc::new(AtomicBool::new(false)),
            done: Arc::new(AtomicUsize::new(0)),
            started: Instant::now(),
        };
        let (cancel, done, version, started) = (
            Arc::clone(&run.cancel),
            Arc::clone(&run.done),
            run.version,
            run.started,
        );
        editor.running = Some(run);
        let tx = self.tx.clone();
        let ctx = self.ctx.clone();
        let spawned = crate::thread::spawn_named("rules-preview", move || {
            let preview = crate::records::preview::preview(&store, &draft, &cancel, &done);
            if let Some(preview) = preview {
                let result = PreviewResult {
                    version,
                    data_version,
                    preview: Arc::new(preview),
                    took: started.elapsed(),
                };
                let _ = tx.send(Msg::RulesPreview(result));
                if let Some(ctx) = ctx {
                    ctx.request_repaint();
                }
            }
        });
        if let Err(error) = spawned {
            // Not started again on every frame: the spinner stays until the draft changes.
            self.errors
                .push(crate::thread::start_failed("rules-preview", &error));
        }
    }

    /// A preview finished.
    pub(super) fn on_rules_preview(&mut self, result: PreviewResult) {
        let Some(editor) = &mut self.rules_editor else {
            return;
        };
        if editor
            .running
            .as_ref()
            .is_some_and(|run| run.version == result.version)
        {
            editor.running = None;
        }
        if result.version == editor.version {
            editor.result = Some(result);
        }
    }

    /// Makes the draft the rules in force and maps the records again with it.
    pub(super) fn apply_rules_draft(&mut self) {
        let Some(editor) = self.rules_editor.take() else {
            return;
        };
        let Some((text, rules)) = editor.valid.clone() else {
            self.errors
                .push("the draft was never valid rules: nothing to apply".into());
            return;
        };
        // Saved as it is now: the file is the rules in force, and is remembered as such.
        let saved = editor
            .save_path
            .as_ref()
            .filter(|path| std::fs::read_to_string(path).is_ok_and(|on_disk| on_disk == text));
        let rules = match saved {
            Some(path) => match Rules::parse(&text, &path.display().to_string()) {
                Ok(rules) => Arc::new(rules),
                Err(_) => rules,
            },
            None => rules,
        };
        let options = super::rules::window_options(self.timezone, self.event_name.clone());
        let engine = Engine::new(rules, options);
        match super::rules::with_mask(engine, self.masked(), &self.salt_path()) {
            Ok(engine) => {
                self.engine = engine;
                if let Some(path) = saved {
                    self.rules_path = Some(path.clone());
                    self.prefs.rules = Some(path.clone());
                    self.rules_draft = None;
                } else {
                    self.rules_draft = Some((editor.from.clone(), text));
                }
                self.status = format!("rules: {}", self.engine.rules().source_name);
                self.detail.invalidate();
                self.remap();
            }
            Err(error) => {
                self.errors.push(error);
                self.rules_editor = Some(editor);
            }
        }
    }

    /// Drops the draft and closes the editor.
    pub(super) fn discard_rules_draft(&mut self) {
        self.rules_editor = None;
    }

    /// Writes the draft to `path` (temporary file, then renamed over) and remembers it.
    pub(super) fn save_rules_draft(&mut self, path: &Path) {
        let Some(editor) = &mut self.rules_editor else {
            return;
        };
        if let Some(error) = &editor.error {
            editor.note = Some(format!(
                "not saved: line {}, column {}: {}",
                error.line, error.column, error.reason
            ));
            return;
        }
        match crate::edits::write_atomic(path, editor.text.as_bytes()) {
            Ok(()) => {
                editor.save_path = Some(path.to_path_buf());
                editor.note = Some(format!("saved to {}", path.display()));
                self.status = format!("rules draft saved to {}", path.display());
            }
            Err(error) => editor.note = Some(format!("not saved: {error}")),
        }
    }

    /// Opens the diff of one changed record: mapped with the rules in force and with the draft.
    pub(super) fn show_rule_change(&mut self, row: u32) {
        let store = self.records.share();
        let Some(editor) = &mut self.rules_editor else {
            return;
        };
        let Some((_, rules)) = &editor.valid else {
            return;
        };
        let Some(engine) = store.engine() else {
            return;
        };
        let draft = Engine::new(Arc::clone(rules), engine.options().clone());
        let before = store.outcome(row as usize);
        let after = store.outcome_with(&draft, row as usize);
        if let (Some(before), Some(after)) = (before, after) {
            let fields = crate::diff::diff_values(
                &crate::diff::record_view(&before),
                &crate::diff::record_view(&after),
            );
            editor.change = Some(ChangeView { row, fields });
        }
    }

    /// Edits the draft (opening the editor on the rules in force first): `edit` changes its
    /// text, or says why it cannot.
    pub(super) fn edit_rules_draft(
        &mut self,
        what: &str,
        edit: impl FnOnce(&str) -> Result<String, crate::mapping::rules_edit::RulesEditError>,
    ) {
        self.open_rules_editor();
        let Some(editor) = &mut self.rules_editor else {
            return;
        };
        match edit(&editor.text) {
            Ok(text) => {
                editor.set_text(text);
                editor.note = Some(format!("{what}: see the preview, then Apply"));
            }
            Err(error) => editor.note = Some(format!("{what}: not done: {error}")),
        }
        self.keep_preview_current();
    }
}
