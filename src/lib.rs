//! feedlens: read CleverTap exports, map them to mParticle Events API batches as mParticle's
//! CleverTap feed document says, check them, and send them to a feed.
//!
//! The library holds no UI code: the command line, the window (`ui`), the tests and the benches
//! all drive these modules. The window is behind the default `gui` feature; without it the crate
//! builds headless, with no egui, wgpu or windowing libraries.

// House rule: no unwrap/expect outside tests (clippy.toml allows them in test code).
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod clevertap;
pub mod cli;
pub mod diff;
pub mod edits;
pub mod feed;
pub mod mapping;
pub mod mask;
pub mod mparticle;
pub mod pipeline;
pub mod records;
pub mod report;
pub mod thread;
#[cfg(feature = "gui")]
pub mod ui;
