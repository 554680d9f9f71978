//! The one place where commands change the window's state.

use std::path::PathBuf;

use super::commands::{Command, OpenMode, Pick, Scope};
use super::json_view::source_value;
use super::query::SortColumn;
use super::state::{App, Msg};
use super::tab::Tab;
use crate::records::PROFILE_TAB;
use crate::records::batches::{self, ExportFormat};

/// Why the rules are not read again while a draft applied in the window is in force.
pub(super) const UNSAVED_DRAFT: &str = "not reloaded: the rules in force were edited here and not saved (Rules › Edit rules… › Save as… keeps them)";

impl App {
    /// Applies one command.
    pub fn apply(&mut self, command: Command) {
        match command {
            Command::ShowDialog(pick) => self.open_path_box(pick),
            Command::Bucket(action) => self.on_bucket_action(action),
            Command::Pull(action) => self.on_pull_action(action),
            Command::SetPathText(text) => {
                if let Some(path_box) = &mut self.path_box {
                    path_box.set_text(text);
                }
            }
            Command::ConfirmPath => self.confirm_path(),
            Command::BrowsePath => {
                if let Some(path_box) = &mut self.path_box {
                    path_box.browsing = true;
                    let pick = path_box.pick;
                    self.show_dialog(pick);
                }
            }
            Command::ClosePathBox => self.path_box = None,
            Command::Open(paths, mode) => self.start_load(paths, mode),
            Command::Dropped(paths) => {
                if self.records.store().is_empty() && self.load.is_none() {
                    self.start_load(paths, OpenMode::Replace);
                } else {
                    self.pending_drop = Some(paths);
                }
            }
            Command::AnswerDrop(mode) => {
                if let (Some(paths), Some(mode)) = (self.pending_drop.take(), mode) {
                    self.start_load(paths, mode);
                }
            }
            Command::CancelLoad => {
                if let Some(load) = &mut self.load {
                    load.cancel();
                }
            }
            Command::SetTab(tab) => self.set_tab(tab),
            Command::ClickRow {
                position,
                toggle,
                range,
            } => self.click_row(position, toggle, range),
            Command::MoveFocus(delta) => self.move_focus(delta),
            Command::FocusRecord(record) => self.focus_record(record),
            Command::FocusBatch(batch) => {
                self.focus_batch = Some(batch);
                self.detail.highlight = None;
            }
            Command::SelectAllInView => {
                if self.tab == Tab::Users {
                    let batches = self.visible_batches();
                    for batch in batches {
                        self.select_batch(batch);
                    }
                } else {
                    let rows = self.tab_rows().to_vec();
                    self.selection.extend(rows);
                }
            }
            Command::SelectAllInTab => {
                if let Tab::Records(index) = self.tab {
                    let rows = self
                        .base
                        .tabs
                        .get(usize::from(index))
                        .cloned()
                        .unwrap_or_default();
                    self.selection.extend(rows);
                } else if self.tab == Tab::Users {
                    let count = self.batches.shown().map_or(0, |b| b.batches.len());
                    for batch in 0..count as u32 {
                        self.select_batch(batch);
                    }
                }
            }
            Command::SelectBatch(batch) => self.select_batch(batch),
            Command::ClearSelection => self.selection.clear(),
            Command::SortBy(column) => {
                let sort = &mut self.query.sort;
                if sort.column == column && column != SortColumn::Input {
                    if sort.ascending {
                        sort.ascending = false;
                    } else {
                        *sort = Default::default();
                    }
                } else {
                    sort.column = column;
                    sort.ascending = true;
                }
                self.run_query();
            }
            Command::SetFilter(filter) => {
                // A filter set from elsewhere (command line, tests) shows in the bar too.
                self.filter_bar.draft = filter.clone();
                if self.query.filter != filter {
                    self.query.filter = filter;
                    self.run_query();
                }
            }
            Command::Export(scope, format, path) => self.export(scope, format, path),
            Command::CopyEvent(record) => {
                let event = self
                    .records
                    .store()
                    .outcome(record as usize)
                    .and_then(|o| o.mapped?.event)
                    .and_then(|e| serde_json::to_string_pretty(&e).ok());
                self.copy(event, "event");
            }
            Command::CopySource(record) => {
                let source = self
                    .records
                    .store()
                    .outcome(record as usize)
                    .and_then(|o| o.source)
                    .and_then(|v| serde_json::to_string_pretty(&source_value(&v)).ok());
                self.copy(source, "source record");
            }
            Command::CopyBatch(batch) => {
                let text = self.batches.shown().and_then(|index| {
                    let full = index.full_batch(batch as usize, self.records.store())?;
                    serde_json::to_string_pretty(&full).ok()
                });
                self.copy(text, "batch");
            }
            Command::UseRules(path) => self.use_rules(path),
            Command::ReloadRules => match &self.rules_draft {
                // Reading the file again would put it in the draft's place, unsaved.
                Some(_) => self.status = UNSAVED_DRAFT.to_string(),
                None => self.use_rules(self.rules_path.clone()),
            },
            Command::OpenRulesEditor => self.open_rules_editor(),
            Command::SetRulesText(text) => self.set_rules_text(text),
            Command::ApplyRulesDraft => self.apply_rules_draft(),
            Command::DiscardRulesDraft => self.discard_rules_draft(),
            Command::ShowRuleChange(row) => self.show_rule_change(row),
            Command::AddAlias { spelling, name } => {
                let what = format!("\"{spelling}\" made an alias of {name}");
                self.edit_rules_draft(&what, |text| {
                    crate::mapping::rules_edit::add_alias(text, &spelling, &name)
                });
            }
            Command::DocumentAttribute { event, property } => {
                let what = format!("\"{property}\" listed for {event}");
                self.edit_rules_draft(&what, |text| {
                    crate::mapping::rules_edit::document_attribute(text, &event, &property)
                });
            }
            Command::SetMask(on) => self.set_mask(on),
            Command::SetTheme(theme) => {
                self.prefs.theme = theme;
                if let Some(ctx) = &self.ctx {
                    super::theme::apply_theme(ctx, theme);
                }
                self.detail.invalidate();
            }
            Command::SetExportHeld(on) => self.prefs.export_held = on,
            Command::SetColumnWidths(key, widths) => {
                self.prefs.column_widths.insert(key, widths);
            }
            Command::HighlightTrace(entry) => {
                self.detail.highlight = entry;
                self.detail.invalidate();
            }
            Command::DismissError(index) => {
                if index < self.errors.len() {
                    self.errors.remove(index);
                }
            }
            Command::ShowSendPanel(open) => {
                self.send.open = open;
                if open {
                    self.ensure_local_feed();
                }
            }
            Command::SetSendForm(form) => self.set_send_form(*form),
            Command::PlanSend => self.plan_send(),
            Command::StartSend => self.start_send(false),
            Command::ConfirmResent(confirmed) => self.send.confirm_resent = confirmed,
            Command::ResendFailed => self.start_send(true),
            Command::CancelSend => {
                if let Some(handle) = &self.send.handle {
                    handle.cancel();
                }
            }
            Command::KeyringLoad => self.keyring(false),
            Command::KeyringStore => self.keyring(true),
            Command::EditRecord(row) => self.open_editor(row),
            Command::SetEditorText(text) => self.set_editor_text(text),
            Command::ApplyEdit => self.apply_edit(),
            Command::CloseEditor => self.editor = None,
            Command::ShowEditsPanel(open) => self.edits_panel = open,
            Command::QuickFixIdentity(from) => self.quick_fix_identity(&from),
            Command::QuickFixEventName(name) => self.quick_fix_event_name(&name),
            Command::QuickFixTime(time) => self.quick_fix_time(&time),
            Command::Compare(command) => self.apply_compare(command),
            Command::RevertEdit(index) => self.revert_edits(Some(index)),
            Command::CompareEdit(index) => match self.row_of_edit(index) {
                Some(row) => {
                    self.commands.push(Command::FocusRecord(row));
                    self.commands.push(Command::Compare(
                        super::compare::CompareCommand::WithOriginal(row),
                    ));
                }
                None => {
                    self.status = "that edit's record is not among the loaded records".into();
                }
            },
            Command::RevertAllEdits => self.revert_edits(None),
            Command::SendEdited => self.send_edited(),
            Command::FocusSearch => self.filter_bar.request_focus.set(true),
            Command::SetFilterDraft(draft) => self.filter_bar.draft = draft,
        }
    }

    fn set_tab(&mut self, tab: Tab) {
        self.tab = tab;
        self.detail.highlight = None;
        if let Tab::Records(index) = tab {
            let in_tab = self
                .focus
                .and_then(|r| self.records.store().metas.get(r as usize))
                .is_some_and(|m| m.tab == index);
            if !in_tab {
                self.focus = self.tab_rows().first().copied();
            }
            self.scroll_to_focus.set(true);
        }
    }

    fn click_row(&mut self, position: usize, toggle: bool, range: bool) {
        let rows = self.tab_rows();
        let Some(&record) = rows.get(position) else {
            return;
        };
        if range && let Some(anchor) = self.selection.anchor {
            let from = rows.iter().position(|&r| r == anchor).unwrap_or(position);
            let (a, b) = (from.min(position), from.max(position));
            let span = rows[a..=b].to_vec();
            if !toggle {
                self.selection.clear();
            }
            self.selection.extend(span);
            self.selection.anchor = Some(anchor);
        } else if toggle {
            self.selection.toggle(record);
            self.selection.anchor = Some(record);
        } else {
            self.selection.clear();
            self.selection.set(record, true);
            self.selection.anchor = Some(record);
        }
        self.focus = Some(record);
        self.detail.highlight = None;
    }

    fn move_focus(&mut self, delta: i64) {
        if self.tab == Tab::Users {
            let batches = self.visible_batches();
            let at = self
                .focus_batch
                .and_then(|b| batches.iter().position(|&x| x == b))
                .map_or(0, |p| {
                    (p as i64 + delta).clamp(0, batches.len() as i64 - 1) as usize
                });
            self.focus_batch = batches.get(at).copied();
            self.scroll_to_focus.set(true);
            return;
        }
        let rows = self.tab_rows();
        if rows.is_empty() {
            return;
        }
        let at = self
            .focus
            .and_then(|r| rows.iter().position(|&x| x == r))
            .map_or(0, |p| {
                (p as i64 + delta).clamp(0, rows.len() as i64 - 1) as usize
            });
        self.click_row(at, false, false);
        self.scroll_to_focus.set(true);
    }

    fn focus_record(&mut self, record: u32) {
        let Some(meta) = self.records.store().metas.get(record as usize) else {
            return;
        };
        if meta.tab == PROFILE_TAB {
            self.tab = Tab::Users;
            self.focus_batch = self
                .batches
                .shown()
                .and_then(|b| b.record_batch.get(record as usize).copied())
                .filter(|&b| b != batches::NO_BATCH);
        } else {
            self.tab = Tab::Records(meta.tab);
        }
        self.focus = Some(record);
        self.scroll_to_focus.set(true);
        self.detail.highlight = None;
    }

    fn select_batch(&mut self, batch: u32) {
        if let Some(info) = self
            .batches
            .shown()
            .and_then(|b| b.batches.get(batch as usize))
        {
            let records: Vec<u32> = info.records.iter().map(|&r| r as u32).collect();
            self.selection.extend(records);
        }
    }

    fn copy(&mut self, text: Option<String>, what: &str) {
        match (text, &self.ctx) {
            (Some(text), Some(ctx)) => {
                ctx.copy_text(text);
                self.status = format!("copied the {what} as JSON");
            }
            _ => self.status = format!("no {what} to copy"),
        }
    }

    fn use_rules(&mut self, path: Option<PathBuf>) {
        let mask = self.masked();
        match super::rules::engine(path.as_deref(), self.timezone, self.event_name.clone())
            .map_err(|error| error.to_string())
            .and_then(|engine| super::rules::with_mask(engine, mask, &self.salt_path()))
        {
            Ok(engine) => {
                self.engine = engine;
                self.rules_draft = None;
                self.rules_path = path.clone();
                self.prefs.rules = path;
                self.status = format!("rules: {}", self.engine.rules().source_name);
                self.remap();
            }
            Err(error) => self.errors.push(error),
        }
    }

    /// Masking on or off: the records are mapped again, masked as they are read.
    fn set_mask(&mut self, on: bool) {
        match super::rules::with_mask(self.engine.clone(), on, &self.salt_path()) {
            Ok(engine) => {
                self.engine = engine;
                self.prefs.mask = on;
                self.detail.invalidate();
                self.status = if on {
                    "personal data masked: every view, export and screenshot shows pseudonyms"
                        .into()
                } else {
                    "personal data shown in clear".into()
                };
                self.remap();
            }
            Err(error) => self.errors.push(error),
        }
    }

    fn export(&mut self, scope: Scope, format: ExportFormat, path: PathBuf) {
        let store = self.records.share();
        let selection = self.selection.clone();
        let include_held = self.prefs.export_held;
        let environment = self.engine.options().environment;
        let now = self.engine.options().now_millis;
        let send = self.sender();
        let spawned = crate::thread::spawn_named("feedlens-export", move || {
            let result = batches::export(
                &store,
                |index| scope == Scope::All || selection.contains(index as u32),
                include_held,
                environment,
                now,
                format,
                &path,
            )
            .map(|(batches, events)| {
                format!(
                    "exported {batches} batches ({events} events) to {}",
                    path.display()
                )
            });
            drop(store);
            send(Msg::Exported(result));
        });
        if let Err(error) = spawned {
            self.errors
                .push(crate::thread::start_failed("feedlens-export", &error));
        }
    }

    /// Writes the report of the loaded records (as shown: masked or not, with their edits) on
    /// a worker thread; the answer comes back as [`Msg::ReportSaved`].
    fn save_report(&mut self, path: PathBuf) {
        if self.is_loading() {
            self.errors.push(format!(
                "the report was not saved to {}: the files are still being read; save it once they are loaded",
                path.display()
            ));
            return;
        }
        let store = self.records.share();
        let engine = self.engine.clone();
        let journal = self.journal.clone();
        let report = crate::report::StoreReport {
            files: (self.files.iter())
                .filter(|f| f.failure.is_none())
                .map(|f| {
                    let shape = f.shape.unwrap_or("").to_string();
                    (f.path.display().to_string(), shape, f.gzip)
                })
                .collect(),
            unopened: (self.files.iter())
                .filter_map(|f| Some((f.path.display().to_string(), f.failure.clone()?)))
                .collect(),
            rules_path: self.rules_path.clone(),
            journal: journal.exists().then_some(journal),
            masked: self.masked(),
        };
        let send = self.sender();
        let spawned = crate::thread::spawn_named("feedlens-report", move || {
            let result = crate::report::write_store_report(&store, engine.rules(), report, &path)
                .map(|records| format!("Saved report to {} ({records} records)", path.display()))
                .map_err(|error| format!("the report was not saved: {error}"));
            drop(store);
            send(Msg::ReportSaved(result));
        });
        if let Err(error) = spawned {
            self.errors
                .push(crate::thread::start_failed("feedlens-report", &error));
        }
    }

    fn show_dialog(&mut self, pick: Pick) {
        let send = self.sender();
        let spawned = crate::thread::spawn_named("feedlens-dialog", move || {
            let dialog = rfd::FileDialog::new();
            let paths: Vec<PathBuf> = match pick {
                Pick::Open(_) => dialog
                    .set_title("Open CleverTap files")
                    .pick_files()
                    .unwrap_or_default(),
                Pick::Rules => dialog
                    .set_title("Use a mapping rules file")
                    .add_filter("mapping rules", &["toml"])
                    .pick_file()
                    .into_iter()
                    .collect(),
                Pick::Export(_, format) => dialog
                    .set_title("Export mParticle batches")
                    .set_file_name(format!("feedlens-batches.{}", format.extension()))
                    .save_file()
                    .into_iter()
                    .collect(),
                Pick::Report => dialog
                    .set_title("Save the report")
                    .set_file_name("feedlens-report.html")
                    .save_file()
                    .into_iter()
                    .collect(),
                Pick::SaveRules => dialog
                    .set_title("Save the rules draft as")
                    .add_filter("mapping rules", &["toml"])
                    .set_file_name("mapping.toml")
                    .save_file()
                    .into_iter()
                    .collect(),
                Pick::Compare => dialog
                    .set_title("Compare the loaded files with")
                    .pick_file()
                    .into_iter()
                    .collect(),
                Pick::SaveEdits => dialog
                    .set_title("Save the edits as")
                    .set_file_name("feedlens-edits.ndjson")
                    .save_file()
                    .into_iter()
                    .collect(),
            };
            send(Msg::Picked(pick, paths));
        });
        if let Err(error) = spawned {
            self.errors
                .push(crate::thread::start_failed("feedlens-dialog", &error));
        }
    }

    fn open_path_box(&mut self, pick: Pick) {
        let folder_of = |path: &std::path::Path| {
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| format!("{}/", p.display()))
        };
        let cwd = std::env::current_dir()
            .map(|d| format!("{}/", d.display()))
            .unwrap_or_default();
        let start = match pick {
            Pick::Open(_) => self
                .files
                .first()
                .and_then(|f| folder_of(&f.path))
                .unwrap_or(cwd),
            Pick::Rules => self
                .rules_path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or(cwd),
            Pick::Export(_, format) => {
                format!("{cwd}feedlens-batches.{}", format.extension())
            }
            Pick::Report => format!("{cwd}feedlens-report.html"),
            Pick::SaveRules => self
                .rules_editor
                .as_ref()
                .and_then(|editor| editor.save_path.as_ref())
                .map_or_else(|| format!("{cwd}mapping.toml"), |p| p.display().to_string()),
            Pick::Compare => self
                .files
                .first()
                .and_then(|f| folder_of(&f.path))
                .unwrap_or(cwd),
            Pick::SaveEdits => format!("{cwd}feedlens-edits.ndjson"),
        };
        self.path_box = Some(super::path_box::PathBox::new(pick, start));
    }

    fn confirm_path(&mut self) {
        let Some(path_box) = &mut self.path_box else {
            return;
        };
        match path_box.chosen() {
            Ok(path) => {
                let pick = path_box.pick;
                self.path_box = None;
                self.use_picked(pick, vec![path]);
            }
            Err(why) => path_box.note = Some(why),
        }
    }

    pub(super) fn on_picked(&mut self, pick: Pick, paths: Vec<PathBuf>) {
        if paths.is_empty() {
            let note = "the system file dialog did not open or nothing was chosen (it needs xdg-desktop-portal or zenity): type or paste the path here, or drop files on the window";
            match &mut self.path_box {
                Some(path_box) => {
                    path_box.browsing = false;
                    path_box.note = Some(note.into());
                }
                None => self.status = note.into(),
            }
            return;
        }
        self.path_box = None;
        self.use_picked(pick, paths);
    }

    fn use_picked(&mut self, pick: Pick, paths: Vec<PathBuf>) {
        match pick {
            Pick::Open(mode) => self.start_load(paths, mode),
            Pick::Rules => self.use_rules(paths.into_iter().next()),
            Pick::Export(scope, format) => {
                if let Some(path) = paths.into_iter().next() {
                    self.export(scope, format, path);
                }
            }
            Pick::Report => {
                if let Some(path) = paths.into_iter().next() {
                    self.save_report(path);
                }
            }
            Pick::SaveRules => {
                if let Some(path) = paths.into_iter().next() {
                    self.save_rules_draft(&path);
                }
            }
            Pick::Compare => {
                if let Some(path) = paths.into_iter().next() {
                    self.start_compare(path);
                }
            }
            Pick::SaveEdits => {
                if let Some(path) = paths.into_iter().next() {
                    self.save_edits_as(path);
                }
            }
        }
    }
}
