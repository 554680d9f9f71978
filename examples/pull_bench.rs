//! `feedlens pull`'s speed against the local CleverTap stand-in (issue 15's bench command).
//!
//! `cargo run --release --example pull_bench -- [--records N] [--events E] [--rounds R]
//! [--batch-size B]`
//!
//! Serves E events of N records each (made from the Get Events page in samples/, each told
//! apart by `event_props.Sequence`) from the stand-in on 127.0.0.1, then in each of R rounds:
//! - fetch: the same pages fetched with plain HTTP and thrown away (one thread per event, as
//!   the pull does): what the stand-in and the network give at most;
//! - pull: the library's pull (concurrency E) writing NDJSON with eventName, the state after
//!   every synced page, and the count reconciliation;
//!
//! and prints the medians: records/s of each, the pull's share of the fetch's rate, and the
//! share of the pull's time spent writing (the writer is the bottleneck only if that nears
//! 100 %).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use feedlens::clevertap::pull::standin::{StandIn, StandInConfig};
use feedlens::clevertap::pull::{PullJob, run};
use feedlens::feed::{Secret, SendTuning, check_url};
use serde_json::Value;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn option(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn records(count: usize) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples/1668834000-1668834123-UTM Visited-20221119-0-42.json");
    let page: Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let templates = page["records"].as_array().cloned().unwrap_or_default();
    Ok((0..count)
        .map(|i| {
            let mut record = templates[i % templates.len()].clone();
            record["event_props"]["Sequence"] = Value::from(i);
            record.to_string()
        })
        .collect())
}

/// Fetches every page of `event` with plain HTTP, returning the records seen.
fn fetch_only(base: &str, event: &str, batch: usize) -> Result<usize, Box<dyn std::error::Error>> {
    let client = reqwest::blocking::Client::builder().no_proxy().build()?;
    let get =
        |request: reqwest::blocking::RequestBuilder| -> Result<Value, Box<dyn std::error::Error>> {
            let body = request
                .header("X-CleverTap-Account-Id", "bench")
                .header("X-CleverTap-Passcode", "bench-passcode")
                .header("Content-Type", "application/json")
                .send()?
                .bytes()?;
            // Only the cursor is read: the records are skipped.
            #[derive(serde::Deserialize)]
            struct Head {
                cursor: Option<String>,
                next_cursor: Option<String>,
                records: Option<Vec<serde::de::IgnoredAny>>,
            }
            let head: Head = sonic_rs::from_slice(&body)?;
            Ok(serde_json::json!({
                "cursor": head.cursor.or(head.next_cursor),
                "records": head.records.map_or(0, |r| r.len()),
            }))
        };
    let first = get(client
        .post(format!(
            "{base}/1/events.json?batch_size={batch}&app=true&events=true&profile=true"
        ))
        .body(
            serde_json::json!({"event_name": event, "from": 20240301, "to": 20240307}).to_string(),
        ))?;
    let mut cursor = first["cursor"].as_str().map(str::to_string);
    let mut seen = 0;
    while let Some(current) = cursor {
        let page = get(client.get(format!("{base}/1/events.json?cursor={current}")))?;
        seen += page["records"].as_u64().unwrap_or(0) as usize;
        cursor = page["cursor"].as_str().map(str::to_string);
    }
    Ok(seen)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let per_event = option(&args, "--records", 100_000);
    let event_count = option(&args, "--events", 2);
    let rounds = option(&args, "--rounds", 3);
    let batch = option(&args, "--batch-size", 5000);
    let names: Vec<String> = (0..event_count)
        .map(|i| format!("Bench Event {i}"))
        .collect();
    let events: BTreeMap<String, Vec<String>> = names
        .iter()
        .map(|name| Ok((name.clone(), records(per_event)?)))
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    let stand_in = StandIn::start(
        StandInConfig {
            account_id: "bench".into(),
            passcode: "bench-passcode".into(),
            events,
            generation: 1,
            ..StandInConfig::default()
        },
        0,
    )?;
    let total = (per_event * event_count) as f64;
    let dir = tempfile_dir()?;
    let (mut fetch_rates, mut pull_rates, mut write_shares, mut mb) = (vec![], vec![], vec![], 0.0);
    for round in 0..rounds {
        let started = Instant::now();
        std::thread::scope(|scope| {
            let handles: Vec<_> = names
                .iter()
                .map(|name| {
                    scope.spawn(|| {
                        fetch_only(&stand_in.url(), name, batch).map_err(|e| e.to_string())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| "a fetch thread panicked".to_string())?
                })
                .collect::<Result<Vec<_>, String>>()
        })?;
        let fetch = started.elapsed();
        let job = PullJob {
            base_url: check_url(&stand_in.url())?,
            account_id: "bench".into(),
            passcode: Secret::new("bench-passcode"),
            events: names.clone(),
            range: (20240301, 20240307),
            batch_size: batch as u32,
            output: dir.join(format!("round{round}.ndjson")),
            resume: false,
            concurrency: event_count,
            tuning: SendTuning::default(),
            count_poll: Duration::from_millis(1),
        };
        let started = Instant::now();
        let summary = run(&job, &AtomicBool::new(false), &|_| {})?;
        let pull = started.elapsed();
        assert!(
            summary.complete(),
            "the pull did not reconcile: {summary:?}"
        );
        mb = summary.output_bytes as f64 / 1e6;
        std::fs::remove_file(&job.output)?;
        println!(
            "round {round}: fetch {:.2} s, pull {:.2} s ({:.0} MB written, writing {:.2} s)",
            fetch.as_secs_f64(),
            pull.as_secs_f64(),
            mb,
            summary.write_time.as_secs_f64()
        );
        fetch_rates.push(total / fetch.as_secs_f64());
        pull_rates.push(total / pull.as_secs_f64());
        write_shares.push(summary.write_time.as_secs_f64() / pull.as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{} events x {per_event} records, batch {batch}, {rounds} rounds, {mb:.0} MB per pull (medians):",
        event_count
    );
    println!(
        "  fetch only: {:>10.0} records/s",
        median(fetch_rates.clone())
    );
    println!(
        "  pull:       {:>10.0} records/s",
        median(pull_rates.clone())
    );
    let ratios: Vec<f64> = pull_rates
        .iter()
        .zip(&fetch_rates)
        .map(|(p, f)| p / f)
        .collect();
    println!("  pull / fetch: {:.2}", median(ratios));
    println!(
        "  share of the pull spent writing (synced pages and state): {:.0} %",
        100.0 * median(write_shares)
    );
    Ok(())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("feedlens-pull-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
