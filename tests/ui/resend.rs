//! A send that fails, then "Resend failed" in the window (egui_kittest, no GPU): the panel says
//! the requests failed and why, and the resend sends exactly the batches that were not accepted.

use crate::ui_support::{settle, window_of_size};

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use feedlens::feed::{
    DEMO_KEY, DEMO_SECRET, Faults, FeedSettings, FeedTarget, LocalFeed, LocalFeedConfig, Secret,
    SendTuning,
};
use feedlens::ui::{App, Command, SendForm, StartOptions};

const RECORDS: usize = 4;

fn step_until(
    harness: &mut Harness<'static, App>,
    what: &str,
    done: impl Fn(&Harness<App>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    harness.step();
    while !done(harness) {
        assert!(Instant::now() < deadline, "{what}: still waiting");
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
    // What the step started (a plan, the table's views) may still run, with a spinner: wait
    // for it as a user would, rather than for a fixed number of frames.
    settle(harness);
}

#[test]
fn a_given_up_send_says_why_and_resend_failed_sends_exactly_those_batches() {
    let root = tempfile::tempdir().unwrap();
    let input: PathBuf = root.path().join("events.jsonl");
    let mut text = String::new();
    for i in 0..RECORDS {
        text.push_str(&format!(
            "{{\"ts\":20220212004131,\"eventName\":\"App Launched\",\"profile\":{{\"identity\":\"u{i}\"}}}}\n"
        ));
    }
    std::fs::write(&input, text).unwrap();

    // A feed that answers 503 to everything.
    let failing = LocalFeed::start(LocalFeedConfig {
        faults: Faults {
            fail_rate: 1.0,
            ..Faults::default()
        },
        ..LocalFeedConfig::default()
    })
    .unwrap();
    let url = failing.url();
    let port = failing.addr().port();

    let mut harness = window_of_size(
        StartOptions {
            files: vec![input],
            ..StartOptions::default()
        },
        [1600.0, 1400.0],
    );
    step_until(&mut harness, "loading", |h| {
        !h.state().is_busy() && h.state().record_count() == RECORDS
    });
    harness.state_mut().push(Command::ShowSendPanel(true));
    harness
        .state_mut()
        .push(Command::SetSendForm(Box::new(SendForm {
            settings: FeedSettings {
                target: FeedTarget::Url(url.clone()),
                tuning: SendTuning {
                    max_attempts: 2,
                    backoff_base: Duration::from_millis(10),
                    backoff_max: Duration::from_millis(20),
                    ..SendTuning::default()
                },
                ..FeedSettings::default()
            },
            url: url.clone(),
            key: DEMO_KEY.to_string(),
            secret: Secret::new(DEMO_SECRET),
            send_all: true,
        })));
    let plan_label = format!("Plan {RECORDS} records (dry run)");
    step_until(&mut harness, "the form", |h| {
        h.query_by_label(&plan_label).is_some()
    });
    harness.get_by_label(&plan_label).click();
    step_until(&mut harness, "planning", |h| {
        h.query_by_label_contains("records from 1 file").is_some()
    });
    // The plan's summary is laid out first: a click is aimed where the button is drawn.
    settle(&mut harness);
    assert!(
        harness
            .get_by_label("Resend failed")
            .accesskit_node()
            .is_disabled(),
        "nothing failed yet"
    );
    harness.get_by_label("Send").click();
    step_until(&mut harness, "the failing send", |h| {
        h.query_by_label_contains("Failed:").is_some()
    });
    harness.get_by_label_contains("were not accepted");
    assert!(
        harness
            .query_by_label_contains("Journal: this feed already accepted")
            .is_none(),
        "nothing accepted yet"
    );
    assert!(
        harness
            .query_all_by_label_contains("given up after 2 tries; the last said: HTTP 503")
            .next()
            .is_some(),
        "the reason, in words"
    );
    assert_eq!(failing.snapshot().accepted_batches, 0);

    // The feed is healthy again on the same address: resend exactly what failed.
    drop(failing);
    let healthy = LocalFeed::start(LocalFeedConfig {
        port,
        ..LocalFeedConfig::default()
    })
    .unwrap();
    let resend = format!("Resend failed ({RECORDS} batches)");
    settle(&mut harness);
    assert!(!harness.get_by_label(&resend).accesskit_node().is_disabled());
    harness.get_by_label(&resend).click();
    step_until(&mut harness, "the resend", |h| {
        h.query_by_label_contains("Sent: the feed accepted every batch")
            .is_some()
    });
    // The plan's journal line counts what this feed accepted since planning.
    harness.get_by_label(&format!(
        "Journal: this feed already accepted {RECORDS} of these {RECORDS} batches"
    ));
    let received = healthy.snapshot();
    assert_eq!(received.accepted_batches, RECORDS as u64);
    assert_eq!(received.duplicate_batches, 0);
    // Nothing failed is left: the button goes grey.
    assert!(
        harness
            .get_by_label("Resend failed")
            .accesskit_node()
            .is_disabled()
    );
    // Both sends are in the window's journal (its data folder): the 503s, then the resend.
    let journal = std::fs::read_to_string(harness.journal()).unwrap();
    let lines: Vec<serde_json::Value> = (journal.lines())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["http_status"], 503, "{journal}");
    assert_eq!(lines.last().unwrap()["status"], "accepted", "{journal}");
}
