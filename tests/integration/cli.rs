//! The command line as other tools use it: exit codes, output shapes, messages.

use std::path::Path;
use std::process::{Command, Output};

fn feedlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_feedlens"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn map_writes_one_batch_per_line_and_exits_0_when_everything_maps() {
    let output = feedlens(&["map", "samples/events.jsonl"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let batches: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!batches.is_empty());
    for batch in &batches {
        assert_eq!(batch["schema_version"], 2);
        assert_eq!(batch["environment"], "development");
        assert!(batch["source_request_id"].is_string());
    }
    let events: usize = batches
        .iter()
        .map(|b| b["events"].as_array().map_or(0, Vec::len))
        .sum();
    let lines =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/events.jsonl"))
            .unwrap();
    assert_eq!(
        events,
        lines.lines().count(),
        "every record of the sample is one event"
    );
}

#[test]
fn map_to_a_file_in_production() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ndjson");
    let output = feedlens(&[
        "map",
        "samples/app_launched.csv",
        "-o",
        out.to_str().unwrap(),
        "--environment",
        "production",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.lines().count() >= 1);
    assert!(
        text.lines()
            .all(|l| l.contains(r#""environment":"production""#))
    );
}

/// A full disk ends `map` with the file named and exit 2, not a summary as if it had written:
/// the batches are written on a thread of their own, whose error must reach the command.
#[cfg(target_os = "linux")]
#[test]
fn map_says_when_its_output_cannot_be_written() {
    let output = feedlens(&["map", "samples/events.jsonl", "-o", "/dev/full"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("cannot write /dev/full: No space left on device"),
        "{message}"
    );
    assert!(!message.contains("feedlens map:"), "{message}");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_feedlens"))
        .args(["map", "samples/events.jsonl"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(full)
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot write to standard output: No space left on device"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn broken_input_still_maps_the_good_records_and_exits_1() {
    let output = feedlens(&["map", "samples/broken_lines.jsonl"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        !stdout(&output).is_empty(),
        "the good records are still written"
    );
    let err = stderr(&output);
    assert!(
        err.contains("samples/broken_lines.jsonl:2:"),
        "the bad line is named: {err}"
    );
}

#[test]
fn check_json_accounts_for_every_record() {
    let output = feedlens(&[
        "check",
        "--json",
        "samples/broken_lines.jsonl",
        "samples/events.jsonl",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let count = |key: &str| report[key].as_u64().unwrap();
    assert_eq!(
        count("records_read"),
        count("mapped") + count("warned") + count("held") + count("dropped") + count("unreadable")
    );
    assert!(count("unreadable") >= 2);
    assert!(count("held") >= 2);
    let by_category: u64 = report["by_category"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_category, count("records_read"));
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["file"].is_string()
        && f["line"].is_u64()
        && f["severity"].is_string()
        && f["kind"].is_string()
        && f["message"].is_string()));
    assert!(
        findings
            .iter()
            .any(|f| f["kind"] == "unreadable" && f["line"] == 2)
    );
}

#[test]
fn check_text_lists_accounting_categories_events_and_findings() {
    let output = feedlens(&["check", "samples/events.jsonl"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for expected in [
        "records read",
        "By category:",
        "Attribution",
        "Navigation",
        "By event:",
        "A/B Experiment Rendered",
        "Findings:",
        "unknown_event",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn usage_errors_and_unopenable_files_exit_2() {
    assert_eq!(feedlens(&["map"]).status.code(), Some(2));
    assert_eq!(
        feedlens(&["map", "no/such/file.jsonl"]).status.code(),
        Some(2)
    );
    // A folder with nothing to read is named.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.md"), "# notes").unwrap();
    std::fs::write(dir.path().join(".hidden.jsonl"), "{}").unwrap();
    let folder = dir.path().to_str().unwrap();
    for args in [
        vec!["map", folder],
        vec!["check", folder],
        vec!["send", "--local", "--dry-run", folder],
    ] {
        let output = feedlens(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = stderr(&output);
        assert!(
            err.contains(&format!("{folder} holds no CleverTap files")),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        feedlens(&["map", "--environment", "staging", "samples/events.jsonl"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        feedlens(&["map", "--tz", "Mars/Base", "samples/events.jsonl"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_webhook_payload_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hook.json");
    std::fs::write(
        &path,
        r#"{"targetId": 1, "key_values": {"a": "b"}, "profiles": [{"identity": "x"}]}"#,
    )
    .unwrap();
    let output = feedlens(&["check", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("webhook"), "{}", stderr(&output));
}

#[test]
fn a_broken_rules_file_is_refused_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    let text = feedlens::mapping::DEFAULT_RULES
        .replace("category = \"navigation\"", "category = \"navigaton\"");
    std::fs::write(&path, text).unwrap();
    let output = feedlens(&[
        "map",
        "--rules",
        path.to_str().unwrap(),
        "samples/events.jsonl",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("rules.toml, line ") && err.contains("column"),
        "{err}"
    );
    assert!(err.contains("navigaton"), "{err}");
}

#[test]
fn an_edited_rules_file_changes_the_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    let text = feedlens::mapping::DEFAULT_RULES
        .replace("unknown_events = \"other\"", "unknown_events = \"drop\"");
    std::fs::write(&path, text).unwrap();
    let output = feedlens(&[
        "check",
        "--json",
        "--rules",
        path.to_str().unwrap(),
        "samples/events.jsonl",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["dropped"].as_u64().unwrap() >= 1);
}

#[test]
fn help_documents_the_commands() {
    let text = stdout(&feedlens(&["--help"]));
    for command in ["map", "check", "send", "serve"] {
        assert!(text.contains(command), "{text}");
    }
    let text = stdout(&feedlens(&["map", "--help"]));
    for flag in [
        "--rules",
        "--event-name",
        "--tz",
        "--environment",
        "--output",
    ] {
        assert!(text.contains(flag), "{text}");
    }
}

#[test]
fn a_folder_is_read_as_its_files_in_name_order() {
    let mut files: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"))
            .unwrap()
            .map(|e| format!("samples/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
    files.sort();
    let mut by_file = vec!["check"];
    by_file.extend(files.iter().map(String::as_str));
    let expected = feedlens(&by_file);
    let output = feedlens(&["check", "samples"]);
    assert_eq!(
        output.status.code(),
        expected.status.code(),
        "{}",
        stderr(&output)
    );
    assert_eq!(stdout(&output), stdout(&expected));
    assert!(stdout(&output).contains("samples/events.jsonl: NDJSON"));
    let mapped = feedlens(&["map", "samples/"]);
    let mut by_file = vec!["map"];
    by_file.extend(files.iter().map(String::as_str));
    assert_eq!(mapped.stdout, feedlens(&by_file).stdout);
    assert!(!mapped.stdout.is_empty());
    let planned = feedlens(&["send", "--local", "--dry-run", "samples"]);
    assert_eq!(planned.status.code(), Some(0), "{}", stderr(&planned));
    assert!(stdout(&planned).contains("dry run: nothing sent"));
}

#[test]
fn each_file_line_says_what_the_file_held() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("picture.png");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots/summary.png"),
        &png,
    )
    .unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let output = feedlens(&["check", png.to_str().unwrap(), empty.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let line_of = |path: &Path| {
        let start = format!("{}: ", path.display());
        text.lines()
            .filter(|line| line.starts_with(&start) && !line.contains(": error: "))
            .map(|line| line[start.len()..].to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(line_of(&png), ["binary data, not CleverTap text"], "{text}");
    assert_eq!(line_of(&empty), ["empty file: no records"], "{text}");
    assert!(text.contains("1 unreadable"), "{text}");
    let report: serde_json::Value =
        serde_json::from_slice(&feedlens(&["check", "--json", png.to_str().unwrap()]).stdout)
            .unwrap();
    assert_eq!(
        report["files"][0]["shape"],
        "binary data, not CleverTap text"
    );
}

#[test]
fn held_records_count_under_unmapped_and_only_unreadable_ones_as_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("held.jsonl");
    std::fs::write(
        &path,
        [
            r#"{"ts":1700000000,"profile":{"identity":"u1"},"eventProps":{}}"#,
            r#"{"ts":1700000000,"eventName":"App Launched"}"#,
            r#"{"ts":1700000000,"eventName":"App Launched","profile":{"identity":"u1"}}"#,
            r#"{"ts":"garbage","eventName":"UTM Visited","profile":{"identity":"u1"}}"#,
            r#"{"ts":1700000000,"eventName":"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let output = feedlens(&["check", "--json", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (report["held"].as_u64(), report["unreadable"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(
        report["by_category"],
        serde_json::json!({"Other": 1, "Unmapped": 4}),
        "held and unreadable records count under Unmapped, as in the window"
    );
    assert_eq!(
        report["by_event"],
        serde_json::json!({"(no event name)": 1, "(unreadable)": 1, "App Launched": 2, "UTM Visited": 1})
    );
    let text = stdout(&feedlens(&["check", path.to_str().unwrap()]));
    assert!(text.contains("       1  (no event name)\n"), "{text}");
    assert!(text.contains("       4  Unmapped\n"), "{text}");
}

/// The severities of the finding lines of `check`'s text output.
fn finding_severities(text: &str) -> Vec<&'static str> {
    text.lines()
        .filter_map(|line| {
            ["info", "warning", "error"]
                .into_iter()
                .find(|severity| line.contains(&format!(": {severity}: ")))
        })
        .collect()
}

/// The text after the findings: files, accounting, counts, the findings summary.
fn counts_part(text: &str) -> &str {
    text.find("\n\n").map_or(text, |at| &text[at..])
}

#[test]
fn check_lists_findings_by_severity_and_up_to_a_most_but_counts_them_all() {
    let inputs = ["samples/broken_lines.jsonl", "samples/events.jsonl"];
    let run = |extra: &[&str]| {
        let mut args = vec!["check"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&inputs);
        let output = feedlens(&args);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        stdout(&output)
    };
    let everything = run(&[]);
    assert_eq!(
        everything,
        run(&["--severity", "info"]),
        "info is the default"
    );
    let all = finding_severities(&everything);
    let errors = all.iter().filter(|s| **s == "error").count();
    let serious = all.iter().filter(|s| **s != "info").count();
    assert!(
        errors > 0 && serious > errors && all.len() > serious,
        "{everything}"
    );
    let summary = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("Findings: "))
            .map(|l| l.split(" (").next().unwrap().to_string())
            .unwrap()
    };
    let accounting = |text: &str| {
        let part = counts_part(text);
        part[part.find("records read").unwrap()..part.find("\nFindings: ").unwrap()].to_string()
    };

    let errors_only = run(&["--severity", "error"]);
    assert_eq!(finding_severities(&errors_only), vec!["error"; errors]);
    let warnings_up = run(&["--severity", "warn"]);
    assert_eq!(finding_severities(&warnings_up).len(), serious);
    assert!(!finding_severities(&warnings_up).contains(&"info"));
    for text in [&errors_only, &warnings_up] {
        assert_eq!(
            summary(text),
            summary(&everything),
            "the counts stay complete"
        );
        assert_eq!(accounting(text), accounting(&everything));
        assert!(!text.contains("more findings"), "{text}");
    }

    let capped = run(&["--max-findings", "2"]);
    assert_eq!(finding_severities(&capped), all[..2]);
    assert!(
        capped.contains(&format!(
            "\n… and {} more findings (use --max-findings to see more)\n",
            all.len() - 2
        )),
        "{capped}"
    );
    assert_eq!(summary(&capped), summary(&everything));
    assert_eq!(accounting(&capped), accounting(&everything));
    let both = run(&["--max-findings", "1", "--severity", "warn"]);
    assert_eq!(finding_severities(&both).len(), 1);
    assert!(
        both.contains(&format!("… and {} more findings", serious - 1)),
        "{both}"
    );

    let json = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["check", "--json"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&inputs);
        serde_json::from_slice(&feedlens(&args).stdout).unwrap()
    };
    let full = json(&[]);
    assert!(
        full.get("findings_left_out").is_none(),
        "the default report is unchanged"
    );
    let listed = json(&["--severity", "warn", "--max-findings", "3"]);
    let findings = listed["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    assert!(findings.iter().all(|f| f["severity"] != "info"));
    assert_eq!(listed["findings_left_out"], all.len() - 3);
    for key in [
        "records_read",
        "held",
        "unreadable",
        "by_category",
        "by_event",
        "files",
    ] {
        assert_eq!(listed[key], full[key], "{key}");
    }
    assert_eq!(
        json(&["--severity", "error"])["findings"]
            .as_array()
            .unwrap()
            .len(),
        errors
    );
}
