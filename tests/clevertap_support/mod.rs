//! Shared helpers of the pull tests: the stand-in's records made from samples/, the lines a
//! pull must write for them, and the `feedlens` binary with CleverTap credentials.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use feedlens::clevertap::pull::standin::{StandIn, StandInConfig};
use serde_json::Value;

/// The account id the stand-in accepts.
pub const ACCOUNT: &str = "TEST-ACC-123";
/// The passcode the stand-in accepts: distinctive, so a grep finds any copy of it.
pub const PASSCODE: &str = "pc-9f3Kq7-DO-NOT-LEAK-41xZ";

fn samples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// The records in samples/ as the Get Events API would serve them (no `eventName`), per event:
/// the Get Events page's records (pretty printed, as the API's pages often are) under its
/// event, then every record of events.jsonl under its own name.
pub fn sample_events() -> BTreeMap<String, Vec<String>> {
    let mut events: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let page: Value = serde_json::from_slice(
        &std::fs::read(samples().join("1668834000-1668834123-UTM Visited-20221119-0-42.json"))
            .unwrap(),
    )
    .unwrap();
    for record in page["records"].as_array().unwrap() {
        events
            .entry("UTM Visited".to_string())
            .or_default()
            .push(serde_json::to_string_pretty(record).unwrap());
    }
    let text = std::fs::read_to_string(samples().join("events.jsonl")).unwrap();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut record: Value = serde_json::from_str(line).unwrap();
        let name = record
            .as_object_mut()
            .unwrap()
            .shift_remove("eventName")
            .unwrap();
        events
            .entry(name.as_str().unwrap().to_string())
            .or_default()
            .push(record.to_string());
    }
    events
}

/// `count` records for each of `names`, made from the Get Events page's records, each told
/// apart by `event_props.Sequence` and its time.
pub fn many_events(names: &[&str], count: usize) -> BTreeMap<String, Vec<String>> {
    let page: Value = serde_json::from_slice(
        &std::fs::read(samples().join("1668834000-1668834123-UTM Visited-20221119-0-42.json"))
            .unwrap(),
    )
    .unwrap();
    let templates = page["records"].as_array().unwrap();
    names
        .iter()
        .map(|name| {
            let records = (0..count)
                .map(|i| {
                    let mut record = templates[i % templates.len()].clone();
                    record["ts"] = Value::from(20240301000000u64 + (i as u64 % 60) * 100);
                    record["event_props"]["Sequence"] = Value::from(i);
                    record.to_string()
                })
                .collect();
            (name.to_string(), records)
        })
        .collect()
}

/// A stand-in serving `events` with the test credentials and no faults.
pub fn config(events: BTreeMap<String, Vec<String>>) -> StandInConfig {
    StandInConfig {
        account_id: ACCOUNT.to_string(),
        passcode: PASSCODE.to_string(),
        events,
        generation: 1,
        ..StandInConfig::default()
    }
}

/// Starts a stand-in on `port` (the URL a state file names).
pub fn start_on(config: StandInConfig, port: u16) -> StandIn {
    StandIn::start(config, port).unwrap()
}

/// Starts a stand-in on a free port.
pub fn start(config: StandInConfig) -> StandIn {
    StandIn::start(config, 0).unwrap()
}

/// The line a pulled record must be: `eventName` first, then the record's own keys in order,
/// as compact JSON (normalised through serde_json, as the lines read back are).
pub fn expected_line(event: &str, record: &str) -> String {
    let record: Value = serde_json::from_str(record).unwrap();
    let mut object = serde_json::Map::new();
    object.insert("eventName".to_string(), Value::from(event));
    for (key, value) in record.as_object().unwrap() {
        object.insert(key.clone(), value.clone());
    }
    Value::Object(object).to_string()
}

/// The output's lines, normalised like [`expected_line`], grouped by event in file order.
pub fn lines_by_event(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut by_event: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.split_inclusive('\n') {
        assert!(line.ends_with('\n'), "a torn last line: {line:?}");
        let value: Value = serde_json::from_str(line).unwrap();
        let event = value["eventName"].as_str().unwrap().to_string();
        by_event.entry(event).or_default().push(value.to_string());
    }
    by_event
}

/// What the stand-in's events must give, grouped like [`lines_by_event`].
pub fn expected_by_event(events: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<String>> {
    events
        .iter()
        .map(|(event, records)| {
            (
                event.clone(),
                records.iter().map(|r| expected_line(event, r)).collect(),
            )
        })
        .collect()
}

/// `feedlens pull` against `url` for `events`, with the test credentials (override them with
/// `.env`), fast retries and count polls.
pub fn pull_command(url: &str, events: &[&str], output: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_feedlens"));
    command
        .env_remove("RUST_LOG")
        .env("FEEDLENS_CLEVERTAP_ACCOUNT_ID", ACCOUNT)
        .env("FEEDLENS_CLEVERTAP_PASSCODE", PASSCODE)
        .stdin(std::process::Stdio::null())
        .args([
            "pull", "--url", url, "--from", "20240301", "--to", "20240307",
        ])
        .args([
            "--backoff-ms",
            "5",
            "--max-backoff-ms",
            "50",
            "--count-poll-ms",
            "5",
        ])
        .arg("-o")
        .arg(output);
    for event in events {
        command.args(["--event", event]);
    }
    command
}

/// Standard error or output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
