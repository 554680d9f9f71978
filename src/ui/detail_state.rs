//! What the detail view remembers between frames: the highlighted trace entry and the laid-out
//! JSON of the record shown (so a frame does not lay it out again).

use std::cell::RefCell;

use egui::text::LayoutJob;

use crate::mapping::TraceEntry;

/// What the detail view remembers between frames. The laid-out JSON is a cache the view fills
/// as it draws (behind a `RefCell`, since panels only read the state).
#[derive(Debug, Default)]
pub struct DetailState {
    /// The trace entry picked by the user (its paths are highlighted).
    pub highlight: Option<usize>,
    pub(super) cache: RefCell<Option<Cache>>,
    /// The batch JSON of the Users tab: (batch, epoch, dark, layout).
    pub(super) batch_cache: RefCell<Option<(u32, u64, bool, LayoutJob)>>,
}

impl DetailState {
    /// Forces the JSON to be laid out again.
    pub fn invalidate(&mut self) {
        self.cache.replace(None);
        self.batch_cache.replace(None);
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct CacheKey {
    pub(super) epoch: u64,
    pub(super) record: Option<u32>,
    pub(super) batch: Option<u32>,
    pub(super) highlight: Option<usize>,
    pub(super) dark: bool,
}

#[derive(Debug)]
pub(super) struct Cache {
    pub(super) key: CacheKey,
    pub(super) trace: Vec<TraceEntry>,
    pub(super) source: Option<LayoutJob>,
    pub(super) event: Option<LayoutJob>,
    pub(super) batch: Option<LayoutJob>,
}
