//! feedlens: read CleverTap exports, map them to mParticle Events API batches as mParticle's
//! CleverTap feed document says, check them, and send them to a feed.
//!
//! The library holds no UI code: the command line, the window (`ui`), the tests and the benches
//! all drive these modules.

pub mod clevertap;
pub mod cli;
pub mod feed;
pub mod mapping;
pub mod mask;
pub mod mparticle;
pub mod pipeline;
pub mod report;
pub mod ui;
