//! Fix and compare in the window (egui_kittest, no GPU): the diff view of a record before and
//! after its edit, File › Compare with… against a modified copy, and a quick fix of the event
//! name on a selection. Each window writes its edits to a temporary folder.

use crate::ui_support::{click_file_menu_item, settle, window_with_edits};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use feedlens::ui::{App, Command, Tab};

fn copy_sample(dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name);
    std::fs::copy(from, &to).unwrap();
    to
}

/// Count in a tab's label, "Other (5)" → 5.
fn tab_count(harness: &Harness<'static, App>, name: &str) -> usize {
    let prefix = format!("{name} (");
    let node = harness.get_by(|node| {
        node.label()
            .is_some_and(|l| l.starts_with(&prefix) && l.ends_with(')'))
    });
    let label = node.accesskit_node().label().unwrap_or_default();
    label[prefix.len()..label.len() - 1].parse().unwrap()
}

const FIXED: &str = r#"{"ts": 20220301100012, "eventName": "App Launched", "profile": {"identity": "fixed-777", "platform": "Android"}, "eventProps": {"CT Source": "Mobile"}}"#;

#[test]
fn the_diff_view_shows_what_an_edit_changed() {
    let dir = tempfile::tempdir().unwrap();
    let input = copy_sample(dir.path(), "broken_lines.jsonl");
    let mut harness = window_with_edits(input, dir.path().join("edits.ndjson"));
    settle(&mut harness);

    // Line 7 is held (no identity): its edit's effect shows live in the editor.
    harness.state_mut().push(Command::FocusRecord(6));
    settle(&mut harness);
    assert!(harness.query_by_label("Compare with original").is_none());
    harness.get_by_label("Edit record…").click();
    settle(&mut harness);
    assert!(
        harness.query_by_label("What this edit changes").is_none(),
        "nothing changed yet"
    );
    harness
        .state_mut()
        .push(Command::SetEditorText(FIXED.into()));
    settle(&mut harness);
    harness.get_by_label("What this edit changes");
    harness.get_by_label("status");
    harness.get_by_label("\"held\"");
    harness.get_by_label("\"mapped\"");
    harness.get_by_label("user_identities");

    // Applied: the record is edited, and Compare with original shows the same change.
    harness.get_by_label("Apply").click();
    settle(&mut harness);
    assert_eq!(harness.state().focused_record(), Some(6));
    harness.get_by_label("edited");
    harness.get_by_label("Compare with original").click();
    settle(&mut harness);
    assert!(
        harness.query_all_by_label("Compare with original").count() >= 2,
        "the button and the window's title"
    );
    harness.get_by_label_contains("changed · 1 added");
    harness.get_by_label("status");
    harness.get_by_label("\"held\"");
    harness.get_by_label("\"mapped\"");
    harness.get_by_label("user_identities");

    // The Edits panel's Compare focuses the edit's record and opens the same diff.
    harness.state_mut().push(Command::FocusRecord(0));
    settle(&mut harness);
    assert_eq!(harness.state().focused_record(), Some(0));
    harness.state_mut().push(Command::ShowEditsPanel(true));
    settle(&mut harness);
    harness.get_by_label("Compare").click();
    settle(&mut harness);
    assert_eq!(harness.state().focused_record(), Some(6));
    harness.get_by_label_contains("changed · 1 added");
}

#[test]
fn compare_with_a_modified_copy_counts_each_category() {
    let dir = tempfile::tempdir().unwrap();
    let input = copy_sample(dir.path(), "events.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&input)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    // B: line 3 removed, and a new record (line 2 with another customer id) appended.
    let mut modified = lines.clone();
    modified.remove(2);
    let added = lines[1].replace("\"profile\": {", "\"profile\": {\"x-new\": 1, ");
    assert_ne!(added, lines[1]);
    modified.push(added);
    let b = dir.path().join("modified.jsonl");
    std::fs::write(&b, modified.join("\n") + "\n").unwrap();

    let mut harness = window_with_edits(input, dir.path().join("edits.ndjson"));
    settle(&mut harness);
    let records = harness.state().record_count();
    assert_eq!(records, lines.len());

    // A's first record is edited in the window: it is matched by its original's id.
    harness.state_mut().push(Command::FocusRecord(0));
    settle(&mut harness);
    harness.get_by_label("Edit record…").click();
    settle(&mut harness);
    let edited = lines[0].replace("\"airtel\"", "\"airtel-edited\"");
    assert_ne!(edited, lines[0]);
    harness.state_mut().push(Command::SetEditorText(edited));
    settle(&mut harness);
    harness.get_by_label("Apply").click();
    settle(&mut harness);
    harness.get_by_label("edited");

    // File › Compare with… → the path box → Compare.
    click_file_menu_item(&mut harness, "Compare with…");
    settle(&mut harness);
    harness.get_by_label("Compare the loaded files with (a file or folder)");
    // A path that does not exist is refused, named.
    let missing = dir.path().join("missing.jsonl");
    harness
        .state_mut()
        .push(Command::SetPathText(missing.display().to_string()));
    settle(&mut harness);
    harness.get_by_label("Compare").click();
    settle(&mut harness);
    harness.get_by_label(&format!("no such file or folder: {}", missing.display()));
    harness
        .state_mut()
        .push(Command::SetPathText(b.display().to_string()));
    settle(&mut harness);
    harness.get_by_label("Compare").click();
    settle(&mut harness);
    harness.get_by_label(&format!("Same: {}", records - 2));
    harness.get_by_label("Changed: 1");
    harness.get_by_label("Only in A: 1");
    harness.get_by_label("Only in B: 1");
    assert!(
        harness.state().errors().is_empty(),
        "{:?}",
        harness.state().errors()
    );

    // The changed record opens its diff: the edited field.
    harness
        .get_by(|node| {
            node.label()
                .is_some_and(|l| l.starts_with("changed (") && l.contains("events.jsonl:1"))
        })
        .click();
    settle(&mut harness);
    harness.get_by_label("\"airtel-edited\"");
}

#[test]
fn a_quick_fix_of_the_event_name_maps_the_selected_held_records() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("records.jsonl");
    let nameless = 4;
    let mut text = String::new();
    for n in 0..nameless {
        text.push_str(&format!(
            "{{\"ts\": 2022030110000{n}, \"profile\": {{\"identity\": \"user-{n}\"}}, \"eventProps\": {{\"CT Source\": \"Mobile\"}}}}\n"
        ));
    }
    text.push_str("{\"ts\": 20220301100009, \"eventName\": \"App Launched\", \"profile\": {\"identity\": \"user-9\"}}\n");
    std::fs::write(&input, &text).unwrap();
    let before = std::fs::read(&input).unwrap();
    let edits = dir.path().join("edits.ndjson");
    let mut harness = window_with_edits(input.clone(), edits.clone());
    settle(&mut harness);
    let held = tab_count(&harness, "Unmapped/Held");
    assert_eq!(held, nameless);
    let other = tab_count(&harness, "Other");

    // Every held record selected; the menu offers the documented names for all of them.
    harness
        .state_mut()
        .push(Command::SetTab(Tab::parse("unmapped").unwrap()));
    settle(&mut harness);
    harness.state_mut().push(Command::SelectAllInTab);
    settle(&mut harness);
    assert_eq!(harness.state().selected_count(), nameless);
    harness.get_by_label("Quick fix…").click();
    harness.run_steps(2);
    harness
        .get_by_label(&format!(
            "Set the event name ({nameless} selected records)…"
        ))
        .click();
    harness.run_steps(2);
    harness
        .get_by_label(&format!(
            "Set event name to App Launched for {nameless} selected records"
        ))
        .click();
    settle(&mut harness);

    assert_eq!(tab_count(&harness, "Other"), other + nameless);
    assert_eq!(tab_count(&harness, "Unmapped/Held"), 0);
    let kept = std::fs::read_to_string(&edits).unwrap();
    assert_eq!(kept.lines().count(), nameless, "{kept}");
    assert!(kept.lines().all(|l| l.contains("App Launched")));
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is untouched"
    );

    // Edit › Save the edits as… writes the same edits elsewhere for a script.
    let copy = dir.path().join("replay.ndjson");
    harness.get_by_label("Edit").click();
    harness.run_steps(2);
    harness.get_by_label("Save the edits as…").click();
    settle(&mut harness);
    harness
        .state_mut()
        .push(Command::SetPathText(copy.display().to_string()));
    settle(&mut harness);
    harness.get_by_label("Save").click();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !copy.exists() {
        assert!(Instant::now() < deadline, "the edits were not saved");
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), kept);
    settle(&mut harness);
    harness.get_by_label_contains(&format!("saved the edits ({nameless}) to"));
}

#[test]
fn a_typed_time_is_checked_before_it_repairs_an_unreadable_time() {
    let dir = tempfile::tempdir().unwrap();
    let input = copy_sample(dir.path(), "broken_lines.jsonl");
    let edits = dir.path().join("edits.ndjson");
    let mut harness = window_with_edits(input, edits.clone());
    settle(&mut harness);
    let held = tab_count(&harness, "Unmapped/Held");
    let other = tab_count(&harness, "Other");

    // Line 6's ts is "yesterday": held for its time.
    harness.state_mut().push(Command::FocusRecord(5));
    settle(&mut harness);
    harness.get_by_label("Quick fix…").click();
    harness.run_steps(2);
    harness.get_by_label("Set the time (this record)…").click();
    harness.run_steps(2);
    assert!(
        harness
            .get_by_label("Set the time for this record")
            .accesskit_node()
            .is_disabled(),
        "nothing typed yet"
    );
    harness
        .state_mut()
        .push(Command::QuickFixTime("tomorrow".into()));
    settle(&mut harness);
    assert!(
        harness
            .state()
            .errors()
            .iter()
            .any(|e| e.contains("the time is not set")),
        "{:?}",
        harness.state().errors()
    );
    assert!(!edits.exists(), "nothing kept");

    harness
        .state_mut()
        .push(Command::QuickFixTime("2022-03-01 10:00:05".into()));
    settle(&mut harness);
    assert_eq!(tab_count(&harness, "Unmapped/Held"), held - 1);
    assert_eq!(tab_count(&harness, "Other"), other + 1);
    assert_eq!(harness.state().focused_record(), Some(5));
    harness.get_by_label("edited");
    let kept = std::fs::read_to_string(&edits).unwrap();
    assert!(kept.contains("20220301100005"), "{kept}");
}
