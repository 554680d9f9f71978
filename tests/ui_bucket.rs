//! File › Open from bucket… against moto's S3 server on 127.0.0.1 (egui_kittest): the listing
//! shows the export run with its chunks, size and the missing index, and "Open run" loads the
//! same records as the chunks on disk, named by their URLs.

mod ui_support;

use ui_support::{click_file_menu_item, settle, window};

mod bucket_support;

use std::path::Path;
use std::time::{Duration, Instant};

use bucket_support::{Moto, gzip};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use feedlens::ui::{App, BucketAction, Command, StartOptions};

const RUN: &str = "77-1650003600-App Launched-20220415";

/// Saves the window as a PNG when FEEDLENS_SHOTS names a folder (to look at the dialog).
fn shot(harness: &mut Harness<'static, App>, name: &str) {
    if let Some(dir) = std::env::var_os("FEEDLENS_SHOTS") {
        let image = harness.render().expect("rendering the window");
        image.save(Path::new(&dir).join(name)).unwrap();
    }
}

#[test]
fn the_dialog_lists_the_run_with_its_gap_and_opens_it_like_the_files_on_disk() {
    let Some(moto) = Moto::start() else {
        return;
    };
    // SAFETY: the only test in this binary; set before the window's threads start.
    unsafe {
        for (key, value) in moto.env() {
            std::env::set_var(key, value);
        }
    }
    moto.create_bucket("exports");
    let events =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/events.jsonl"))
            .unwrap();
    let lines: Vec<&str> = events.lines().collect();
    let (first, second) = lines.split_at(10);
    let dir = tempfile::tempdir().unwrap();
    let chunks = [
        (
            format!("{RUN}-0-5.json.gz"),
            gzip(format!("{}\n", first.join("\n")).as_bytes()),
        ),
        (
            format!("{RUN}-1-5.json"),
            format!("{}\n", second.join("\n")).into_bytes(),
        ),
        (
            format!("{RUN}-3-5.json.gz"),
            gzip(format!("{}\n", lines[0]).as_bytes()),
        ),
    ];
    let mut on_disk = Vec::new();
    for (name, bytes) in &chunks {
        moto.put("exports", &format!("march/{name}"), bytes.clone());
        std::fs::write(dir.path().join(name), bytes).unwrap();
        on_disk.push(dir.path().join(name));
    }

    let mut window = window(StartOptions {
        files: vec![on_disk[0].clone()],
        ..StartOptions::default()
    });
    settle(&mut window);
    click_file_menu_item(&mut window, "Open from bucket…");
    // The dialog fades in over a few frames.
    window.run_steps(12);
    assert!(
        window.query_by_label("Open from bucket").is_some(),
        "the dialog opens"
    );
    window
        .state_mut()
        .push(Command::Bucket(BucketAction::SetUrl(
            "s3://exports/march".to_string(),
        )));
    window.run_steps(2);
    window.get_by_label("List").click();
    let deadline = Instant::now() + Duration::from_secs(60);
    while window.query_by_label_contains("gaps:").is_none() {
        assert!(Instant::now() < deadline, "no listing within a minute");
        std::thread::sleep(Duration::from_millis(20));
        window.step();
    }
    window.run_steps(4);
    let node = window.get_by_label_contains("gaps:");
    let summary = node
        .accesskit_node()
        .value()
        .or(node.accesskit_node().label())
        .unwrap_or_default();
    assert!(summary.contains("App Launched"), "{summary}");
    assert!(summary.contains("3 chunk(s)"), "{summary}");
    assert!(summary.contains("gaps: missing index 2"), "{summary}");
    assert!(
        window
            .query_by_label_contains("chunk index 2 is missing")
            .is_some()
    );
    assert!(window.query_by_label_contains("Run 1650003600").is_some());
    shot(&mut window, "bucket_dialog.png");

    window.get_by_label("Open run").click();
    settle(&mut window);
    assert!(
        window.query_by_label_contains("gaps:").is_none(),
        "the dialog closes"
    );
    let from_bucket = window.state().record_count();
    let described = format!("{:?}", window.state());
    assert!(
        described.contains(&format!("s3://exports/march/{RUN}-3-5.json.gz")),
        "{described}"
    );
    shot(&mut window, "bucket_opened.png");

    let mut disk = ui_support::window(StartOptions {
        files: on_disk,
        ..StartOptions::default()
    });
    settle(&mut disk);
    assert_eq!(from_bucket, disk.state().record_count());
    assert_eq!(from_bucket, lines.len() + 1);
}
