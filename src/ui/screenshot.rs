//! `--screenshot OUT.png`: wait until everything is loaded and laid out, grab the window's
//! pixels, write a PNG and close.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::state::{App, ScreenshotPlan};

/// Frames drawn after the window is idle, so that layout (table sizing passes) has settled.
const SETTLE_FRAMES: u32 = 6;
/// The longest the window waits for loading before taking the picture anyway.
const TIMEOUT: Duration = Duration::from_secs(120);

impl ScreenshotPlan {
    /// A plan to write `out`.
    pub fn new(out: PathBuf) -> Self {
        Self {
            out,
            started: Instant::now(),
            idle_frames: 0,
            requested: false,
            image: Arc::new(Mutex::new(None)),
        }
    }

    /// Advances by one frame; returns the plan while it is not finished.
    pub fn step(mut self, ctx: &egui::Context, app: &App) -> Option<Self> {
        let taken = self.image.lock().ok().and_then(|mut slot| slot.take());
        if let Some(image) = taken {
            match write_png(&self.out, &image) {
                Ok(()) => eprintln!("feedlens: wrote {}", self.out.display()),
                Err(message) => {
                    eprintln!("feedlens: {message}");
                    app.mark_screenshot_failed();
                }
            }
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return None;
        }
        let waited_too_long = self.started.elapsed() > TIMEOUT;
        if !self.requested && app.is_busy() && !waited_too_long {
            // The window schedules its own frames while busy (one every LOADING_FRAME while
            // loading); asking for every frame here as well took time from the loading threads.
            self.idle_frames = 0;
            return Some(self);
        }
        ctx.request_repaint();
        if self.requested {
            return Some(self);
        }
        self.idle_frames += 1;
        if self.idle_frames >= SETTLE_FRAMES {
            let slot = Arc::clone(&self.image);
            let repaint = ctx.clone();
            ctx.request_screenshot(move |image| {
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(image);
                }
                repaint.request_repaint();
            });
            self.requested = true;
        }
        Some(self)
    }
}

/// Writes an RGBA image as PNG.
pub fn write_png(path: &std::path::Path, image: &egui::ColorImage) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let file = std::fs::File::create(path).map_err(|e| fail(&e))?;
    let [width, height] = image.size;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width as u32, height as u32);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| fail(&e))?;
    let bytes: Vec<u8> = image.pixels.iter().flat_map(|p| p.to_array()).collect();
    writer.write_image_data(&bytes).map_err(|e| fail(&e))?;
    writer.finish().map_err(|e| fail(&e))
}
