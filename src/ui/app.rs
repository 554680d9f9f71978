//! The window's state, the frame (panels in order) and the draining of worker messages.

use std::cell::Cell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use super::async_state::Async;
use super::commands::{Command, OpenMode};
use super::detail_state::DetailState;
use super::format::counted;
use super::loader::{self, LoadEvent};
use super::prefs::{self, Prefs};
use super::query::{self, FilterBar, Query, QueryWorker};
use super::send_state::SendState;
use super::state::{App, Msg, Reselect, ScreenshotPlan, StartOptions};
use super::tab::Tab;
use crate::mapping::RulesError;
use crate::records::batches::BatchIndex;
use crate::records::selection::Selection;
use crate::records::{LoadedFile, PlaceKey, Records};

/// How long one frame may spend taking in worker messages.
const DRAIN_BUDGET: Duration = Duration::from_millis(8);
/// The same while files load: appending rows is most of the frame's work then, and painting
/// every few milliseconds would take the cores the loading needs.
const LOADING_DRAIN_BUDGET: Duration = Duration::from_millis(40);
/// How often the window repaints while files load and nothing else asks for it.
const LOADING_FRAME: Duration = Duration::from_millis(100);
/// While loading with a filter or sort, recompute the views at most this often.
const REQUERY_EVERY: Duration = Duration::from_millis(400);

impl App {
    /// A window with its preferences (if any); loading starts on the first frame. Fails only
    /// when the built-in rules cannot be used.
    pub fn new(
        storage: Option<&dyn eframe::Storage>,
        options: StartOptions,
    ) -> Result<Self, RulesError> {
        let prefs: Prefs = match storage {
            Some(storage) if !options.fresh => {
                eframe::get_value(storage, prefs::KEY).unwrap_or_default()
            }
            _ => Prefs::default(),
        };
        let (tx, rx) = channel();
        let rules_path = options.rules.clone().or_else(|| prefs.rules.clone());
        let mut errors = Vec::new();
        let engine = match super::rules::engine(
            rules_path.as_deref(),
            options.timezone,
            options.event_name.clone(),
        ) {
            Ok(engine) => engine,
            Err(message) => {
                errors.push(message.to_string());
                super::rules::builtin_engine(options.timezone, options.event_name.clone())?
            }
        };
        let journal = (options.data_dir.as_deref())
            .map_or_else(crate::feed::default_journal_path, crate::feed::journal_in);
        let mask = options.mask || prefs.mask;
        let engine = match super::rules::with_mask(
            engine.clone(),
            mask,
            &crate::mask::salt_beside(&journal),
        ) {
            Ok(engine) => engine,
            Err(message) => {
                errors.push(message);
                engine
            }
        };
        let screenshot = options.screenshot.clone().map(ScreenshotPlan::new);
        let mut filter_bar = FilterBar::default();
        if let Some(text) = &options.filter {
            filter_bar.draft.text = text.clone();
        }
        let records = Records::new(engine.clone());
        // The window keeps its own edits file beside the journal; screenshots and tests (fresh)
        // with no data folder of their own start with none.
        let edits_path = options.edits.clone().unwrap_or_else(|| {
            if options.fresh && options.data_dir.is_none() {
                std::env::temp_dir().join(format!(
                    "feedlens-window-edits-{}.ndjson",
                    std::process::id()
                ))
            } else {
                journal.with_file_name("window-edits.ndjson")
            }
        });
        let edits = crate::edits::EditsFile::load(&edits_path).unwrap_or_else(|error| {
            errors.push(format!("the window's edits are not applied: {error}"));
            crate::edits::EditsFile::default()
        });
        let send = SendState::new(
            options.send_panel,
            prefs.feed.clone(),
            prefs.feed_url.clone(),
        );
        Ok(Self {
            tx,
            rx,
            ctx: None,
            prefs,
            engine,
            rules_path,
            rules_draft: None,
            rules_editor: None,
            timezone: options.timezone,
            event_name: options.event_name.clone(),
            records,
            files: Vec::new(),
            load: None,
            next_load_id: 1,
            last_load: None,
            base: query::base_views(&Default::default()),
            query: Query::default(),
            query_views: Async::Idle,
            query_dirty: false,
            last_query_start: Instant::now(),
            query_worker: QueryWorker::new(),
            generation: 0,
            batches: Async::Idle,
            stats: Async::Idle,
            tab: options.tab.unwrap_or_default(),
            selection: Selection::default(),
            focus: None,
            focus_batch: None,
            scroll_to_focus: Cell::new(false),
            filter_bar,
            detail: DetailState::default(),
            errors,
            status: String::new(),
            pending_drop: None,
            send,
            data_version: 0,
            screenshot,
            pending_select: None,
            reselect: None,
            path_box: None,
            editor: None,
            edits_saving: 0,
            edits_panel: false,
            compare: Default::default(),
            fix_counts: Default::default(),
            edits,
            journal,
            failure_flag: None,
            rebuild_due: false,
            startup: Some(options),
            commands: Vec::new(),
            bucket_dialog: None,
            pull_dialog: None,
        })
    }

    /// A window over records already in memory (benchmarks and tests): no files are read.
    pub fn from_store(
        store: crate::records::Store,
        files: Vec<PathBuf>,
    ) -> Result<Self, RulesError> {
        let mut app = Self::new(
            None,
            StartOptions {
                fresh: true,
                ..StartOptions::default()
            },
        )?;
        app.startup = None;
        for path in files {
            app.file_index(&path);
        }
        app.records.replace(store);
        app.base = query::base_views(app.records.store());
        app.rebuild_due = true;
        app.focus = app.tab_rows().first().copied();
        Ok(app)
    }

    /// [`App::from_store`] with View › Mask personal data on, for a store whose records were
    /// masked as they were read (benchmarks).
    pub fn from_masked_store(
        store: crate::records::Store,
        files: Vec<PathBuf>,
    ) -> Result<Self, RulesError> {
        let mut app = Self::from_store(store, files)?;
        match super::rules::with_mask(app.engine.clone(), true, &app.salt_path()) {
            Ok(engine) => app.engine = engine,
            Err(error) => app.errors.push(error),
        }
        Ok(app)
    }

    /// Batch indices shown in the Users tab.
    pub(super) fn visible_batches(&self) -> Vec<u32> {
        let Some(index) = self.batches.shown() else {
            return Vec::new();
        };
        match (self.query_active(), self.views().users.as_ref()) {
            (true, Some(users)) => users.clone(),
            _ => (0..index.batches.len() as u32).collect(),
        }
    }

    pub(super) fn sender(&self) -> impl Fn(Msg) + Send + Clone + 'static {
        let tx = self.tx.clone();
        let ctx = self.ctx.clone();
        move |msg| {
            // Rows and progress arrive every few milliseconds while loading: a frame a tenth
            // of a second later shows them all.
            let streaming = matches!(
                msg,
                Msg::Load(_, LoadEvent::Chunk { .. } | LoadEvent::Progress(_))
            );
            let _ = tx.send(msg);
            if let Some(ctx) = &ctx {
                if streaming {
                    ctx.request_repaint_after(LOADING_FRAME);
                } else {
                    ctx.request_repaint();
                }
            }
        }
    }

    /// Starts reading files (remembered among the recent ones).
    pub(super) fn start_load(&mut self, paths: Vec<PathBuf>, mode: OpenMode) {
        self.load_files(paths, mode, true);
    }

    /// Starts reading files; `remember`: keep them among the recent files and as the last ones
    /// (not for temporary files, such as a pull's pages shown as they arrive).
    pub(super) fn load_files(&mut self, paths: Vec<PathBuf>, mode: OpenMode, remember: bool) {
        let paths = loader::expand_paths(&paths);
        if paths.is_empty() {
            self.errors
                .push("nothing to open: the folder holds no CleverTap files".into());
            return;
        }
        if let Some(load) = &mut self.load {
            load.cancel();
        }
        // Whatever pointed into the records loaded so far is settled here, in one place: a new
        // set of records clears the selection, the focus and any plan's right to be sent.
        self.data_version += 1;
        if mode == OpenMode::Replace {
            self.selection.clear();
            self.focus = None;
            self.reselect = None;
            self.records.clear(self.engine.clone());
            self.files.clear();
            self.base = query::base_views(self.records.store());
            self.query_views = Async::Idle;
            self.batches = Async::Idle;
            self.stats = Async::Idle;
            self.detail = DetailState::default();
            self.focus_batch = None;
        }
        self.rebuild_due = true;
        if remember {
            self.prefs.remember(&paths);
            let all: Vec<PathBuf> = self.files.iter().map(|f| f.path.to_path_buf()).collect();
            self.prefs.last_files = all.into_iter().chain(paths.iter().cloned()).collect();
        }
        let id = self.next_load_id;
        self.next_load_id += 1;
        let send = self.sender();
        let edits = (!self.edits.edits().is_empty()).then(|| self.edits.clone());
        self.load = Some(loader::start(
            id,
            paths,
            self.engine.clone(),
            edits,
            move |id, event| send(Msg::Load(id, event)),
        ));
    }

    fn file_index(&mut self, path: &Path) -> u16 {
        if let Some(index) = self.files.iter().position(|f| &*f.path == path) {
            return index as u16;
        }
        self.files.push(LoadedFile {
            path: Arc::from(path),
            shape: None,
            gzip: false,
            records: 0,
            failure: None,
        });
        (self.files.len() - 1).min(u16::MAX as usize) as u16
    }

    /// Takes in worker messages for at most the frame's budget.
    fn drain(&mut self) {
        let started = Instant::now();
        let budget = if self.load.is_some() {
            LOADING_DRAIN_BUDGET
        } else {
            DRAIN_BUDGET
        };
        let mut more = false;
        loop {
            if started.elapsed() >= budget {
                more = true;
                break;
            }
            let Ok(msg) = self.rx.try_recv() else { break };
            self.on_message(msg);
        }
        let appended = self.records.flush();
        self.after_append(appended);
        self.poll_send();
        if (more || self.records.has_pending())
            && let Some(ctx) = &self.ctx
        {
            ctx.request_repaint();
        }
    }

    fn on_message(&mut self, msg: Msg) {
        match msg {
            Msg::Load(id, event) => {
                if self.load.as_ref().is_some_and(|l| l.id == id) {
                    self.on_load_event(event);
                }
            }
            Msg::Views(generation, views) => {
                if views.covered <= self.records.store().len()
                    && self.query_views.finish(generation, views)
                {
                    self.drop_hidden_focus();
                }
            }
            Msg::Batches(generation, index) => {
                if self.batches.finish(generation, index) {
                    self.query_dirty |= !self.query.filter.is_empty();
                    // The detail's batch (and the Users tab's batch JSON) came from the index
                    // shown before: an edit can move a record into a batch without changing
                    // how many batches there are.
                    self.detail.invalidate();
                }
            }
            Msg::Stats(generation, stats) => {
                self.stats.finish(generation, stats);
            }
            Msg::Picked(pick, paths) => self.on_picked(pick, paths),
            Msg::Exported(Ok(message)) => self.status = message,
            Msg::Exported(Err(error)) => self.errors.push(error.to_string()),
            Msg::Planned(generation, planned, journal_error) => {
                self.on_planned(generation, planned, journal_error)
            }
            Msg::Keyring(reply) => self.on_keyring(reply),
            Msg::EditSaved(result) => self.on_edit_saved(result),
            Msg::ReportSaved(Ok(message)) => self.status = message,
            Msg::ReportSaved(Err(error)) => self.errors.push(error),
            Msg::Bucket(listed) => self.on_bucket_msg(listed),
            Msg::Pull(msg) => self.on_pull_msg(msg),
            Msg::RulesPreview(result) => self.on_rules_preview(result),
            Msg::Compare(msg) => self.on_compare(msg),
            Msg::EditsSavedAs(Ok(message)) => self.status = message,
            Msg::EditsSavedAs(Err(error)) => self.errors.push(error),
        }
    }

    fn on_load_event(&mut self, event: LoadEvent) {
        match event {
            LoadEvent::Progress(progress) => {
                if let Some(load) = &mut self.load {
                    load.progress = progress;
                }
            }
            LoadEvent::Chunk { info, rows } => {
                let file = self.file_index(&info.path);
                let Some(entry) = self.files.get_mut(usize::from(file)) else {
                    return;
                };
                entry.shape = Some(info.shape.label());
                entry.gzip = info.gzip;
                entry.records += rows.len() as u64;
                let path = Arc::clone(&entry.path);
                let fallback = info.event_name_fallback().map(Arc::from);
                let appended = self.records.push(file, path, fallback, *rows);
                self.after_append(appended);
            }
            LoadEvent::Failed { path, message } => {
                let file = self.file_index(&path);
                if let Some(entry) = self.files.get_mut(usize::from(file)) {
                    entry.failure = Some(message.clone());
                }
                self.errors.push(message);
            }
            LoadEvent::FileDone(info) => {
                let file = self.file_index(&info.path);
                if let Some(entry) = self.files.get_mut(usize::from(file)) {
                    entry.shape = Some(info.shape.label());
                    entry.gzip = info.gzip;
                }
            }
            LoadEvent::Finished { cancelled, elapsed } => {
                self.load = None;
                // Records of the old selection that did not come back stay unselected.
                self.reselect = None;
                self.last_load = Some((elapsed, cancelled));
                self.status = format!(
                    "{} {} from {} in {:.1} s",
                    if cancelled { "cancelled after" } else { "read" },
                    // Rows may still wait to be appended while a worker reads the store.
                    counted(
                        self.files.iter().map(|f| f.records as usize).sum(),
                        "record",
                        "records"
                    ),
                    counted(self.files.len(), "file", "files"),
                    elapsed.as_secs_f64()
                );
                tracing::info!("{}", self.status);
                self.query_dirty |= self.query_active();
            }
        }
    }

    /// Bookkeeping for rows just appended to the store.
    fn after_append(&mut self, rows: std::ops::Range<usize>) {
        if rows.is_empty() {
            return;
        }
        let store = self.records.store();
        if let Some(reselect) = &mut self.reselect {
            for row in rows.clone() {
                let Some(key) = store.place_key(row) else {
                    continue;
                };
                if reselect.selected.remove(&key) {
                    self.selection.set(row as u32, true);
                }
                if reselect.focus.as_ref() == Some(&key) {
                    reselect.focus = None;
                    // Follow the record to its tab: a re-map (new rules, an edit) may move it.
                    self.commands.push(Command::FocusRecord(row as u32));
                }
            }
        }
        query::extend_base(&mut self.base, store, rows);
        if self.query_active() {
            self.query_dirty = true;
        }
        if self.focus.is_none() && !self.tab_rows().is_empty() && self.screenshot.is_none() {
            self.focus = self.tab_rows().first().copied();
        }
    }

    /// Starts background work that is due: views, batches, summary, the send panel's first plan.
    fn schedule(&mut self) {
        if self.send.auto_plan
            && !self.is_busy()
            && (self.send.form.send_all || !self.selection.is_empty())
        {
            self.send.auto_plan = false;
            self.commands.push(Command::PlanSend);
        }
        let waiting_for_batches = self.tab == Tab::Users && self.batches.shown().is_none();
        let settled = self.load.is_none()
            && !self.records.has_pending()
            && !self.query_dirty
            && !self.query_views.is_pending();
        if settled
            && !waiting_for_batches
            && let Some(n) = self.pending_select.take()
        {
            if let Tab::Users = self.tab {
                if let Some(index) = self.visible_batches().get(n.saturating_sub(1)) {
                    self.commands.push(Command::FocusBatch(*index));
                }
            } else {
                self.commands.push(Command::ClickRow {
                    position: n.saturating_sub(1),
                    toggle: false,
                    range: false,
                });
            }
        }
        if self.query_dirty
            && !self.records.has_pending()
            && (self.load.is_none() || self.last_query_start.elapsed() >= REQUERY_EVERY)
        {
            self.query_dirty = false;
            self.run_query();
        }
        let idle = self.load.is_none() && !self.records.has_pending();
        if idle && self.rebuild_due && !self.records.store().is_empty() {
            self.generation += 1;
            let generation = self.generation;
            self.batches.start(generation);
            let store = self.records.share();
            let environment = self.engine.options().environment;
            let now = self.engine.options().now_millis;
            let send = self.sender();
            let spawned = crate::thread::spawn_named("feedlens-batches", move || {
                let index = BatchIndex::build(&store, environment, now);
                drop(store);
                send(Msg::Batches(generation, Arc::new(index)));
            });
            if let Err(error) = spawned {
                self.batches.abandon();
                self.errors
                    .push(crate::thread::start_failed("feedlens-batches", &error));
            }
        }
        if idle && self.rebuild_due && !self.records.store().is_empty() {
            self.rebuild_due = false;
            self.generation += 1;
            let generation = self.generation;
            self.stats.start(generation);
            let store = self.records.share();
            let engine = self.engine.clone();
            let send = self.sender();
            let spawned = crate::thread::spawn_named("feedlens-stats", move || {
                let stats = super::stats::compute(&store, engine.rules());
                drop(store);
                send(Msg::Stats(generation, Arc::new(stats)));
            });
            if let Err(error) = spawned {
                self.stats.abandon();
                self.errors
                    .push(crate::thread::start_failed("feedlens-stats", &error));
            }
        }
    }

    /// Recomputes the views of the current query: inline for small sets, else on the worker.
    pub(super) fn run_query(&mut self) {
        self.generation += 1;
        let generation = self.generation;
        self.last_query_start = Instant::now();
        if !self.query_active() {
            self.query_worker.cancel(generation);
            self.query_views = Async::Idle;
            return;
        }
        self.query_views.start(generation);
        let batches = self.batches.shown().cloned();
        if self.records.store().len() <= query::INLINE_LIMIT {
            let latest = std::sync::atomic::AtomicU64::new(generation);
            if let Ok(views) = query::compute(
                self.records.store(),
                batches.as_deref(),
                &self.query,
                generation,
                &latest,
            ) && self.query_views.finish(generation, views)
            {
                self.drop_hidden_focus();
            }
            return;
        }
        let send = self.sender();
        self.query_worker.start(
            generation,
            self.records.share(),
            batches,
            self.query.clone(),
            move |views| send(Msg::Views(generation, views)),
        );
    }

    /// A filter that hides the focused record clears the detail view: it must not show a
    /// record the table no longer lists.
    fn drop_hidden_focus(&mut self) {
        if let (Tab::Records(_), Some(record)) = (self.tab, self.focus)
            && !self.tab_rows().contains(&record)
        {
            self.focus = None;
            self.detail.highlight = None;
        }
    }

    /// Re-reads the loaded files with the current engine (after a rules change). The selection
    /// and the focus follow their records by place (file, line, column) as rows come back.
    pub(super) fn remap(&mut self) {
        let paths: Vec<PathBuf> = self.files.iter().map(|f| f.path.to_path_buf()).collect();
        if paths.is_empty() {
            return;
        }
        let store = self.records.store();
        let selected: HashSet<PlaceKey> = self
            .selection
            .iter()
            .filter_map(|row| store.place_key(row as usize))
            .collect();
        let focus = self.focus.and_then(|row| store.place_key(row as usize));
        self.start_load(paths, OpenMode::Replace);
        self.reselect = Some(Reselect { selected, focus });
    }

    /// One frame of the whole window (what `eframe::App::ui` runs; tests call it directly).
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        if self.ctx.is_none() {
            self.ctx = Some(ui.ctx().clone());
            super::theme::apply_theme(ui.ctx(), self.prefs.theme);
            super::theme::install_fonts(ui.ctx());
        }
        if let Some(options) = self.startup.take() {
            self.start(options);
        }
        self.drain();
        self.schedule();
        self.keep_preview_current();
        self.show_pulled_pages();
        let shortcuts = super::shortcuts::read(ui.ctx(), self);
        self.commands.extend(shortcuts);
        let asked = super::layout::window_ui(ui, self);
        self.commands.extend(asked);
        let commands = std::mem::take(&mut self.commands);
        if !commands.is_empty() {
            // What the commands changed is drawn on the next frame.
            ui.ctx().request_repaint();
        }
        for command in commands {
            self.apply(command);
        }
        if let Some(plan) = self.screenshot.take() {
            self.screenshot = plan.step(ui.ctx(), self);
        }
        if self.is_busy() {
            let next = if self.load.is_some() {
                LOADING_FRAME
            } else {
                Duration::from_millis(30)
            };
            ui.ctx().request_repaint_after(next);
        }
    }

    fn start(&mut self, options: StartOptions) {
        let files = if options.files.is_empty() {
            loader::default_samples().into_iter().collect()
        } else {
            options.files.clone()
        };
        if files.is_empty() {
            self.status =
                "no samples found: open CleverTap files with File › Open or drop them here".into();
        } else {
            self.start_load(files, OpenMode::Replace);
        }
        if let Some(text) = options.filter {
            let mut filter = self.query.filter.clone();
            filter.text = text;
            self.commands.push(Command::SetFilter(filter));
        }
        self.pending_select = options.select;
    }

    /// Uses a theme for this run only (`light` or `dark`).
    pub fn force_theme(&mut self, ctx: &egui::Context, name: &str) {
        let theme = if name == "dark" {
            super::prefs::ThemePref::Dark
        } else {
            super::prefs::ThemePref::Light
        };
        self.prefs.theme = theme;
        super::theme::apply_theme(ctx, theme);
    }

    /// A flag set when the screenshot cannot be written (the exit code says so).
    pub fn on_screenshot_failure(&mut self, flag: Arc<std::sync::atomic::AtomicBool>) {
        self.failure_flag = Some(flag);
    }

    pub(super) fn mark_screenshot_failed(&self) {
        if let Some(flag) = &self.failure_flag {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Saves preferences.
    pub fn save_prefs(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, prefs::KEY, &self.prefs);
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame_ui(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.screenshot.is_none() {
            self.save_prefs(storage);
        }
    }
}
