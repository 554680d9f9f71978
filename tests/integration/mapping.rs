//! The engine and the batcher on hand-written records: what the feed document and mapping.md say.

use std::path::Path;
use std::sync::Arc;

use feedlens::clevertap::{Place, json_from_serde};
use feedlens::mapping::{
    Category, Engine, FindingKind, MapOptions, Outcome, PlanEvent, PlanItem, RecordStatus, Rules,
    Severity, TraceOp, build_batches, event_bytes, plan_items, split_requests,
};
use feedlens::mparticle::{Environment, EventType, limits};
use serde_json::{Value, json};

/// 2026-11-01T00:00:00Z: fixed so the age checks do not depend on the day the tests run.
const NOW: i64 = 1_793_491_200_000;

fn engine_with(rules: Rules) -> Engine {
    Engine::new(
        Arc::new(rules),
        MapOptions {
            now_millis: NOW,
            trace: true,
            ..MapOptions::default()
        },
    )
}

fn engine() -> Engine {
    engine_with(Rules::default_rules().unwrap())
}

fn place(line: u64) -> Place {
    Place::at(Arc::from(Path::new("test.jsonl")), line, 1)
}

fn map(record: Value) -> Outcome {
    engine().map(place(1), json_from_serde(&record), None)
}

fn event_record(name: &str, props: Value) -> Value {
    json!({"ts": 20220212004131_i64, "eventName": name,
           "profile": {"identity": "6102608768475532", "email": "a@example.com"},
           "eventProps": props})
}

fn data(outcome: &Outcome) -> &feedlens::mparticle::EventData {
    &outcome
        .mapped
        .as_ref()
        .unwrap()
        .event
        .as_ref()
        .unwrap()
        .data
}

fn has(outcome: &Outcome, kind: FindingKind) -> bool {
    outcome.findings.iter().any(|f| f.kind == kind)
}

#[test]
fn every_documented_event_gets_its_documented_type_and_category() {
    let rules = Rules::default_rules().unwrap();
    for rule in &rules.events {
        let outcome = map(event_record(&rule.name, json!({"CT Source": "Mobile"})));
        assert_eq!(
            outcome.status,
            RecordStatus::Mapped,
            "{}: {:?}",
            rule.name,
            outcome.findings
        );
        let mapped = outcome.mapped.as_ref().unwrap();
        let event = mapped.event.as_ref().unwrap();
        assert_eq!(mapped.category, Some(rule.category));
        if rule.category == Category::Uninstall {
            assert_eq!(event.event_type, EventType::Uninstall);
            assert_eq!(event.data.event_name, None);
            assert_eq!(event.data.custom_event_type, None);
        } else {
            assert_eq!(event.event_type, EventType::CustomEvent);
            assert_eq!(event.data.event_name.as_deref(), Some(rule.name.as_str()));
            assert_eq!(
                event.data.custom_event_type.as_deref(),
                Some(rule.category.as_str())
            );
        }
    }
}

#[test]
fn clevertap_spellings_are_sent_under_the_document_names() {
    let outcome = map(event_record(
        "AB Experiment Rendered",
        json!({"Variant": "B"}),
    ));
    assert_eq!(
        data(&outcome).event_name.as_deref(),
        Some("A/B Experiment Rendered")
    );
    let trace = &outcome.mapped.as_ref().unwrap().trace;
    assert!(
        trace
            .iter()
            .any(|t| t.target == "events[].data.event_name" && t.op == TraceOp::Renamed)
    );
    let outcome = map(event_record("Geocluster Entered", json!({})));
    assert_eq!(
        data(&outcome).event_name.as_deref(),
        Some("GeoCluster Entered")
    );
    assert_eq!(
        data(&outcome).custom_event_type.as_deref(),
        Some("location")
    );
}

#[test]
fn control_group_splits_four_ways() {
    let case = |group_name: Option<&str>, journey: bool| {
        let mut record = event_record("Control Group", json!({"CT Source": "Journey"}));
        if let Some(name) = group_name {
            record["controlGroupName"] = json!(name);
        }
        if journey {
            record["eventProps"]["Journey id"] = json!(17);
        }
        data(&map(record)).event_name.clone().unwrap()
    };
    assert_eq!(case(Some("Holdout"), false), "Custom Control Group");
    assert_eq!(case(Some(""), false), "System Control Group");
    assert_eq!(case(None, false), "System Control Group");
    assert_eq!(
        case(Some("Holdout"), true),
        "Custom & Journey Control Group (Journeys)"
    );
    assert_eq!(case(None, true), "System Control Group (Journeys)");
}

#[test]
fn unknown_events_follow_the_policy() {
    let outcome = map(event_record("Notification Delivered", json!({})));
    assert_eq!(outcome.status, RecordStatus::Warned);
    assert_eq!(data(&outcome).custom_event_type.as_deref(), Some("other"));
    assert!(has(&outcome, FindingKind::UnknownEvent));

    let text = feedlens::mapping::DEFAULT_RULES
        .replace("unknown_events = \"other\"", "unknown_events = \"hold\"");
    let held = engine_with(Rules::parse(&text, "hold.toml").unwrap()).map(
        place(1),
        json_from_serde(&event_record("Charged", json!({}))),
        None,
    );
    assert_eq!(held.status, RecordStatus::Held);

    let text = feedlens::mapping::DEFAULT_RULES
        .replace("unknown_events = \"other\"", "unknown_events = \"drop\"");
    let dropped = engine_with(Rules::parse(&text, "drop.toml").unwrap()).map(
        place(1),
        json_from_serde(&event_record("Charged", json!({}))),
        None,
    );
    assert_eq!(dropped.status, RecordStatus::Dropped);
}

#[test]
fn time_is_read_in_the_account_zone_and_never_invented() {
    let outcome = map(event_record("App Launched", json!({})));
    assert_eq!(
        data(&outcome).timestamp_unixtime_ms,
        Some(1_644_626_491_000)
    );
    assert!(has(&outcome, FindingKind::Historical));

    let mut record = event_record("App Launched", json!({}));
    record["ts"] = json!("yesterday");
    let outcome = map(record.clone());
    assert_eq!(outcome.status, RecordStatus::Held);
    assert!(has(&outcome, FindingKind::UnreadableTime));
    record.as_object_mut().unwrap().remove("ts");
    let outcome = map(record);
    assert_eq!(outcome.status, RecordStatus::Held);
    assert_eq!(data(&outcome).timestamp_unixtime_ms, None);

    let mut record = event_record("App Launched", json!({}));
    record["ts"] = json!(20991231000000_i64);
    let outcome = map(record);
    assert!(has(&outcome, FindingKind::FutureTimestamp));
    assert_eq!(outcome.status, RecordStatus::Warned);

    let kolkata = Engine::new(
        Arc::new(Rules::default_rules().unwrap()),
        MapOptions {
            now_millis: NOW,
            timezone: Some(feedlens::mapping::parse_timezone("Asia/Kolkata").unwrap()),
            ..MapOptions::default()
        },
    );
    let outcome = kolkata.map(
        place(1),
        json_from_serde(&event_record("App Launched", json!({}))),
        None,
    );
    assert_eq!(
        data(&outcome).timestamp_unixtime_ms,
        Some(1_644_626_491_000 - 19_800_000)
    );
}

#[test]
fn values_become_strings_and_names_are_trimmed() {
    let outcome = map(event_record(
        "App Launched",
        json!({"CT SDK Version": 40300, "CT Bluetooth Enabled": true, " CT  Source ": "Mobile",
               "wzrk_acts": [{"l": "Open"}], "Keyword": null, "Latency": serde_json::from_str::<Value>("1.50").unwrap()}),
    ));
    let attributes = &data(&outcome).custom_attributes;
    assert_eq!(attributes.get("CT SDK Version"), Some("40300"));
    assert_eq!(attributes.get("CT Bluetooth Enabled"), Some("true"));
    assert_eq!(attributes.get("CT Source"), Some("Mobile"));
    assert_eq!(attributes.get("wzrk_acts"), Some(r#"[{"l":"Open"}]"#));
    assert_eq!(attributes.get("Latency"), Some("1.50"));
    assert!(!attributes.contains_key("Keyword"));
    assert_eq!(
        outcome.status,
        RecordStatus::Warned,
        "stray spaces warn: {:?}",
        outcome.findings
    );
    assert!(has(&outcome, FindingKind::AttributeNameSpaces));
    assert!(has(&outcome, FindingKind::ValueCoerced));
    assert!(
        has(&outcome, FindingKind::UndocumentedAttribute),
        "Latency is not documented"
    );
    assert!(has(&outcome, FindingKind::DocumentedAttributeMissing));
}

#[test]
fn limits_are_checked() {
    let long_value = "x".repeat(limits::MAX_ATTRIBUTE_VALUE_CHARS + 1);
    let outcome = map(event_record(
        "App Launched",
        json!({"CT Source": long_value}),
    ));
    assert!(
        outcome
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::OverLimit && f.severity == Severity::Warning)
    );
    let many: serde_json::Map<String, Value> =
        (0..101).map(|i| (format!("p{i}"), json!(i))).collect();
    let outcome = map(event_record("App Launched", Value::Object(many)));
    assert!(has(&outcome, FindingKind::OverLimit));
}

#[test]
fn session_properties_are_flattened_only_where_the_document_lists_them() {
    let mut record = event_record("UTM Visited", json!({"Campaign id": 7}));
    record["session_props"] = json!({"utm_source": "google-play", "session_source": "Others"});
    let outcome = map(record.clone());
    let attributes = &data(&outcome).custom_attributes;
    assert_eq!(attributes.get("utm_source"), Some("google-play"));
    assert_eq!(attributes.get("session_source"), Some("Others"));
    assert!(
        outcome
            .mapped
            .as_ref()
            .unwrap()
            .trace
            .iter()
            .any(|t| t.op == TraceOp::Flattened)
    );

    record["eventName"] = json!("App Launched");
    let outcome = map(record);
    assert!(!data(&outcome).custom_attributes.contains_key("utm_source"));
    assert!(
        outcome
            .mapped
            .as_ref()
            .unwrap()
            .trace
            .iter()
            .any(|t| t.source == "session_props.utm_source" && t.op == TraceOp::Dropped)
    );
}

#[test]
fn identities_follow_the_document() {
    let record = json!({"ts": 20220212004131_i64, "eventName": "App Launched",
        "profile": {"identity": "6102608768475532,645676746", "all_identities": ["x@example.com", "6102608768475532"]}});
    let mapped = map(record).mapped.unwrap();
    assert_eq!(
        mapped.identities.customer_id.as_deref(),
        Some("6102608768475532")
    );
    assert_eq!(mapped.identities.email.as_deref(), Some("x@example.com"));

    let record = json!({"ts": 20220212004131_i64, "eventName": "App Launched", "profile": {"objectId": "__g1", "platform": "Android"}});
    let outcome = map(record);
    assert_eq!(outcome.status, RecordStatus::Held);
    assert!(has(&outcome, FindingKind::MissingIdentity));
}

#[test]
fn location_comes_from_ct_latitude_in_any_spelling() {
    let outcome = map(event_record(
        "App Installed",
        json!({"ct_latitude": -6.1975594, "ct_longitude": "106.52913"}),
    ));
    let location = data(&outcome).location.unwrap();
    assert_eq!(
        (location.latitude, location.longitude),
        (-6.1975594, 106.52913)
    );
    let outcome = map(event_record(
        "App Launched",
        json!({"CT Latitude": 123.0, "CT Longitude": 1.0}),
    ));
    assert!(data(&outcome).location.is_none());
    assert_eq!(outcome.status, RecordStatus::Warned);
}

#[test]
fn profile_records_become_user_attributes() {
    let record = json!({"identity": "42", "Email": "jo@example.com", "Name": "Jo", "Gender": "F",
        "DOB": "$D_656208000", "MSG-email": true, "MSG-push": "false", "MSG-sms": "maybe", "Favourite": "x"});
    let outcome = map(record);
    let mapped = outcome.mapped.as_ref().unwrap();
    assert!(mapped.event.is_none());
    assert_eq!(mapped.identities.customer_id.as_deref(), Some("42"));
    assert_eq!(mapped.identities.email.as_deref(), Some("jo@example.com"));
    assert_eq!(mapped.user_attributes["ct_name"], json!("Jo"));
    assert_eq!(mapped.user_attributes["ct_dob"], json!("1990-10-18"));
    assert_eq!(mapped.user_attributes["ct_email_opt_in"], json!(true));
    assert_eq!(mapped.user_attributes["ct_push_opt_in"], json!(false));
    assert!(!mapped.user_attributes.contains_key("ct_sms_opt_in"));
    assert_eq!(
        outcome.status,
        RecordStatus::Warned,
        "a non-boolean opt-in warns"
    );
    assert!(
        mapped
            .trace
            .iter()
            .any(|t| t.source == "Favourite" && t.op == TraceOp::Dropped)
    );
}

#[test]
fn get_events_records_take_the_file_name_then_the_users_name() {
    let record = json!({"ts": 20221119054937_i64, "profile": {"identity": "1"}, "event_props": {"Install": "y"},
                        "session_props": {"utm_source": "google-play"}});
    let outcome = engine().map(place(1), json_from_serde(&record), Some("UTM Visited"));
    assert_eq!(data(&outcome).event_name.as_deref(), Some("UTM Visited"));
    let outcome = engine().map(place(1), json_from_serde(&record), None);
    assert_eq!(outcome.status, RecordStatus::Held);
    assert!(has(&outcome, FindingKind::NoEventName));
    let named = Engine::new(
        Arc::new(Rules::default_rules().unwrap()),
        MapOptions {
            now_millis: NOW,
            event_name: Some("UTM Visited".into()),
            ..MapOptions::default()
        },
    );
    assert_eq!(
        named.map(place(1), json_from_serde(&record), None).status,
        RecordStatus::Mapped
    );
}

#[test]
fn ids_are_deterministic_per_record_and_environment() {
    let first = map(event_record("App Launched", json!({"CT Source": "Mobile"})));
    let again = map(event_record("App Launched", json!({"CT Source": "Mobile"})));
    let other = map(event_record("App Launched", json!({"CT Source": "Web"})));
    assert_eq!(
        data(&first).source_message_id,
        data(&again).source_message_id
    );
    assert_ne!(
        data(&first).source_message_id,
        data(&other).source_message_id
    );
    assert!(uuid::Uuid::parse_str(&data(&first).source_message_id).is_ok());

    let outcomes = vec![first];
    let all = |_: usize, _: &Outcome| true;
    let dev = build_batches(&outcomes, all, Environment::Development, NOW);
    let dev_again = build_batches(&outcomes, all, Environment::Development, NOW);
    let prod = build_batches(&outcomes, all, Environment::Production, NOW);
    assert_eq!(
        dev.batches[0].batch.source_request_id,
        dev_again.batches[0].batch.source_request_id
    );
    assert_ne!(
        dev.batches[0].batch.source_request_id,
        prod.batches[0].batch.source_request_id
    );
}

#[test]
fn ids_are_the_same_from_the_text_as_read_and_from_the_parsed_record() {
    // The id digests the record's compact text; `map_text` takes it from the text as read when
    // it can. Every spelling of a record must give the id of the record written out again.
    let texts = [
        r#"{"ts":20220212004131,"eventName":"App Launched","profile":{"identity":"61"},"eventProps":{"CT Source":"Mobile"}}"#,
        r#"{ "ts" : 20220212004131 , "eventName": "App Launched", "profile": {"identity": "61"}, "eventProps": {"CT Source": "Mobile"} }"#,
        "{\n  \"ts\": 20220212004131,\n  \"eventName\": \"App Launched\",\n  \"profile\": {\"identity\": \"61\"},\n  \"eventProps\": {\"CT Source\": \"Mobile\"}\n}",
        r#"{"ts":20220212004131,"eventName":"App Launched","profile":{"identity":"61"},"eventProps":{"CT Source":"Mobile"}}  "#,
        r#"{"ts":20220212004131,"eventName":"App\u0020Launched","profile":{"identity":"61"},"eventProps":{"CT Source":"Mobile"}}"#,
        r#"{"eventName":"App Launched","ts":20220212004131, "profile":{"identity":"61"},"eventProps":{"CT Source":"Mobile"}}"#,
        r#"{"ts":20220212004131,"eventName":"App Launched","profile":{"identity":"61","name":"Zoë \"Z\" \\ / \u2028 \u007f é 😀"},"eventProps":{"a":[1, 2.50, -0.0, 1E400, {}, [], null, true]}}"#,
        "{\"ts\":20220212004131,\"eventName\":\"App Launched\",\"profile\":{\"name\":\"Zoë \u{2028} \u{7f} é 😀\"},\"eventProps\":{\"a\":[1,2.50,-0.0,1E400,{},[],null,true],\"a\":2}}",
    ];
    let engine = engine();
    for text in texts {
        let value = feedlens::clevertap::parse_text(&place(1), text.as_bytes()).unwrap();
        let from_text = engine.map_text(place(1), text.as_bytes(), value.clone(), None);
        let from_value = engine.map(place(1), value, None);
        assert_eq!(
            data(&from_text).source_message_id,
            data(&from_value).source_message_id,
            "{text}"
        );
    }
    let id = |text: &str| {
        let value = feedlens::clevertap::parse_text(&place(1), text.as_bytes()).unwrap();
        data(&engine.map_text(place(1), text.as_bytes(), value, None))
            .source_message_id
            .clone()
    };
    assert_eq!(id(texts[0]), id(texts[1]));
    assert_eq!(id(texts[0]), id(texts[2]));
    assert_eq!(id(texts[0]), id(texts[3]));
}

fn user_event(user: &str, ts: i64, props: Value) -> Value {
    json!({"ts": ts, "eventName": "App Launched", "profile": {"identity": user}, "eventProps": props})
}

#[test]
fn one_batch_per_user_in_time_order_with_historical_data_apart() {
    let engine = engine();
    let records = [
        user_event("a", 20220212004131, json!({"n": 1})),
        user_event("b", 20220212004131, json!({"n": 2})),
        user_event("a", 20220101000000, json!({"n": 3})),
        user_event("a", 20261031000000, json!({"n": 4})),
    ];
    let outcomes: Vec<Outcome> = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| engine.map(place(i as u64 + 1), json_from_serde(&r), None))
        .collect();
    let plan = build_batches(&outcomes, |_, _| true, Environment::Development, NOW);
    let summary: Vec<(Option<String>, Vec<usize>, bool)> = plan
        .batches
        .iter()
        .map(|b| {
            (
                b.batch.user_identities.customer_id.clone(),
                b.records.clone(),
                b.historical,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (Some("a".into()), vec![2, 0], true),
            (Some("a".into()), vec![3], false),
            (Some("b".into()), vec![1], true),
        ]
    );
}

#[test]
fn batches_split_at_128_kb_and_requests_at_100_batches_or_256_kb() {
    let engine = engine();
    let big = "v".repeat(4000);
    let outcomes: Vec<Outcome> = (0..100)
        .map(|i| {
            engine.map(
                place(i + 1),
                json_from_serde(&user_event(
                    "heavy",
                    20220212004131 + i as i64,
                    json!({"a": big, "b": big}),
                )),
                None,
            )
        })
        .collect();
    let plan = build_batches(&outcomes, |_, _| true, Environment::Development, NOW);
    assert!(
        plan.batches.len() >= 7,
        "800 KB of events need at least 7 batches"
    );
    // Planned from each event's size alone: the same batches, sizes and ids, without events.
    let item = |index: usize| {
        let mut item = PlanItem::of(&outcomes[index])?;
        if let PlanEvent::Event(event) = item.event {
            item.event = PlanEvent::Sized(event_bytes(event));
        }
        Some(item)
    };
    let layout = plan_items(outcomes.len(), item, Environment::Development, NOW);
    assert_eq!(layout.batches.len(), plan.batches.len());
    for (planned, full) in layout.batches.iter().zip(&plan.batches) {
        assert!(planned.batch.events.is_empty());
        assert_eq!(
            (&planned.records, planned.bytes, planned.historical),
            (&full.records, full.bytes, full.historical)
        );
        assert_eq!(
            planned.batch.source_request_id,
            full.batch.source_request_id
        );
    }
    assert!(
        plan.batches
            .iter()
            .all(|b| b.bytes <= limits::MAX_BATCH_BYTES)
    );
    assert_eq!(
        plan.batches.iter().map(|b| b.records.len()).sum::<usize>(),
        100
    );
    for planned in &plan.batches {
        assert_eq!(
            planned.bytes,
            serde_json::to_vec(&planned.batch).unwrap().len()
        );
    }
    for range in split_requests(&plan.batches) {
        let body: Vec<_> = plan.batches[range.clone()]
            .iter()
            .map(|b| &b.batch)
            .collect();
        assert!(serde_json::to_vec(&body).unwrap().len() < limits::MAX_REQUEST_BYTES);
    }

    let small: Vec<Outcome> = (0..250)
        .map(|i| {
            engine.map(
                place(i + 1),
                json_from_serde(&user_event(&format!("u{i}"), 20220212004131, json!({}))),
                None,
            )
        })
        .collect();
    let plan = build_batches(&small, |_, _| true, Environment::Development, NOW);
    let requests = split_requests(&plan.batches);
    assert_eq!(
        requests.iter().map(|r| r.len()).collect::<Vec<_>>(),
        vec![100, 100, 50]
    );
}

#[test]
fn bulk_mapping_skips_the_trace_and_map_traced_gives_it() {
    let bulk = Engine::new(
        Arc::new(Rules::default_rules().unwrap()),
        MapOptions {
            now_millis: NOW,
            ..MapOptions::default()
        },
    );
    let record = event_record("AB Experiment Rendered", json!({"Variant": "B"}));
    let plain = bulk.map(place(1), json_from_serde(&record), None);
    assert!(plain.mapped.as_ref().unwrap().trace.is_empty());
    let traced = bulk.map_traced(place(1), &json_from_serde(&record), None);
    assert!(!traced.mapped.as_ref().unwrap().trace.is_empty());
    assert_eq!(
        plain.mapped.unwrap().event,
        traced.mapped.unwrap().event,
        "tracing never changes what is sent"
    );
}
