//! Background loading: runs the core pipeline on a thread and streams chunks of outcomes,
//! progress and the end of the run to the window, which stays responsive and can cancel.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::clevertap::FileInfo;
use crate::mapping::Engine;
use crate::pipeline::{self, Progress};
use crate::records::RowChunk;

/// Folders open as the CleverTap files inside them, as on the command line.
pub use crate::clevertap::expand_paths;

/// What the loading thread reports.
#[derive(Debug)]
pub enum LoadEvent {
    /// How far it got.
    Progress(Progress),
    /// Records of one file, in input order, made compact on the thread that mapped them.
    Chunk {
        /// The file they come from.
        info: FileInfo,
        /// The rows.
        rows: Box<RowChunk>,
    },
    /// A file that could not be opened.
    Failed {
        /// The file.
        path: PathBuf,
        /// Why, in words.
        message: String,
    },
    /// A file was read to its end (or until cancelled).
    FileDone(FileInfo),
    /// The run ended.
    Finished {
        /// Whether the user cancelled it.
        cancelled: bool,
        /// How long it took.
        elapsed: Duration,
    },
}

/// A running load.
#[derive(Debug)]
pub struct LoadHandle {
    /// Identifies the run in messages.
    pub id: u64,
    cancel: Arc<AtomicBool>,
    /// The last progress reported.
    pub progress: Progress,
    /// When it started.
    pub started: Instant,
    /// Whether cancel was asked.
    pub cancelling: bool,
}

impl LoadHandle {
    /// Asks the thread to stop after the current chunk.
    pub fn cancel(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        self.cancelling = true;
    }
}

/// Starts reading `paths` with `engine`; every event goes to `send` tagged with `id`.
pub fn start(
    id: u64,
    paths: Vec<PathBuf>,
    engine: Engine,
    edits: Option<crate::edits::EditsFile>,
    send: impl Fn(u64, LoadEvent) + Send + Clone + 'static,
) -> LoadHandle {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let started = Instant::now();
    let on_thread = send.clone();
    let first = paths.first().cloned();
    let spawned = crate::thread::spawn_named("feedlens-load", move || {
        let send = on_thread;
        let mut last_progress = Instant::now() - Duration::from_secs(1);
        // The window's edits of these files (an input changed since gets none of them).
        let applied = edits.and_then(|file| {
            crate::edits::AppliedEdits::resolve(&file, &paths)
                .map_err(|error| tracing::warn!("the window's edits are not applied: {error}"))
                .ok()
        });
        let summary = pipeline::run_edited(
            &paths,
            &engine,
            applied.as_ref(),
            &flag,
            |progress| {
                // Progress after every chunk is more than a window needs.
                if last_progress.elapsed() >= Duration::from_millis(50) {
                    last_progress = Instant::now();
                    send(id, LoadEvent::Progress(progress.clone()));
                }
            },
            |_, outcomes| Box::new(RowChunk::new(engine.rules(), outcomes)),
            |info, rows| {
                send(
                    id,
                    LoadEvent::Chunk {
                        info: info.clone(),
                        rows,
                    },
                )
            },
        );
        for failure in summary.failures {
            send(
                id,
                LoadEvent::Failed {
                    path: failure.path,
                    message: failure.error.to_string(),
                },
            );
        }
        for info in summary.files {
            send(id, LoadEvent::FileDone(info));
        }
        send(
            id,
            LoadEvent::Finished {
                cancelled: summary.cancelled,
                elapsed: started.elapsed(),
            },
        );
    });
    if let Err(error) = spawned {
        let message = crate::thread::start_failed("feedlens-load", &error);
        if let Some(path) = first {
            send(id, LoadEvent::Failed { path, message });
        }
        let elapsed = started.elapsed();
        send(
            id,
            LoadEvent::Finished {
                cancelled: false,
                elapsed,
            },
        );
    }
    LoadHandle {
        id,
        cancel,
        progress: Progress::default(),
        started,
        cancelling: false,
    }
}

/// The bundled samples folder: next to the executable's repository, then `samples/` in the
/// current folder.
pub fn default_samples() -> Option<PathBuf> {
    let candidates = [
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples"),
        PathBuf::from("samples"),
    ];
    let exe_repo = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .find(|dir| dir.join("Cargo.toml").is_file() && dir.join("samples").is_dir())
            .map(|dir| dir.join("samples"))
    });
    exe_repo
        .into_iter()
        .chain(candidates)
        .find(|dir| dir.is_dir() && !expand_paths(std::slice::from_ref(dir)).is_empty())
}
