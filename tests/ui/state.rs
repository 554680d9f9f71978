//! Workflows that once left the window pointing at the wrong records (egui_kittest, no GPU):
//! open another file with records selected; change the selection or the feed after planning;
//! filter away the focused record; watch the tab row while files load.

use crate::ui_support::{Window, settle, window, window_with_edits};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use feedlens::feed::{FeedSettings, FeedTarget, Secret};
use feedlens::ui::{App, Command, OpenMode, SendForm, StartOptions};

/// `n` App Launched records, one user each.
fn export(dir: &Path, name: &str, n: usize) -> PathBuf {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "{{\"ts\":20220212004131,\"eventName\":\"App Launched\",\"profile\":{{\"identity\":\"{name}-{i}\"}},\"eventProps\":{{\"CT Source\":\"Mobile\"}}}}\n"
        ));
    }
    let path = dir.join(format!("{name}.jsonl"));
    std::fs::write(&path, text).unwrap();
    path
}

fn harness(files: Vec<PathBuf>, send_panel: bool) -> Window {
    window(StartOptions {
        files,
        send_panel,
        ..StartOptions::default()
    })
}

fn disabled(harness: &Harness<'static, App>, label: &str) -> bool {
    harness.get_by_label(label).accesskit_node().is_disabled()
}

/// Selects the first `n` rows of the Other tab as a user does: click, then shift-click.
fn select_first(harness: &mut Harness<'static, App>, n: usize) {
    harness.state_mut().push(Command::ClickRow {
        position: 0,
        toggle: false,
        range: false,
    });
    harness.state_mut().push(Command::ClickRow {
        position: n - 1,
        toggle: false,
        range: true,
    });
    settle(harness);
}

#[test]
fn opening_another_file_clears_the_selection_and_the_plan_must_be_made_again() {
    let dir = tempfile::tempdir().unwrap();
    let first = export(dir.path(), "first", 59);
    let second = export(dir.path(), "second", 12);
    let mut harness = harness(vec![first], true);
    settle(&mut harness);
    select_first(&mut harness, 25);
    harness.get_by_label("Selected: 25");
    harness.get_by_label("Send 25 selected…");

    harness.get_by_label("Plan 25 records (dry run)").click();
    settle(&mut harness);
    assert!(
        harness
            .query_by_label_contains("25 records from 1 file")
            .is_some(),
        "the plan names its records"
    );
    assert!(!disabled(&harness, "Send"), "a fresh plan can be sent");

    // File › Open on another file: nothing of the old selection survives.
    harness
        .state_mut()
        .push(Command::Open(vec![second], OpenMode::Replace));
    settle(&mut harness);
    assert_eq!(harness.state().record_count(), 12);
    assert_eq!(harness.state().selected_count(), 0);
    harness.get_by_label("Selected: 0");
    assert!(disabled(&harness, "Send 0 selected…"));
    assert!(disabled(&harness, "Send"), "the old plan cannot be sent");
    harness.get_by_label("the loaded records changed: plan again");
    assert!(disabled(&harness, "Plan 0 records (dry run)"));

    // Select in the new file and plan again: exactly those records are planned.
    select_first(&mut harness, 5);
    harness.get_by_label("Plan 5 records (dry run)").click();
    settle(&mut harness);
    assert!(
        harness
            .query_by_label_contains("5 records from 1 file")
            .is_some()
    );
    assert!(harness.query_by_label_contains("5 batches").is_some());
    assert!(!disabled(&harness, "Send"));

    // Another row selected after planning: Send waits for a new plan.
    harness.state_mut().push(Command::ClickRow {
        position: 8,
        toggle: true,
        range: false,
    });
    settle(&mut harness);
    harness.get_by_label("the selection changed: plan again");
    assert!(disabled(&harness, "Send"));
}

/// The send panel's form: every loaded record, to `target` with `key`.
fn send_form(target: FeedTarget, key: &str) -> Command {
    let url = match &target {
        FeedTarget::Url(url) => url.clone(),
        _ => String::new(),
    };
    Command::SetSendForm(Box::new(SendForm {
        settings: FeedSettings {
            target,
            ..FeedSettings::default()
        },
        url,
        key: key.to_string(),
        secret: Secret::new("secret".to_string()),
        send_all: true,
    }))
}

#[test]
fn a_plan_is_for_the_feed_it_was_made_for() {
    // What the plan marks as already accepted, and what it shows as its address, are the
    // planned feed's: another feed or key needs a plan of its own.
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(vec![export(dir.path(), "events", 9)], true);
    settle(&mut harness);
    harness.state_mut().push(send_form(FeedTarget::Local, ""));
    settle(&mut harness);
    harness.get_by_label("Plan 9 records (dry run)").click();
    settle(&mut harness);
    assert!(!disabled(&harness, "Send"), "a fresh plan can be sent");
    harness.get_by_label("Received by the local feed");

    let other = FeedTarget::Url("http://127.0.0.1:9/v2".to_string());
    harness.state_mut().push(send_form(other.clone(), "key-a"));
    settle(&mut harness);
    assert!(disabled(&harness, "Send"), "planned for the local feed");
    harness.get_by_label("the feed or its key changed: plan again");
    assert!(
        harness
            .query_by_label("Received by the local feed")
            .is_none(),
        "the local feed's counts are not shown beside another feed"
    );

    // Back to the local feed: the plan is as good as when it was made.
    harness
        .state_mut()
        .push(send_form(FeedTarget::Local, "key-a"));
    settle(&mut harness);
    assert!(!disabled(&harness, "Send"));
    harness.get_by_label("Received by the local feed");

    // Planned for a URL and a key, then another key for that URL.
    harness.state_mut().push(send_form(other.clone(), "key-a"));
    settle(&mut harness);
    harness.get_by_label("Plan 9 records (dry run)").click();
    settle(&mut harness);
    assert!(!disabled(&harness, "Send"));
    assert!(
        (harness.query_by_label_contains("POST http://127.0.0.1:9/v2/")).is_some(),
        "the plan names the feed it is for"
    );
    harness.state_mut().push(send_form(other, "key-b"));
    settle(&mut harness);
    assert!(disabled(&harness, "Send"), "planned with another key");
}

#[test]
fn a_filter_that_hides_the_focused_record_clears_the_detail() {
    let dir = tempfile::tempdir().unwrap();
    let file = export(dir.path(), "users", 10);
    let mut harness = harness(vec![file], false);
    settle(&mut harness);
    harness.get_by_label("users-3").click();
    settle(&mut harness);
    assert_eq!(harness.state().focused_record(), Some(3));
    harness.get_by_label("Source record");

    let search = harness.get_by_label("Search");
    search.click();
    settle(&mut harness);
    harness.get_by_label("Search").type_text("users-7");
    settle(&mut harness);
    harness.get_by_label("Other (1 of 10)");
    assert_eq!(harness.state().focused_record(), None);
    assert!(harness.query_by_label("Source record").is_none());
    assert!(
        harness
            .query_by_label_contains("Select a row to see the source record")
            .is_some()
    );
}

#[test]
fn the_tab_row_stays_put_while_files_load() {
    let dir = tempfile::tempdir().unwrap();
    // Enough records that reading them spans frames: an optimised build reads 40,000 of
    // these between two frames.
    let records = if cfg!(debug_assertions) {
        40_000
    } else {
        400_000
    };
    let big = export(dir.path(), "big", records);
    let mut harness = harness(vec![big], false);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut while_loading = None;
    harness.step();
    while harness.state().is_busy() {
        assert!(Instant::now() < deadline, "still loading");
        if harness.state().is_loading()
            && let Some(tab) = harness.query_by_label_contains("Other (")
        {
            while_loading.get_or_insert(tab.rect());
        }
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    settle(&mut harness);
    let loading = while_loading.expect("the tab row was seen while loading");
    let loaded = harness.get_by_label_contains("Other (").rect();
    assert_eq!(
        loading.min.y, loaded.min.y,
        "the tab row moved when loading ended"
    );
}

#[test]
fn a_typed_path_opens_files_without_a_system_dialog() {
    let dir = tempfile::tempdir().unwrap();
    let first = export(dir.path(), "first", 3);
    export(dir.path(), "second", 7);
    let mut harness = harness(vec![first], false);
    settle(&mut harness);
    harness.get_by_label("Open…").click();
    settle(&mut harness);
    harness.get_by_label("Open CleverTap files");
    // The box starts in the loaded file's folder and lists what is there.
    let folder = format!("{}/", dir.path().display());
    assert_eq!(
        harness.get_by_label("Path").value().as_deref(),
        Some(folder.as_str())
    );
    harness.get_by_label("second.jsonl");
    // Typing part of a name and pressing Tab completes it.
    harness.get_by_label("Path").type_text("sec");
    settle(&mut harness);
    harness.key_press(egui::Key::Tab);
    settle(&mut harness);
    let completed = format!("{folder}second.jsonl");
    assert_eq!(
        harness.get_by_label("Path").value().as_deref(),
        Some(completed.as_str())
    );
    harness.get_by_label("Open").click();
    settle(&mut harness);
    assert!(harness.query_by_label("Open CleverTap files").is_none());
    assert_eq!(harness.state().record_count(), 7);

    // A path that does not exist is refused in the box, with the reason.
    harness.get_by_label("Open…").click();
    settle(&mut harness);
    harness.get_by_label("Path").type_text("nothing-here.jsonl");
    settle(&mut harness);
    harness.get_by_label("Open").click();
    settle(&mut harness);
    harness.get_by_label_contains("no such file or folder");
    harness.get_by_label("Cancel").click();
    settle(&mut harness);
    assert!(harness.query_by_label("Open CleverTap files").is_none());
    assert_eq!(harness.state().record_count(), 7);
}

#[test]
fn a_quick_fix_sets_the_identity_of_every_selected_held_record() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("nobody.jsonl");
    let mut text = String::new();
    for i in 0..3 {
        text.push_str(&format!(
            "{{\"ts\":20220212004131,\"eventName\":\"App Launched\",\"profile\":{{\"objectId\":\"__obj{i}\",\"platform\":\"Web\"}}}}\n"
        ));
    }
    text.push_str("{\"ts\":20220212004131,\"eventName\":\"App Launched\",\"profile\":{\"identity\":\"u9\"}}\n");
    std::fs::write(&input, &text).unwrap();
    let edits = dir.path().join("edits.ndjson");
    let mut harness = window_with_edits(input.clone(), edits.clone());
    settle(&mut harness);
    harness.get_by_label("Unmapped/Held (3)").click();
    settle(&mut harness);
    harness.state_mut().push(Command::SelectAllInTab);
    harness.state_mut().push(Command::FocusRecord(1));
    settle(&mut harness);
    harness.get_by_label("Quick fix…").click();
    settle(&mut harness);
    harness
        .get_by_label("Set the customer id from profile.objectId (3 held records)")
        .click();
    settle(&mut harness);
    harness.get_by_label("Unmapped/Held (0)");
    harness.get_by_label("Other (4)");
    let kept = std::fs::read_to_string(&edits).unwrap();
    assert_eq!(kept.lines().count(), 3, "{kept}");
    assert!(kept.contains(r#"\"identity\":\"__obj2\""#), "{kept}");
    assert_eq!(
        std::fs::read_to_string(&input).unwrap(),
        text,
        "the input is untouched"
    );
}

#[test]
fn masking_shows_pseudonyms_everywhere_and_the_plan_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.jsonl");
    std::fs::write(
        &input,
        "{\"ts\":20220212004131,\"eventName\":\"App Launched\",\"profile\":{\"identity\":\"cust-4242\",\"email\":\"ana.lopez@example.com\",\"name\":\"Ana Lopez\"}}\n",
    )
    .unwrap();
    let mut harness = harness(vec![input], false);
    settle(&mut harness);
    harness.get_by_label("cust-4242").click();
    settle(&mut harness);
    assert!(
        harness
            .query_all_by_label_contains("ana.lopez@example.com")
            .next()
            .is_some()
    );
    harness.state_mut().push(Command::SetMask(true));
    settle(&mut harness);
    harness.get_by_label("masked");
    for personal in ["cust-4242", "ana.lopez@example.com", "Ana Lopez"] {
        assert!(
            harness
                .query_all_by_label_contains(personal)
                .next()
                .is_none(),
            "{personal} still shows"
        );
    }
    assert!(
        harness
            .query_all_by_label_contains("@masked.invalid")
            .next()
            .is_some()
    );
    // One value, one token: the table's identity is the one in the detail's source record
    // (a record mapped again from its masked text is not masked twice).
    let token = harness
        .query_all_by_label_contains("id:")
        .filter_map(|node| {
            node.accesskit_node()
                .value()
                .or(node.accesskit_node().label())
        })
        .find(|label| label.starts_with("id:") && !label.contains(' '))
        .expect("the identity column shows a token");

    let source_record = harness
        .query_all_by_label_contains("\"eventName\"")
        .filter_map(|node| node.accesskit_node().value())
        .find(|json| json.contains("\"profile\""))
        .expect("the detail view shows the source record");
    assert!(
        source_record.contains(&format!("\"identity\": \"{token}\"")),
        "{token} is not the source record's token: {source_record}"
    );
    // Masked records are for sharing: the send panel refuses to plan them for sending.
    harness.state_mut().push(Command::ShowSendPanel(true));
    harness.state_mut().push(Command::SelectAllInTab);
    settle(&mut harness);
    harness.get_by_label("Plan 1 record (dry run)").click();
    settle(&mut harness);
    harness.get_by_label_contains("1 record carries masked identities");
    assert!(disabled(&harness, "Send"));
    // Off again: the data shows in clear.
    harness.state_mut().push(Command::SetMask(false));
    settle(&mut harness);
    assert!(harness.query_by_label("masked").is_none());
    assert!(
        harness
            .query_all_by_label_contains("cust-4242")
            .next()
            .is_some()
    );
}
