//! Resending a fixed record safely (egui_kittest, no GPU): a record sent once and then edited
//! gets a new id, so sending it again adds a second event in mParticle. The plan says so, from
//! the journal, and Send waits for an explicit confirmation.

use crate::ui_support::{settle, window_with_edits};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use feedlens::ui::{App, Command, SendForm};

fn wait_for(harness: &mut Harness<'static, App>, label: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while harness.query_by_label_contains(label).is_none() {
        assert!(Instant::now() < deadline, "waiting for {label:?}");
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
}

fn plan_and_send_all(harness: &mut Harness<'static, App>) {
    harness
        .state_mut()
        .push(Command::SetSendForm(Box::new(SendForm {
            send_all: true,
            ..SendForm::default()
        })));
    harness.state_mut().push(Command::PlanSend);
    settle(harness);
}

#[test]
fn an_edited_record_whose_original_was_accepted_needs_a_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let input: PathBuf = dir.path().join("events.jsonl");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/events.jsonl"),
        &input,
    )
    .unwrap();
    let mut harness = window_with_edits(input.clone(), dir.path().join("edits.ndjson"));
    settle(&mut harness);

    // Everything is sent once to the local feed, and accepted.
    harness.state_mut().push(Command::ShowSendPanel(true));
    plan_and_send_all(&mut harness);
    assert!(
        harness
            .query_by_label_contains("were sent before")
            .is_none()
    );
    harness.get_by_label("Send").click();
    wait_for(&mut harness, "Sent: the feed accepted every batch");

    // The first record is fixed afterwards: another value for one of its properties.
    let first_line = std::fs::read_to_string(&input)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let mut record: serde_json::Value = serde_json::from_str(&first_line).unwrap();
    record["eventProps"]["CT Source"] = "Fixed".into();
    harness.state_mut().push(Command::EditRecord(0));
    settle(&mut harness);
    harness
        .state_mut()
        .push(Command::SetEditorText(record.to_string()));
    harness.state_mut().push(Command::ApplyEdit);
    // The edit shows as soon as it is kept: the row is mapped again in place, no file is read
    // again.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !harness.state().status().starts_with("edit kept in") {
        assert!(Instant::now() < deadline, "the edit was not kept");
        std::thread::sleep(Duration::from_millis(5));
        harness.step();
    }
    assert!(!harness.state().is_loading());
    settle(&mut harness);
    harness.get_by_label("edited");

    // Sending the edited record: the plan says its original went already; Send waits.
    harness.state_mut().push(Command::SendEdited);
    settle(&mut harness);
    assert_eq!(harness.state().selected_count(), 1);
    harness.state_mut().push(Command::PlanSend);
    settle(&mut harness);
    harness.get_by_label_contains("1 of these records were sent before, unedited, on ");
    assert!(harness.get_by_label("Send").accesskit_node().is_disabled());
    harness.state_mut().push(Command::StartSend);
    settle(&mut harness);
    harness.get_by_label_contains("Tick \"Send them anyway\" to send.");
    harness.get_by_label("Send them anyway").click();
    settle(&mut harness);
    harness.get_by_label("Send").click();
    wait_for(&mut harness, "Sent: the feed accepted every batch");

    // Planned again with every record, the edited one still carries the warning.
    harness.state_mut().push(Command::ClearSelection);
    plan_and_send_all(&mut harness);
    harness.get_by_label_contains("1 of these records were sent before");
}
