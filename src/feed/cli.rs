//! `feedlens send` and `feedlens serve`.

use std::process::ExitCode;

/// `feedlens send` options.
#[derive(Debug, Clone, clap::Args)]
pub struct SendArgs {}

/// `feedlens serve` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {}

/// Runs `feedlens send`.
pub fn send(_args: &SendArgs) -> ExitCode {
    eprintln!("feedlens send is not built yet");
    ExitCode::from(2)
}

/// Runs `feedlens serve`.
pub fn serve(_args: &ServeArgs) -> ExitCode {
    eprintln!("feedlens serve is not built yet");
    ExitCode::from(2)
}
