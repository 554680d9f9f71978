//! Preferences kept across runs through eframe's storage: recent files, the last files opened,
//! column widths, theme, rules file. Data is never stored, only how the window was set up.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The storage key.
pub const KEY: &str = "feedlens.prefs";
/// How many recent file sets are kept.
pub const RECENT_MAX: usize = 10;

/// Light, dark, or as the system says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemePref {
    /// Follow the system.
    #[default]
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

/// Everything persisted. Unknown or missing fields fall back to defaults, so older settings load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// Recently opened file sets, newest first.
    pub recent: Vec<Vec<PathBuf>>,
    /// The files open when the window was last closed.
    pub last_files: Vec<PathBuf>,
    /// Column widths per table.
    pub column_widths: BTreeMap<String, Vec<f32>>,
    /// The theme.
    pub theme: ThemePref,
    /// The rules file last used (none: the built-in rules).
    pub rules: Option<PathBuf>,
    /// Include held records when exporting.
    pub export_held: bool,
    /// The send panel's settings (target, environment, tuning), never the key or secret.
    pub feed: crate::feed::FeedSettings,
    /// The base URL last typed for a URL target.
    pub feed_url: String,
    /// Mask personal data in every view (View › Mask personal data).
    pub mask: bool,
}

impl Prefs {
    /// Puts a file set first in the recent list.
    pub fn remember(&mut self, files: &[PathBuf]) {
        if files.is_empty() {
            return;
        }
        self.recent.retain(|set| set.as_slice() != files);
        self.recent.insert(0, files.to_vec());
        self.recent.truncate(RECENT_MAX);
    }
}

/// A short label for a file set: the first name and how many more.
pub fn file_set_label(files: &[PathBuf]) -> String {
    let first = files
        .first()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match files.len() {
        0 => "(nothing)".into(),
        1 => first,
        n => format!("{first} and {} more", n - 1),
    }
}
