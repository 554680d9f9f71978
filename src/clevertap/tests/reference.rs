//! The shared reference samples (`../shared/reference/clevertap/`), when present: skipped on a
//! plain clone without them.

use std::path::{Path, PathBuf};

use super::support::{read_outcomes, read_values};
use crate::clevertap::{ReadError, Shape, open};

fn reference_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/clevertap");
    dir.is_dir().then_some(dir)
}

#[test]
fn reference_samples() {
    let Some(dir) = reference_dir() else {
        eprintln!("reference samples not found: skipped");
        return;
    };
    let expected: &[(&str, Shape, usize)] = &[
        (
            "clevertap-docs__export-file-formats__events.jsonl",
            Shape::Ndjson,
            12,
        ),
        ("apperture__get_events_records.jsonl", Shape::Ndjson, 6),
        (
            "apperture__get_events_page_response.json",
            Shape::EventsPage,
            1,
        ),
        (
            "clevertap-docs__export-file-formats__app_launched.csv",
            Shape::Csv,
            1,
        ),
        (
            "clevertap-docs__export-file-formats__notification_viewed.csv",
            Shape::Csv,
            1,
        ),
        (
            "clevertap-docs__export-file-formats__reply_sent.csv",
            Shape::Csv,
            1,
        ),
        (
            "clevertap-docs__profile-exports__sample_record.json",
            Shape::Ndjson,
            1,
        ),
        (
            "clevertap-docs__s3-export__legacy_json_record.json",
            Shape::Ndjson,
            1,
        ),
        (
            "clevertap-support-snippets__downloading_user_events_example_response.json",
            Shape::EventsPage,
            0,
        ),
        (
            "clevertap-support-snippets__downloading_user_profile_example_response_body.json",
            Shape::JsonDocument,
            1,
        ),
        (
            "clevertap-support-snippets__downloading_user_profiles_example_subsequent_response_body.json",
            Shape::EventsPage,
            1,
        ),
    ];
    for (name, shape, count) in expected {
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        let (info, values) = read_values(&path);
        assert_eq!((info.shape, values.len()), (*shape, *count), "{name}");
    }
    for name in [
        "clevertap-docs__push_post_action_webhook.json",
        "clevertap-docs__webhook__full_sample_payload.json",
        "clevertap-support-snippets__sample_webhook_payload.json",
    ] {
        let path = dir.join(name);
        if path.exists() {
            assert!(
                matches!(open(&path), Err(ReadError::Webhook { .. })),
                "{name}"
            );
        }
    }
}

#[test]
fn commented_samples_read_like_their_stripped_twins() {
    let Some(dir) = reference_dir() else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut twins = 0;
    for entry in entries.flatten() {
        let stripped = entry.path();
        let name = stripped
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let Some(stem) = name.strip_suffix(".comments_stripped.json") else {
            continue;
        };
        let commented = dir.join(format!("{stem}.json"));
        let (_, with_comments) = read_values(&commented);
        let (_, without) = read_values(&stripped);
        assert!(!without.is_empty(), "{name}");
        assert_eq!(with_comments, without, "{name}");
        let (_, outcomes) = read_outcomes(&commented);
        assert!(outcomes.iter().all(Result::is_ok));
        twins += 1;
    }
    assert!(twins >= 3);
}
