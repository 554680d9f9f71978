//! The `feedlens` binary: with a subcommand it runs headless (map, check, send, serve); without
//! one it opens the window on the given files (or the bundled samples).

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
    #[command(flatten)]
    window: feedlens::ui::WindowArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Map CleverTap files to mParticle batches, written as NDJSON (one batch per line).
    Map(feedlens::cli::MapArgs),
    /// Read, map and check CleverTap files; print the accounting and every finding.
    Check(feedlens::cli::CheckArgs),
    /// Send the mapped batches to a feed (mParticle, a URL, or the local feed).
    Send(feedlens::feed::cli::SendArgs),
    /// Run a local mParticle-compatible feed on 127.0.0.1 for trying and testing sends.
    Serve(feedlens::feed::cli::ServeArgs),
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
        Some(Command::Send(args)) => feedlens::feed::cli::send(&args),
        Some(Command::Serve(args)) => feedlens::feed::cli::serve(&args),
        Some(Command::Mask(args)) => feedlens::cli::mask(&args),
        Some(Command::Report(args)) => feedlens::cli::report(&args),
        None => feedlens::ui::run(cli.window),
    }
}
