//! What the window tests share: stepping a window until its background work is done.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use feedlens::ui::App;

/// Steps the window until nothing runs in the background (files read, views, batches, plans,
/// previews), then a few frames more so the UI settles. The deadline guards against a hang; it
/// is not a timing.
pub fn settle(harness: &mut Harness<'static, App>) {
    let deadline = Instant::now() + Duration::from_secs(90);
    harness.step();
    while harness.state().is_busy() {
        assert!(Instant::now() < deadline, "the window stayed busy");
        std::thread::sleep(Duration::from_millis(5));
        harness.step();
    }
    harness.run_steps(8);
}
