//! `feedlens send` and `feedlens serve` as processes: the plan, refusals, a sender killed
//! mid-run and resumed with --resend-failed, and the secret never written anywhere.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::feed_support::*;
use feedlens::feed::*;
use feedlens::mparticle::Environment;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the binary runs")
}

#[test]
fn dry_run_prints_the_plan_and_a_body_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "export.jsonl", 400, 150, 4);
    let output = run(feedlens_command(dir.path())
        .args(["send", "--local", "--dry-run"])
        .arg(&file));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let plan = text(&output.stdout);
    assert!(plan.contains("built-in local feed"), "{plan}");
    assert!(plan.contains("/bulkevents/historical"), "{plan}");
    assert!(plan.contains("environment development"), "{plan}");
    assert!(plan.contains("request    0: POST /bulkevents"), "{plan}");
    assert!(plan.contains("dry run: nothing sent"), "{plan}");
    let output = run(feedlens_command(dir.path())
        .args(["send", "--pod", "EU1", "--show-body", "1"])
        .env("FEEDLENS_API_KEY", "k")
        .env("FEEDLENS_API_SECRET", "s")
        .arg(&file));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let body: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(!body.is_empty());
    assert!(body.iter().all(|b| b["source_request_id"].is_string()));
    assert!(
        !dir.path().join("data").exists(),
        "a dry run writes no journal"
    );
}

#[test]
fn plain_http_to_another_host_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "export.jsonl", 10, 10, 0);
    let started = Instant::now();
    let output = run(feedlens_command(dir.path())
        .args(["send", "--url", "http://feed.example.com/v2"])
        .env("FEEDLENS_API_KEY", "k")
        .env("FEEDLENS_API_SECRET", "s")
        .arg(&file));
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output.stderr);
    assert!(
        message.contains("refusing to send credentials over plain http://"),
        "{message}"
    );
    assert!(message.contains("http://feed.example.com/v2"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // A key and secret inside the URL are refused, and not repeated: they would be printed with
    // the plan and written to the journal.
    let output = run(feedlens_command(dir.path())
        .args(["send", "--url", "http://k:Url-Secret-5521@127.0.0.1:9/v2"])
        .arg(&file));
    assert_eq!(output.status.code(), Some(2));
    let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert!(
        said.contains("the URL holds a user name or password (http://***@127.0.0.1:9/v2)"),
        "{said}"
    );
    assert!(!said.contains("Url-Secret-5521"), "{said}");
    assert!(!dir.path().join("data").exists(), "no journal is written");
    // Production without confirmation (and no terminal to ask on) is refused too.
    let output = run(feedlens_command(dir.path())
        .args(["send", "--local", "--environment", "production"])
        .arg(&file));
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--confirm-production"));
    // No target at all is a usage error.
    let output = run(feedlens_command(dir.path()).args(["send"]).arg(&file));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn send_local_starts_a_feed_in_process_and_reports_what_it_received() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "export.jsonl", 600, 200, 5);
    let record = dir.path().join("record.ndjson");
    let output = run(feedlens_command(dir.path())
        .args(["send", "--local", "--record"])
        .arg(&record)
        .arg(&file));
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("local feed started at http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("0 rejected, 0 given up, 0 cancelled"),
        "{stderr}"
    );
    let plan = plan_of(&[file], Environment::Development);
    assert!(
        stderr.contains(&format!("{} batches taken", plan.batch_count())),
        "{stderr}"
    );
    let counts = recorded_counts(&record);
    assert_eq!(
        counts.keys().cloned().collect::<BTreeSet<_>>(),
        planned_ids(&plan)
    );
    // The default journal lives in the user's data folder.
    let journal = dir.path().join("data/feedlens/send-journal.ndjson");
    assert!(
        journal_lines(&journal)
            .iter()
            .all(|l| l.status == AttemptStatus::Accepted)
    );
}

#[test]
fn a_sender_killed_mid_run_resumes_with_resend_failed_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "export.jsonl", 3000, 3000, 7);
    let plan = plan_of(std::slice::from_ref(&file), Environment::Development);
    let planned = planned_ids(&plan);
    let record = dir.path().join("record.ndjson");
    let journal = dir.path().join("journal.ndjson");
    let feed = LocalFeed::start(LocalFeedConfig {
        faults: Faults {
            latency: Duration::from_millis(120),
            drop_rate: 0.1,
            ..Faults::default()
        },
        ..feed_config(&record)
    })
    .unwrap();
    let send = |extra: &[&str]| {
        let mut command = feedlens_command(dir.path());
        command
            .args([
                "send",
                "--local",
                "--url",
                &feed.url(),
                "--concurrency",
                "2",
            ])
            .args(["--backoff-ms", "10", "--max-attempts", "20", "--journal"])
            .arg(&journal)
            .args(extra)
            .arg(&file);
        command
    };
    let mut first: Child = send(&[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while feed.batch_count() < planned.len() / 3 {
        assert!(Instant::now() < deadline, "the first send made no progress");
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first send ended too soon"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    first.kill().unwrap(); // SIGKILL: no chance to clean up
    first.wait().unwrap();
    let taken_before = feed.batch_count();
    assert!(
        taken_before < planned.len(),
        "killed too late to test anything"
    );

    let output = run(&mut send(&["--resend-failed"]));
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let already: usize = stderr
        .split("resend failed: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no resend line in {stderr}"));
    assert!(
        already > 0 && already <= taken_before,
        "{already} already accepted, {taken_before} taken"
    );
    assert_exactly_once(&feed, &record, &planned);
    // Only batches in flight at the kill (taken, not yet journaled) or behind a dropped answer
    // reach the feed twice, and the feed absorbs them.
    let snapshot = feed.snapshot();
    let absorbable = 2 * 100 + snapshot.dropped_after as usize * 100;
    assert!(
        (snapshot.duplicate_batches as usize) <= absorbable,
        "{snapshot:?}"
    );
    let contents = read_journal(&journal).unwrap();
    assert!(
        contents.unreadable_lines.len() <= 1,
        "{:?}",
        contents.unreadable_lines
    );
}

/// Reads a child's pipe to the end on a thread.
fn collect(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    feedlens::thread::spawn_named("collect-output", move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
    .unwrap()
}

fn files_under(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, found);
        } else {
            found.push(path);
        }
    }
}

#[test]
fn the_secret_appears_in_no_file_and_no_output() {
    const KEY: &str = "feedlens-test-key";
    const SECRET: &str = "Zebra-Quokka-9417-secret-xyzzy";
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "export.jsonl", 800, 300, 6);
    let record = dir.path().join("record.ndjson");
    let with_secret = |command: &mut Command| {
        command
            .env("FEEDLENS_API_KEY", KEY)
            .env("FEEDLENS_API_SECRET", SECRET)
            .env("RUST_LOG", "trace");
    };
    let mut serve = feedlens_command(dir.path());
    with_secret(&mut serve);
    let mut server = serve
        .args([
            "serve",
            "--fail-rate",
            "0.3",
            "--drop-rate",
            "0.1",
            "--seed",
            "5",
            "--record",
        ])
        .arg(&record)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server_out = BufReader::new(server.stdout.take().unwrap());
    let server_err = collect(server.stderr.take().unwrap());
    let mut first_line = String::new();
    server_out.read_line(&mut first_line).unwrap();
    let url = first_line
        .trim()
        .strip_prefix("feedlens serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first_line}"))
        .to_string();
    let server_rest = collect(server_out);

    let mut outputs = Vec::new();
    for extra in [
        vec!["--journal", "journal.ndjson"],
        vec![],
        vec!["--dry-run"],
        vec!["--show-body", "0"],
        vec!["--resend-failed"],
    ] {
        let mut send = feedlens_command(dir.path());
        with_secret(&mut send);
        let output = run(send
            .current_dir(dir.path())
            .args([
                "send",
                "--url",
                &url,
                "--backoff-ms",
                "5",
                "--max-attempts",
                "30",
            ])
            .args(&extra)
            .arg(&file));
        assert_eq!(
            output.status.code(),
            Some(0),
            "{extra:?}: {}",
            text(&output.stderr)
        );
        outputs.push(output.stdout);
        outputs.push(output.stderr);
    }
    // A wrong secret: the 403 and its answer are shown, the secret still is not.
    let mut wrong = feedlens_command(dir.path());
    with_secret(&mut wrong);
    let output = run(wrong
        .env("FEEDLENS_API_SECRET", format!("{SECRET}-wrong"))
        .args(["send", "--url", &url, "--journal"])
        .arg(dir.path().join("wrong.ndjson"))
        .arg(&file));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("HTTP 403"),
        "{}",
        text(&output.stderr)
    );
    outputs.push(output.stdout);
    outputs.push(output.stderr);

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    server.wait().unwrap();
    outputs.push(server_rest.join().unwrap());
    outputs.push(server_err.join().unwrap());
    let all_output: Vec<u8> = outputs.concat();
    let all_text = text(&all_output);
    assert!(
        all_text.contains("TRACE") || all_text.contains("DEBUG"),
        "logging was on"
    );
    assert!(
        all_text.contains("local feed received"),
        "the server printed its summary"
    );

    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"));
    let needles = [SECRET.as_bytes(), encoded.as_bytes()];
    let mut written = Vec::new();
    files_under(dir.path(), &mut written);
    assert!(written.iter().any(|p| p.ends_with("journal.ndjson")));
    assert!(written.iter().any(|p| p.ends_with("send-journal.ndjson")));
    assert!(written.iter().any(|p| p.ends_with("record.ndjson")));
    for path in &written {
        let bytes = std::fs::read(path).unwrap();
        for needle in needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "the secret is in {}",
                path.display()
            );
        }
    }
    for needle in needles {
        assert!(
            !all_output.windows(needle.len()).any(|w| w == needle),
            "the secret is in the output"
        );
    }
}

/// Starts `feedlens serve` and reads its first two lines: the URL and what it accepts.
fn start_serve(command: &mut Command, args: &[&str]) -> (Child, String, String) {
    let mut server = command
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(server.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    let _rest = collect(out);
    let url = first
        .trim()
        .strip_prefix("feedlens serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first}"))
        .to_string();
    (server, url, second)
}

#[test]
fn serve_takes_the_key_and_secret_from_flags_or_the_environment_and_says_which() {
    const SECRET: &str = "Serve-Env-Secret-3301";
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "export.jsonl", 20, 5, 0);
    // --key with the secret from the environment: no --secret needed.
    let (mut server, url, said) = start_serve(
        feedlens_command(dir.path()).env("FEEDLENS_API_SECRET", SECRET),
        &["--key", "flag-key"],
    );
    assert_eq!(
        said.trim(),
        "feedlens serve: accepting the key flag-key (from --key) and the secret from FEEDLENS_API_SECRET"
    );
    let output = run(feedlens_command(dir.path())
        .env("FEEDLENS_API_KEY", "flag-key")
        .env("FEEDLENS_API_SECRET", SECRET)
        .args(["send", "--url", &url])
        .arg(&file));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    server.kill().unwrap();
    server.wait().unwrap();
    // Both from the environment.
    let (mut server, _, said) = start_serve(
        feedlens_command(dir.path())
            .env("FEEDLENS_API_KEY", "env-key")
            .env("FEEDLENS_API_SECRET", SECRET),
        &[],
    );
    assert_eq!(
        said.trim(),
        "feedlens serve: accepting the key env-key (from FEEDLENS_API_KEY) and the secret from FEEDLENS_API_SECRET"
    );
    assert!(!said.contains(SECRET));
    server.kill().unwrap();
    server.wait().unwrap();
    // Neither: the demo pair, as before.
    let (mut server, _, said) = start_serve(&mut feedlens_command(dir.path()), &[]);
    assert!(
        said.contains("accepting the demo key feedlens-local-key"),
        "{said}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
    // Half a pair is a usage error that says what is missing.
    let output = run(feedlens_command(dir.path()).args(["serve", "--key", "k"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("pass --secret or set FEEDLENS_API_SECRET"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_one_letter_secret_leaves_every_message_readable() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "export.jsonl", 50, 10, 0);
    let (mut server, url, _) = start_serve(
        feedlens_command(dir.path())
            .env("FEEDLENS_API_KEY", "k")
            .env("FEEDLENS_API_SECRET", "s"),
        &[],
    );
    let send = |secret: &str, journal: &str| {
        run(feedlens_command(dir.path())
            .env("FEEDLENS_API_KEY", "k")
            .env("FEEDLENS_API_SECRET", secret)
            .args(["send", "--url", &url, "--journal"])
            .arg(dir.path().join(journal))
            .arg(&file))
    };
    // A wrong secret `e`: the feed's answer is shown as it was sent, not with every "e" masked.
    let refused = send("e", "refused.ndjson");
    assert_eq!(refused.status.code(), Some(1));
    let said = text(&refused.stderr);
    assert!(
        said.contains("HTTP 403")
            && said.contains("the key and secret are not valid for this feed"),
        "{said}"
    );
    // The right secret `s`: the summary reads as it should.
    let sent = send("s", "sent.ndjson");
    assert_eq!(sent.status.code(), Some(0), "{}", text(&sent.stderr));
    let said = format!("{said}{}{}", text(&sent.stdout), text(&sent.stderr));
    assert!(
        said.contains(" requests: 1 accepted, 0 rejected, 0 given up"),
        "{said}"
    );
    assert!(
        !said.contains("***"),
        "nothing was masked after the fact: {said}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
    // The Authorization header (the only place the secret goes) is in no file.
    use base64::Engine as _;
    let mut written = Vec::new();
    files_under(dir.path(), &mut written);
    assert!(written.iter().any(|p| p.ends_with("refused.ndjson")));
    for pair in ["k:s", "k:e"] {
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        assert!(!said.contains(&encoded));
        for path in &written {
            let bytes = std::fs::read_to_string(path).unwrap();
            assert!(!bytes.contains(&encoded), "{pair} in {}", path.display());
        }
    }
}

#[test]
fn a_dry_run_plans_without_credentials_and_says_which_the_send_needs() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "export.jsonl", 30, 6, 0);
    let output = run(feedlens_command(dir.path())
        .args(["send", "--dry-run", "--pod", "US1"])
        .arg(&file));
    let plan = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        plan.contains("-> POST https://s2s.mparticle.com/v2/bulkevents"),
        "{plan}"
    );
    assert!(plan.contains("dry run: nothing sent"), "{plan}");
    assert!(
        plan.contains(
            "credentials: FEEDLENS_API_KEY and FEEDLENS_API_SECRET are not set; the real send needs them"
        ),
        "{plan}"
    );
    // Only the missing one is named; --url plans the same way.
    let output = run(feedlens_command(dir.path())
        .env("FEEDLENS_API_KEY", "k")
        .args(["send", "--dry-run", "--url", "https://feed.example.com/v2"])
        .arg(&file));
    let plan = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        plan.contains("-> POST https://feed.example.com/v2/bulkevents"),
        "{plan}"
    );
    assert!(
        plan.contains("credentials: FEEDLENS_API_SECRET is not set; the real send needs it"),
        "{plan}"
    );
    // A request's body needs no credentials either.
    let output = run(feedlens_command(dir.path())
        .args(["send", "--pod", "EU1", "--show-body", "0"])
        .arg(&file));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(serde_json::from_slice::<Vec<serde_json::Value>>(&output.stdout).is_ok());
    // The real send still refuses at once.
    let output = run(feedlens_command(dir.path())
        .args(["send", "--pod", "US1"])
        .arg(&file));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("set FEEDLENS_API_KEY and FEEDLENS_API_SECRET"),
        "{}",
        text(&output.stderr)
    );
}
