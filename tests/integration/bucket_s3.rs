//! Export buckets against a real S3 server (moto's, on 127.0.0.1): a prefix with gzip and plain
//! chunks and a missing index opens, streams, reports the gap before anything is read or sent,
//! and gives the same records, accounting and places (with the object URLs) as the same files
//! read from disk.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::bucket_support::{Moto, gzip};

const BUCKET: &str = "feedlens-exports";
const PREFIX: &str = "exports/run1";
const RUN: &str = "77-1650003600-App Launched-20220415";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(name),
    )
    .unwrap()
}

/// The chunks (name, bytes as stored): 0 gzip, 1 plain with broken lines, 3 gzip (2 missing),
/// and a note that is not a chunk.
fn chunks() -> Vec<(String, Vec<u8>)> {
    let events = text(&sample("events.jsonl"));
    let lines: Vec<&str> = events.lines().collect();
    let (first, second) = lines.split_at(lines.len() / 2);
    let join = |part: &[&str]| format!("{}\n", part.join("\n")).into_bytes();
    vec![
        (format!("{RUN}-0-5.json.gz"), gzip(&join(first))),
        (format!("{RUN}-1-5.json"), sample("broken_lines.jsonl")),
        (format!("{RUN}-3-5.json.gz"), gzip(&join(second))),
        ("notes.txt".to_string(), b"not a chunk".to_vec()),
    ]
}

/// The server with the chunks under the prefix, and the same chunks in a folder on disk.
fn setup() -> Option<(Moto, tempfile::TempDir)> {
    let moto = Moto::start()?;
    moto.create_bucket(BUCKET);
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in chunks() {
        moto.put(BUCKET, &format!("{PREFIX}/{name}"), bytes.clone());
        std::fs::write(dir.path().join(&name), bytes).unwrap();
    }
    Some((moto, dir))
}

/// The chunk files on disk, in chunk order.
fn disk_chunks(dir: &Path) -> Vec<PathBuf> {
    ["0-5.json.gz", "1-5.json", "3-5.json.gz"]
        .iter()
        .map(|end| dir.join(format!("{RUN}-{end}")))
        .collect()
}

fn prefix_url() -> String {
    format!("s3://{BUCKET}/{PREFIX}")
}

/// The disk run's output with the folder named as the prefix: what the bucket run must print.
fn as_bucket(output: &str, dir: &Path) -> String {
    output.replace(
        &format!("{}/", dir.display()),
        &format!("{}/", prefix_url()),
    )
}

fn run_both(moto: &Moto, dir: &Path, args: &[&str]) -> (Output, Output) {
    let bucket = moto
        .feedlens()
        .args(args)
        .arg(prefix_url())
        .output()
        .unwrap();
    let disk = moto
        .feedlens()
        .args(args)
        .args(disk_chunks(dir))
        .output()
        .unwrap();
    (bucket, disk)
}

#[test]
fn a_prefix_reads_like_its_chunks_on_disk_and_reports_the_missing_chunk() {
    let Some((moto, dir)) = setup() else {
        return;
    };
    let dir = dir.path();

    // check: the same findings, places and accounting, the places naming the objects' URLs.
    let (bucket, disk) = run_both(&moto, dir, &["check"]);
    let (stdout, stderr) = (text(&bucket.stdout), text(&bucket.stderr));
    assert_eq!(bucket.status.code(), disk.status.code(), "{stderr}");
    assert_eq!(stdout, as_bucket(&text(&disk.stdout), dir), "{stderr}");
    let gap = format!(
        "feedlens: warning: {}: export run 1650003600 (App Launched): chunk index 2 is missing (chunks 0, 1, 3 found)",
        prefix_url()
    );
    assert!(stderr.contains(&gap), "{stderr}");
    // Records of the gzip chunk after the gap, and the plain chunk's broken lines, by URL.
    let last = format!("{}/{RUN}-3-5.json.gz:1:1: ", prefix_url());
    let broken = format!("{}/{RUN}-1-5.json:", prefix_url());
    assert!(stdout.contains(&last), "{stdout}");
    assert!(stdout.contains(&broken), "{stdout}");
    assert!(!stdout.contains("notes.txt"), "{stdout}");

    // check --json: the same accounting and counts; the prefix's gap listed in
    // `chunk_warnings` (the files named one by one on disk are no run to check).
    let (bucket, disk) = run_both(&moto, dir, &["check", "--json"]);
    let mut report: serde_json::Value = serde_json::from_slice(&bucket.stdout).unwrap();
    let warnings = report["chunk_warnings"].take();
    assert_eq!(warnings.as_array().map(Vec::len), Some(1), "{warnings}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("chunk index 2 is missing (chunks 0, 1, 3 found)"),
        "{warnings}"
    );
    report.as_object_mut().unwrap().remove("chunk_warnings");
    let on_disk: serde_json::Value =
        serde_json::from_str(&as_bucket(&text(&disk.stdout), dir)).unwrap();
    assert!(on_disk.get("chunk_warnings").is_none());
    assert_eq!(report, on_disk, "{}", text(&bucket.stderr));

    // map: the same batches and the same accounting line.
    let (bucket, disk) = run_both(&moto, dir, &["map"]);
    assert_eq!(bucket.status.code(), disk.status.code());
    assert!(!bucket.stdout.is_empty());
    assert_eq!(text(&bucket.stdout), as_bucket(&text(&disk.stdout), dir));
    assert_eq!(
        text(&bucket.stderr).lines().last(),
        text(&disk.stderr).lines().last()
    );
    assert!(text(&bucket.stderr).contains(&gap));
}

#[test]
fn send_reports_the_gap_before_sending_and_one_object_url_opens_alone() {
    let Some((moto, dir)) = setup() else {
        return;
    };
    let sent = moto
        .feedlens()
        .args(["send", "--local", "--dry-run"])
        .arg(prefix_url())
        .output()
        .unwrap();
    let stderr = text(&sent.stderr);
    let gap = stderr
        .find("chunk index 2 is missing")
        .unwrap_or_else(|| panic!("no gap reported: {stderr}"));
    // Reported first: before the plan is printed.
    assert!(
        text(&sent.stdout).is_empty() || !stderr[..gap].contains("request"),
        "{stderr}"
    );

    // An object's full URL opens that object alone, with no chunk warning.
    let object = format!("{}/{RUN}-3-5.json.gz", prefix_url());
    let one = moto.feedlens().args(["check", &object]).output().unwrap();
    let disk = moto
        .feedlens()
        .arg("check")
        .arg(dir.path().join(format!("{RUN}-3-5.json.gz")))
        .output()
        .unwrap();
    assert_eq!(
        text(&one.stdout),
        as_bucket(&text(&disk.stdout), dir.path()),
        "{}",
        text(&one.stderr)
    );
    assert!(
        !text(&one.stderr).contains("warning"),
        "{}",
        text(&one.stderr)
    );
}

#[test]
fn a_missing_bucket_or_an_empty_prefix_is_a_usage_error_naming_the_url() {
    let Some((moto, _dir)) = setup() else {
        return;
    };
    let empty = format!("s3://{BUCKET}/no/such/prefix");
    let answer = moto.feedlens().args(["check", &empty]).output().unwrap();
    assert_eq!(answer.status.code(), Some(2));
    let stderr = text(&answer.stderr);
    assert!(
        stderr.contains(&format!("{empty} holds no CleverTap files")),
        "{stderr}"
    );
    let missing = "s3://no-such-bucket/exports";
    let answer = moto.feedlens().args(["check", missing]).output().unwrap();
    assert_eq!(answer.status.code(), Some(2));
    let stderr = text(&answer.stderr);
    assert!(
        stderr.contains(&format!("cannot read {missing}")),
        "{stderr}"
    );
    assert!(stderr.contains("check the bucket name"), "{stderr}");
}

#[test]
fn a_local_folder_with_a_missing_chunk_is_reported_too() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in chunks() {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let answer = std::process::Command::new(env!("CARGO_BIN_EXE_feedlens"))
        .arg("check")
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = text(&answer.stderr);
    assert!(
        stderr.contains(&format!(
            "feedlens: warning: {}: export run 1650003600 (App Launched): chunk index 2 is missing",
            dir.path().display()
        )),
        "{stderr}"
    );
}

#[test]
fn diff_compares_a_prefix_with_the_same_chunks_in_a_folder() {
    let Some((moto, _dir)) = setup() else {
        return;
    };
    let folder = tempfile::tempdir().unwrap();
    for (name, bytes) in chunks()
        .into_iter()
        .filter(|(name, _)| name.starts_with(RUN))
    {
        std::fs::write(folder.path().join(name), bytes).unwrap();
    }
    let diff = || {
        moto.feedlens()
            .arg("diff")
            .arg(prefix_url())
            .arg(folder.path())
            .output()
            .unwrap()
    };
    let same = diff();
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}\n{}",
        text(&same.stdout),
        text(&same.stderr)
    );
    // One chunk changed on disk: the prefix and the folder differ.
    let events = text(&sample("events.jsonl"));
    let changed = events.replacen("App Launched", "App Installed", 1);
    let first_half: Vec<&str> = changed.lines().take(events.lines().count() / 2).collect();
    std::fs::write(
        folder.path().join(format!("{RUN}-0-5.json.gz")),
        gzip(format!("{}\n", first_half.join("\n")).as_bytes()),
    )
    .unwrap();
    let differs = diff();
    assert_eq!(differs.status.code(), Some(1), "{}", text(&differs.stderr));
}

#[test]
fn a_truncated_gzip_object_is_one_unreadable_record_at_its_url() {
    let Some(moto) = Moto::start() else {
        return;
    };
    moto.create_bucket("broken");
    let whole = gzip(&sample("events.jsonl"));
    let name = format!("{RUN}-0-5.json.gz");
    moto.put(
        "broken",
        &format!("run/{name}"),
        whole[..whole.len() / 2].to_vec(),
    );
    let answer = moto
        .feedlens()
        .args(["check", "s3://broken/run"])
        .output()
        .unwrap();
    let stdout = text(&answer.stdout);
    assert_eq!(answer.status.code(), Some(1), "{}", text(&answer.stderr));
    assert!(
        stdout.contains(&format!("s3://broken/run/{name}:"))
            && stdout.contains("the gzip data ends early"),
        "{stdout}"
    );
}

#[test]
fn edits_of_a_bucket_object_apply_to_it() {
    let Some((moto, _dir)) = setup() else {
        return;
    };
    // The held record of line 7 (no identity) of the plain chunk, fixed by an edit that names
    // the object by its URL and hash, as the window writes it.
    let object = format!("s3://{BUCKET}/{PREFIX}/{RUN}-1-5.json");
    let original = text(&sample("broken_lines.jsonl"));
    let held = original.lines().nth(6).unwrap();
    assert!(held.contains("__nobody"), "the sample changed");
    let fixed = held.replace(
        r#""profile": {"#,
        r#""profile": {"identity": "fixed-in-bucket", "#,
    );
    let edit = serde_json::json!({
        "file": object,
        "file_sha256": feedlens::edits::sha256_hex(original.as_bytes()),
        "line": 7,
        "column": 1,
        "id": null,
        "original_sha256": null,
        "text": fixed,
    });
    let dir = tempfile::tempdir().unwrap();
    let edits = dir.path().join("edits.ndjson");
    std::fs::write(&edits, format!("{edit}\n")).unwrap();
    let output = moto
        .feedlens()
        .args(["map", "--edits"])
        .arg(&edits)
        .arg(&object)
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(stderr.contains("1 of 1 edits"), "{stderr}");
    assert!(
        stdout.contains("\"customer_id\":\"fixed-in-bucket\""),
        "{stdout}"
    );
}
