//! The send plan: request limits, historical routing, exact bodies, deterministic ids, what is
//! held back.

use std::collections::HashSet;

use crate::feed_support::*;
use feedlens::feed::*;
use feedlens::mparticle::{Environment, limits};

#[test]
fn requests_hold_at_most_100_batches_and_stay_under_256_kb() {
    let dir = tempfile::tempdir().unwrap();
    let small = write_export(dir.path(), "small.jsonl", 2500, 2500, 0);
    let big = write_big_export(dir.path(), "big.jsonl", 300, 300, 3000);
    let plan = plan_of(&[small, big], Environment::Development);
    assert_eq!(plan.batch_count(), 2800);
    let mut covered = 0;
    let mut full_by_count = 0;
    let mut full_by_bytes = 0;
    for (index, request) in plan.requests.iter().enumerate() {
        assert_eq!(request.index, index);
        assert_eq!(
            request.batches.start, covered,
            "requests cover the batches in order"
        );
        covered = request.batches.end;
        assert!(request.batches.len() <= limits::MAX_BATCHES_PER_REQUEST);
        assert!(
            request.bytes < limits::MAX_REQUEST_BYTES,
            "{} bytes",
            request.bytes
        );
        let body = plan.request_body(index).unwrap();
        assert_eq!(
            body.len(),
            request.bytes,
            "the planned size is the body's size"
        );
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed.len(), request.batches.len());
        if request.batches.len() == limits::MAX_BATCHES_PER_REQUEST {
            full_by_count += 1;
        } else if index + 1 < plan.requests.len() {
            full_by_bytes += 1;
        }
    }
    assert_eq!(covered, plan.batch_count());
    assert!(
        full_by_count > 0 && full_by_bytes > 0,
        "{full_by_count} {full_by_bytes}"
    );
    assert_eq!(
        plan.total_bytes(),
        plan.requests.iter().map(|r| r.bytes).sum::<usize>()
    );
}

#[test]
fn old_batches_go_to_the_historical_endpoint_and_the_plan_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "mixed.jsonl", 700, 100, 3);
    let plan = plan_of(&[file], Environment::Development);
    let cutoff = chrono::Utc::now().timestamp_millis() - 30 * 86_400_000;
    let mut historical_batches = 0;
    for request in &plan.requests {
        for planned in &plan.batches[request.batches.clone()] {
            let times: Vec<i64> = planned
                .batch
                .events
                .iter()
                .map(|e| e.data.timestamp_unixtime_ms.unwrap())
                .collect();
            match request.endpoint {
                Endpoint::Historical => {
                    historical_batches += 1;
                    assert!(planned.historical);
                    assert!(!times.is_empty() && times.iter().all(|t| *t < cutoff));
                }
                Endpoint::Bulk => {
                    assert!(!planned.historical);
                    assert!(times.iter().all(|t| *t >= cutoff));
                }
            }
        }
    }
    assert!(historical_batches > 0);
    let per_endpoint = plan.per_endpoint();
    assert_eq!(per_endpoint[&Endpoint::Historical].1, historical_batches);
    let text = plan.describe(None);
    assert!(text.contains("/bulkevents/historical"), "{text}");
    assert!(text.contains("older than 30 days"), "{text}");
    // Recent batches come first, so each endpoint's requests are as full as they can be.
    let endpoints: Vec<Endpoint> = plan.requests.iter().map(|r| r.endpoint).collect();
    let mut sorted = endpoints.clone();
    sorted.sort();
    assert_eq!(endpoints, sorted);
}

#[test]
fn ids_are_deterministic_and_resend_excludes_what_was_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_export(dir.path(), "export.jsonl", 1500, 600, 5);
    let first = plan_of(std::slice::from_ref(&file), Environment::Development);
    let second = plan_of(std::slice::from_ref(&file), Environment::Development);
    let ids = |plan: &SendPlan| {
        plan.requests
            .iter()
            .map(|r| r.request_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), ids(&second));
    assert_eq!(planned_ids(&first), planned_ids(&second));
    let production = plan_of(std::slice::from_ref(&file), Environment::Production);
    assert!(
        planned_ids(&first).is_disjoint(&planned_ids(&production)),
        "a batch id depends on the environment"
    );
    let accepted: HashSet<String> = first.batches[..250]
        .iter()
        .map(|b| b.batch.source_request_id.clone())
        .collect();
    let rest = first.excluding(&accepted);
    assert_eq!(rest.already_accepted, 250);
    assert_eq!(rest.batch_count(), first.batch_count() - 250);
    assert!(planned_ids(&rest).is_disjoint(&accepted.into_iter().collect()));
    assert!(rest.describe(None).contains("already accepted"));
    for request in &rest.requests {
        assert!(request.batches.len() <= limits::MAX_BATCHES_PER_REQUEST);
        assert!(request.bytes < limits::MAX_REQUEST_BYTES);
    }
}

#[test]
fn held_records_are_held_back_unless_the_user_sends_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("held.jsonl");
    let now = chrono::Utc::now().timestamp();
    // No identity at all and no time: the rules hold such records.
    let lines = [
        format!(r#"{{"ts": {now}, "eventName": "App Launched", "profile": {{"identity": "a"}}}}"#),
        r#"{"eventName": "App Launched", "profile": {"identity": "b"}}"#.to_string(),
        "not json".to_string(),
    ];
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let engine = engine(Environment::Development);
    let (outcomes, _) = feedlens::pipeline::load(std::slice::from_ref(&path), &engine);
    let now_millis = engine.options().now_millis;
    let held = SendPlan::from_outcomes(
        &outcomes,
        |_, _| true,
        Environment::Development,
        false,
        now_millis,
    );
    assert_eq!(held.held.unreadable_records, 1);
    assert!(held.held.held_records >= 1, "{:?}", held.held);
    assert!(!held.held.held_included);
    let text = held.describe(None);
    assert!(text.contains("held back as invalid"), "{text}");
    let sent = SendPlan::from_outcomes(
        &outcomes,
        |_, _| true,
        Environment::Development,
        true,
        now_millis,
    );
    assert!(sent.held.held_included);
    assert!(sent.batch_count() > held.batch_count());
    // A selection narrows the plan.
    let first_only = SendPlan::from_outcomes(
        &outcomes,
        |i, _| i == 0,
        Environment::Development,
        false,
        now_millis,
    );
    assert_eq!(first_only.batch_count(), 1);
    assert_eq!(first_only.held.unreadable_records, 0);
}

#[test]
fn plain_http_with_credentials_is_refused_for_other_hosts() {
    let credentials = Credentials::new("key", "secret");
    for url in [
        "http://s2s.mparticle.com/v2",
        "http://192.168.1.5:8080/v2",
        "http://example.com",
    ] {
        let settings = FeedSettings {
            target: FeedTarget::Url(url.into()),
            ..FeedSettings::default()
        };
        assert!(
            matches!(
                settings.resolve(&credentials, None),
                Err(SettingsError::InsecureHttp { .. })
            ),
            "{url}"
        );
    }
    let local = FeedSettings {
        target: FeedTarget::Url("http://127.0.0.1:9/v2".into()),
        ..FeedSettings::default()
    };
    assert!(local.resolve(&credentials, None).is_ok());
    let pod = FeedSettings {
        target: FeedTarget::Pod(Pod::US2),
        ..FeedSettings::default()
    };
    let resolved = pod.resolve(&credentials, None).unwrap();
    assert_eq!(
        resolved.endpoint_url(Endpoint::Historical.path()),
        "https://s2s.us2.mparticle.com/v2/bulkevents/historical"
    );
    assert!(matches!(
        pod.resolve(&Credentials::default(), None),
        Err(SettingsError::MissingCredentials { .. })
    ));
}
