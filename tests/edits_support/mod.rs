//! An edits file that repairs `samples/broken_lines.jsonl` as a user would in the window: the
//! held record of line 7 (no identity) gets a customer id, the broken line 2 is completed.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use feedlens::edits::{Edit, EditsFile, file_sha256, sha256_hex};
use feedlens::mapping::{Engine, MapOptions, Rules};

/// The customer id the repair gives the record of line 7.
pub const FIXED_CUSTOMER_ID: &str = "fixed-7001";

/// The repaired text of the broken line 2.
pub const REPAIRED_LINE_2: &str = r#"{"ts": 20220301100009, "eventName": "App Launched", "profile": {"identity": "6102608768475532"}, "eventProps": {"CT Source": "Mobile", "CT Session Id": 1646128809}}"#;

/// The `source_message_id` of the record at `line` of `input`.
pub fn original_id(input: &Path, line: u64) -> String {
    let engine = Engine::new(
        Arc::new(Rules::default_rules().unwrap()),
        MapOptions::default(),
    );
    let (outcomes, _) = feedlens::pipeline::load(&[input.to_path_buf()], &engine);
    let outcome = outcomes.iter().find(|o| o.place.line == line).unwrap();
    outcome.mapped.as_ref().unwrap().record_id.to_string()
}

/// A copy of `samples/broken_lines.jsonl` in `dir` and an edits file repairing it.
pub fn fixed_broken_lines(dir: &Path) -> (PathBuf, PathBuf) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/broken_lines.jsonl");
    let input = dir.join("broken_lines.jsonl");
    std::fs::copy(&sample, &input).unwrap();
    let text = std::fs::read_to_string(&input).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let held = lines[6];
    assert!(
        held.contains("__nobody"),
        "the sample changed: update this test"
    );
    let fixed = held.replace(
        r#""profile": {"#,
        &format!(r#""profile": {{"identity": "{FIXED_CUSTOMER_ID}", "#),
    );
    let hash = file_sha256(&input).unwrap();
    let edits_path = dir.join("edits.ndjson");
    let mut edits = EditsFile::load(&edits_path).unwrap();
    edits
        .apply(Edit {
            file: input.clone(),
            file_sha256: hash.clone(),
            line: 7,
            column: 1,
            csv_row: None,
            id: Some(original_id(&input, 7)),
            original_sha256: Some(sha256_hex(held.as_bytes())),
            text: fixed,
        })
        .unwrap();
    edits
        .apply(Edit {
            file: input.clone(),
            file_sha256: hash,
            line: 2,
            column: 1,
            csv_row: None,
            id: None,
            original_sha256: None,
            text: REPAIRED_LINE_2.to_string(),
        })
        .unwrap();
    (input, edits_path)
}
