//! `feedlens report`: one valid, self-contained HTML file; record text cannot inject markup;
//! the file stays small however many records; the journal's outcome is shown.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const HOSTILE: &str = "</script><img src=x onerror=alert(1)>";

fn feedlens(args: &[&str], home: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_feedlens"))
        .args(args)
        .env("XDG_DATA_HOME", home)
        .env("HOME", home)
        .output()
        .unwrap()
}

/// Parses with html5ever (the HTML5 parsing algorithm browsers use) and fails on any parse
/// error; returns the document.
fn parse_strictly(html: &str) -> scraper::Html {
    // The check can fail: a stray end tag is a parse error.
    assert!(!scraper::Html::parse_document("<p></div>").errors.is_empty());
    let document = scraper::Html::parse_document(html);
    assert!(
        document.errors.is_empty(),
        "HTML parse errors: {:?}",
        document.errors
    );
    document
}

fn count(document: &scraper::Html, selector: &str) -> usize {
    document
        .select(&scraper::Selector::parse(selector).unwrap())
        .count()
}

fn self_contained(document: &scraper::Html) {
    assert_eq!(count(document, "script"), 0);
    assert_eq!(count(document, "img"), 0);
    assert_eq!(count(document, "link"), 0);
    assert_eq!(count(document, "iframe, object, embed"), 0);
    for element in document.select(&scraper::Selector::parse("*").unwrap()) {
        for (name, value) in element.value().attrs() {
            assert!(!name.starts_with("on"), "event handler attribute {name}");
            if name == "src" || name == "href" {
                panic!("external reference {name}={value}");
            }
        }
    }
}

fn write(path: &Path, lines: impl IntoIterator<Item = String>) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
}

#[test]
fn hostile_record_text_is_escaped_everywhere_and_the_html_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("hostile.jsonl");
    let record = serde_json::json!({
        "ts": 20220212004131_u64,
        "eventName": HOSTILE,
        "profile": {"identity": HOSTILE, "name": HOSTILE},
        "eventProps": {HOSTILE: HOSTILE, "CT Source": HOSTILE, "CT Latitude": HOSTILE, "CT Longitude": 1},
    });
    let no_identity =
        serde_json::json!({"ts": 20220212004131_u64, "eventName": HOSTILE, "eventProps": {"x": 1}});
    write(
        &input,
        [
            record.to_string(),
            no_identity.to_string(),
            format!("{{\"ts\": {HOSTILE}"),
        ],
    );
    let out = dir.path().join("report.html");
    for mask in [false, true] {
        let mut args = vec![
            "report",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ];
        if mask {
            args.extend(["--mask", "--mask-salt", "s"]);
        }
        let run = feedlens(&args, dir.path());
        assert_eq!(run.status.code(), Some(1), "{run:?}");
        let html = std::fs::read_to_string(&out).unwrap();
        assert!(!html.contains("<img"), "markup injected");
        assert!(!html.contains("</script><"), "markup injected");
        assert!(html.contains("&lt;img"), "the event name is shown, escaped");
        let document = parse_strictly(&html);
        self_contained(&document);
        // The hostile text is shown as text: in the events table, the findings and a chart.
        let text: String = document.root_element().text().collect();
        assert!(text.contains(HOSTILE), "the record's text is shown as text");
        assert!(count(&document, "svg rect") >= 5, "charts are drawn");
    }
}

fn samples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn the_report_shows_counts_coverage_findings_rules_and_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.ndjson");
    let events = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/events.jsonl");
    let send = feedlens(
        &[
            "send",
            "--local",
            "--journal",
            journal.to_str().unwrap(),
            events.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(journal.exists(), "{send:?}");
    let out = dir.path().join("report.html");
    let mut args = vec![
        "report",
        "-o",
        out.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
    ];
    let files = samples();
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    feedlens(&args, dir.path());
    let html = std::fs::read_to_string(&out).unwrap();
    let document = parse_strictly(&html);
    self_contained(&document);
    let text: String = document.root_element().text().collect();
    let check = feedlens(&[&["check", "--json"][..], &args[5..]].concat(), dir.path());
    let check: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let records = check["records_read"].as_u64().unwrap();
    assert!(text.contains(&format!("{records}records read")), "{text}");
    for kind in ["unknown_event", "historical", "unreadable"] {
        assert!(text.contains(kind), "{kind} missing");
    }
    assert!(text.contains("A/B Experiment Rendered") && text.contains("/ 25"));
    let rules_hash = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(feedlens::mapping::DEFAULT_RULES.as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert!(text.contains(&rules_hash), "the rules' hash");
    assert!(
        text.contains("Sending (journal)") && text.contains("accepted"),
        "{text}"
    );
}

#[test]
fn the_report_stays_under_two_megabytes_with_counts_complete() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("many.jsonl");
    let records = 30_000;
    write(
        &input,
        (0..records).map(|i| {
            serde_json::json!({
                "ts": 20220212004131_u64,
                "eventName": format!("Custom event number {i} {}", "x".repeat(100)),
                "profile": {"identity": format!("user{i}")},
                "eventProps": {format!("prop {i}"): "y".repeat(200), "CT Latitude": 300},
            })
            .to_string()
        }),
    );
    let out = dir.path().join("report.html");
    let run = feedlens(
        &[
            "report",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(run.status.success(), "{run:?}");
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.len() < 2 * 1024 * 1024, "{} bytes", html.len());
    let document = parse_strictly(&html);
    let text: String = document.root_element().text().collect();
    assert!(text.contains(&format!("{records}records read")));
    assert!(
        text.contains(&format!("The first 5 of {records}.")),
        "examples capped, counts complete"
    );
    assert!(text.contains("more events"));
}
