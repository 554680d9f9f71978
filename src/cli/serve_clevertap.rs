//! `feedlens serve-clevertap`: the CleverTap API stand-in on 127.0.0.1, serving the records of
//! NDJSON files (grouped by their `eventName`, which the API's records do not carry), for
//! trying `feedlens pull` without an account.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::clevertap::pull::standin::{StandIn, StandInConfig};
use crate::clevertap::pull::{ACCOUNT_ID_ENV, PASSCODE_ENV};
use crate::cli::{EXIT_OK, EXIT_USAGE};

/// The stand-in's account id when FEEDLENS_CLEVERTAP_ACCOUNT_ID is unset: not a real one.
pub const DEMO_ACCOUNT_ID: &str = "feedlens-demo";
/// The stand-in's passcode when FEEDLENS_CLEVERTAP_PASSCODE is unset: not a real one.
pub const DEMO_PASSCODE: &str = "feedlens-demo-passcode";

/// `feedlens serve-clevertap` options.
///
/// Serves the Get Events API (cursor pages) and the Get Event Count API (answering `partial`
/// first) on 127.0.0.1 with the records of FILE..., until Ctrl-C. It accepts the account id
/// and passcode in FEEDLENS_CLEVERTAP_ACCOUNT_ID / FEEDLENS_CLEVERTAP_PASSCODE, or the demo
/// pair feedlens-demo / feedlens-demo-passcode when they are unset.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeClevertapArgs {
    /// NDJSON files of records with `eventName` (e.g. samples/events.jsonl).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The port on 127.0.0.1 (0: a free one).
    #[arg(long, value_name = "N", default_value_t = 8090)]
    pub port: u16,
    /// Serve each event's records this many times over (for a longer pull).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub copies: u32,
    /// Answer every Nth request 429 "Too many concurrent requests" (0: never).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub too_many_every: u64,
    /// Close every Nth request's connection without an answer (0: never).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub drop_every: u64,
    /// Answer each page after this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub page_delay_ms: u64,
}

fn events_of(args: &ServeClevertapArgs) -> Result<(BTreeMap<String, Vec<String>>, usize), String> {
    let mut events: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut skipped = 0;
    for path in &args.files {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let Ok(serde_json::Value::Object(mut record)) = serde_json::from_str(line) else {
                skipped += 1;
                continue;
            };
            let Some(serde_json::Value::String(name)) = record.shift_remove("eventName") else {
                skipped += 1;
                continue;
            };
            events
                .entry(name)
                .or_default()
                .push(serde_json::Value::Object(record).to_string());
        }
    }
    for records in events.values_mut() {
        let one = records.clone();
        for _ in 1..args.copies {
            records.extend(one.iter().cloned());
        }
    }
    Ok((events, skipped))
}

/// Runs `feedlens serve-clevertap` until Ctrl-C.
pub fn serve_clevertap(args: &ServeClevertapArgs) -> ExitCode {
    let (events, skipped) = match events_of(args) {
        Ok(events) => events,
        Err(message) => {
            eprintln!("feedlens serve-clevertap: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let config = StandInConfig {
        account_id: from_env(ACCOUNT_ID_ENV).unwrap_or_else(|| DEMO_ACCOUNT_ID.to_string()),
        passcode: from_env(PASSCODE_ENV).unwrap_or_else(|| DEMO_PASSCODE.to_string()),
        too_many_every: args.too_many_every,
        drop_every: args.drop_every,
        page_delay: Duration::from_millis(args.page_delay_ms),
        generation: 1,
        events,
        ..StandInConfig::default()
    };
    let listing: Vec<String> = config
        .events
        .iter()
        .map(|(name, records)| format!("  {name}: {} records", records.len()))
        .collect();
    let stand_in = match StandIn::start(config, args.port) {
        Ok(stand_in) => stand_in,
        Err(error) => {
            eprintln!(
                "feedlens serve-clevertap: cannot listen on 127.0.0.1:{}: {error}",
                args.port
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    println!(
        "CleverTap API stand-in on {} (Ctrl-C to stop)",
        stand_in.url()
    );
    if from_env(PASSCODE_ENV).is_none() {
        println!("account id {DEMO_ACCOUNT_ID}, passcode {DEMO_PASSCODE} (demo, not real)");
    }
    println!("{}", listing.join("\n"));
    if skipped > 0 {
        println!("({skipped} lines without an eventName skipped)");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    if let Err(error) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        eprintln!("feedlens serve-clevertap: cannot catch Ctrl-C: {error}");
    }
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let stats = stand_in.stats();
    println!(
        "served {} requests: {} cursors, {} pages, {} count answers, {} refused, {} 429s, {} dropped",
        stats.requests,
        stats.cursors,
        stats.pages,
        stats.counts,
        stats.refused,
        stats.too_many,
        stats.dropped
    );
    ExitCode::from(EXIT_OK)
}
