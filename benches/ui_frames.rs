//! Frame cost of the window with 1,000,000 loaded rows: egui's CPU time per frame (the ui pass
//! plus tessellation; rasterising is not counted) while scrolling, switching tabs, filtering
//! and sorting, and while the rules editor's preview maps every row with a draft; how long a
//! filter over all rows and the preview take to answer; and what applying one edit in place
//! costs.
//!
//! The same rows are measured twice in one run: in clear, then with View › Mask personal data
//! on (every record masked as it is read, as the window does).
//!
//! `cargo bench --bench ui_frames` (release). `FEEDLENS_BENCH_ROWS=N` changes the row count;
//! `FEEDLENS_BENCH_MASK=off` or `=only` measures one of the two.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Event, Modifiers, MouseWheelUnit, Pos2, RawInput, Rect, Vec2, pos2, vec2};
use feedlens::clevertap::{Place, RawPayload, RawRecord, ReadItem};
use feedlens::mapping::{Engine, MapOptions, Rules};
use feedlens::pipeline;
use feedlens::records::{RowChunk, Store};
use feedlens::ui::query::Filter;
use feedlens::ui::{App, Command, Tab};
use rayon::prelude::*;
use serde_json::json;

const EVENTS: [&str; 8] = [
    "App Launched",
    "Notification Viewed",
    "Notification Clicked",
    "UTM Visited",
    "App Uninstalled",
    "Reply Sent",
    "Geocluster Entered",
    "Added To Cart",
];

fn record(i: usize) -> serde_json::Value {
    let user = i % 50_000;
    let ts = 20_260_101_000_000u64 + (i % 28) as u64 * 1_000_000 + (i % 24) as u64 * 10_000;
    let mut value = json!({
        "ts": ts,
        "eventName": EVENTS[i % EVENTS.len()],
        "profile": {"identity": format!("{}", 6_100_000_000u64 + user as u64), "email": format!("user{user}@example.com"), "platform": "Android"},
        "deviceInfo": {"make": "samsung", "model": "SM-G781B", "appVersion": "4.3.0", "osVersion": "12"},
        "eventProps": {"CT Source": if i.is_multiple_of(3) { "Mobile" } else { "Web" }, "CT Session Id": 1_644_606_691 + i as u64, "Campaign id": i % 977, "wzrk_id": format!("{}_20220214", i % 1000)},
        "sessionProps": {"utm_source": "google-play", "utm_medium": "cpc"}
    });
    if i.is_multiple_of(97) {
        // A held record now and then: no time.
        if let Some(object) = value.as_object_mut() {
            object.remove("ts");
        }
    }
    value
}

fn build_store(rows: usize, masked: bool) -> Store {
    let rules = Arc::new(Rules::default_rules().unwrap());
    // As the window maps: keeping each record's text, which the store compresses and maps
    // again from; masked as it is read when masking is on.
    let mask = masked.then(|| {
        let salt = feedlens::mask::MaskSalt::from_text("ui_frames bench");
        Arc::new(feedlens::mask::Masker::new(&salt, &rules))
    });
    let options = MapOptions {
        keep_source: true,
        mask,
        ..MapOptions::default()
    };
    let engine = Engine::new(rules, options);
    let file: Arc<std::path::Path> = Arc::from(PathBuf::from("synthetic.jsonl").as_path());
    let mut store = Store::new(engine.clone());
    let starts: Vec<usize> = (0..rows).step_by(512).collect();
    for group in starts.chunks(64) {
        let chunks: Vec<RowChunk> = group
            .par_iter()
            .map(|&start| {
                let outcomes = (start..(start + 512).min(rows))
                    .map(|i| {
                        let item = ReadItem::Record(RawRecord {
                            place: Place::at(Arc::clone(&file), i as u64 + 1, 1),
                            payload: RawPayload::Json(serde_json::to_vec(&record(i)).unwrap()),
                        });
                        pipeline::map_item(&engine, item, None)
                    })
                    .collect();
                RowChunk::new(engine.rules(), outcomes)
            })
            .collect();
        for chunk in chunks {
            store.append(0, Arc::clone(&file), None, chunk);
        }
    }
    store
}

struct Frames {
    ctx: egui::Context,
    screen: Rect,
    time: f64,
}

impl Frames {
    fn frame(&mut self, app: &mut App, events: Vec<Event>) -> Duration {
        self.time += 1.0 / 60.0;
        let input = RawInput {
            screen_rect: Some(self.screen),
            time: Some(self.time),
            events,
            ..RawInput::default()
        };
        let started = Instant::now();
        let output = self.ctx.run_ui(input, |ui| app.frame_ui(ui));
        let _ = self.ctx.tessellate(output.shapes, output.pixels_per_point);
        started.elapsed()
    }
}

fn report(name: &str, mut times: Vec<Duration>, all: &mut Vec<Duration>) {
    all.extend_from_slice(&times);
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = times[times.len() / 2];
    let p95 = times[times.len() * 95 / 100];
    let worst = times[times.len() - 1];
    println!(
        "{name:<28} frames {:>4}  median {:>6.2} ms  p95 {:>6.2} ms  worst {:>6.2} ms",
        times.len(),
        ms(median),
        ms(p95),
        ms(worst)
    );
}

fn main() {
    let rows: usize = std::env::var("FEEDLENS_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // The window's mask salt is made in its data folder: a temporary one here.
    let data = tempfile::tempdir().unwrap();
    // SAFETY: before any thread starts.
    unsafe { std::env::set_var("XDG_DATA_HOME", data.path()) };
    let which = std::env::var("FEEDLENS_BENCH_MASK").unwrap_or_default();
    let mut summary = Vec::new();
    for masked in [false, true] {
        if (masked && which == "off") || (!masked && which == "only") {
            continue;
        }
        let label = if masked { "masking on" } else { "masking off" };
        println!("--- {label}");
        let mut all = Vec::new();
        run(rows, masked, &mut all);
        all.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        summary.push(format!(
            "{label:<12} all frames {:>5}  median {:>6.2} ms  p95 {:>6.2} ms  worst {:>6.2} ms",
            all.len(),
            ms(all[all.len() / 2]),
            ms(all[all.len() * 95 / 100]),
            ms(all[all.len() - 1])
        ));
    }
    println!("---");
    for line in summary {
        println!("{line}");
    }
}

fn run(rows: usize, masked: bool, all: &mut Vec<Duration>) {
    let started = Instant::now();
    let mut store = build_store(rows, masked);
    println!(
        "built {} rows in {:.1} s",
        store.len(),
        started.elapsed().as_secs_f64()
    );
    // An edit applied in place, as the window does: its row found by place among every row,
    // mapped again from the edited text; then reverted.
    let middle = rows / 2;
    let edited = {
        let mut value = record(middle);
        value["profile"]["identity"] = "edited-in-place".into();
        serde_json::to_vec(&value).unwrap()
    };
    let started = Instant::now();
    let places = std::collections::HashSet::from([(middle as u64 + 1, 1, 0)]);
    let found = store.rows_at(&places);
    assert_eq!(found.len(), 1);
    store.set_row_text(found[0].0, Some(edited));
    let applied = started.elapsed();
    store.set_row_text(found[0].0, None);
    println!(
        "an edit applied in place (row found among {} rows, mapped again): {:.2} ms",
        store.len(),
        applied.as_secs_f64() * 1000.0
    );
    let files = vec![PathBuf::from("synthetic.jsonl")];
    let mut app = if masked {
        App::from_masked_store(store, files).unwrap()
    } else {
        App::from_store(store, files).unwrap()
    };
    assert_eq!(app.masked(), masked);
    let mut frames = Frames {
        ctx: egui::Context::default(),
        screen: Rect::from_min_size(Pos2::ZERO, vec2(1500.0, 950.0)),
        time: 0.0,
    };
    // Warm up, and let the batches and summary finish in the background.
    let started = Instant::now();
    while app.is_busy() || started.elapsed() < Duration::from_millis(500) {
        frames.frame(&mut app, Vec::new());
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "batches and summary ready after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for _ in 0..10 {
        frames.frame(&mut app, Vec::new());
    }

    // Scrolling the table with the mouse wheel, and jumping with Page Down.
    let over_table = pos2(700.0, 300.0);
    let mut times = Vec::new();
    for i in 0..300 {
        let mut events = vec![Event::PointerMoved(over_table)];
        if i % 10 == 9 {
            events.push(Event::Key {
                key: egui::Key::PageDown,
                physical_key: None,
                pressed: true,
                repeat: false,
                modifiers: Modifiers::NONE,
            });
        } else {
            events.push(Event::MouseWheel {
                unit: MouseWheelUnit::Point,
                delta: Vec2::new(0.0, -400.0),
                phase: egui::TouchPhase::Move,
                modifiers: Modifiers::NONE,
                source: egui::MouseWheelSource::Wheel,
            });
        }
        times.push(frames.frame(&mut app, events));
    }
    report("scrolling", times, all);

    // Switching tabs.
    let tabs = [0u8, 1, 2, 3, 4, 5, 11];
    let mut times = Vec::new();
    for i in 0..140 {
        app.push(Command::SetTab(Tab::Records(tabs[i % tabs.len()])));
        times.push(frames.frame(&mut app, Vec::new()));
        times.push(frames.frame(&mut app, Vec::new()));
    }
    report("switching tabs", times, all);
    app.push(Command::SetTab(Tab::Records(0)));
    frames.frame(&mut app, Vec::new());

    // Filtering: each filter runs over every row off the UI thread; frames keep coming.
    let mut answer = Vec::new();
    let mut times = Vec::new();
    for text in [
        "user4242",
        "web",
        "Campaign",
        "google",
        "zzz-nothing",
        "",
        "web",
    ] {
        let filter = Filter {
            text: text.to_string(),
            ..Filter::default()
        };
        app.push(Command::SetFilter(filter));
        let asked = Instant::now();
        times.push(frames.frame(&mut app, Vec::new()));
        while app.query_pending() {
            std::thread::sleep(Duration::from_millis(4));
            times.push(frames.frame(&mut app, Vec::new()));
        }
        answer.push((text, asked.elapsed()));
    }
    report("frames while filtering", times, all);
    for (text, elapsed) in &answer {
        println!(
            "filter {:<14} answered in {:>7.1} ms",
            format!("{text:?}"),
            elapsed.as_secs_f64() * 1000.0
        );
    }

    // Sorting by time and by event name (also off the UI thread).
    let mut times = Vec::new();
    for column in [
        feedlens::ui::query::SortColumn::Time,
        feedlens::ui::query::SortColumn::SentName,
    ] {
        app.push(Command::SortBy(column));
        let asked = Instant::now();
        times.push(frames.frame(&mut app, Vec::new()));
        while app.query_pending() {
            std::thread::sleep(Duration::from_millis(4));
            times.push(frames.frame(&mut app, Vec::new()));
        }
        println!(
            "sort by {column:?} answered in {:.1} ms",
            asked.elapsed().as_secs_f64() * 1000.0
        );
    }
    report("frames while sorting", times, all);

    // The rules editor open with a draft (unknown events held): every row is mapped again with
    // it in the background while frames keep coming.
    app.push(Command::OpenRulesEditor);
    frames.frame(&mut app, Vec::new());
    let draft = feedlens::mapping::DEFAULT_RULES
        .replace("unknown_events = \"other\"", "unknown_events = \"hold\"");
    app.push(Command::SetRulesText(draft));
    let asked = Instant::now();
    // The frame that takes the new text in (checks it, lays the highlighted text out again and
    // starts the preview), then the frames while the preview runs.
    let typed = frames.frame(&mut app, Vec::new());
    println!(
        "the frame that takes a changed draft in: {:.2} ms",
        typed.as_secs_f64() * 1000.0
    );
    let mut times = Vec::new();
    while app.is_busy() {
        std::thread::sleep(Duration::from_millis(4));
        times.push(frames.frame(&mut app, Vec::new()));
    }
    println!(
        "rules preview of {} rows answered in {:.2} s",
        app.record_count(),
        asked.elapsed().as_secs_f64()
    );
    report("frames while previewing", times, all);
}
