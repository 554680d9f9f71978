//! The window's tabs: one per mParticle category, Unmapped/Held, Users and Summary.

use crate::records::{UNMAPPED_TAB, record_tab_name};

/// A tab of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    /// Records of one category (or Unmapped/Held), by index into [`RECORD_TABS`].
    Records(u8),
    /// Batches: identities and user attributes per user.
    Users,
    /// Counts, plots and coverage.
    Summary,
}

impl Default for Tab {
    fn default() -> Self {
        Tab::Records(0)
    }
}

impl Tab {
    /// The tab's name without its count.
    pub fn name(self) -> &'static str {
        match self {
            Tab::Records(index) => record_tab_name(index),
            Tab::Users => "Users",
            Tab::Summary => "Summary",
        }
    }

    /// Finds a tab by name, ignoring case, spaces, `_` and `/` (`user_content`, `unmapped`).
    pub fn parse(name: &str) -> Option<Tab> {
        let key = loose(name);
        if key == "users" || key == "user" {
            return Some(Tab::Users);
        }
        if key == "summary" || key == "coverage" {
            return Some(Tab::Summary);
        }
        if key.starts_with("unmapped") || key == "held" {
            return Some(Tab::Records(UNMAPPED_TAB));
        }
        (0..UNMAPPED_TAB)
            .find(|&index| loose(record_tab_name(index)) == key)
            .map(Tab::Records)
    }
}

fn loose(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}
