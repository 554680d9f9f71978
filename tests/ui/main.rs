//! The window's tests (egui_kittest, no display, no GPU), in one test binary: each binary links
//! the whole window stack (about 135 MB in a debug build), so one binary for all of them keeps
//! `cargo test` within a small CI machine's disk and saves the links. Every window gets a data
//! folder of its own (`ui_support::window`), so the tests share no file and set no environment.
//!
//! `tests/ui_bucket.rs` and `tests/ui_secrets.rs` stay binaries of their own: they set the
//! process's environment (the bucket's credentials; no key in it), which no other test may see.

#[path = "../clevertap_support/mod.rs"]
mod clevertap_support;
#[path = "../ui_support/mod.rs"]
mod ui_support;

mod diff;
mod edit;
mod pull;
mod report;
mod resend;
mod resend_edited;
mod rules;
mod state;
mod window;
