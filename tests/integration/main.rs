//! Everything but the window's tests, in one test binary: the command line, mapping, goldens,
//! sending to the local feed, pulls, buckets, edits, masking, the report, fuzz regressions and
//! the soak. One binary, not one per file: each links the library (about 55 MB in a debug
//! build), and one binary keeps `cargo test` within a small CI machine's disk and saves the
//! links. Run one part with its module's name, e.g. `cargo test --test integration soak::`.

#[path = "../bucket_support/mod.rs"]
mod bucket_support;
#[path = "../clevertap_support/mod.rs"]
mod clevertap_support;
#[path = "../edits_support/mod.rs"]
mod edits_support;
#[path = "../feed_support/mod.rs"]
mod feed_support;

mod bad_input;
mod bucket_s3;
mod clevertap_pull;
mod cli;
mod diff_cli;
mod edits_cli;
mod feed_bench;
mod feed_cli;
mod feed_local;
mod feed_plan;
mod feed_send;
mod fuzz_regressions;
mod golden;
mod mapping;
mod mask_share;
mod properties;
mod report_html;
mod soak;
