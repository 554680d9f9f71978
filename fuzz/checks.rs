//! What the fuzz targets check, shared with `tests/integration/fuzz_regressions.rs` so that a found input is
//! replayed against exactly the same invariants by `cargo test`.
//!
//! - [`read_file`]: arbitrary bytes as an input file, read and mapped by `pipeline::run` (the
//!   path `pipeline::load` takes): no panic, no hang, bounded memory, the accounting adds up,
//!   places name the file and come in file order, every unreadable record says why.
//! - [`map_json`]: arbitrary JSON values through `Engine::map`, then `build_batches` and
//!   `split_requests`: every selected record lands in exactly one batch, a batch is over 128 KB
//!   only when it holds a single event, a request holds at most 100 batches and stays under
//!   256 KB unless it is one batch alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use feedlens::clevertap::{Json, Place, json_from_serde};
use feedlens::mapping::{
    DEFAULT_RULES, DEFAULT_RULES_NAME, Engine, MapOptions, Outcome, RecordStatus, Rules,
    build_batches, parse_timezone, split_requests,
};
use feedlens::mparticle::Environment;
use feedlens::mparticle::limits::{MAX_BATCH_BYTES, MAX_BATCHES_PER_REQUEST, MAX_REQUEST_BYTES};
use feedlens::pipeline::{self, Accounting};
use serde_json::Value;

/// "Now" for the age checks, fixed so that a replayed input behaves as it did when found.
const NOW: i64 = 1_700_000_000_000;

/// File names the first byte of a [`read_file`] input picks from: extensions, no extension,
/// export-pattern names (which give an event-name fallback).
pub const NAMES: [&str; 8] = [
    "input.jsonl",
    "input.json",
    "input.csv",
    "input.json.gz",
    "input",
    "1668834000-1668834123-UTM Visited-20221119-0-42.json",
    "1650000000-1650003600-App Launched-20220415-3-5.csv.gz",
    "9f1c2d3e-aa12-1650003600-Control Group-20220415-1-db.JSON",
];

/// A gzip bomb legitimately expands 64 KB into millions of records; reading them all measures
/// only throughput, so the run is cancelled (as the window's Cancel does) past this many.
const MAX_READ_RECORDS: u64 = 100_000;

/// Most records [`map_json`] maps per input (each may be repeated up to 16 times).
const MAX_MAP_RECORDS: usize = 256;

fn default_rules() -> Arc<Rules> {
    static RULES: OnceLock<Arc<Rules>> = OnceLock::new();
    Arc::clone(RULES.get_or_init(|| Arc::new(Rules::default_rules().expect("built-in rules"))))
}

/// The directory [`read_file`] writes its input into when fuzzing: `$FEEDLENS_FUZZ_DIR` (set by
/// `fuzz/run.sh`, which removes it afterwards), else one directory per process in /dev/shm.
pub fn fuzz_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = match std::env::var_os("FEEDLENS_FUZZ_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => {
                let shm = Path::new("/dev/shm");
                let base = if shm.is_dir() {
                    shm.to_path_buf()
                } else {
                    std::env::temp_dir()
                };
                base.join(format!("feedlens-fuzz-{}", std::process::id()))
            }
        };
        std::fs::create_dir_all(&dir).expect("create the fuzzing directory");
        dir
    })
}

/// Input layout: byte 0 picks the file name from [`NAMES`] (bits 0–2), tracing (bit 3) and
/// keeping the source (bit 4); the rest is the file's content, written into `dir`.
pub fn read_file(dir: &Path, data: &[u8]) {
    let Some((&selector, content)) = data.split_first() else {
        return;
    };
    let path = dir.join(NAMES[usize::from(selector) % NAMES.len()]);
    std::fs::write(&path, content).expect("write the input file");
    let options = MapOptions {
        now_millis: NOW,
        trace: selector & 0x08 != 0,
        keep_source: selector & 0x10 != 0,
        ..MapOptions::default()
    };
    let engine = Engine::new(default_rules(), options);

    let cancel = AtomicBool::new(false);
    let mut accounting = Accounting::default();
    let mut last_line = 0;
    let summary = pipeline::run(
        std::slice::from_ref(&path),
        &engine,
        &cancel,
        |_| {},
        |info, outcomes| {
            assert_eq!(&*info.path, path.as_path());
            for outcome in &outcomes {
                accounting.add(outcome);
                let place = &outcome.place;
                assert_eq!(&*place.file, path.as_path(), "the place names the file");
                assert!(place.line >= 1 && place.column >= 1, "{place:?}");
                assert!(place.line >= last_line, "records out of order: {place:?}");
                last_line = place.line;
                if outcome.status == RecordStatus::Unreadable {
                    let message = outcome.worst_finding().map(|f| f.message.as_str());
                    assert!(message.is_some_and(|m| !m.is_empty()), "{outcome:?}");
                }
                if let Some(mapped) = &outcome.mapped {
                    // What `feedlens map` writes must serialise.
                    serde_json::to_vec(&mapped.event).expect("event serialises");
                    serde_json::to_vec(&mapped.user_attributes).expect("attributes serialise");
                }
            }
            if accounting.records_read >= MAX_READ_RECORDS {
                cancel.store(true, Ordering::Relaxed);
            }
        },
    );
    assert!(accounting.balanced(), "{accounting:?}");
    assert_eq!(
        accounting.by_category.values().sum::<u64>(),
        accounting.records_read
    );
    assert_eq!(
        accounting.by_event.values().sum::<u64>(),
        accounting.records_read
    );
    assert_eq!(summary.files.len() + summary.failures.len(), 1);
    if !summary.failures.is_empty() {
        assert_eq!(accounting.records_read, 0);
    }
}

const FALLBACKS: [Option<&str>; 4] = [
    None,
    Some("App Launched"),
    Some("Control Group"),
    Some("Charged "),
];

const ZONES: [&str; 4] = [
    "UTC",
    "Asia/Kolkata",
    "America/New_York",
    "Australia/Lord_Howe",
];

/// The built-in rules with each combination of the three policies (3 × 2 × 2).
fn rule_variants() -> &'static [Arc<Rules>] {
    static VARIANTS: OnceLock<Vec<Arc<Rules>>> = OnceLock::new();
    VARIANTS.get_or_init(|| {
        let mut variants = Vec::new();
        for unknown in ["other", "hold", "drop"] {
            for undocumented in ["keep", "drop"] {
                for identity in ["hold", "send"] {
                    let text = DEFAULT_RULES
                        .replacen(
                            "unknown_events = \"other\"",
                            &format!("unknown_events = \"{unknown}\""),
                            1,
                        )
                        .replacen(
                            "undocumented_attributes = \"keep\"",
                            &format!("undocumented_attributes = \"{undocumented}\""),
                            1,
                        )
                        .replacen(
                            "missing_identity = \"hold\"",
                            &format!("missing_identity = \"{identity}\""),
                            1,
                        );
                    let rules = Rules::parse(&text, DEFAULT_RULES_NAME).expect("rules variant");
                    variants.push(Arc::new(rules));
                }
            }
        }
        variants
    })
}

/// The records in a [`map_json`] input: top-level values, arrays opened up, until the first
/// syntax error.
fn json_records(text: &[u8]) -> Vec<Json> {
    let mut records = Vec::new();
    for value in serde_json::Deserializer::from_slice(text).into_iter::<Value>() {
        let Ok(value) = value else { break };
        match value {
            Value::Array(items) => records.extend(items),
            other => records.push(other),
        }
        if records.len() >= MAX_MAP_RECORDS {
            break;
        }
    }
    records.truncate(MAX_MAP_RECORDS);
    // The engine takes sonic-rs values with numbers as written, as the reader makes them.
    records.iter().map(json_from_serde).collect()
}

/// Input layout: byte 0 picks the fallback name (bits 0–1) and the rules' policies (the rest);
/// byte 1 the time zone (bits 0–1), production (2), keep source (3), trace (4), sending held
/// records (5) and how often each record is repeated (6–7: 1, 6, 11 or 16 times, to fill
/// batches); the rest is JSON.
pub fn map_json(data: &[u8]) {
    let [policy, run, text @ ..] = data else {
        return;
    };
    let (policy, run) = (*policy, *run);
    let rules = &rule_variants()[usize::from(policy >> 2) % 12];
    let fallback = FALLBACKS[usize::from(policy & 0b11)];
    let options = MapOptions {
        event_name: (run & 0x80 != 0).then(|| "Fuzzed Event".to_string()),
        timezone: parse_timezone(ZONES[usize::from(run & 0b11)]).ok(),
        environment: if run & 0x04 != 0 {
            Environment::Production
        } else {
            Environment::Development
        },
        now_millis: NOW,
        keep_source: run & 0x08 != 0,
        trace: run & 0x10 != 0,
        mask: None,
        ids: true,
    };
    let include_held = run & 0x20 != 0;
    let repeat = 1 + usize::from((run >> 6) & 0b11) * 5;
    let engine = Engine::new(Arc::clone(rules), options);

    let file: Arc<Path> = Arc::from(Path::new("fuzz.json"));
    let mut outcomes: Vec<Outcome> = Vec::new();
    for (line, value) in json_records(text).into_iter().enumerate() {
        for copy in 0..repeat {
            let place = Place::at(Arc::clone(&file), line as u64 + 1, copy as u64 + 1);
            let outcome = engine.map(place, value.clone(), fallback);
            if let Some(mapped) = &outcome.mapped {
                serde_json::to_vec(&mapped.event).expect("event serialises");
            }
            if outcome.status != RecordStatus::Unreadable {
                assert!(outcome.mapped.is_some() || outcome.status == RecordStatus::Held);
            }
            outcomes.push(outcome);
        }
    }

    let include = |_: usize, outcome: &Outcome| {
        matches!(outcome.status, RecordStatus::Mapped | RecordStatus::Warned)
            || include_held && outcome.status == RecordStatus::Held
    };
    let plan = build_batches(&outcomes, include, engine.options().environment, NOW);

    // Every selected, mapped record lands in exactly one batch.
    let mut expected: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(i, o)| o.mapped.is_some() && include(*i, o))
        .map(|(i, _)| i)
        .collect();
    let mut seen: Vec<usize> = plan
        .batches
        .iter()
        .flat_map(|b| b.records.iter().copied())
        .collect();
    expected.sort_unstable();
    seen.sort_unstable();
    assert_eq!(seen, expected, "records and batches differ");

    let group_of: HashMap<usize, &str> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| Some((i, o.mapped.as_ref()?.group_key.as_str())))
        .collect();
    for planned in &plan.batches {
        let bytes = serde_json::to_vec(&planned.batch)
            .expect("batch serialises")
            .len();
        assert_eq!(
            planned.bytes, bytes,
            "the recorded size is the serialised size"
        );
        assert!(!planned.records.is_empty());
        let events = planned.batch.events.len();
        assert!(events <= planned.records.len());
        assert!(
            planned.bytes <= MAX_BATCH_BYTES || events <= 1,
            "a {} byte batch of {events} events could have been split",
            planned.bytes
        );
        let first_group = group_of[&planned.records[0]];
        assert!(
            planned.records.iter().all(|r| group_of[r] == first_group),
            "a batch mixes users"
        );
    }

    let requests = split_requests(&plan.batches);
    let mut next = 0;
    for range in &requests {
        assert_eq!(range.start, next, "requests cover the batches in order");
        assert!(range.end > range.start);
        next = range.end;
        let batches = &plan.batches[range.clone()];
        assert!(batches.len() <= MAX_BATCHES_PER_REQUEST);
        let body = 2 + batches.iter().map(|b| b.bytes).sum::<usize>() + batches.len() - 1;
        assert!(
            body < MAX_REQUEST_BYTES || batches.len() == 1,
            "a {body} byte request of {} batches",
            batches.len()
        );
        assert!(
            batches
                .iter()
                .all(|b| b.historical == batches[0].historical)
        );
    }
    assert_eq!(next, plan.batches.len());
}
