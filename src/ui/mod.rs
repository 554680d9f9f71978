//! The window (egui only). See issue 3.

use std::path::PathBuf;
use std::process::ExitCode;

/// Window options.
#[derive(Debug, Clone, clap::Args)]
pub struct WindowArgs {
    /// CleverTap files to open (default: the bundled samples).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Opens the window.
pub fn run(args: WindowArgs) -> ExitCode {
    eprintln!("the window is not built yet; files: {:?}", args.files);
    ExitCode::from(2)
}
