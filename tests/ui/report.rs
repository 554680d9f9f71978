//! File › Save report… in the window (egui_kittest, no GPU): the report of the loaded records
//! is one valid HTML file whose counts are the window's, and with View › Mask personal data on
//! no personal value of the input is in it.

use crate::ui_support::{settle, window_with_edits};

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use feedlens::ui::{App, Command};

/// A personal value written into a line that is not JSON: the report quotes broken lines.
const BROKEN_EMAIL: &str = "ana.lopez@example.com";

/// File › Save report…, the path typed in the path box, Save report; waits for the worker's
/// answer in the status line.
fn save_report(harness: &mut Harness<'static, App>, out: &Path) {
    // The menu bar comes first (a table has a File column too).
    harness.query_all_by_label("File").next().unwrap().click();
    harness.run_steps(2);
    harness.get_by_label("Save report…").click();
    settle(harness);
    harness.get_by_label("Save the report (HTML) to");
    harness
        .state_mut()
        .push(Command::SetPathText(out.display().to_string()));
    settle(harness);
    harness.get_by_label("Save report").click();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !harness.state().status().starts_with("Saved report to") {
        assert!(
            harness.state().errors().is_empty(),
            "{:?}",
            harness.state().errors()
        );
        assert!(Instant::now() < deadline, "the report was not saved");
        std::thread::sleep(Duration::from_millis(5));
        harness.step();
    }
    let records = harness.state().record_count();
    assert_eq!(
        harness.state().status(),
        format!("Saved report to {} ({records} records)", out.display())
    );
}

/// The window's accounting as its status bar shows it: "N records: N mapped, N with warnings,
/// N held, N dropped, N unreadable".
fn window_counts(harness: &Harness<'static, App>) -> BTreeMap<String, u64> {
    let line = harness
        .query_all_by_label_contains(" records: ")
        .filter_map(|node| {
            let node = node.accesskit_node();
            node.value().or(node.label())
        })
        .find(|label| label.ends_with(" unreadable"))
        .expect("the status bar shows the accounting");
    let (read, rest) = line.split_once(" records: ").unwrap();
    let mut counts = BTreeMap::from([("records read".to_string(), read.parse().unwrap())]);
    for part in rest.split(", ") {
        let (count, what) = part.split_once(' ').unwrap();
        let what = match what {
            "with warnings" => "mapped with warnings",
            other => other,
        };
        counts.insert(what.to_string(), count.parse().unwrap());
    }
    counts
}

/// Parses with html5ever and fails on any parse error; returns the accounting cards
/// (label → count).
fn report_counts(html: &str) -> BTreeMap<String, u64> {
    let document = scraper::Html::parse_document(html);
    assert!(
        document.errors.is_empty(),
        "HTML parse errors: {:?}",
        document.errors
    );
    let card = scraper::Selector::parse(".card").unwrap();
    let count = scraper::Selector::parse("b").unwrap();
    let label = scraper::Selector::parse("span").unwrap();
    document
        .select(&card)
        .filter_map(|card| {
            let text = |selector| card.select(selector).next().unwrap().text().collect();
            let count: String = text(&count);
            Some((text(&label), count.parse().ok()?))
        })
        .collect()
}

/// Values of personal fields in the input's records, and the email on its broken line.
fn personal_values(input: &str) -> Vec<String> {
    fn collect(key: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(members) => {
                for (key, value) in members {
                    collect(key, value, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect(key, v, out)),
            serde_json::Value::String(text)
                if ["identity", "email", "name", "phone", "objectId"].contains(&key)
                    && text.len() > 3 =>
            {
                out.push(text.clone());
            }
            _ => {}
        }
    }
    let mut values = vec![BROKEN_EMAIL.to_string()];
    for line in input.lines() {
        if let Ok(record) = serde_json::from_str::<serde_json::Value>(line) {
            collect("", &record, &mut values);
        }
    }
    values
}

#[test]
fn the_window_saves_the_report_of_what_it_shows_and_masked_it_names_no_one() {
    let dir = tempfile::tempdir().unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/events.jsonl");
    let mut text = std::fs::read_to_string(samples).unwrap();
    text.push_str(&format!("{BROKEN_EMAIL},20220301,not json\n"));
    let input = dir.path().join("events.jsonl");
    std::fs::write(&input, &text).unwrap();
    let personal = personal_values(&text);
    assert!(personal.len() > 4, "{personal:?}");

    let mut harness = window_with_edits(input, dir.path().join("edits.ndjson"));
    settle(&mut harness);
    let window = window_counts(&harness);
    assert!(window["records read"] > 0 && window["unreadable"] > 0);

    let clear = dir.path().join("report.html");
    save_report(&mut harness, &clear);
    let html = std::fs::read_to_string(&clear).unwrap();
    let report = report_counts(&html);
    for (what, count) in &window {
        assert_eq!(report.get(what), Some(count), "{what}: {report:?}");
    }
    // In clear, the broken line's text is quoted (so the masked check below can fail).
    assert!(html.contains(BROKEN_EMAIL));

    harness.state_mut().push(Command::SetMask(true));
    settle(&mut harness);
    harness.get_by_label("masked");
    assert_eq!(window_counts(&harness), window, "masking changes no count");
    let masked = dir.path().join("masked report.html");
    save_report(&mut harness, &masked);
    let html = std::fs::read_to_string(&masked).unwrap();
    assert_eq!(report_counts(&html), report);
    assert!(html.contains("<title>feedlens report (masked)</title>"));
    for value in &personal {
        assert!(
            !html.contains(value.as_str()),
            "{value} is in the masked report"
        );
    }
}
