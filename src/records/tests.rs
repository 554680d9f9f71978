//! The record model's tests: rows mapped again, search, batches, edits in place.

use super::*;
use crate::mapping::{MapOptions, Rules, build_batches};
use crate::mparticle::Environment;
use crate::records::batches::{BatchIndex, sendable};

fn engine() -> Engine {
    let options = MapOptions {
        keep_source: true,
        ..MapOptions::default()
    };
    Engine::new(Arc::new(Rules::default_rules().unwrap()), options)
}

fn mapped(engine: &Engine, file: &Arc<Path>, lines: &[&str]) -> Vec<Outcome> {
    lines
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let place = Place::at(Arc::clone(file), i as u64 + 1, 1);
            let item = ReadItem::Record(RawRecord {
                place,
                payload: RawPayload::Json(text.as_bytes().to_vec()),
            });
            pipeline::map_item(engine, item, None)
        })
        .collect()
}

#[test]
fn free_text_finds_rows_by_text_names_and_messages_ignoring_case() {
    let file: Arc<Path> = Arc::from(Path::new("x.jsonl"));
    let engine = engine();
    let mut store = Store::new(engine.clone());
    let rows = mapped(
        &engine,
        &file,
        &[
            r#"{"eventName":"App Launched","ts":20240101120000,"profile":{"identity":"ALPHA-1"}}"#,
            r#"{"eventName":"UTM Visited","ts":20240101120000,"profile":{"email":"b@x.io"},"eventProps":{"utm_source":"Beta"}}"#,
            r#"{"eventName":"Charged","ts":20240101120000,"profile":{"identity":"Ünïcode"}}"#,
            r#"{"eventName": broken"#,
            r#"{"eventName":"App Launched","ts":20240101120000,"profile":{"identity":"u5"},"eventProps":{"Caf\u00e9":"Cr\u00c8me \"br\u00fbl\u00e9e\""}}"#,
        ],
    );
    store.append_outcomes(0, None, rows);
    let only = |row: usize| (0..5).map(|r| r == row).collect::<Vec<_>>();
    assert_eq!(store.rows_containing("alpha-1"), only(0));
    assert_eq!(store.rows_containing("beta"), only(1));
    assert_eq!(store.rows_containing("ünï"), only(2));
    // The unreadable row by its message; every row by a name CleverTap wrote.
    assert_eq!(store.rows_containing("line 4"), only(3));
    assert_eq!(store.rows_containing("utm visited"), only(1));
    // Escaped text as it reads: a name, and a value with quotes and capitals.
    assert_eq!(store.rows_containing("café"), only(4));
    assert_eq!(store.rows_containing("crème \"brûlée\""), only(4));
    assert_eq!(store.rows_containing("zzz"), vec![false; 5]);
}

#[test]
fn a_row_edited_in_place_changes_alone_and_goes_back_when_reverted() {
    let file: Arc<Path> = Arc::from(Path::new("x.jsonl"));
    let engine = engine();
    let lines = [
        r#"{"eventName":"App Launched","ts":20240101120000,"profile":{"identity":"a-1"}}"#,
        r#"{"eventName":"App Launched","ts":20240101120000,"profile":{"name":"nobody"}}"#,
        r#"{"eventName": broken"#,
    ];
    let mut store = Store::new(engine.clone());
    store.append_outcomes(0, None, mapped(&engine, &file, &lines));
    let read = store.accounting.clone();
    let metas = store.metas.clone();
    assert_eq!((read.mapped, read.held, read.unreadable), (1, 1, 1));
    assert!(store.plan_item(1).is_none());
    assert!(store.rows_containing("line 3")[2]);

    // The held row gets an identity; the broken line becomes a record.
    let fixed = r#"{"eventName":"App Launched","ts":20240101120000,"profile":{"identity":"b-2"}}"#;
    let after = store
        .set_row_text(1, Some(fixed.as_bytes().to_vec()))
        .unwrap();
    assert_eq!(after.status, RecordStatus::Mapped);
    let repaired =
        r#"{"eventName":"UTM Visited","ts":20240101120000,"profile":{"identity":"c-3"}}"#;
    store.set_row_text(2, Some(repaired.as_bytes().to_vec()));
    assert_eq!(
        (
            store.accounting.mapped,
            store.accounting.held,
            store.accounting.unreadable
        ),
        (3, 0, 0)
    );
    assert_eq!(store.accounting.records_read, 3);
    assert_eq!(store.metas[0], metas[0], "the other rows stay as they were");
    assert_eq!(store.strings.get(store.metas[1].identity), "b-2");
    assert_eq!(store.metas[2].tab, tab_of(&store.outcome(2).unwrap()));
    assert_eq!(store.plan_item(1).unwrap().group_key, "customer_id:b-2");
    // Search finds the edited text, batches and exports map it.
    assert!(store.rows_containing("c-3")[2]);
    assert!(!store.rows_containing("line 3")[2]);
    let outcomes = store.outcomes_where(|_, _| true);
    assert_eq!(
        outcomes[2].source_event_name.as_deref(),
        Some("UTM Visited")
    );

    // Reverted: as read.
    store.set_row_text(1, None);
    store.set_row_text(2, None);
    assert_eq!(store.accounting, read);
    assert_eq!(store.metas, metas);
    assert!(store.plan_item(1).is_none());
    assert_eq!(store.outcome(2).unwrap().status, RecordStatus::Unreadable);
    assert!(!store.rows_containing("c-3")[2]);
}

#[test]
fn rows_map_again_to_the_outcomes_they_were_made_from() {
    let file: Arc<Path> = Arc::from(Path::new("x.jsonl"));
    let engine = engine();
    let mut store = Store::new(engine.clone());
    let lines: Vec<String> = (0..1200)
        .map(|i| {
            format!(
                r#"{{"eventName":"{}","ts":{}{:04},"profile":{{"identity":"u{}","name":"N{}"}},"deviceInfo":{{"make":"M{}"}},"eventProps":{{"n":{i}}}}}"#,
                ["App Launched", "UTM Visited", "Notification Viewed"][i % 3],
                ["2024010112", "2026103112"][i % 2],
                i % 6000,
                i % 49,
                i % 7,
                i % 3
            )
        })
        .collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let outcomes = mapped(&engine, &file, &lines);
    for chunk in outcomes.chunks(512) {
        store.append_outcomes(0, None, chunk.to_vec());
    }
    assert_eq!(store.len(), outcomes.len());
    for (row, outcome) in outcomes.iter().enumerate() {
        let again = store.outcome(row).expect("a row of the store");
        assert_eq!(format!("{again:?}"), format!("{outcome:?}"), "row {row}");
    }
    let all = store.outcomes_where(|row, _| row % 2 == 0);
    assert_eq!(all.len(), outcomes.len());
    assert_eq!(all[2].mapped, outcomes[2].mapped);
    assert!(all[2].source.is_none());
    assert!(all[3].mapped.is_none());
    assert_eq!(store.accounting.records_read, outcomes.len() as u64);
    // Coverage counted a chunk at a time adds up to the count over all records.
    let rules = engine.rules();
    let whole = CoverageCounts::count(rules, &outcomes).coverage(rules);
    assert_eq!(
        format!("{:?}", store.coverage.coverage(rules)),
        format!("{whole:?}")
    );
    assert!(whole.iter().any(|c| c.records > 0));
    // Batches planned from what the store kept are those built from the outcomes.
    let now = 1_793_491_200_000;
    let index = BatchIndex::build(&store, Environment::Development, now);
    let full = build_batches(&outcomes, |_, o| sendable(o), Environment::Development, now);
    assert!(
        full.batches.iter().any(|b| b.historical) && full.batches.iter().any(|b| !b.historical)
    );
    assert!(full.batches.len() > 49, "{} batches", full.batches.len());
    assert_eq!(index.batches.len(), full.batches.len());
    for (planned, built) in index.batches.iter().zip(&full.batches) {
        assert_eq!(
            (&planned.records, planned.bytes, planned.historical),
            (&built.records, built.bytes, built.historical)
        );
        let mut envelope = built.batch.clone();
        envelope.events.clear();
        assert_eq!(
            serde_json::to_string(&planned.envelope).unwrap(),
            serde_json::to_string(&envelope).unwrap()
        );
    }
}

#[test]
fn an_edit_of_masked_records_is_kept_masked() {
    let file: Arc<Path> = Arc::from(Path::new("x.jsonl"));
    let rules = Rules::default_rules().unwrap();
    let masker = crate::mask::Masker::new(&crate::mask::MaskSalt::from_text("team"), &rules);
    let options = MapOptions {
        keep_source: true,
        mask: Some(Arc::new(masker)),
        ..MapOptions::default()
    };
    let engine = Engine::new(Arc::new(rules), options);
    let mut store = Store::new(engine.clone());
    let lines = [r#"{"eventName":"App Launched","ts":20240101120000,"profile":{"name":"nobody"}}"#];
    store.append_outcomes(0, None, mapped(&engine, &file, &lines));
    let typed =
        r#"{"eventName":"App Launched","ts":20240101120000,"profile":{"identity":"clear-4242"}}"#;
    let after = store
        .set_row_text(0, Some(typed.as_bytes().to_vec()))
        .unwrap();
    assert_eq!(after.status, RecordStatus::Mapped);
    let identity = store.strings.get(store.metas[0].identity);
    assert!(identity.starts_with("id:"), "{identity}");
    assert!(!store.rows_containing("clear-4242")[0]);
    let source = String::from_utf8_lossy(after.source.as_deref().unwrap()).into_owned();
    assert!(!source.contains("clear-4242"), "{source}");
}

#[test]
fn coverage_counts_each_documented_attribute_once_a_record_and_each_other_name() {
    let file: Arc<Path> = Arc::from(Path::new("x.jsonl"));
    let engine = engine();
    let outcomes = mapped(
        &engine,
        &file,
        &[
            r#"{"eventName":"UTM Visited","ts":20240101120000,"profile":{"identity":"A"},"eventProps":{"utm_source":"s","UTM Medium":"m","Colour":"red"}}"#,
            r#"{"eventName":"UTM Visited","ts":20240101120000,"profile":{"identity":"B"},"eventProps":{"utm_source":"s","Colour":"blue","Size":"L"}}"#,
            r#"{"eventName":"App Launched","ts":20240101120000,"profile":{"identity":"C"},"eventProps":{"Colour":"green"}}"#,
        ],
    );
    let rules = engine.rules();
    let coverage = CoverageCounts::count(rules, &outcomes).coverage(rules);
    let utm = coverage.iter().find(|c| c.name == "UTM Visited").unwrap();
    assert_eq!(utm.records, 2);
    let seen = |name: &str| utm.attributes.iter().find(|(n, _)| n == name).unwrap().1;
    assert_eq!(
        (seen("utm_source"), seen("utm_medium"), seen("utm_campaign")),
        (2, 1, 0)
    );
    assert_eq!(
        utm.undocumented,
        vec![("Colour".to_string(), 2), ("Size".to_string(), 1)]
    );
    assert!(utm.missing().any(|name| name == "utm_campaign"));
    let launched = coverage.iter().find(|c| c.name == "App Launched").unwrap();
    assert_eq!(launched.records, 1);
    assert_eq!(launched.undocumented, vec![("Colour".to_string(), 1)]);
    // Counted in two parts and added up, the same.
    let mut parts = CoverageCounts::count(rules, &outcomes[..1]);
    parts.merge(CoverageCounts::count(rules, &outcomes[1..]));
    assert_eq!(
        format!("{:?}", parts.coverage(rules)),
        format!("{coverage:?}")
    );
}

#[test]
fn an_interner_gives_each_string_one_id_and_finds_it_again() {
    let mut strings = Interner::default();
    assert!(strings.is_empty());
    assert_eq!(strings.find(""), None);
    let words: Vec<String> = (0..5000).map(|i| format!("user-{}", i % 3000)).collect();
    let ids: Vec<u32> = words.iter().map(|w| strings.intern(w)).collect();
    // The empty string is id 0; 3,000 distinct words after it.
    assert_eq!(strings.len(), 3001);
    assert_eq!(strings.intern(""), 0);
    assert_eq!(strings.get(0), "");
    for (word, &id) in words.iter().zip(&ids) {
        assert_eq!(strings.get(id), word);
        assert_eq!(strings.find(word), Some(id));
        assert_eq!(strings.intern(word), id);
    }
    assert_eq!(ids[0], ids[3000]);
    assert_ne!(ids[0], ids[1]);
    assert_eq!(strings.find("user-3000"), None);
    assert_eq!(strings.get(99_999), "");
    let listed: Vec<(u32, &str)> = strings.iter().take(3).collect();
    assert_eq!(listed, vec![(0, ""), (1, "user-0"), (2, "user-1")]);
    // Another table's strings adopted with their hashes: found where they are, added where
    // they are not, as interning their text would.
    let mut chunk = Interner::default();
    let from = [
        chunk.intern("user-7"),
        chunk.intern("new-1"),
        chunk.intern(""),
    ];
    let adopted: Vec<u32> = from.iter().map(|&id| strings.adopt(&chunk, id)).collect();
    assert_eq!(adopted, vec![ids[7], 3001, 0]);
    assert_eq!(strings.get(3001), "new-1");
    assert_eq!(strings.find("new-1"), Some(3001));
    assert_eq!(strings.intern("new-1"), 3001);
}
