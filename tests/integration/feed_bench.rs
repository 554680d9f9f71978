//! Throughput to the local feed, with and without faults. Ignored by default (it measures, it
//! does not check much); run with
//! `cargo test --release --test integration feed_bench:: -- --ignored --nocapture --test-threads 1`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::feed_support::*;
use feedlens::feed::*;
use feedlens::mparticle::Environment;

fn measure(label: &str, records: usize, faults: Faults, tuning: SendTuning) {
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "export.jsonl", records, records / 2, 0);
    let plan_started = Instant::now();
    let plan = plan_of(&[file], Environment::Development);
    let plan_time = plan_started.elapsed();
    let planned = planned_ids(&plan);
    let record = dir.path().join("record.ndjson");
    let feed = LocalFeed::start(LocalFeedConfig {
        faults,
        ..feed_config(&record)
    })
    .unwrap();
    let target = FeedSettings::default()
        .resolve(&Credentials::default(), Some(&feed.endpoint()))
        .unwrap();
    let requests = plan.requests.len();
    let bytes = plan.total_bytes();
    let started = Instant::now();
    let summary = Sender::start(
        SendJob {
            plan: Arc::new(plan),
            target,
            tuning,
            journal: Some(dir.path().join("journal.ndjson")),
        },
        || {},
    )
    .unwrap()
    .wait();
    let elapsed = started.elapsed();
    let snapshot = feed.snapshot();
    assert!(summary.all_accepted());
    assert_exactly_once(&feed, &record, &planned);
    println!(
        "{label:<38} {:>6} batches {:>4} requests {:>6.1} MB  plan {:>5.2} s  send {:>6.2} s  {:>7.0} batches/s  {:>5.1} MB/s  retries {:>4}  duplicates absorbed {:>4}",
        planned.len(),
        requests,
        bytes as f64 / 1e6,
        plan_time.as_secs_f64(),
        elapsed.as_secs_f64(),
        planned.len() as f64 / elapsed.as_secs_f64(),
        bytes as f64 / 1e6 / elapsed.as_secs_f64(),
        summary.progress.retries,
        snapshot.duplicate_batches
    );
}

fn tuning(concurrency: usize) -> SendTuning {
    SendTuning {
        concurrency,
        max_attempts: 30,
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_secs(2),
        ..SendTuning::default()
    }
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn throughput_to_the_local_feed() {
    let records = 40_000;
    measure(
        "no faults, 4 in flight",
        records,
        Faults::default(),
        tuning(4),
    );
    measure(
        "no faults, 1 in flight",
        records,
        Faults::default(),
        tuning(1),
    );
    measure(
        "latency 20 ms, 4 in flight",
        records,
        Faults {
            latency: Duration::from_millis(20),
            ..Faults::default()
        },
        tuning(4),
    );
    measure(
        "10% 503s + 5% drops, 4 in flight",
        records,
        Faults {
            fail_rate: 0.1,
            drop_rate: 0.05,
            ..Faults::default()
        },
        tuning(4),
    );
    measure(
        "all faults (503 10%, drop 5%, 20 ms)",
        records,
        Faults {
            fail_rate: 0.1,
            drop_rate: 0.05,
            latency: Duration::from_millis(20),
            rate_limit: Some(5_000),
        },
        tuning(4),
    );
    measure(
        "rate limit 270 batches/s (mParticle's)",
        6_000,
        Faults {
            rate_limit: Some(270),
            ..Faults::default()
        },
        tuning(4),
    );
}
