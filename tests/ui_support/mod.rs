//! What the window tests share: a window to drive, with a data folder of its own, stepping it
//! until its background work is done, and the File menu as a user opens it.

#![allow(dead_code)]

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use feedlens::ui::{App, StartOptions};

/// A window under test, driven through its harness (`Deref`), and the temporary data folder it
/// keeps its send journal, mask salt and edits in: no test reads or writes the user's, and the
/// tests of one binary never share one. The folder goes when the window does.
pub struct Window {
    harness: Harness<'static, App>,
    data: tempfile::TempDir,
}

impl Window {
    /// The window's send journal.
    pub fn journal(&self) -> PathBuf {
        feedlens::feed::journal_in(self.data.path())
    }

    /// The window's data folder.
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }
}

impl Deref for Window {
    type Target = Harness<'static, App>;
    fn deref(&self) -> &Self::Target {
        &self.harness
    }
}

impl DerefMut for Window {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.harness
    }
}

/// A window started with `options`, fresh (no preferences read), 1600×1200 points.
pub fn window(options: StartOptions) -> Window {
    window_of_size(options, [1600.0, 1200.0])
}

/// A window started with `options`, fresh, `size` points.
pub fn window_of_size(options: StartOptions, size: [f32; 2]) -> Window {
    let data = tempfile::tempdir().unwrap();
    let app = App::new(
        None,
        StartOptions {
            fresh: true,
            data_dir: Some(data.path().to_path_buf()),
            ..options
        },
    )
    .unwrap();
    let harness = Harness::builder()
        .with_size(size)
        .build_ui_state(|ui, app: &mut App| app.frame_ui(ui), app);
    Window { harness, data }
}

/// Steps the window until it is idle: nothing runs in the background (files read, views,
/// batches, plans, previews) and no frame is asked for, as when a background thread's answer
/// arrives. Tests share the machine's cores, so this waits on the work, not on a number of
/// frames; the deadline guards against a hang, it is not a timing.
pub fn settle(harness: &mut Harness<'static, App>) {
    let deadline = Instant::now() + Duration::from_secs(90);
    harness.step();
    loop {
        while harness.state().is_busy() {
            assert!(Instant::now() < deadline, "the window stayed busy");
            std::thread::sleep(Duration::from_millis(5));
            harness.step();
        }
        // A few frames more, as a user's eye takes: what sizes itself over a frame or two (a
        // modal, a grid) is where it is drawn before anything is clicked.
        harness.run_steps(8);
        if !harness.state().is_busy() && harness.run_ok().is_some() && !harness.state().is_busy() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the window kept asking for frames"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Opens the menu bar's File menu (the table has a File column too) and clicks `item` once
/// the pointer is over it, as a user's click lands.
pub fn click_file_menu_item(harness: &mut Harness<'static, App>, item: &str) {
    harness
        .query_all_by_role_and_label(egui::accesskit::Role::Button, "File")
        .next()
        .unwrap()
        .click();
    harness.run_steps(2);
    harness.get_by_label(item).hover();
    harness.run_steps(2);
    harness.get_by_label(item).click();
}

/// A window on `input` whose edits go to (and come from) the edits file `edits`.
pub fn window_with_edits(input: PathBuf, edits: PathBuf) -> Window {
    window(StartOptions {
        files: vec![input],
        edits: Some(edits),
        ..StartOptions::default()
    })
}
