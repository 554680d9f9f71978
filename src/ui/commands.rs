//! What the panels ask for. Panels only read state and push commands; [`super::app::App::apply`]
//! is the one place that changes it.

use std::path::PathBuf;

use super::prefs::ThemePref;
use super::query::{Filter, SortColumn};
use super::tab::Tab;
use crate::records::batches::ExportFormat;

/// Add to the loaded files or replace them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Keep what is loaded and read more.
    Add,
    /// Drop what is loaded first.
    Replace,
}

/// Which records an action works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The selected records.
    Selection,
    /// Every loaded record.
    All,
}

/// What a file dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// CleverTap files to open.
    Open(OpenMode),
    /// A rules file.
    Rules,
    /// Where to export batches.
    Export(Scope, ExportFormat),
    /// Where to save the HTML report of the loaded records.
    Report,
    /// Where to save the rules editor's draft.
    SaveRules,
    /// A file or folder to compare the loaded files with.
    Compare,
    /// Where to write a copy of the edits file.
    SaveEdits,
}

/// A request from the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Ask for a path: the path box, where one can be typed, completed or browsed for.
    ShowDialog(Pick),
    /// The path box's text changed.
    SetPathText(String),
    /// Use the path in the path box.
    ConfirmPath,
    /// Open the system's file dialog from the path box (it runs on its own thread).
    BrowsePath,
    /// Close the path box.
    ClosePathBox,
    /// Read files.
    Open(Vec<PathBuf>, OpenMode),
    /// Files were dropped on the window: ask whether to add or replace when data is loaded.
    Dropped(Vec<PathBuf>),
    /// Answer to the add-or-replace question (None: cancel).
    AnswerDrop(Option<OpenMode>),
    /// Stop the running load.
    CancelLoad,
    /// Show a tab.
    SetTab(Tab),
    /// A click on a record row at a position of the current view.
    ClickRow {
        /// Position in the view.
        position: usize,
        /// Ctrl/Cmd held: toggle.
        toggle: bool,
        /// Shift held: range from the anchor.
        range: bool,
    },
    /// Move the focused row up or down in the view.
    MoveFocus(i64),
    /// Focus a record (and show its tab).
    FocusRecord(u32),
    /// Focus a batch in the Users tab.
    FocusBatch(u32),
    /// Select every row of the current view (the filter result when filtered).
    SelectAllInView,
    /// Select every record of the current tab, ignoring the filter.
    SelectAllInTab,
    /// Select the records of a batch.
    SelectBatch(u32),
    /// Deselect everything.
    ClearSelection,
    /// Sort by a column (again: reverse).
    SortBy(SortColumn),
    /// Apply a filter.
    SetFilter(Filter),
    /// The filter bar's fields changed (applied with [`Command::SetFilter`] once valid).
    SetFilterDraft(Filter),
    /// Export batches to a file.
    Export(Scope, ExportFormat, PathBuf),
    /// Copy the focused record's event as JSON.
    CopyEvent(u32),
    /// Copy a batch as JSON.
    CopyBatch(u32),
    /// Copy the focused record's source as JSON.
    CopySource(u32),
    /// Use a rules file (None: the built-in rules) and re-map.
    UseRules(Option<PathBuf>),
    /// Read the rules file again and re-map the loaded records.
    ReloadRules,
    /// Mask personal data everywhere (the records are mapped again), or show it in clear.
    SetMask(bool),
    /// Change the theme.
    SetTheme(ThemePref),
    /// Include held records in exports.
    SetExportHeld(bool),
    /// Column widths changed.
    SetColumnWidths(String, Vec<f32>),
    /// Highlight one trace entry in the detail view.
    HighlightTrace(Option<usize>),
    /// Dismiss an error message.
    DismissError(usize),
    /// Show or hide the send panel (showing it starts the local feed when that is the target).
    ShowSendPanel(bool),
    /// The send form changed (target, URL, key, secret, environment, scope).
    SetSendForm(Box<super::send_state::SendForm>),
    /// Plan the records selected now (or every record, as the form says).
    PlanSend,
    /// Send the current plan (refused when the records or selection changed since).
    StartSend,
    /// Send only the batches of the current plan the feed has not accepted.
    ResendFailed,
    /// Confirm (or not) sending edited records whose original the feed accepted already.
    ConfirmResent(bool),
    /// Stop the running send after the requests in flight.
    CancelSend,
    /// Read the key and secret for the target from the operating system's keyring.
    KeyringLoad,
    /// Keep the key and secret for the target in the operating system's keyring.
    KeyringStore,
    /// Open the record editor on a record (a broken line: its text).
    EditRecord(u32),
    /// The record editor's text changed.
    SetEditorText(String),
    /// Keep the editor's last good text as the record's edit and map the records again.
    ApplyEdit,
    /// Close the record editor without keeping anything.
    CloseEditor,
    /// Quick fix for held records without an identity: set `profile.identity` from another
    /// field of each record (a dotted path, e.g. `profile.objectId`), for the selected held
    /// records (or the focused one).
    QuickFixIdentity(String),
    /// Quick fix for records with no or an unknown event name: set `eventName` to this name,
    /// for the selected records with that problem (or the focused one).
    QuickFixEventName(String),
    /// Quick fix for records with an unreadable time: set `ts` to this time (checked first),
    /// for the selected records with that problem (or the focused one).
    QuickFixTime(String),
    /// The compare windows (record before and after its edit, Compare with…).
    Compare(super::compare::CompareCommand),
    /// Show or hide the Edits panel.
    ShowEditsPanel(bool),
    /// Drop one edit (by its position in the edits file) and map again.
    RevertEdit(usize),
    /// Drop every edit and map again.
    RevertAllEdits,
    /// Focus the record of one edit (by its position in the edits file) and compare it with
    /// its original.
    CompareEdit(usize),
    /// Select the edited records and open the send panel on them.
    SendEdited,
    /// Focus the search field.
    FocusSearch,
    /// File › Open from bucket…: the dialog's requests.
    Bucket(super::bucket_dialog::BucketAction),
    /// File › Pull from CleverTap…: the dialog's requests.
    Pull(super::pull_dialog::PullAction),
    /// Open the rules editor on the rules in force.
    OpenRulesEditor,
    /// The rules draft's text changed.
    SetRulesText(String),
    /// Make the draft the rules in force and map the records again.
    ApplyRulesDraft,
    /// Close the rules editor, dropping the draft.
    DiscardRulesDraft,
    /// Show how one record of the preview changes under the draft.
    ShowRuleChange(u32),
    /// Make a CleverTap spelling an alias of a documented event, in the draft.
    AddAlias {
        /// The name as CleverTap wrote it.
        spelling: String,
        /// The documented event.
        name: String,
    },
    /// List a property among an event's documented attributes, in the draft.
    DocumentAttribute {
        /// The event, as the rules name it.
        event: String,
        /// The property.
        property: String,
    },
}
