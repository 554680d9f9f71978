//! Sending to the local feed in-process, with faults: every batch arrives exactly once, nothing
//! is lost, the journal agrees with what the feed took, refusals are not retried.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::feed_support::*;
use feedlens::feed::*;
use feedlens::mparticle::Environment;

struct Run {
    summary: SendSummary,
    snapshot: ReceivedSnapshot,
    planned: BTreeSet<String>,
}

/// Sends `plan` to a local feed with `faults`, asserting exactly-once delivery and a journal
/// that agrees with the feed.
fn send_with_faults(dir: &Path, plan: SendPlan, faults: Faults, tuning: SendTuning) -> Run {
    let record = dir.join("record.ndjson");
    let journal = dir.join("journal.ndjson");
    let feed = LocalFeed::start(LocalFeedConfig {
        faults,
        ..feed_config(&record)
    })
    .unwrap();
    let settings = FeedSettings::default();
    let target = settings
        .resolve(&Credentials::default(), Some(&feed.endpoint()))
        .unwrap();
    let planned = planned_ids(&plan);
    let summary = send_and_wait(plan, target, tuning, Some(&journal));
    let snapshot = feed.snapshot();
    assert!(
        summary.all_accepted(),
        "not all accepted: {:?}",
        summary
            .outcomes
            .iter()
            .filter(|o| **o != RequestOutcome::Accepted)
            .collect::<Vec<_>>()
    );
    assert_eq!(summary.progress.batches_accepted, planned.len());
    assert_exactly_once(&feed, &record, &planned);
    // The journal's accepted lines name exactly the batches the feed took.
    let lines = journal_lines(&journal);
    let journaled = journal_accepted(&journal);
    assert_eq!(journaled, planned);
    assert_eq!(lines.len(), summary.progress.attempts);
    assert!(lines.iter().all(|l| l.target == "local" && l.attempt >= 1));
    feed.stop();
    Run {
        summary,
        snapshot,
        planned,
    }
}

fn sample_plan(dir: &Path, records: usize, users: usize) -> SendPlan {
    let file = write_export(dir, "export.jsonl", records, users, 7);
    plan_of(&[file], Environment::Development)
}

#[test]
fn clean_send_takes_every_batch_once() {
    let dir = tempfile::tempdir().unwrap();
    let plan = sample_plan(dir.path(), 3000, 1200);
    assert!(
        plan.requests.len() >= 10,
        "{} requests",
        plan.requests.len()
    );
    let run = send_with_faults(dir.path(), plan, Faults::default(), fast_tuning());
    assert_eq!(run.summary.progress.retries, 0);
    assert_eq!(run.snapshot.duplicate_batches, 0);
    assert_eq!(run.snapshot.accepted_batches as usize, run.planned.len());
}

#[test]
fn injected_503s_are_retried_until_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let plan = sample_plan(dir.path(), 2000, 800);
    let faults = Faults {
        fail_rate: 0.4,
        ..Faults::default()
    };
    let run = send_with_faults(dir.path(), plan, faults, fast_tuning());
    assert!(run.snapshot.injected_failures > 0);
    assert!(run.summary.progress.retries as u64 >= run.snapshot.injected_failures);
    assert_eq!(run.snapshot.duplicate_batches, 0, "a 503 takes nothing");
}

#[test]
fn dropped_connections_lose_nothing_and_double_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let plan = sample_plan(dir.path(), 2500, 1000);
    let faults = Faults {
        drop_rate: 0.35,
        ..Faults::default()
    };
    let run = send_with_faults(dir.path(), plan, faults, fast_tuning());
    let snapshot = &run.snapshot;
    assert!(
        snapshot.dropped_before > 0 && snapshot.dropped_after > 0,
        "{snapshot:?}"
    );
    // Each drop after taking the batches makes the retry a duplicate, absorbed by the feed.
    assert!(snapshot.duplicate_batches > 0);
}

#[test]
fn rate_limit_bursts_are_waited_out() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "export.jsonl", 300, 300, 0);
    let plan = plan_of(&[file], Environment::Development);
    assert_eq!(plan.requests.len(), 3);
    // 100 batches a second: of the 4 workers' first tries, one passes and the rest get 429.
    let faults = Faults {
        rate_limit: Some(100),
        ..Faults::default()
    };
    let started = std::time::Instant::now();
    let run = send_with_faults(dir.path(), plan, faults, fast_tuning());
    assert!(run.snapshot.rate_limited > 0, "{:?}", run.snapshot);
    // One request a second at most: the send cannot beat the limit.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?} for {} batches",
        started.elapsed(),
        run.planned.len()
    );
    // Retry-After (1 s) was honoured: a request's next try comes at least 1 s after its 429.
    let lines = journal_lines(&dir.path().join("journal.ndjson"));
    for (position, line) in lines.iter().enumerate() {
        if line.http_status != Some(429) {
            continue;
        }
        let next = lines[position + 1..]
            .iter()
            .find(|l| l.request_id == line.request_id)
            .expect("a 429 is followed by another try");
        let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
        let gap = at(&next.time) - at(&line.time);
        assert!(
            gap.num_milliseconds() >= 1000,
            "retried {} ms after a 429",
            gap.num_milliseconds()
        );
    }
}

#[test]
fn latency_and_every_fault_together() {
    let dir = tempfile::tempdir().unwrap();
    let plan = sample_plan(dir.path(), 2500, 1000);
    let faults = Faults {
        fail_rate: 0.2,
        drop_rate: 0.2,
        rate_limit: Some(1500),
        latency: Duration::from_millis(20),
    };
    let run = send_with_faults(dir.path(), plan, faults, fast_tuning());
    let snapshot = &run.snapshot;
    assert!(snapshot.injected_failures > 0, "{snapshot:?}");
    assert!(
        snapshot.dropped_before + snapshot.dropped_after > 0,
        "{snapshot:?}"
    );
    assert!(run.summary.progress.retries > 0);
}

#[test]
fn a_request_that_keeps_failing_is_given_up_after_the_allowed_tries() {
    let dir = tempfile::tempdir().unwrap();
    let plan = sample_plan(dir.path(), 50, 50);
    assert_eq!(
        plan.requests.len(),
        2,
        "one recent and one historical request"
    );
    let feed = LocalFeed::start(LocalFeedConfig {
        faults: Faults {
            fail_rate: 1.0,
            ..Faults::default()
        },
        ..LocalFeedConfig::default()
    })
    .unwrap();
    let target = FeedSettings::default()
        .resolve(&Credentials::default(), Some(&feed.endpoint()))
        .unwrap();
    let journal = dir.path().join("journal.ndjson");
    let tuning = SendTuning {
        max_attempts: 3,
        ..fast_tuning()
    };
    let summary = send_and_wait(plan, target, tuning, Some(&journal));
    for outcome in &summary.outcomes {
        match outcome {
            RequestOutcome::GivenUp { attempts, error } => {
                assert_eq!(*attempts, 3);
                assert!(error.contains("503"), "{error}");
            }
            other => panic!("expected given up, got {other:?}"),
        }
    }
    assert_eq!(feed.snapshot().requests, 6);
    let statuses: Vec<AttemptStatus> = journal_lines(&journal).iter().map(|l| l.status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == AttemptStatus::GivenUp)
            .count(),
        2
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == AttemptStatus::Retrying)
            .count(),
        4
    );
    assert!(!summary.all_accepted());
}

#[test]
fn wrong_credentials_are_rejected_once_with_the_feeds_answer() {
    let dir = tempfile::tempdir().unwrap();
    let plan = sample_plan(dir.path(), 300, 300);
    let requests = plan.requests.len();
    let feed = LocalFeed::start(LocalFeedConfig::default()).unwrap();
    let settings = FeedSettings {
        target: FeedTarget::Url(feed.url()),
        ..FeedSettings::default()
    };
    let target = settings
        .resolve(&Credentials::new(DEMO_KEY, "not-the-secret"), None)
        .unwrap();
    let summary = send_and_wait(plan, target, fast_tuning(), None);
    assert_eq!(summary.progress.attempts, requests, "403 is never retried");
    for outcome in &summary.outcomes {
        match outcome {
            RequestOutcome::Rejected { http_status, body } => {
                assert_eq!(*http_status, 403);
                assert!(body.contains("FORBIDDEN"), "{body}");
            }
            other => panic!("expected rejected, got {other:?}"),
        }
    }
    let snapshot = feed.snapshot();
    assert_eq!(snapshot.forbidden as usize, requests);
    assert_eq!(snapshot.accepted_batches, 0);
}

#[test]
fn an_invalid_batch_is_rejected_with_400_and_the_error_body() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = sample_plan(dir.path(), 20, 20);
    // Break one batch the way the API refuses: an unknown custom_event_type.
    plan.batches[0].batch.events[0].data.custom_event_type = Some("Other".into());
    let feed = LocalFeed::start(LocalFeedConfig::default()).unwrap();
    let target = FeedSettings::default()
        .resolve(&Credentials::default(), Some(&feed.endpoint()))
        .unwrap();
    let summary = send_and_wait(plan, target, fast_tuning(), None);
    let RequestOutcome::Rejected { http_status, body } = &summary.outcomes[0] else {
        panic!("{:?}", summary.outcomes);
    };
    assert_eq!(*http_status, 400);
    let answer: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(answer["errors"][0]["code"], "BAD_REQUEST");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("custom_event_type"),
        "{body}"
    );
    assert_eq!(
        summary.progress.attempts,
        summary.outcomes.len(),
        "400 is never retried"
    );
    assert_eq!(feed.snapshot().bad_requests, 1);
}

#[test]
fn cancel_ends_every_request_and_resend_failed_completes_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let plan = sample_plan(dir.path(), 3000, 1500);
    let planned = planned_ids(&plan);
    let record = dir.path().join("record.ndjson");
    let journal = dir.path().join("journal.ndjson");
    let feed = LocalFeed::start(LocalFeedConfig {
        faults: Faults {
            latency: Duration::from_millis(60),
            ..Faults::default()
        },
        ..feed_config(&record)
    })
    .unwrap();
    let target = FeedSettings::default()
        .resolve(&Credentials::default(), Some(&feed.endpoint()))
        .unwrap();
    let tuning = SendTuning {
        concurrency: 2,
        ..fast_tuning()
    };
    let job = SendJob {
        plan: Arc::new(plan.clone()),
        target: target.clone(),
        tuning: tuning.clone(),
        journal: Some(journal.clone()),
    };
    let wakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&wakes);
    let handle = Sender::start(job, move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    })
    .unwrap();
    while feed.batch_count() < 300 {
        std::thread::sleep(Duration::from_millis(5));
    }
    handle.cancel();
    let mut finished = None;
    while finished.is_none() {
        for event in handle.try_events() {
            if let SendEvent::Finished(summary) = event {
                finished = Some(summary);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let summary = finished.unwrap();
    assert!(handle.is_finished());
    assert!(summary.cancelled);
    assert!(wakes.load(std::sync::atomic::Ordering::SeqCst) > 0);
    let cancelled = summary
        .outcomes
        .iter()
        .filter(|o| **o == RequestOutcome::Cancelled)
        .count();
    assert!(cancelled > 0, "cancel came too late to matter");
    assert_eq!(
        summary.progress.requests_done(),
        plan.requests.len(),
        "every request ended"
    );
    // Every request has a final journal line; those never sent are journaled as attempt 0.
    let lines = journal_lines(&journal);
    let ended: BTreeSet<&str> = lines
        .iter()
        .filter(|l| l.status != AttemptStatus::Retrying)
        .map(|l| l.request_id.as_str())
        .collect();
    assert_eq!(ended.len(), plan.requests.len());

    // The window's marks and resend failed agree with what the feed took.
    let marks = accepted_in_plan(&journal, &plan, &target).unwrap();
    assert_eq!(marks.accepted_count, summary.progress.batches_accepted);
    assert_eq!(marks.accepted_count, feed.batch_count());
    let accepted = read_journal(&journal).unwrap().accepted_for(&target);
    let rest = plan.excluding(&accepted);
    assert_eq!(rest.already_accepted, marks.accepted_count);
    assert_eq!(rest.batch_count() + rest.already_accepted, planned.len());
    let summary = send_and_wait(rest, target, tuning, Some(&journal));
    assert!(summary.all_accepted());
    assert_exactly_once(&feed, &record, &planned);
    assert_eq!(feed.snapshot().duplicate_batches, 0);
}
