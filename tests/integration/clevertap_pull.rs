//! `feedlens pull` as a process against the CleverTap stand-in: the records as the source holds
//! them, retries through 429s and dropped connections, a kill and --resume, Ctrl-C, refusals,
//! reconciliation, and the passcode written nowhere.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::clevertap_support::*;
use feedlens::clevertap::pull::standin::StandInConfig;
use feedlens::clevertap::pull::{PullState, state_path};

fn run(command: &mut Command) -> Output {
    command.output().expect("the binary runs")
}

fn read_state(output: &Path) -> PullState {
    serde_json::from_slice(&std::fs::read(state_path(output)).unwrap()).unwrap()
}

/// Neither the output, nor the state file, nor what was printed holds the passcode.
fn assert_no_passcode(output: &Path, printed: &Output) {
    for path in [output.to_path_buf(), state_path(output)] {
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(
                memchr::memmem::find(&bytes, PASSCODE.as_bytes()).is_none(),
                "the passcode is in {}",
                path.display()
            );
        }
    }
    assert!(!text(&printed.stderr).contains(PASSCODE));
    assert!(!text(&printed.stdout).contains(PASSCODE));
}

#[test]
fn a_full_pull_writes_the_source_records_in_order_through_429s_and_dropped_connections() {
    let events = sample_events();
    let names: Vec<&str> = events.keys().map(String::as_str).collect();
    let stand_in = start(StandInConfig {
        too_many_every: 5,
        drop_every: 7,
        ..config(events.clone())
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pulled.ndjson");
    let result = run(pull_command(&stand_in.url(), &names, &out).args(["--batch-size", "2"]));
    let (stdout, stderr) = (text(&result.stdout), text(&result.stderr));
    assert_eq!(result.status.code(), Some(0), "{stdout}\n{stderr}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(lines_by_event(&written), expected_by_event(&events));
    // Every event reconciled, by number.
    for (event, records) in &events {
        let n = records.len();
        let line = format!("{event} 2024-03-01..2024-03-07: CleverTap counts {n}, pulled {n}");
        assert!(stdout.contains(&line), "{line}\n{stdout}");
    }
    let stats = stand_in.stats();
    assert!(stats.too_many > 0 && stats.dropped > 0, "{stats:?}");
    assert!(stderr.contains("Too many concurrent requests"), "{stderr}");
    assert_eq!(stats.max_in_flight_per_cursor, 1, "{stats:?}");
    assert!(stats.max_in_flight <= 2, "{stats:?}");
    // The count API answered `partial` first, then the poll: two answers per event.
    assert_eq!(stats.counts, 2 * events.len() as u64, "{stats:?}");
    assert_no_passcode(&out, &result);
    // The file maps on its own: every record has its event name.
    let check = run(Command::new(env!("CARGO_BIN_EXE_feedlens"))
        .args(["check", "--json"])
        .arg(&out));
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let total: usize = events.values().map(Vec::len).sum();
    assert_eq!(report["records_read"], total, "{report}");
    assert!(
        !text(&check.stdout).contains("no event name"),
        "{}",
        text(&check.stdout)
    );
}

#[test]
fn a_kill_mid_pull_then_resume_gives_no_duplicate_and_no_gap() {
    let events = many_events(&["App Launched", "Charged"], 1500);
    let slow = start(StandInConfig {
        page_delay: Duration::from_millis(20),
        ..config(events.clone())
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pulled.ndjson");
    let names = ["App Launched", "Charged"];
    let mut child = pull_command(&slow.url(), &names, &out)
        .args(["--batch-size", "25"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a good part is written (without waiting for a page boundary).
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&out).map_or(0, |m| m.len()) < 300_000 {
        assert!(Instant::now() < deadline, "the pull wrote too little");
        assert!(child.try_wait().unwrap().is_none(), "the pull ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let state = read_state(&out);
    let written: u64 = state.events.iter().map(|e| e.records).sum();
    assert!(written > 0 && written < 3000, "{state:?}");
    let port = slow.port();
    drop(slow);
    let stand_in = start_on(config(events.clone()), port);
    let result = run(pull_command(&stand_in.url(), &names, &out).args(["--resume"]));
    let (stdout, stderr) = (text(&result.stdout), text(&result.stderr));
    assert_eq!(result.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("resuming after"), "{stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(lines_by_event(&text), expected_by_event(&events));
    assert!(
        stdout.contains("Charged 2024-03-01..2024-03-07: CleverTap counts 1,500, pulled 1,500")
    );
    assert_no_passcode(&out, &result);
}

#[test]
fn ctrl_c_stops_after_the_current_page_and_resume_finishes() {
    let events = many_events(&["App Launched"], 2000);
    let stand_in = start(StandInConfig {
        page_delay: Duration::from_millis(20),
        ..config(events.clone())
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pulled.ndjson");
    let child = pull_command(&stand_in.url(), &["App Launched"], &out)
        .args(["--batch-size", "20"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&out).map_or(0, |m| m.len()) < 50_000 {
        assert!(Instant::now() < deadline, "the pull wrote too little");
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let stopped = child.wait_with_output().unwrap();
    assert_eq!(stopped.status.code(), Some(1), "{}", text(&stopped.stderr));
    assert!(text(&stopped.stderr).contains("--resume"));
    assert!(text(&stopped.stdout).contains("App Launched 2024-03-01..2024-03-07: not finished"));
    // Stopped cleanly: the output ends with the last page the state counts.
    let state = read_state(&out);
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written.len() as u64, state.output_bytes);
    assert_eq!(written.lines().count() as u64, state.events[0].records);
    assert!(!state.events[0].done);
    let result = run(pull_command(&stand_in.url(), &["App Launched"], &out).arg("--resume"));
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(lines_by_event(&text), expected_by_event(&events));
}

#[test]
fn a_wrong_passcode_stops_at_once_with_the_message() {
    let stand_in = start(config(sample_events()));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pulled.ndjson");
    let wrong = "wrong-passcode-7Qz";
    let result = run(pull_command(
        &stand_in.url(),
        &["App Launched", "Charged", "UTM Visited"],
        &out,
    )
    .env("FEEDLENS_CLEVERTAP_PASSCODE", wrong));
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    assert!(stderr.contains("Invalid Credentials"), "{stderr}");
    assert!(stderr.contains("FEEDLENS_CLEVERTAP_PASSCODE"), "{stderr}");
    assert!(!stderr.contains(wrong), "{stderr}");
    // Never retried: at most one request per event started at once (concurrency 2).
    let stats = stand_in.stats();
    assert!(
        stats.requests <= 2 && stats.refused == stats.requests,
        "{stats:?}"
    );
    assert!(!stderr.contains("try 2"), "{stderr}");
    let state = std::fs::read(state_path(&out)).unwrap();
    assert!(memchr::memmem::find(&state, wrong.as_bytes()).is_none());
}

#[test]
fn a_count_that_differs_is_reported_and_exits_1() {
    let events = sample_events();
    let stand_in = start(StandInConfig {
        count_offset: 1,
        ..config(events.clone())
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pulled.ndjson");
    let result = run(&mut pull_command(&stand_in.url(), &["Control Group"], &out));
    let stdout = text(&result.stdout);
    assert_eq!(result.status.code(), Some(1), "{}", text(&result.stderr));
    let n = events["Control Group"].len();
    assert!(
        stdout.contains(&format!(
            "Control Group 2024-03-01..2024-03-07: CleverTap counts {}, pulled {n} — DIFFERENT",
            n + 1
        )),
        "{stdout}"
    );
}

#[test]
fn a_cursor_the_api_no_longer_accepts_is_reported_with_what_to_do() {
    let events = many_events(&["App Launched"], 400);
    let slow = start(StandInConfig {
        page_delay: Duration::from_millis(20),
        ..config(events.clone())
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pulled.ndjson");
    let mut child = pull_command(&slow.url(), &["App Launched"], &out)
        .args(["--batch-size", "10"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&out).map_or(0, |m| m.len()) < 20_000 {
        assert!(Instant::now() < deadline, "the pull wrote too little");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // A later stand-in at the same address: the cursors of the first have expired.
    let port = slow.port();
    drop(slow);
    let later = start_on(
        StandInConfig {
            generation: 2,
            ..config(events)
        },
        port,
    );
    let result = run(pull_command(&later.url(), &["App Launched"], &out).arg("--resume"));
    let stderr = text(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no longer accepts the cursor"), "{stderr}");
    assert!(stderr.contains("Cursor expired"), "{stderr}");
    assert!(stderr.contains("start that event again"), "{stderr}");
}

#[test]
fn serve_clevertap_answers_the_readme_pull() {
    use std::io::BufRead;
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/events.jsonl");
    let mut server = Command::new(env!("CARGO_BIN_EXE_feedlens"))
        .args(["serve-clevertap", "--port", "0", "--copies", "3"])
        .arg(&samples)
        .env_remove("FEEDLENS_CLEVERTAP_ACCOUNT_ID")
        .env_remove("FEEDLENS_CLEVERTAP_PASSCODE")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut printed = std::io::BufReader::new(server.stdout.take().unwrap());
    printed.read_line(&mut first).unwrap();
    // Keep reading what it prints, so it never writes to a closed pipe.
    feedlens::thread::spawn_named("drain-stderr", move || {
        std::io::copy(&mut printed, &mut std::io::sink())
    })
    .unwrap();
    let url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pulled.ndjson");
    let result = run(pull_command(&url, &["App Launched", "Control Group"], &out)
        .env("FEEDLENS_CLEVERTAP_ACCOUNT_ID", "feedlens-demo")
        .env("FEEDLENS_CLEVERTAP_PASSCODE", "feedlens-demo-passcode"));
    server.kill().unwrap();
    server.wait().unwrap();
    let stdout = text(&result.stdout);
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    assert!(
        stdout.contains("Control Group 2024-03-01..2024-03-07: CleverTap counts 12, pulled 12"),
        "{stdout}"
    );
    assert!(
        stdout.contains("App Launched 2024-03-01..2024-03-07: CleverTap counts 3, pulled 3"),
        "{stdout}"
    );
}
