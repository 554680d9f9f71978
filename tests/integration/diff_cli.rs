//! `feedlens diff` as a process: the same input twice, one input under edited rules, a file
//! against an edited copy, edits applied to one side, and the exit codes. The reports are
//! compared with goldens under `tests/golden/diff/` (`UPDATE_GOLDEN=1` rewrites them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `feedlens diff ARGS` run from `dir` (the reports name the files as given).
fn diff(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_feedlens"))
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .arg("diff")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn golden(name: &str, actual: &str) {
    let path = root().join("tests/golden/diff").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(actual, expected, "{name} differs from its golden");
}

/// The built-in rules with UTM Visited moved from Navigation to Other.
fn rules_moving_utm_visited(dir: &Path) -> PathBuf {
    let rules = std::fs::read_to_string(root().join("assets/mapping.toml")).unwrap();
    let from = "name = \"UTM Visited\"\nevent_type = \"custom_event\"\ncategory = \"navigation\"";
    assert!(
        rules.contains(from),
        "the built-in rules changed: update this test"
    );
    let edited = rules.replace(
        from,
        "name = \"UTM Visited\"\nevent_type = \"custom_event\"\ncategory = \"other\"",
    );
    let path = dir.join("edited.toml");
    std::fs::write(&path, edited).unwrap();
    path
}

#[test]
fn the_same_input_twice_is_the_same_and_exits_0() {
    let output = diff(&root(), &["samples/events.jsonl", "samples/events.jsonl"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    golden("same.txt", &text(&output.stdout));
    // Folders too: every file under them, matched by record.
    let output = diff(&root(), &["samples", "samples", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["changed"], 0);
    assert_eq!(report["only_a"], 0);
    assert_eq!(report["only_b"], 0);
    assert!(report["same"].as_u64().unwrap() > 50, "{report}");
    assert_eq!(report["records"], serde_json::json!([]));
}

#[test]
fn edited_rules_that_move_an_event_list_the_changed_records_and_their_fields() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_moving_utm_visited(dir.path());
    let rules = rules.to_str().unwrap();
    let args = [
        "samples/events.jsonl",
        "samples/events.jsonl",
        "--rules-b",
        rules,
    ];
    let output = diff(&root(), &args);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    golden("rules.txt", &text(&output.stdout));
    let output = diff(&root(), &[&args[..], &["--json"]].concat());
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    golden("rules.json", &text(&output.stdout));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "same",
            "changed",
            "only_a",
            "only_b",
            "by_category",
            "records"
        ]
    );
    assert_eq!(report["changed"], 1);
    assert_eq!(report["by_category"]["Navigation"]["changed"], 1);
    let record = &report["records"][0];
    assert_eq!(record["status"], "changed");
    assert_eq!(record["a"]["file"], "samples/events.jsonl");
    let fields = record["fields"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f["path"] == "event.data.custom_event_type"
                && f["a"] == "navigation"
                && f["b"] == "other"),
        "{record}"
    );
    // The rules the other way round: the same record, the values swapped.
    let output = diff(
        &root(),
        &[
            "samples/events.jsonl",
            "samples/events.jsonl",
            "--rules-a",
            rules,
            "--json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["records"][0]["id"], record["id"]);
    assert!(
        report["records"][0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["a"] == "other" && f["b"] == "navigation")
    );
}

#[test]
fn a_file_against_an_edited_copy_shows_changed_and_missing_records() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(root().join("samples/broken_lines.jsonl")).unwrap();
    std::fs::write(dir.path().join("a.jsonl"), &original).unwrap();
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    // Line 1 loses its session id (a new record: its id changes), line 3 is removed, and a
    // record is added at the end (the same as line 5, with another time).
    lines[0] = lines[0].replace(", \"CT Session Id\": 1646128800", "");
    let added = lines[4].replace("20220301100002", "20220301100099");
    lines.remove(2);
    lines.push(added);
    std::fs::write(dir.path().join("b.jsonl"), lines.join("\n") + "\n").unwrap();
    let output = diff(dir.path(), &["a.jsonl", "b.jsonl"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    golden("copy.txt", &text(&output.stdout));
    let output = diff(dir.path(), &["a.jsonl", "b.jsonl", "--json"]);
    golden("copy.json", &text(&output.stdout));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // A record's id is its content's: the edited line 1 is one record only in A and one only
    // in B. Unreadable lines are matched by place: line 2 is where it was, line 4 moved up.
    // Only in A: line 1, the removed line 3, the unreadable line 4; only in B: the new line 1,
    // the unreadable line 3, the added record. The same: lines 2, 5, 6, 7, 8.
    assert_eq!(report["only_a"], 3, "{report}");
    assert_eq!(report["only_b"], 3, "{report}");
    assert_eq!(report["same"], 5, "{report}");
    assert_eq!(report["changed"], 0, "{report}");
}

#[test]
fn edits_on_one_side_match_the_edited_record_with_its_original() {
    let dir = tempfile::tempdir().unwrap();
    let (input, edits) = crate::edits_support::fixed_broken_lines(dir.path());
    let output = diff(
        dir.path(),
        &[
            input.to_str().unwrap(),
            input.to_str().unwrap(),
            "--edits-b",
            edits.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["changed"], 2, "{report}");
    assert_eq!(report["only_a"], 0, "{report}");
    assert_eq!(report["only_b"], 0, "{report}");
    let records = report["records"].as_array().unwrap();
    let fixed = records.iter().find(|r| r["a"]["line"] == 7).unwrap();
    assert_eq!(fixed["id"], crate::edits_support::original_id(&input, 7));
    let fields = fixed["fields"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f["path"] == "status" && f["a"] == "held" && f["b"] == "mapped")
    );
    // The held record had no identity at all: its identities are added.
    assert!(
        fields.iter().any(|f| f["path"] == "user_identities"
            && f["a"].is_null()
            && f["b"]["customer_id"] == crate::edits_support::FIXED_CUSTOMER_ID),
        "{fixed}"
    );
    let repaired = records.iter().find(|r| r["a"]["line"] == 2).unwrap();
    assert!(
        repaired["id"].is_null(),
        "an unreadable line has no id: {repaired}"
    );
    assert!(
        repaired["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "status" && f["a"] == "unreadable" && f["b"] == "mapped")
    );
}

#[test]
fn errors_exit_2_with_the_reason() {
    let output = diff(&root(), &["samples/events.jsonl", "samples/missing.jsonl"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("samples/missing.jsonl"));
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("broken.toml");
    std::fs::write(&rules, "[[events]\n").unwrap();
    let output = diff(
        &root(),
        &[
            "samples/events.jsonl",
            "samples/events.jsonl",
            "--rules-b",
            rules.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("broken.toml"),
        "{}",
        text(&output.stderr)
    );
}
