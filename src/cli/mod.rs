//! The headless commands: `map`, `check`, `send` and `serve`, their arguments and their runs.
//! The core (reading, mapping, the feed) is a library; this is its command-line edge.

mod check;
mod check_output;
mod diff;
mod edits;
mod error;
mod input;
mod map;
mod mask;
mod output;
mod pull;
mod report;
mod send;
mod send_report;
mod serve;
mod serve_clevertap;

use std::process::ExitCode;

pub use check::{CheckArgs, SeverityArg, check};
pub use check_output::{CheckChunk, CheckOutput, FindingFilter};
pub use diff::{DiffArgs, diff};
pub use edits::load_edits;
pub use error::CliError;
pub use input::{InputArgs, engine_for, input_files};
pub use map::{MapArgs, map};
pub use mask::{MaskArgs, MaskOptions, mask, masked_engine};
pub use output::FindingRow;
pub use pull::{PullArgs, pull};
pub use report::{ReportArgs, report};
pub use send::{SendArgs, send};
pub use serve::{ServeArgs, serve};
pub use serve_clevertap::{ServeClevertapArgs, serve_clevertap};

/// Exit code: every record mapped (warnings allowed).
pub const EXIT_OK: u8 = 0;
/// Exit code: some records were held or unreadable (the rest were still processed).
pub const EXIT_INCOMPLETE: u8 = 1;
/// Exit code: a usage error, or a file that cannot be opened.
pub const EXIT_USAGE: u8 = 2;

/// Logging to stderr, filtered by `RUST_LOG` (default: warnings).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Prints a usage error; exit status 2.
fn usage_error(error: &CliError) -> ExitCode {
    eprintln!("feedlens: {error}");
    ExitCode::from(EXIT_USAGE)
}

/// A command's run: its exit status, or the usage error printed.
fn finish(run: Result<ExitCode, CliError>) -> ExitCode {
    run.unwrap_or_else(|error| usage_error(&error))
}
