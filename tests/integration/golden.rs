//! Golden tests: every file in `samples/` is mapped and its batches and accounting compared with
//! the expected output checked in under `tests/golden/`. A change in mapping shows as a diff.
//! After an intended change: `UPDATE_GOLDEN=1 cargo test --test integration golden::`, then review the diff.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use feedlens::mapping::{Engine, MapOptions, RecordStatus, Rules, build_batches};
use feedlens::mparticle::Environment;
use feedlens::pipeline::{self, Accounting};

/// 2026-11-01T00:00:00Z, so that the age checks give the same answer on any day.
const NOW: i64 = 1_793_491_200_000;

fn samples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn render(path: &Path) -> (String, String) {
    let engine = Engine::new(
        Arc::new(Rules::default_rules().unwrap()),
        MapOptions {
            now_millis: NOW,
            ..MapOptions::default()
        },
    );
    let relative = PathBuf::from("samples").join(path.file_name().unwrap());
    let (outcomes, summary) = pipeline::load(std::slice::from_ref(&relative), &engine);
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let mut accounting = Accounting::default();
    let mut findings = Vec::new();
    for outcome in &outcomes {
        accounting.add(outcome);
        for finding in &outcome.findings {
            findings.push(serde_json::json!({
                "line": outcome.place.line, "column": outcome.place.column, "csv_row": outcome.place.csv_row,
                "status": outcome.status.as_str(), "severity": finding.severity, "kind": finding.kind,
                "field": finding.field, "message": finding.message,
            }));
        }
    }
    assert!(accounting.balanced());
    let plan = build_batches(
        &outcomes,
        |_, o| matches!(o.status, RecordStatus::Mapped | RecordStatus::Warned),
        Environment::Development,
        NOW,
    );
    let mut batches = String::new();
    for planned in &plan.batches {
        batches.push_str(&serde_json::to_string(&planned.batch).unwrap());
        batches.push('\n');
    }
    let check = serde_json::to_string_pretty(&serde_json::json!({
        "accounting": accounting, "findings": findings,
    }))
    .unwrap()
        + "\n";
    (batches, check)
}

#[test]
fn samples_map_to_their_golden_output() {
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    let files = samples();
    assert!(files.len() >= 6, "samples/ should hold the bundled samples");
    for path in files {
        let name = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(' ', "_");
        let (batches, check) = render(&path);
        for (suffix, actual) in [("batches.ndjson", batches), ("check.json", check)] {
            let golden = golden_dir.join(format!("{name}.{suffix}"));
            if update {
                std::fs::write(&golden, &actual).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&golden).unwrap_or_default();
            if expected != actual {
                let line = expected
                    .lines()
                    .zip(actual.lines())
                    .position(|(a, b)| a != b);
                mismatches.push(format!(
                    "{} differs (first differing line: {:?})",
                    golden.display(),
                    line.map(|l| l + 1)
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "golden output changed; review and rerun with UPDATE_GOLDEN=1:\n{}",
        mismatches.join("\n")
    );
}
