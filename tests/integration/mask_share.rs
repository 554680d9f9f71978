//! Masking end to end: every file in samples/ and the reference CleverTap records, through
//! `check --json --mask`, `map --mask`, `feedlens mask` and `report --mask`. No personal value
//! of the input (collected from the records themselves) appears in any output; the same value
//! masks the same way in a run and otherwise with another salt; the masked records map to the
//! same categories, statuses and finding kinds; and `send` refuses them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        root.join("samples"),
        root.join("../shared/reference/clevertap"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            // Webhook payloads are refused by design: nothing of them is read.
            if feedlens::clevertap::open(&path).is_ok() {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 6, "the samples are missing: {files:?}");
    files
}

/// Field names whose values are personal (compared without case, spaces and `_`).
const PERSONAL: [&str; 11] = [
    "identity",
    "identities",
    "email",
    "phone",
    "name",
    "token",
    "objectid",
    "clevertapid",
    "dob",
    "photo",
    "gender",
];
/// Property names that contain a personal word but name no one.
const NOT_PERSONAL: [&str; 8] = [
    "controlgroupname",
    "evtname",
    "campaignname",
    "journeyname",
    "clustername",
    "contentname",
    "ctnetworktype",
    "eventname",
];

fn collect(key: &str, value: &Value, personal: bool, out: &mut BTreeSet<String>) {
    let key = feedlens::mapping::attribute_key(key);
    let personal = personal
        || (PERSONAL.iter().any(|word| key.contains(word))
            && !NOT_PERSONAL.contains(&key.as_str()));
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                collect(name, member, personal, out);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect(&key, item, personal, out)),
        Value::String(text) if personal => {
            for entry in std::iter::once(text.as_str()).chain(text.split(',')) {
                let entry = entry.trim().trim_matches(['[', ']']).trim();
                // One or two letters (a gender) occur anywhere; longer values must not.
                if entry.chars().count() >= 4 {
                    out.insert(entry.to_string());
                    out.insert(entry.to_lowercase());
                }
            }
        }
        Value::Number(number) if personal => {
            out.insert(number.to_string());
        }
        _ => {}
    }
}

/// Every personal value of the inputs, read with feedlens's own reader (CSV included).
fn personal_values(files: &[PathBuf]) -> BTreeSet<String> {
    let mut values = BTreeSet::new();
    for path in files {
        let mut reader = feedlens::clevertap::open(path).unwrap();
        let mut items = Vec::new();
        while reader.next_chunk(512, &mut items) {}
        for item in items {
            if let feedlens::clevertap::ReadItem::Record(raw) = item {
                let feedlens::clevertap::RawPayload::Json(text) = &raw.payload;
                if let Ok(record) = serde_json::from_slice::<Value>(text) {
                    collect("", &record, false, &mut values);
                }
            }
        }
    }
    // Phones written as `+91…` elsewhere.
    let digits: Vec<String> = values
        .iter()
        .map(|v| v.trim_start_matches('+').to_string())
        .collect();
    values.extend(digits);
    assert!(
        values.len() > 30,
        "too few personal values found: {values:?}"
    );
    values
}

fn feedlens(args: &[&str], data_home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_feedlens"))
        .args(args)
        .env("XDG_DATA_HOME", data_home)
        .env("HOME", data_home)
        .output()
        .unwrap()
}

fn with_files<'a>(args: &[&'a str], files: &'a [PathBuf]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(files.iter().map(|f| f.to_str().unwrap()));
    all
}

fn assert_no_personal(what: &str, output: &str, personal: &BTreeSet<String>) {
    for value in personal {
        assert!(
            !output.contains(value.as_str()),
            "{what} shows the personal value {value:?}"
        );
    }
}

/// Category and event counts, statuses, and finding kinds with their statuses.
fn shape_of(check_json: &[u8]) -> (Value, BTreeMap<(String, String, String), usize>) {
    let report: Value = serde_json::from_slice(check_json).unwrap();
    let mut kinds = BTreeMap::new();
    for finding in report["findings"].as_array().unwrap() {
        let key = ["kind", "status", "severity"].map(|k| finding[k].as_str().unwrap().to_string());
        *kinds
            .entry((key[0].clone(), key[1].clone(), key[2].clone()))
            .or_default() += 1;
    }
    let counts = serde_json::json!([
        report["records_read"],
        report["mapped"],
        report["warned"],
        report["held"],
        report["dropped"],
        report["unreadable"],
        report["by_category"],
        report["by_event"],
    ]);
    (counts, kinds)
}

#[test]
fn no_personal_value_reaches_any_masked_output_and_masked_records_map_the_same() {
    let files = inputs();
    let personal = personal_values(&files);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let salt = ["--mask", "--mask-salt", "team salt"];

    let check = feedlens(
        &with_files(&[&["check", "--json"], &salt[..]].concat(), &files),
        home,
    );
    let check_text = String::from_utf8(check.stdout.clone()).unwrap();
    assert!(check_text.contains("\"findings\""), "{check_text}");
    assert_no_personal("check --json --mask", &check_text, &personal);

    let map = feedlens(&with_files(&[&["map"], &salt[..]].concat(), &files), home);
    let map_text = String::from_utf8(map.stdout).unwrap();
    assert!(map_text.contains("@masked.invalid"), "{map_text}");
    assert_no_personal("map --mask", &map_text, &personal);
    // Users still join: as many batches as without masking.
    let plain_map = feedlens(&with_files(&["map"], &files), home);
    assert_eq!(
        map_text.lines().count(),
        String::from_utf8(plain_map.stdout).unwrap().lines().count()
    );

    let masked = home.join("masked.ndjson");
    let out = masked.to_str().unwrap();
    let run = feedlens(
        &with_files(&["mask", "--mask-salt", "team salt", "-o", out], &files),
        home,
    );
    assert!(run.status.code().is_some_and(|c| c < 2), "{run:?}");
    let masked_text = std::fs::read_to_string(&masked).unwrap();
    assert_no_personal("feedlens mask", &masked_text, &personal);

    let html = home.join("report.html");
    let report_args = [&["report", "-o", html.to_str().unwrap()], &salt[..]].concat();
    feedlens(&with_files(&report_args, &files), home);
    let html_text = std::fs::read_to_string(&html).unwrap();
    assert!(
        html_text.contains(">masked<"),
        "the report shows it is masked"
    );
    assert_no_personal("report --mask", &html_text, &personal);

    // The masked records map as the originals did.
    let plain_check = feedlens(&with_files(&["check", "--json"], &files), home);
    let masked_check = feedlens(&["check", "--json", out], home);
    assert_eq!(
        shape_of(&masked_check.stdout),
        shape_of(&plain_check.stdout)
    );
    assert_eq!(shape_of(&check.stdout), shape_of(&plain_check.stdout));

    // The same value, the same token; another salt, other tokens.
    let masker = |salt: &str| {
        let rules = feedlens::mapping::Rules::default_rules().unwrap();
        feedlens::mask::Masker::new(&feedlens::mask::MaskSalt::from_text(salt), &rules)
    };
    let (team, other) = (masker("team salt"), masker("other salt"));
    let emails: Vec<&String> = personal
        .iter()
        .filter(|v| feedlens::mapping::looks_like_email(v) && v.to_lowercase() == **v)
        .collect();
    assert!(emails.len() >= 3, "{emails:?}");
    for email in &emails {
        let token = team.text("email", email);
        assert!(
            masked_text.contains(&token),
            "{email} does not mask to {token}"
        );
        assert!(map_text.contains(&token) || !check_text.is_empty());
        assert_ne!(other.text("email", email), token);
    }
    let again = home.join("again.ndjson");
    feedlens(
        &with_files(
            &[
                "mask",
                "--mask-salt",
                "team salt",
                "-o",
                again.to_str().unwrap(),
            ],
            &files,
        ),
        home,
    );
    assert_eq!(std::fs::read_to_string(&again).unwrap(), masked_text);
    let salted = home.join("other.ndjson");
    feedlens(
        &with_files(
            &[
                "mask",
                "--mask-salt",
                "other salt",
                "-o",
                salted.to_str().unwrap(),
            ],
            &files,
        ),
        home,
    );
    let other_text = std::fs::read_to_string(&salted).unwrap();
    for email in &emails {
        assert!(!other_text.contains(&team.text("email", email)));
    }

    // Masked records are never sent, not even planned.
    let send = feedlens(&["send", "--local", "--dry-run", out], home);
    let stderr = String::from_utf8_lossy(&send.stderr);
    assert_eq!(send.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("masked identities") && stderr.contains("nothing sent"),
        "{stderr}"
    );
}

#[test]
fn without_a_team_salt_the_installation_salt_is_made_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/events.jsonl");
    let sample = sample.to_str().unwrap();
    let first = feedlens(&["map", "--mask", sample], dir.path());
    let salt_file = dir.path().join("feedlens/mask-salt");
    assert!(salt_file.exists());
    let second = feedlens(&["map", "--mask", sample], dir.path());
    assert_eq!(first.stdout, second.stdout);
    let elsewhere = tempfile::tempdir().unwrap();
    let third = feedlens(&["map", "--mask", sample], elsewhere.path());
    assert_ne!(
        first.stdout, third.stdout,
        "another installation, another salt"
    );
}

#[test]
fn what_an_unreadable_line_quotes_is_masked_too() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("broken.jsonl");
    std::fs::write(
        &input,
        "{\"ts\": 20220212004131, \"eventName\": \"App Launched\", \"profile\": {\"identity\": \"1\"}}\nBroken line, mail someone.private@x.io\n",
    )
    .unwrap();
    let input = input.to_str().unwrap();
    let plain = feedlens(&["check", "--json", input], dir.path());
    assert!(String::from_utf8_lossy(&plain.stdout).contains("someone.private"));
    for args in [
        vec!["check", "--json", "--mask", input],
        vec!["check", "--mask", input],
    ] {
        let masked = feedlens(&args, dir.path());
        let text = String::from_utf8_lossy(&masked.stdout);
        assert!(text.contains("not JSON"), "{text}");
        assert!(!text.contains("someone.private"), "{text}");
    }
}
