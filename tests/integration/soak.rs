//! Faults while sending, at scale: a soak with every fault on at once, and a loop of senders
//! killed with SIGKILL at random points, each restarted with `--resend-failed`.
//!
//! CI runs the short versions. The long ones, as documented in the README:
//! `FEEDLENS_SOAK_RECORDS=40000 FEEDLENS_KILL_ROUNDS=10 cargo test --release --test integration soak:: -- --nocapture`

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::feed_support::*;
use feedlens::feed::*;
use feedlens::mparticle::Environment;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn soak_with_every_fault_at_once_delivers_each_batch_exactly_once() {
    let records = env_number("FEEDLENS_SOAK_RECORDS", 3000);
    let dir = tempfile::tempdir().unwrap();
    // One record per user: one batch per record, so batches = records.
    let file = write_export(dir.path(), "soak.jsonl", records, records, 0);
    let plan = plan_of(std::slice::from_ref(&file), Environment::Development);
    let planned = planned_ids(&plan);
    let record = dir.path().join("record.ndjson");
    let journal = dir.path().join("journal.ndjson");
    let feed = LocalFeed::start(LocalFeedConfig {
        faults: Faults {
            fail_rate: 0.15,
            drop_rate: 0.10,
            rate_limit: Some(1500),
            latency: Duration::from_millis(15),
        },
        ..feed_config(&record)
    })
    .unwrap();
    let target = FeedSettings::default()
        .resolve(&Credentials::default(), Some(&feed.endpoint()))
        .unwrap();
    let started = Instant::now();
    let summary = send_and_wait(plan, target, fast_tuning(), Some(&journal));
    let elapsed = started.elapsed();
    let snapshot = feed.snapshot();
    assert!(summary.all_accepted(), "{:?}", summary.progress);
    assert_exactly_once(&feed, &record, &planned);
    let journaled = journal_accepted(&journal);
    assert_eq!(
        journaled, planned,
        "the journal's accepted batches are what the feed recorded"
    );
    assert!(
        snapshot.injected_failures > 0 && snapshot.dropped_before + snapshot.dropped_after > 0,
        "{snapshot:?}"
    );
    eprintln!(
        "soak: {} batches in {:.1} s ({:.0}/s); faults: {} 503s, {} rate-limited, {} dropped before / {} after; {} retries; {} duplicates absorbed; 0 lost, 0 recorded twice",
        planned.len(),
        elapsed.as_secs_f64(),
        planned.len() as f64 / elapsed.as_secs_f64(),
        snapshot.injected_failures,
        snapshot.rate_limited,
        snapshot.dropped_before,
        snapshot.dropped_after,
        summary.progress.retries,
        snapshot.duplicate_batches,
    );
    feed.stop();
}

fn send_command(home: &Path, url: &str, journal: &Path, file: &Path, resend: bool) -> Command {
    let mut command = feedlens_command(home);
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .args([
            "send",
            "--local",
            "--url",
            url,
            "--concurrency",
            "3",
            "--backoff-ms",
            "10",
            "--max-attempts",
            "30",
            "--journal",
        ])
        .arg(journal)
        .arg(file);
    if resend {
        command.arg("--resend-failed");
    }
    command
}

#[test]
fn senders_killed_at_random_points_finish_with_resend_failed_without_duplicates_or_gaps() {
    let rounds = env_number("FEEDLENS_KILL_ROUNDS", 3);
    let mut rng = fastrand::Rng::with_seed(env_number("FEEDLENS_KILL_SEED", 11) as u64);
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "kill.jsonl", 2000, 2000, 5);
    let plan = plan_of(std::slice::from_ref(&file), Environment::Development);
    let planned = planned_ids(&plan);
    let record = dir.path().join("record.ndjson");
    let journal = dir.path().join("journal.ndjson");
    let feed = LocalFeed::start(LocalFeedConfig {
        faults: Faults {
            latency: Duration::from_millis(60),
            drop_rate: 0.05,
            fail_rate: 0.05,
            ..Faults::default()
        },
        ..feed_config(&record)
    })
    .unwrap();
    let url = feed.url();
    let mut kills = Vec::new();
    for round in 0..rounds {
        let before = feed.batch_count();
        if before >= planned.len() {
            break;
        }
        // Kill once a random share of what is left has arrived (or after a random delay).
        let target = before + (planned.len() - before) * rng.usize(5..60) / 100;
        let mut child = send_command(dir.path(), &url, &journal, &file, round > 0)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_millis(rng.u64(300..4000));
        while feed.batch_count() < target
            && Instant::now() < deadline
            && child.try_wait().unwrap().is_none()
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        kills.push(feed.batch_count());
        // A torn journal line from the kill must not stop the next run.
        let contents = read_journal(&journal).unwrap();
        assert!(
            contents.unreadable_lines.len() <= 1,
            "{:?}",
            contents.unreadable_lines
        );
    }
    let status = send_command(dir.path(), &url, &journal, &file, true)
        .status()
        .unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "the final --resend-failed run completes"
    );
    assert_exactly_once(&feed, &record, &planned);
    eprintln!(
        "kill loop: {} batches, killed at {kills:?} batches taken, then completed; duplicates absorbed by the feed: {}",
        planned.len(),
        feed.snapshot().duplicate_batches
    );
    feed.stop();
}
