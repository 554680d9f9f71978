//! The feed secret typed into the window never leaves memory: not in what the window paints or
//! exposes to screen readers, not in the persisted settings, not in the app's debug output, not in
//! the journal, the local feed's record, the logs or any other file the run writes.
//!
//! The window is driven with egui_kittest (no GPU, no display): a URL target pointing at a local
//! feed on 127.0.0.1 that accepts only the typed key and secret, a wrong secret first (403), then
//! the right one, a dry-run plan and a real send. Everything is checked after each step.
//!
//! A screenshot cannot be searched for text, so what the window shows is checked twice: every
//! text shape the frame paints is read (a password field paints only its mask), and the pixels
//! of the secret field, rendered with kittest's wgpu renderer (software rendering: EGL and
//! llvmpipe, see `shared/design/gui-stack.md`), are the same for two different secrets of one
//! length. The screenshot is written with the run's other files and searched like them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{By, NodeT, Queryable};
use feedlens::feed::{Credentials, LocalFeed, LocalFeedConfig};
use feedlens::ui::{App, StartOptions};

const KEY: &str = "ui-test-key-5e21";
/// Distinctive enough that no other text contains it by chance.
const SECRET: &str = "Qv7-right-secret-8d4f0c";
const WRONG_SECRET: &str = "Jk3-wrong-secret-61b9ae-x";

const SAMPLE: &str = r#"{"ts":1700000001,"eventName":"App Launched","profile":{"identity":"111","email":"ana@example.com"},"eventProps":{"CT Source":"Mobile"}}
{"ts":1700000002,"eventName":"App Launched","profile":{"identity":"222"},"eventProps":{"CT Source":"Web"}}
{"ts":1700000003,"eventName":"Notification Viewed","profile":{"identity":"333"},"eventProps":{"Campaign id":1524576510}}
"#;

/// eframe storage in memory, as the window's `save` fills it on exit.
#[derive(Default)]
struct MemoryStorage(HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }

    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }

    fn flush(&mut self) {}
}

/// Every text the last frame painted (labels, buttons, text fields, tooltips), one per line.
fn painted_text(harness: &Harness<'_, App>) -> String {
    fn walk(shape: &egui::Shape, out: &mut String) {
        match shape {
            egui::Shape::Text(text) => {
                out.push_str(text.galley.text());
                out.push('\n');
            }
            egui::Shape::Vec(shapes) => shapes.iter().for_each(|s| walk(s, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    for clipped in &harness.output().shapes {
        walk(&clipped.shape, &mut out);
    }
    out
}

/// The labels, values and descriptions of every node of the accessibility tree.
fn accessible_text(harness: &Harness<'_, App>) -> String {
    let mut out = String::new();
    for node in harness.query_all(By::new().include_labels()) {
        let node = node.accesskit_node();
        for text in [node.label(), node.value(), node.description()]
            .into_iter()
            .flatten()
        {
            out.push_str(&text);
            out.push('\n');
        }
    }
    out
}

/// The window as pixels.
fn render(harness: &mut Harness<'_, App>) -> egui::ColorImage {
    let image = harness
        .render()
        .expect("rendering the window (wgpu needs a GPU or EGL with llvmpipe)");
    let size = [image.width() as usize, image.height() as usize];
    egui::ColorImage::from_rgba_unmultiplied(size, image.as_raw())
}

/// The pixels of the secret field, with the keyboard focus on the key field (so that no text
/// cursor blinks in it).
fn secret_field_pixels(harness: &mut Harness<'_, App>) -> (egui::ColorImage, egui::ColorImage) {
    harness.get_by_label("API key").click();
    harness.run();
    let rect = harness.get_by_label("Secret").rect();
    let ppp = harness.ctx.pixels_per_point();
    let window = render(harness);
    let field = window.region(&rect, Some(ppp));
    (window, field)
}

/// Every file under `dir`, with its bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                found.push((path, bytes));
            }
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// The forms a secret could leak in: as typed, and inside a Basic `Authorization` value.
fn leaked_forms(secret: &str) -> Vec<String> {
    let basic = Credentials::new(KEY, secret).authorization();
    let encoded = basic.trim_start_matches("Basic ").to_string();
    vec![secret.to_string(), encoded]
}

/// Asserts that neither secret shows in `text` (named `what` in the failure).
fn assert_hidden(what: &str, text: &[u8]) {
    let reversed: String = SECRET.chars().rev().collect();
    for secret in [SECRET, WRONG_SECRET, reversed.as_str()] {
        for form in leaked_forms(secret) {
            assert!(
                !contains(text, &form),
                "{what} holds the secret (as `{form}`):\n{}",
                String::from_utf8_lossy(text)
            );
        }
    }
}

/// Everything the window shows and exposes right now: no secret, and the secret field shows
/// exactly `mask_len` mask characters.
fn assert_window_hides_secrets(harness: &Harness<'_, App>, step: &str, mask_len: usize) {
    let painted = painted_text(harness);
    assert_hidden(&format!("{step}: the painted text"), painted.as_bytes());
    let mask: String =
        std::iter::repeat_n(egui::epaint::text::PASSWORD_REPLACEMENT_CHAR, mask_len).collect();
    assert!(
        painted.lines().any(|line| line == mask),
        "{step}: the secret field does not paint its {mask_len}-character mask:\n{painted}"
    );
    assert_hidden(
        &format!("{step}: the accessibility tree"),
        accessible_text(harness).as_bytes(),
    );
    // Everything the frame hands to the platform: accessibility updates, widget events
    // (text changes, selection), clipboard commands, IME.
    let output = &harness.output().platform_output;
    let platform = format!(
        "{:?} {:?} {:?} {:?}",
        output.commands, output.events, output.accesskit_update, output.ime
    );
    assert_hidden(&format!("{step}: the platform output"), platform.as_bytes());
    let state = format!("{:?} {:#?}", harness.state(), harness.state());
    assert_hidden(&format!("{step}: the app's debug output"), state.as_bytes());
}

/// Steps the window until `done` says so (background work: planning, sending).
fn step_until(
    harness: &mut Harness<'_, App>,
    what: &str,
    done: impl Fn(&Harness<'_, App>) -> bool,
) {
    // A guard against a hang, not a timing: a loaded machine can take a while to send.
    let deadline = Instant::now() + Duration::from_secs(120);
    harness.step();
    while !done(harness) {
        assert!(
            Instant::now() < deadline,
            "{what}: still waiting; the window shows:\n{}",
            painted_text(harness)
        );
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
    harness.step();
    harness.step();
}

fn shows(harness: &Harness<'_, App>, text: &str) -> bool {
    painted_text(harness).contains(text)
}

/// Replaces the text of the field labelled `label` with `text`, as a user does.
fn retype(harness: &mut Harness<'_, App>, label: &str, text: &str) {
    harness.get_by_label(label).click();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness.get_by_label(label).type_text(text);
    harness.run();
}

#[test]
fn the_secret_stays_out_of_the_window_its_settings_and_files() {
    let root = tempfile::tempdir().unwrap();
    let data_home = root.path().join("data");
    let home = root.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    // SAFETY: the only test in this binary, run before it starts any thread; the journal's
    // default place (`$XDG_DATA_HOME/feedlens/`) is then inside the temporary directory.
    unsafe {
        std::env::set_var("XDG_DATA_HOME", &data_home);
        std::env::set_var("HOME", &home);
        std::env::remove_var("FEEDLENS_API_KEY");
        std::env::remove_var("FEEDLENS_API_SECRET");
    }
    // Everything logged, at every level, goes to a file that is checked with the rest.
    let log_path = root.path().join("trace.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(Mutex::new(log_file))
        .try_init()
        .unwrap();

    let input = root.path().join("events.jsonl");
    std::fs::write(&input, SAMPLE).unwrap();
    let feed = LocalFeed::start(LocalFeedConfig {
        credentials: Credentials::new(KEY, SECRET),
        record: Some(root.path().join("received.ndjson")),
        ..LocalFeedConfig::default()
    })
    .unwrap();

    let app = App::new(
        None,
        StartOptions {
            files: vec![input],
            send_panel: true,
            ..StartOptions::default()
        },
    )
    .unwrap();
    let mut harness = Harness::builder()
        .with_size([1600.0, 1400.0])
        .build_ui_state(|ui, app: &mut App| app.frame_ui(ui), app);
    step_until(&mut harness, "loading", |h| {
        !h.state().is_busy() && h.state().record_count() == 3
    });

    // Target: the feed's URL; then the key and a wrong secret.
    harness
        .get_by_label("send every loaded record instead")
        .click();
    harness.get_by_label("URL").click();
    harness.run();
    retype(&mut harness, "base URL", &feed.url());
    retype(&mut harness, "API key", KEY);
    retype(&mut harness, "Secret", WRONG_SECRET);
    assert_eq!(
        harness.get_by_label("base URL").value().as_deref(),
        Some(feed.url().as_str())
    );
    assert_eq!(
        harness.get_by_label("API key").value().as_deref(),
        Some(KEY)
    );
    assert_window_hides_secrets(&harness, "typed", WRONG_SECRET.len());
    let (_, wrong_field) = secret_field_pixels(&mut harness);

    // A dry run, then a send the feed refuses (403, not retried).
    harness.get_by_label("Plan 3 records (dry run)").click();
    step_until(&mut harness, "planning", |h| {
        h.query_by_label("Send").is_some() && !shows(h, "planning…")
    });
    assert!(shows(&harness, &feed.url()), "{}", painted_text(&harness));
    assert_window_hides_secrets(&harness, "planned", WRONG_SECRET.len());
    // The plan's summary is laid out first: a click is aimed where the button is drawn.
    harness.run();
    harness.get_by_label("Send").click();
    step_until(&mut harness, "the refused send", |h| {
        shows(h, "finished: 0 of")
    });
    assert!(shows(&harness, "HTTP 403"), "{}", painted_text(&harness));
    assert_eq!(feed.snapshot().accepted_batches, 0);
    assert_window_hides_secrets(&harness, "refused", WRONG_SECRET.len());

    // The right secret: the feed takes every batch.
    retype(&mut harness, "Secret", SECRET);
    harness.get_by_label("Plan 3 records (dry run)").click();
    step_until(&mut harness, "planning again", |h| {
        h.query_by_label("Send").is_some() && !shows(h, "planning…")
    });
    harness.run();
    harness.get_by_label("Send").click();
    step_until(&mut harness, "the accepted send", |h| {
        shows(h, "finished: 3 of 3 batches accepted")
    });
    let received = feed.snapshot();
    assert_eq!((received.accepted_batches, received.forbidden), (3, 1));
    assert_window_hides_secrets(&harness, "sent", SECRET.len());

    // The screenshot, and the secret field's pixels: another secret of the same length looks
    // the same there; the wrong secret, longer, does not (so the comparison sees the mask).
    let (window, right_field) = secret_field_pixels(&mut harness);
    feedlens::ui::write_png(&root.path().join("window.png"), &window).unwrap();
    let same_length: String = SECRET.chars().rev().collect();
    retype(&mut harness, "Secret", &same_length);
    let (_, other_field) = secret_field_pixels(&mut harness);
    assert_eq!(right_field.size, wrong_field.size);
    assert!(
        right_field.pixels != wrong_field.pixels,
        "the secret field shows nothing that depends on the secret's length"
    );
    assert!(
        right_field.pixels == other_field.pixels,
        "the secret field's pixels depend on the secret's characters"
    );

    // The settings the window keeps on exit (its preferences and egui's memory, as eframe
    // saves them), written where eframe would.
    let mut storage = MemoryStorage::default();
    eframe::App::save(harness.state_mut(), &mut storage);
    harness
        .ctx
        .memory(|memory| eframe::set_value(&mut storage, "egui", memory));
    assert!(storage.0.contains_key(feedlens::ui::prefs::KEY));
    let settings_dir = home.join(".local/share/feedlens-ui-test");
    std::fs::create_dir_all(&settings_dir).unwrap();
    let mut ron = String::new();
    for (key, value) in &storage.0 {
        assert_hidden(&format!("the stored setting `{key}`"), value.as_bytes());
        ron.push_str(&format!("{key:?}: {value:?},\n"));
    }
    std::fs::write(settings_dir.join("app.ron"), ron).unwrap();

    // Every file the run wrote: the journal, the feed's record, the settings, the log, the
    // screenshot.
    drop(harness);
    feed.stop();
    let files = files_under(root.path());
    let names: Vec<String> = files
        .iter()
        .map(|(path, _)| {
            path.strip_prefix(root.path())
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    let journal = data_home.join("feedlens/send-journal.ndjson");
    for expected in [
        journal.as_path(),
        &root.path().join("received.ndjson"),
        &log_path,
        &root.path().join("window.png"),
    ] {
        let (_, bytes) = files
            .iter()
            .find(|(path, _)| path == expected)
            .unwrap_or_else(|| panic!("{} was not written: {names:?}", expected.display()));
        assert!(!bytes.is_empty(), "{} is empty", expected.display());
    }
    for (path, bytes) in &files {
        assert_hidden(&path.display().to_string(), bytes);
    }
    // The journal saw both sends, the refused one with its status.
    let journal_text = std::fs::read_to_string(&journal).unwrap();
    assert!(journal_text.contains("403"), "{journal_text}");
}
