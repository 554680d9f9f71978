//! Criterion benches for the core: reading, mapping, checking and serialising, on records made
//! by the same generator as `examples/gen_export.rs` would make (a fixed, realistic mix).
//!
//! `cargo bench --bench core`. For the whole-file comparison with a sonic-rs baseline, see
//! `examples/bench_baseline.rs` (documented in the README).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use feedlens::clevertap::{self, ReadItem};
use feedlens::mapping::{Engine, MapOptions, Outcome, RecordStatus, Rules, build_batches};
use feedlens::mparticle::Environment;
use feedlens::pipeline::{self, Accounting};

const RECORDS: usize = 20_000;

/// The bundled sample's records, repeated with distinct users and times.
fn sample_file(dir: &tempfile::TempDir) -> (PathBuf, u64) {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/events.jsonl"))
            .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let path = dir.path().join("bench.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..RECORDS {
        let line =
            lines[i % lines.len()].replace("6102608768475532", &format!("61026087{:08}", i % 5000));
        writeln!(file, "{line}").unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    (path, bytes)
}

fn engine() -> Engine {
    Engine::new(
        Arc::new(Rules::default_rules().unwrap()),
        MapOptions::default(),
    )
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = sample_file(&dir);
    let engine = engine();

    let mut group = c.benchmark_group("core");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);

    group.bench_function("read", |b| {
        b.iter(|| clevertap::open(&path).unwrap().count());
    });

    let values: Vec<(feedlens::clevertap::Place, feedlens::clevertap::Json)> =
        clevertap::open(&path)
            .unwrap()
            .filter_map(|item| match item {
                ReadItem::Record(raw) => raw.parse().ok(),
                ReadItem::Unreadable { .. } => None,
            })
            .collect();
    group.bench_function("parse", |b| {
        b.iter(|| {
            clevertap::open(&path)
                .unwrap()
                .filter_map(|item| match item {
                    ReadItem::Record(raw) => raw.parse().ok(),
                    ReadItem::Unreadable { .. } => None,
                })
                .count()
        });
    });
    group.bench_function("map (one thread)", |b| {
        b.iter(|| {
            values
                .iter()
                .map(|(place, value)| engine.map(place.clone(), value.clone(), None))
                .filter(|o| o.status != RecordStatus::Unreadable)
                .count()
        });
    });
    group.bench_function("check (read, parse, map, count; all cores)", |b| {
        b.iter(|| {
            let mut accounting = Accounting::default();
            pipeline::run(
                std::slice::from_ref(&path),
                &engine,
                &AtomicBool::new(false),
                |_| {},
                |_, chunk| {
                    chunk.iter().for_each(|o| accounting.add(o));
                },
            );
            accounting.records_read
        });
    });
    let outcomes: Vec<Outcome> = pipeline::load(std::slice::from_ref(&path), &engine).0;
    group.bench_function("batch", |b| {
        b.iter(|| {
            build_batches(&outcomes, |_, _| true, Environment::Development, 0)
                .batches
                .len()
        });
    });
    let plan = build_batches(&outcomes, |_, _| true, Environment::Development, 0);
    group.bench_function("serialise", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(bytes as usize * 2);
            for planned in &plan.batches {
                serde_json::to_writer(&mut out, &planned.batch).unwrap();
                out.push(b'\n');
            }
            out.len()
        });
    });
    group.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
