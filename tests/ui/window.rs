//! UI tests of the window with egui_kittest (no GPU, no display): open a small sample, read the
//! tabs, switch tabs, select rows, read the detail view by its labels, filter, and select all.

use crate::ui_support::{Window, settle, window_of_size};

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::Modifiers;
use egui_kittest::kittest::Queryable;
use feedlens::ui::StartOptions;

const SAMPLE: &str = r#"{"ts":20220212004131,"eventName":"App Launched","profile":{"identity":"111","email":"ana@example.com"},"eventProps":{"CT Source":"Mobile","CT App Version":"4.3.0","CT Session Id":1644606691}}
{"ts":20220212004135,"eventName":"App Launched","profile":{"identity":"222","email":"bo@example.com"},"eventProps":{"CT Source":"Web"}}
{"ts":20220212004140,"eventName":"AB Experiment Rendered","profile":{"identity":"333"},"eventProps":{"Variant":"B","Experiment Id":7}}
{"ts":20220212004200,"eventName":"Notification Viewed","profile":{"identity":"444"},"eventProps":{"Campaign id":1524576510,"wzrk_id":"-1"}}
{"eventName":"App Launched","profile":{"identity":"555"},"eventProps":{"CT Source":"Mobile"}}
{"identity":"666","Email":"cy@example.com","Name":"Cy","MSG-push":true}
"#;

fn sample_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, SAMPLE).unwrap();
    (dir, path)
}

fn harness(files: Vec<PathBuf>) -> Window {
    harness_of_size(files, [1600.0, 1400.0])
}

fn harness_of_size(files: Vec<PathBuf>, size: [f32; 2]) -> Window {
    window_of_size(
        StartOptions {
            files,
            ..StartOptions::default()
        },
        size,
    )
}

#[test]
fn opens_a_sample_and_shows_tabs_with_counts() {
    let (_dir, path) = sample_file();
    let mut harness = harness(vec![path]);
    settle(&mut harness);
    assert_eq!(harness.state().record_count(), 6);
    assert!(
        harness.state().errors().is_empty(),
        "{:?}",
        harness.state().errors()
    );
    harness.get_by_label("Other (3)");
    harness.get_by_label("Attribution (1)");
    harness.get_by_label("Uninstall (0)");
    harness.get_by_label("Navigation (0)");
    harness.get_by_label("User Content (0)");
    harness.get_by_label("Location (0)");
    // The record without a time is held.
    harness.get_by_label("Unmapped/Held (1)");
    // One batch per user: 4 users with events, 1 profile.
    harness.get_by_label("Users (5)");
    harness.get_by_label("Summary");
}

#[test]
fn selecting_rows_shows_the_detail_and_counts_the_selection() {
    let (_dir, path) = sample_file();
    let mut harness = harness(vec![path]);
    settle(&mut harness);

    harness.get_by_label("Other (3)").click();
    settle(&mut harness);
    // Rows of the Other tab: App Launched (111, 222) and A/B Experiment Rendered (333).
    harness.get_by_label("222").click();
    settle(&mut harness);
    assert_eq!(harness.state().selected_count(), 1);
    harness.get_by_label("Selected: 1");

    // The detail view, read by its headings, and a traced field.
    harness.get_by_label("Source record");
    harness.get_by_label("Mapped event");
    harness.get_by_label("Batch");
    harness.get_by_label("Trace");
    harness.get_by_label("Findings");
    harness.get_by_label("eventProps.CT Source");
    harness.get_by_label("events[].data.custom_attributes.CT Source");

    // Ctrl-click adds a row.
    harness
        .get_by_label("111")
        .click_modifiers(Modifiers::COMMAND);
    settle(&mut harness);
    assert_eq!(harness.state().selected_count(), 2);
    harness.get_by_label("Selected: 2");

    // The renamed A/B event shows its trace in the detail.
    harness.get_by_label("Attribution (1)").click();
    settle(&mut harness);
    harness.get_by_label("444").click();
    settle(&mut harness);
    harness.get_by_label("eventProps.Campaign id");
}

#[test]
fn filter_and_select_all_in_the_result() {
    let (_dir, path) = sample_file();
    let mut harness = harness(vec![path]);
    settle(&mut harness);

    let search = harness.get_by_label("Search");
    search.focus();
    search.type_text("web");
    settle(&mut harness);
    harness.get_by_label("Other (1 of 3)");
    harness.get_by_label("Attribution (0 of 1)");

    // Select all in the filter result: one row.
    harness.get_by_label("Other (1 of 3)").click();
    settle(&mut harness);
    harness.key_press_modifiers(Modifiers::COMMAND, egui::Key::A);
    settle(&mut harness);
    assert_eq!(harness.state().selected_count(), 1);

    // Select all in the tab ignores the filter.
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, egui::Key::A);
    settle(&mut harness);
    assert_eq!(harness.state().selected_count(), 3);
}

#[test]
fn held_records_and_users_and_summary() {
    let (_dir, path) = sample_file();
    let mut harness = harness(vec![path]);
    settle(&mut harness);

    harness.get_by_label("Unmapped/Held (1)").click();
    settle(&mut harness);
    harness.get_by_label("555").click();
    settle(&mut harness);
    harness.get_by_label("Findings");
    // The reason is in the row and in the findings.
    assert!(
        harness
            .query_all_by_label_contains("never sent as \"now\"")
            .count()
            >= 2
    );

    harness.get_by_label("Users (5)").click();
    settle(&mut harness);
    harness.get_by_label("cy@example.com").click();
    settle(&mut harness);
    harness.get_by_label("Records in this batch");

    harness.get_by_label("Summary").click();
    settle(&mut harness);
    harness.get_by_label("Accounting");
    harness.get_by_label_contains("Coverage of the feed document's 25 events");
}

#[test]
fn unreadable_file_is_an_error_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    // A path long enough that its message is wider than the window.
    let folder = dir
        .path()
        .join("exports-from-clevertap-for-the-mparticle-feed-".repeat(3));
    std::fs::create_dir(&folder).unwrap();
    let mut paths = Vec::new();
    for name in ["webhook.json", "webhook-2.json"] {
        let path = folder.join(name);
        std::fs::write(&path, r#"{"targetId":1,"profiles":[{"key_values":{}}]}"#).unwrap();
        paths.push(path);
    }
    let mut harness = harness(paths);
    settle(&mut harness);
    let errors = harness.state().errors().to_vec();
    assert_eq!(errors.len(), 2, "each failure is shown: {errors:?}");
    harness.get_by_label_contains("webhook.json");
    // Each message wraps, and its Dismiss button stays in the window.
    let width = harness.ctx.content_rect().width();
    let dismiss = harness.query_all_by_label("Dismiss").collect::<Vec<_>>();
    assert_eq!(dismiss.len(), 2);
    for button in dismiss {
        assert!(
            button.rect().right() <= width,
            "Dismiss at {:?}, outside the window's {width} points",
            button.rect()
        );
    }
    for name in ["webhook.json", "webhook-2.json"] {
        let label = format!("{name} is a CleverTap");
        let message = harness.get_by_label_contains(&label);
        assert!(
            message.rect().right() <= width,
            "{name}: {:?}",
            message.rect()
        );
    }
}

#[test]
fn exports_the_selection_as_ndjson() {
    let (dir, path) = sample_file();
    let mut harness = harness(vec![path]);
    settle(&mut harness);
    harness.get_by_label("Other (3)").click();
    settle(&mut harness);
    harness.get_by_label("111").click();
    harness
        .get_by_label("222")
        .click_modifiers(Modifiers::COMMAND);
    settle(&mut harness);
    assert_eq!(harness.state().selected_count(), 2);
    let out = dir.path().join("out.ndjson");
    harness.state_mut().push(feedlens::ui::Command::Export(
        feedlens::ui::Scope::Selection,
        feedlens::records::ExportFormat::Ndjson,
        out.clone(),
    ));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !harness.state().status().starts_with("exported") {
        assert!(Instant::now() < deadline, "no export");
        std::thread::sleep(Duration::from_millis(5));
        harness.step();
    }
    let text = std::fs::read_to_string(&out).unwrap();
    // Two users, one batch each, one event each.
    assert_eq!(text.lines().count(), 2);
    for line in text.lines() {
        let batch: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(batch["events"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn a_small_window_keeps_rows_of_the_table_in_view() {
    // A laptop-sized window with two files' errors above the tabs: the detail panel (400
    // points by default) must not take the table's rows.
    let (dir, path) = sample_file();
    let webhook = dir.path().join("webhook.json");
    std::fs::write(&webhook, r#"{"targetId":1,"profiles":[{"key_values":{}}]}"#).unwrap();
    let second = dir.path().join("webhook-2.json");
    std::fs::copy(&webhook, &second).unwrap();
    let mut harness = harness_of_size(vec![path, webhook, second], [1100.0, 620.0]);
    settle(&mut harness);
    assert_eq!(harness.state().errors().len(), 2);
    harness.get_by_label("Other (3)").click();
    settle(&mut harness);
    // The table draws only the rows in view: each of the tab's three is there.
    for identity in ["111", "222", "333"] {
        assert!(
            harness.query_by_label(identity).is_some(),
            "row {identity} is out of view"
        );
    }
}

#[test]
fn the_smallest_window_draws_no_toolbar_text_over_a_button() {
    let (_dir, path) = sample_file();
    let mut harness = harness_of_size(vec![path], [640.0, 400.0]);
    settle(&mut harness);
    let send = harness.get_by_label("Send 0 selected…").rect();
    let counts = harness.get_by_label_contains("1 file · ").rect();
    assert!(
        counts.min.x >= send.max.x,
        "the counts ({counts:?}) overlap the Send button ({send:?})"
    );
}
