//! Fix a held record and a broken line in the window, then send them (egui_kittest, no GPU):
//! the edit goes to the edits file, never to the input file; the records are mapped again and
//! move to their tabs.

use crate::ui_support::{settle, window_with_edits};

use std::path::Path;
use std::time::{Duration, Instant};

use egui_kittest::kittest::{NodeT, Queryable};
use feedlens::ui::{Command, SendForm, Tab};

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_held_record_and_a_broken_line_are_fixed_in_the_window_and_the_input_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("broken_lines.jsonl");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/broken_lines.jsonl");
    std::fs::copy(&samples, &input).unwrap();
    let before = bytes(&input);
    let edits = dir.path().join("edits.ndjson");
    let mut harness = window_with_edits(input.clone(), edits.clone());
    settle(&mut harness);
    harness.get_by_label("Unmapped/Held (4)");
    harness.get_by_label("Other (4)");

    // The editor applies nothing until its text changes, and Cancel keeps nothing.
    harness.get_by_label("Edit record…").click();
    settle(&mut harness);
    assert!(harness.get_by_label("Apply").accesskit_node().is_disabled());
    harness.get_by_label("Cancel").click();
    settle(&mut harness);
    assert!(harness.query_by_label("Edit the record").is_none());
    assert!(!edits.exists());

    // Line 7 is held: no customer id and no email.
    harness.state_mut().push(Command::FocusRecord(6));
    settle(&mut harness);
    assert_eq!(harness.state().tab(), Tab::parse("unmapped").unwrap());
    harness.get_by_label("Edit record…").click();
    settle(&mut harness);
    harness.get_by_label("Edit the record");
    // A typo is shown with its line and column; Apply keeps the last good text.
    harness
        .state_mut()
        .push(Command::SetEditorText("{\n  \"ts\": 1,\n  oops\n}".into()));
    settle(&mut harness);
    harness.get_by_label_contains("Not one JSON object: line 3, column 3");
    let fixed = r#"{"ts": 20220301100012, "eventName": "App Launched", "profile": {"identity": "fixed-777", "platform": "Android"}, "eventProps": {"CT Source": "Mobile"}}"#;
    harness
        .state_mut()
        .push(Command::SetEditorText(fixed.into()));
    settle(&mut harness);
    harness.get_by_label("Apply").click();
    settle(&mut harness);
    assert!(harness.query_by_label("Edit the record").is_none());
    harness.get_by_label("Unmapped/Held (3)");
    harness.get_by_label("Other (5)");
    // The focus followed the record to its new tab, marked edited.
    assert_eq!(harness.state().tab(), Tab::parse("other").unwrap());
    assert_eq!(harness.state().focused_record(), Some(6));
    harness.get_by_label("edited");
    assert!(
        harness
            .state()
            .status()
            .contains("(1 edit); the input file is unchanged"),
        "{}",
        harness.state().status()
    );

    // Line 4 is not JSON at all: its text opens in the same editor and becomes a record.
    harness.state_mut().push(Command::FocusRecord(3));
    settle(&mut harness);
    harness.get_by_label("Repair the line…").click();
    settle(&mut harness);
    harness.get_by_label("Repair a broken line");
    assert_eq!(
        harness
            .get_by_label("The line as read (make it one JSON object)")
            .value()
            .as_deref(),
        Some("App Launched,20220301,not json"),
        "the broken line's own text is in the editor"
    );
    let repaired = r#"{"ts": 20220301100004, "eventName": "App Launched", "profile": {"identity": "fixed-888"}}"#;
    harness
        .state_mut()
        .push(Command::SetEditorText(repaired.into()));
    settle(&mut harness);
    harness.get_by_label("Apply").click();
    settle(&mut harness);
    harness.get_by_label("Unmapped/Held (2)");
    harness.get_by_label("Other (6)");
    assert_eq!(
        harness.state().record_count(),
        8,
        "nothing lost, nothing added"
    );

    // The input never changed; the edits file holds both fixes, one line each.
    assert_eq!(bytes(&input), before);
    let kept = std::fs::read_to_string(&edits).unwrap();
    assert_eq!(kept.lines().count(), 2, "{kept}");
    assert!(
        harness.state().status().contains("(2 edits)"),
        "{}",
        harness.state().status()
    );
    assert!(kept.contains("fixed-777") && kept.contains("fixed-888"));

    // Send every record to the built-in local feed: the two fixed ones go with the others.
    harness.state_mut().push(Command::ShowSendPanel(true));
    harness
        .state_mut()
        .push(Command::SetSendForm(Box::new(SendForm {
            send_all: true,
            ..SendForm::default()
        })));
    settle(&mut harness);
    harness.get_by_label("Plan 8 records (dry run)").click();
    settle(&mut harness);
    harness.get_by_label_contains("plan: 1 requests, 6 batches");
    harness.get_by_label("Send").click();
    let deadline = Instant::now() + Duration::from_secs(30);
    while harness
        .query_by_label_contains("Sent: the feed accepted every batch")
        .is_none()
    {
        assert!(Instant::now() < deadline, "the send did not end");
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    harness.get_by_label_contains("1 requests · 6 batches accepted");

    // The same fixes replayed headless from the edits file.
    let replay = std::process::Command::new(env!("CARGO_BIN_EXE_feedlens"))
        .args(["send", "--local", "--journal"])
        .arg(harness.journal())
        .arg("--edits")
        .arg(&edits)
        .arg(&input)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&replay.stdout).to_string()
        + &String::from_utf8_lossy(&replay.stderr);
    assert!(said.contains("6/6 batches and 6 events accepted"), "{said}");

    // The Edits panel: send exactly the edited records, then revert one.
    harness.state_mut().push(Command::ShowEditsPanel(true));
    settle(&mut harness);
    harness.get_by_label("Send the edited records…").click();
    settle(&mut harness);
    assert_eq!(harness.state().selected_count(), 2);
    harness.get_by_label("Plan 2 records (dry run)");
    harness.get_all_by_label("Revert").next().unwrap().click();
    settle(&mut harness);
    harness.get_by_label("Unmapped/Held (3)");
    assert_eq!(std::fs::read_to_string(&edits).unwrap().lines().count(), 1);
    assert_eq!(bytes(&input), before);

    // A window opened again on the same file finds the edit that is left.
    let mut again = window_with_edits(input, edits);
    settle(&mut again);
    again.get_by_label("Unmapped/Held (3)");
    again.get_by_label("Other (5)");

    // Line 6 is held for its time; fixed, it joins its user's batch (as many batches as
    // before), and the detail shows that batch, not the one it was in before the edit (none).
    again.state_mut().push(Command::FocusRecord(5));
    settle(&mut again);
    again.get_by_label("Edit record…").click();
    settle(&mut again);
    let timed = r#"{"ts": 20220301100005, "eventName": "App Launched", "profile": {"identity": "88412903"}, "eventProps": {"CT Source": "Mobile"}}"#;
    again.state_mut().push(Command::SetEditorText(timed.into()));
    settle(&mut again);
    again.get_by_label("Apply").click();
    settle(&mut again);
    again.get_by_label("Unmapped/Held (2)");
    again.get_by_label("Select its batch (2)");
    assert!(again.query_by_label_contains("In no batch").is_none());
    again.get_by_label_contains("· 2 events ·");
}
