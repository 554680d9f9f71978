//! The local feed as an HTTP server: auth, validation, limits, duplicates, recording.

use crate::feed_support::*;
use feedlens::feed::*;
use serde_json::{Value, json};

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
}

fn batch(id: &str) -> Value {
    json!({
        "schema_version": 2,
        "environment": "development",
        "source_request_id": id,
        "user_identities": {"customer_id": "1234", "email": "a@b.com"},
        "events": [{"event_type": "custom_event", "data": {
            "event_name": "App Launched", "custom_event_type": "other",
            "timestamp_unixtime_ms": chrono::Utc::now().timestamp_millis(),
            "source_message_id": "m1", "custom_attributes": {"CT Source": "Mobile"}}}]
    })
}

fn post(feed: &LocalFeedHandle, path: &str, body: String, auth: Option<&str>) -> (u16, String) {
    let mut request = client()
        .post(format!("{}{path}", feed.url()))
        .header("content-type", "application/json")
        .body(body);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    (status, response.text().unwrap())
}

#[test]
fn auth_validation_limits_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("record.ndjson");
    let feed = LocalFeed::start(feed_config(&record)).unwrap();
    let good = Credentials::demo().authorization();
    let body = json!([batch("a"), batch("b")]).to_string();

    let (status, answer) = post(&feed, "/bulkevents", body.clone(), None);
    assert_eq!(status, 401, "{answer}");
    let (status, answer) = post(
        &feed,
        "/bulkevents",
        body.clone(),
        Some("Basic Zm9vOmJhcg=="),
    );
    assert_eq!(status, 403, "{answer}");
    let errors: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(errors["errors"][0]["code"], "FORBIDDEN");

    let (status, answer) = post(&feed, "/bulkevents", body.clone(), Some(&good));
    assert_eq!((status, answer.as_str()), (202, ""));
    // The same batches again: 202, taken once, counted as duplicates.
    let (status, _) = post(&feed, "/bulkevents", body, Some(&good));
    assert_eq!(status, 202);
    let (status, _) = post(&feed, "/events", batch("c").to_string(), Some(&good));
    assert_eq!(status, 202);

    let (status, answer) = post(&feed, "/bulkevents", "[{".into(), Some(&good));
    assert_eq!(status, 400);
    let errors: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(errors["errors"][0]["code"], "BAD_REQUEST");
    assert!(
        errors["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("malformed JSON")
    );

    let mut bad = batch("d");
    bad["user_identities"] = json!({"customerid": "1"});
    let (status, answer) = post(&feed, "/bulkevents", json!([bad]).to_string(), Some(&good));
    assert_eq!(status, 400);
    assert!(answer.contains("customerid"), "{answer}");

    // Recent data is refused by the historical endpoint (72-hour rule).
    let (status, answer) = post(
        &feed,
        "/bulkevents/historical",
        json!([batch("e")]).to_string(),
        Some(&good),
    );
    assert_eq!(status, 400);
    assert!(answer.contains("72 hours"), "{answer}");

    let too_many: Vec<Value> = (0..101).map(|i| batch(&format!("x{i}"))).collect();
    let (status, _) = post(
        &feed,
        "/bulkevents",
        Value::Array(too_many).to_string(),
        Some(&good),
    );
    assert_eq!(status, 400);

    let huge = json!([{"padding": "x".repeat(300 * 1024)}]).to_string();
    let (status, answer) = post(&feed, "/bulkevents", huge, Some(&good));
    assert_eq!(status, 413, "{answer}");

    let (status, _) = post(&feed, "/nothing", "[]".into(), Some(&good));
    assert_eq!(status, 404);

    let snapshot = feed.snapshot();
    assert_eq!(snapshot.unauthorized, 1);
    assert_eq!(snapshot.forbidden, 1);
    assert_eq!(snapshot.accepted_requests, 3);
    assert_eq!(snapshot.accepted_batches, 3);
    assert_eq!(snapshot.duplicate_batches, 2);
    assert_eq!(snapshot.bad_requests, 4);
    assert_eq!(snapshot.too_large, 1);
    assert_eq!(snapshot.not_found, 1);
    assert_eq!(snapshot.requests, 11);
    assert_eq!(snapshot.recent.len(), 11);
    assert_eq!(snapshot.recent[3].duplicates, 2);
    assert_eq!(feed.accepted_ids(), ["a", "b", "c"]);
    let received = feed.batches_since(1);
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].customer_id.as_deref(), Some("1234"));
    assert_eq!(received[1].endpoint, "/events");
    assert!(
        received[0]
            .body
            .as_deref()
            .unwrap()
            .contains("App Launched")
    );
    let final_snapshot = feed.stop();
    assert_eq!(final_snapshot.accepted_batches, 3);
    let counts = recorded_counts(&record);
    assert_eq!(counts.len(), 3);
    assert!(counts.values().all(|n| *n == 1));
}

#[test]
fn rate_limit_answers_429_with_retry_after_and_reports_usage() {
    let feed = LocalFeed::start(LocalFeedConfig {
        faults: Faults {
            rate_limit: Some(3),
            ..Faults::default()
        },
        ..LocalFeedConfig::default()
    })
    .unwrap();
    let good = Credentials::demo().authorization();
    let mut saw_429 = false;
    // Each request fills the second's allowance, so the next one in the same second is refused;
    // keep going until that happens (a slow machine may straddle a second boundary or two).
    for i in 0..30 {
        if saw_429 {
            break;
        }
        let batches: Vec<_> = (0..3).map(|j| batch(&format!("r{i}-{j}"))).collect();
        let response = client()
            .post(format!("{}/bulkevents", feed.url()))
            .header("authorization", &good)
            .body(serde_json::Value::Array(batches).to_string())
            .send()
            .unwrap();
        match response.status().as_u16() {
            202 => assert!(
                response
                    .headers()
                    .contains_key("x-mp-rate-limit-percentage-used")
            ),
            429 => {
                saw_429 = true;
                assert_eq!(response.headers()["retry-after"], "1");
                assert_eq!(response.headers()["x-mp-rate-limit-exceeded"], "feed");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(saw_429);
}

#[test]
fn dropped_connections_get_no_answer() {
    let feed = LocalFeed::start(LocalFeedConfig {
        faults: Faults {
            drop_rate: 1.0,
            ..Faults::default()
        },
        seed: Some(1),
        ..LocalFeedConfig::default()
    })
    .unwrap();
    let good = Credentials::demo().authorization();
    for i in 0..6 {
        let result = client()
            .post(format!("{}/bulkevents", feed.url()))
            .header("authorization", &good)
            .body(json!([batch(&format!("d{i}"))]).to_string())
            .send();
        assert!(result.is_err(), "a dropped connection answers nothing");
    }
    let snapshot = feed.snapshot();
    assert_eq!(snapshot.dropped_before + snapshot.dropped_after, 6);
    assert!(snapshot.dropped_before > 0 && snapshot.dropped_after > 0);
    assert_eq!(snapshot.accepted_batches, snapshot.dropped_after);
}
