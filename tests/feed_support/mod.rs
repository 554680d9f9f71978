//! Shared helpers of the feed tests: a reproducible CleverTap export written to a temp dir, the
//! plan the library makes of it, fast sender tuning, and readers for the record and journal.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use feedlens::feed::{
    JournalLine, LocalFeedConfig, LocalFeedHandle, ResolvedTarget, SendJob, SendPlan, SendSummary,
    SendTuning, Sender, read_journal,
};
use feedlens::mapping::{Engine, MapOptions, Rules};
use feedlens::mparticle::Environment;
use serde_json::{Value, json};

/// Writes `records` CleverTap export records (NDJSON) for `users` users; every `old_every`-th
/// record (0: none) is 40 days old, the others from the last two days.
pub fn write_export(
    dir: &Path,
    name: &str,
    records: usize,
    users: usize,
    old_every: usize,
) -> PathBuf {
    let path = dir.join(name);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let now = chrono::Utc::now().timestamp();
    let names = [
        "App Launched",
        "Notification Viewed",
        "Charged",
        "Product Viewed",
    ];
    for index in 0..records {
        let user = index % users;
        let old = old_every > 0 && index % old_every == 0;
        let ts = if old {
            now - 40 * 86_400 - index as i64
        } else {
            now - 3_600 - (index as i64 % 150_000)
        };
        let record = json!({
            "ts": ts,
            "eventName": names[index % names.len()],
            "profile": {
                "identity": format!("user-{user}"),
                "email": format!("user{user}@example.com"),
                "platform": "Android",
                "name": format!("User {user}"),
            },
            "deviceInfo": {"make": "samsung", "model": "SM-G781B", "appVersion": "4.3.0", "osVersion": "12"},
            "eventProps": {
                "CT Source": "Mobile",
                "CT App Version": "4.3.0",
                "Sequence": index,
                "Note": format!("record {index} of the feed tests"),
            },
        });
        writeln!(file, "{record}").unwrap();
    }
    file.flush().unwrap();
    path
}

/// A record with a large property, to push batches towards the size limits.
pub fn write_big_export(
    dir: &Path,
    name: &str,
    records: usize,
    users: usize,
    pad: usize,
) -> PathBuf {
    let path = dir.join(name);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let now = chrono::Utc::now().timestamp();
    for index in 0..records {
        let user = index % users;
        let record = json!({
            "ts": now - 7_200 - index as i64,
            "eventName": "App Launched",
            "profile": {"identity": format!("big-{user}")},
            "eventProps": {"CT Source": "Mobile", "Padding": "x".repeat(pad)},
        });
        writeln!(file, "{record}").unwrap();
    }
    file.flush().unwrap();
    path
}

/// The engine the command line uses by default (built-in rules).
pub fn engine(environment: Environment) -> Engine {
    let rules = Rules::default_rules().unwrap();
    Engine::new(
        Arc::new(rules),
        MapOptions {
            environment,
            ..MapOptions::default()
        },
    )
}

/// The library's plan of `files`, as `feedlens send` makes it.
pub fn plan_of(files: &[PathBuf], environment: Environment) -> SendPlan {
    let engine = engine(environment);
    let (outcomes, summary) = feedlens::pipeline::load(files, &engine);
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    SendPlan::from_outcomes(
        &outcomes,
        |_, _| true,
        environment,
        false,
        engine.options().now_millis,
    )
}

/// The plan's batch ids.
pub fn planned_ids(plan: &SendPlan) -> BTreeSet<String> {
    plan.batches
        .iter()
        .map(|b| b.batch.source_request_id.clone())
        .collect()
}

/// Tuning that keeps the suite fast: short backoff, many tries.
pub fn fast_tuning() -> SendTuning {
    SendTuning {
        concurrency: 4,
        max_attempts: 30,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(100),
        request_timeout: Duration::from_secs(10),
        ..SendTuning::default()
    }
}

/// A local feed config recording to `record`.
pub fn feed_config(record: &Path) -> LocalFeedConfig {
    LocalFeedConfig {
        record: Some(record.to_path_buf()),
        seed: Some(42),
        ..LocalFeedConfig::default()
    }
}

/// `source_request_id` → times it appears in a record file.
pub fn recorded_counts(record: &Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(record).unwrap_or_default();
    let mut counts = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let batch: Value = serde_json::from_str(line).unwrap();
        let id = batch["source_request_id"].as_str().unwrap().to_string();
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

/// Asserts the feed took every planned batch exactly once and nothing else.
pub fn assert_exactly_once(feed: &LocalFeedHandle, record: &Path, plan: &BTreeSet<String>) {
    let counts = recorded_counts(record);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "batches recorded more than once: {twice:?}"
    );
    let recorded: BTreeSet<String> = counts.keys().cloned().collect();
    let lost: Vec<_> = plan.difference(&recorded).collect();
    assert!(
        lost.is_empty(),
        "{} batches lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    let extra: Vec<_> = recorded.difference(plan).collect();
    assert!(extra.is_empty(), "unplanned batches recorded: {extra:?}");
    let taken: Vec<String> = feed.accepted_ids();
    assert_eq!(taken.len(), plan.len(), "the feed's own count");
    assert_eq!(taken.into_iter().collect::<BTreeSet<_>>(), *plan);
}

/// The batches the journal's accepted lines name.
pub fn journal_accepted(path: &Path) -> BTreeSet<String> {
    journal_lines(path)
        .iter()
        .filter(|l| l.status == feedlens::feed::AttemptStatus::Accepted)
        .flat_map(|l| l.batch_ids.iter().cloned())
        .collect()
}

/// The `feedlens` binary with a private home and data folder, no credentials from the
/// environment and no standard input.
pub fn feedlens_command(home: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_feedlens"));
    command
        .env_remove("FEEDLENS_API_KEY")
        .env_remove("FEEDLENS_API_SECRET")
        .env_remove("RUST_LOG")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .stdin(std::process::Stdio::null());
    command
}

/// Every journal line.
pub fn journal_lines(path: &Path) -> Vec<JournalLine> {
    let contents = read_journal(path).unwrap();
    assert!(
        contents.unreadable_lines.is_empty(),
        "{:?}",
        contents.unreadable_lines
    );
    contents.lines
}

/// Sends `plan` to `target` (journal `journal`, if any) and waits for the end.
pub fn send_and_wait(
    plan: SendPlan,
    target: ResolvedTarget,
    tuning: SendTuning,
    journal: Option<&Path>,
) -> SendSummary {
    Sender::start(
        SendJob {
            plan: Arc::new(plan),
            target,
            tuning,
            journal: journal.map(Path::to_path_buf),
        },
        || {},
    )
    .unwrap()
    .wait()
}
