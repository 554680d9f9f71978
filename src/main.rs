//! The `feedlens` binary: with a subcommand it runs headless (map, check, send, serve, diff,
//! pull, serve-clevertap, mask, report); without one it opens the window on the given files (or the bundled samples). Built without the `gui`
//! feature, it has no window and says so.

// House rule: no unwrap/expect outside tests (clippy.toml allows them in test code).
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: the mapping allocates many small strings on all cores, where glibc's allocator
/// spent more time than the mapping itself (measured with perf on 100k records).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Inspect, map and resend CleverTap exports to mParticle's CleverTap feed.
///
/// Without a command, opens the window on FILE... (or on the bundled samples).
#[derive(Debug, Parser)]
#[command(name = "feedlens", version, about, long_about = None, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[cfg(feature = "gui")]
    #[command(flatten)]
    window: feedlens::ui::WindowArgs,
    /// Files the window would open (this build has no window: see the message it prints).
    #[cfg(not(feature = "gui"))]
    #[arg(value_name = "FILE", hide = true)]
    files: Vec<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Map CleverTap files to mParticle batches, written as NDJSON (one batch per line).
    Map(feedlens::cli::MapArgs),
    /// Read, map and check CleverTap files; print the accounting and every finding.
    Check(feedlens::cli::CheckArgs),
    /// Send the mapped batches to a feed (mParticle, a URL, or the local feed).
    Send(feedlens::cli::SendArgs),
    /// Run a local mParticle-compatible feed on 127.0.0.1 for trying and testing sends.
    Serve(feedlens::cli::ServeArgs),
    /// Compare two inputs (files or folders) record by record, each under its own rules and edits.
    Diff(feedlens::cli::DiffArgs),
    /// Pull events from CleverTap's Get Events API into an NDJSON file (resumable, reconciled).
    Pull(feedlens::cli::PullArgs),
    /// Run a CleverTap API stand-in on 127.0.0.1 for trying and testing pulls.
    ServeClevertap(feedlens::cli::ServeClevertapArgs),
    /// Write the source records with personal data masked (NDJSON), to share a sample.
    Mask(feedlens::cli::MaskArgs),
    /// Write one self-contained HTML report of a check (accounting, coverage, findings).
    Report(feedlens::cli::ReportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    feedlens::cli::init_logging();
    match cli.command {
        Some(Command::Map(args)) => feedlens::cli::map(&args),
        Some(Command::Check(args)) => feedlens::cli::check(&args),
        Some(Command::Send(args)) => feedlens::cli::send(&args),
        Some(Command::Serve(args)) => feedlens::cli::serve(&args),
        Some(Command::Diff(args)) => feedlens::cli::diff(&args),
        Some(Command::Pull(args)) => feedlens::cli::pull(&args),
        Some(Command::ServeClevertap(args)) => feedlens::cli::serve_clevertap(&args),
        Some(Command::Mask(args)) => feedlens::cli::mask(&args),
        Some(Command::Report(args)) => feedlens::cli::report(&args),
        #[cfg(feature = "gui")]
        None => feedlens::ui::run(cli.window),
        #[cfg(not(feature = "gui"))]
        None => no_window(&cli.files),
    }
}

/// What a build without the `gui` feature says when asked for the window.
#[cfg(not(feature = "gui"))]
const NO_WINDOW: &str =
    "feedlens: this build has no window (it was built without the `gui` feature).
Use the headless commands:
  feedlens check FILE...             read, map and check; print the accounting and every finding
  feedlens map FILE... -o OUT.ndjson write the mParticle batches
  feedlens send FILE...              send the batches to a feed
  feedlens serve                     run a local mParticle-compatible feed on 127.0.0.1
  feedlens diff A B                  compare two inputs record by record
  feedlens pull …                    fetch events from CleverTap's Get Events API
  feedlens mask FILE... -o OUT       the records with personal data masked, to share
  feedlens report FILE... -o OUT.html one self-contained HTML report
For the window, build with the default features: cargo build --release";

/// Without the window: explains why nothing opens and what to run instead (exit 2, a usage error).
#[cfg(not(feature = "gui"))]
fn no_window(files: &[std::path::PathBuf]) -> ExitCode {
    eprintln!("{NO_WINDOW}");
    if let Some(file) = files.first() {
        eprintln!("For example: feedlens check {}", file.display());
    }
    ExitCode::from(2)
}
