//! feedlens beside a plain parse of the same file, in one run (issue 5's bench command).
//!
//! `cargo run --release --example bench_baseline -- FILE [--gzip FILE.gz] [--smaller FILE]
//! [--preview] [--window] [--repeat N]`
//!
//! For FILE (NDJSON in the page cache) it times, in each of N rounds, one after the other:
//! - read: reading the file into memory;
//! - baseline: reading it and parsing every line with sonic-rs into values on all cores;
//! - check: feedlens reading, parsing, mapping and checking every record (accounting and
//!   findings kept, nothing printed), on all cores;
//! - check, the binary: `feedlens check FILE` (release), its findings printed to /dev/null;
//! - map: the `feedlens map FILE -o OUT` binary (release) writing the batches to a file, with
//!   its peak resident memory;
//!
//! with `--window`, the window's load: every record mapped and kept as the window keeps it
//! (rows, tabs counted), then every sendable record batched (the Users tab);
//!
//! with `--preview`, the window's rules preview: FILE loaded once as the window keeps it, then
//! in each round every record mapped again with draft rules (unknown events held) and compared
//! with how it is mapped now, beside `check` of the same round;
//!
//! and, with `--gzip`, the time to decompress the file alone beside `check` on it, and `check`
//! on it beside `check` on FILE (the same records uncompressed); with
//! `--smaller FILE`, `check` on a smaller export (say a quarter of the records) beside `check`
//! on FILE, to show how the time grows with the file. It prints the median time of each step
//! and the median of its ratio to the baseline of the same round.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::time::{Duration, Instant};

use feedlens::mapping::{Engine, MapOptions, Rules};
use feedlens::mparticle::Environment;
use feedlens::pipeline::{self, Accounting};
use feedlens::records::{BatchIndex, RowChunk, Store};
use rayon::prelude::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn median_f64(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn timed<T>(work: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let value = work();
    (start.elapsed(), value)
}

fn baseline(path: &Path) -> usize {
    let bytes = std::fs::read(path).expect("the file reads");
    // Split into one slice per line, then parse the lines on all cores.
    let lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .par_iter()
        .filter(|line| sonic_rs::from_slice::<sonic_rs::Value>(line).is_ok())
        .count()
}

fn check(path: &Path, engine: &Engine) -> Accounting {
    // As `feedlens check` does, less the printing: each chunk counted on the thread that
    // mapped it, the counts added up in order.
    let mut accounting = Accounting::default();
    pipeline::run_with(
        &[path.to_path_buf()],
        engine,
        &AtomicBool::new(false),
        |_| {},
        |_, chunk| {
            let mut counted = Accounting::default();
            chunk.iter().for_each(|outcome| counted.add(outcome));
            counted
        },
        |_, counted| accounting.merge(counted),
    );
    accounting
}

/// FILE as the window keeps it: every record mapped with its text kept, made compact a chunk
/// at a time on the thread that mapped it, appended in order.
fn window_store(path: &Path) -> Store {
    let engine = Engine::new(
        Arc::new(Rules::default_rules().expect("built-in rules")),
        MapOptions {
            keep_source: true,
            ..MapOptions::default()
        },
    );
    let mut store = Store::new(engine.clone());
    let file: Arc<Path> = Arc::from(path);
    pipeline::run_with(
        &[path.to_path_buf()],
        &engine,
        &AtomicBool::new(false),
        |_| {},
        |_, chunk| RowChunk::new(engine.rules(), chunk),
        |_, chunk| store.append(0, Arc::clone(&file), None, chunk),
    );
    store
}

/// The rules preview's work: every row of `store` mapped with draft rules and compared.
fn preview(store: &Store) -> usize {
    let text = feedlens::mapping::DEFAULT_RULES
        .replace("unknown_events = \"other\"", "unknown_events = \"hold\"");
    let rules = Rules::parse(&text, "draft").expect("the draft parses");
    let options = store.engine().expect("an engine").options().clone();
    let draft = Engine::new(Arc::new(rules), options);
    feedlens::records::preview::preview(
        store,
        &draft,
        &AtomicBool::new(false),
        &AtomicUsize::new(0),
    )
    .map_or(0, |p| p.changed)
}

/// Runs the feedlens binary with `args`, its output to /dev/null; its peak resident memory in
/// bytes, read from the process itself while it runs (the system's count of a child's peak,
/// as `wait4` gives it, starts from this process's size when it was started).
fn run_binary(bin: &Path, args: &[&str]) -> Option<u64> {
    let mut child = std::process::Command::new(bin)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let status = format!("/proc/{}/status", child.id());
    let mut peak = None;
    while child.try_wait().ok()?.is_none() {
        let high_water = std::fs::read_to_string(&status).ok().and_then(|text| {
            let line = text.lines().find(|line| line.starts_with("VmHWM:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        });
        peak = peak.max(high_water);
        std::thread::sleep(Duration::from_millis(5));
    }
    peak
}

fn now_millis() -> i64 {
    MapOptions::default().now_millis
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut file = None;
    let mut gzip = None;
    let mut smaller = None;
    let mut repeat = 3;
    let mut with_preview = false;
    let mut with_window = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--preview" => with_preview = true,
            "--window" => with_window = true,
            "--gzip" => gzip = iter.next().map(PathBuf::from),
            "--smaller" => smaller = iter.next().map(PathBuf::from),
            "--repeat" => repeat = iter.next().and_then(|n| n.parse().ok()).unwrap_or(3),
            other => file = Some(PathBuf::from(other)),
        }
    }
    let Some(file) = file else {
        eprintln!(
            "usage: bench_baseline FILE [--gzip FILE.gz] [--smaller FILE] [--preview] [--window] [--repeat N]"
        );
        std::process::exit(2);
    };
    let repeat = repeat.max(1);
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    // As `feedlens check` maps: findings and counts, no ids.
    let engine = Engine::new(
        Arc::new(Rules::default_rules().expect("built-in rules")),
        MapOptions {
            ids: false,
            ..MapOptions::default()
        },
    );
    let feedlens_bin = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("feedlens")))
        .filter(|bin| bin.exists());

    println!(
        "file: {} ({:.0} MB), {} threads, {repeat} rounds",
        file.display(),
        size as f64 / 1e6,
        rayon::current_num_threads()
    );
    // Each round times every step once, one after the other, and ratios are taken within a
    // round: a machine whose speed drifts moves a round's baseline and steps together.
    let out = std::env::temp_dir().join("feedlens-bench-map.ndjson");
    let store = with_preview.then(|| {
        let (took, store) = timed(|| window_store(&file));
        println!(
            "window store: {} rows loaded in {:.1} s (once, before the rounds)",
            store.len(),
            took.as_secs_f64()
        );
        store
    });
    let mut rounds: Vec<Round> = Vec::new();
    let mut counts = (0, Accounting::default());
    for _ in 0..repeat {
        let mut round = Round::default();
        let (read, bytes) = timed(|| std::fs::read(&file).map(|b| b.len()).unwrap_or(0));
        let (base, parsed) = timed(|| baseline(&file));
        let (checked, accounting) = timed(|| check(&file, &engine));
        round.steps.push((format!("read {bytes} bytes"), read));
        round
            .steps
            .push(("baseline: read + sonic-rs parse, all cores".into(), base));
        round
            .steps
            .push(("feedlens check (read, parse, map, check)".into(), checked));
        if let Some(bin) = &feedlens_bin {
            let (checked_bin, _) = timed(|| run_binary(bin, &["check", &file.to_string_lossy()]));
            round.steps.push((
                "feedlens check (the binary, to /dev/null)".into(),
                checked_bin,
            ));
            let (mapped, peak) = timed(|| {
                run_binary(
                    bin,
                    &["map", &file.to_string_lossy(), "-o", &out.to_string_lossy()],
                )
            });
            round
                .steps
                .push(("feedlens map -o FILE (the binary)".into(), mapped));
            round.map_peak = peak;
        }
        if with_window {
            let (loaded, _) = timed(|| {
                let t = Instant::now();
                let store = window_store(&file);
                let loaded = t.elapsed();
                let batches = BatchIndex::build(&store, Environment::Development, now_millis());
                if std::env::var_os("BENCH_SPLIT").is_some() {
                    eprintln!(
                        "window: store {loaded:?}, batches {:?}",
                        t.elapsed() - loaded
                    );
                }
                std::mem::forget(batches);
                std::mem::forget(store);
            });
            round.window = Some(loaded.as_secs_f64() / checked.as_secs_f64());
            round.steps.push((
                "window: rows kept, tabs counted, users batched".into(),
                loaded,
            ));
        }
        if let Some(gz) = &gzip {
            let (inflate, _) = timed(|| {
                let mut decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
                    std::fs::File::open(gz).expect("gzip file opens"),
                ));
                std::io::copy(&mut decoder, &mut std::io::sink()).unwrap_or(0)
            });
            let (gz_check, _) = timed(|| check(gz, &engine));
            round.gzip = Some((inflate, gz_check, checked));
        }
        if let Some(small) = &smaller {
            let (small_check, small_accounting) = timed(|| check(small, &engine));
            round.growth = Some((
                checked.as_secs_f64() / small_check.as_secs_f64(),
                accounting.records_read as f64 / small_accounting.records_read.max(1) as f64,
            ));
        }
        if let Some(store) = &store {
            let (previewed, changed) = timed(|| preview(store));
            round.preview = Some((previewed.as_secs_f64() / checked.as_secs_f64(), changed));
            round
                .steps
                .push(("rules preview over the window's rows".into(), previewed));
        }
        round.base = base;
        counts = (parsed, accounting);
        rounds.push(round);
    }
    let _ = std::fs::remove_file(&out);
    let (parsed, accounting) = counts;
    println!(
        "records: {parsed} parsed by sonic-rs, {} read by feedlens ({} unreadable)",
        accounting.records_read, accounting.unreadable
    );
    println!(
        "{:<44} {:>9} {:>8}   (medians over the rounds; ratios within each round)",
        "step", "seconds", "× base"
    );
    for (step, (name, _)) in rounds[0].steps.iter().enumerate() {
        let seconds = median(rounds.iter().map(|r| r.steps[step].1).collect()).as_secs_f64();
        let ratio = median_f64(
            rounds
                .iter()
                .map(|r| r.steps[step].1.as_secs_f64() / r.base.as_secs_f64())
                .collect(),
        );
        println!("{name:<44} {seconds:>9.3} {ratio:>8.2}");
    }
    if feedlens_bin.is_none() {
        println!("(build the binary with `cargo build --release` to time `feedlens map`)");
    }
    let gzip_rounds: Vec<(Duration, Duration, Duration)> =
        rounds.iter().filter_map(|r| r.gzip).collect();
    if !gzip_rounds.is_empty() {
        let inflate = median(gzip_rounds.iter().map(|g| g.0).collect());
        let gz_check = median(gzip_rounds.iter().map(|g| g.1).collect());
        let per_round = |f: fn(&(Duration, Duration, Duration)) -> f64| {
            median_f64(gzip_rounds.iter().map(f).collect())
        };
        let over_inflate = per_round(|g| g.1.as_secs_f64() / g.0.as_secs_f64());
        let over_plain = per_round(|g| g.1.as_secs_f64() / g.2.as_secs_f64());
        println!(
            "{:<44} {:>9.3}",
            "gzip: decompress alone",
            inflate.as_secs_f64()
        );
        println!(
            "{:<44} {:>9.3} {over_inflate:>8.2} × decompress, {over_plain:.2} × check of FILE",
            "gzip: feedlens check",
            gz_check.as_secs_f64(),
        );
    }
    let peaks: Vec<u64> = rounds.iter().filter_map(|r| r.map_peak).collect();
    if !peaks.is_empty() {
        let peak = peaks.iter().copied().max().unwrap_or(0);
        println!(
            "map peak resident memory: {:.0} MB, {:.2} × the file's size (largest of the rounds)",
            peak as f64 / 1e6,
            peak as f64 / size.max(1) as f64
        );
    }
    let windows: Vec<f64> = rounds.iter().filter_map(|r| r.window).collect();
    if !windows.is_empty() {
        println!(
            "window load: {:.2}× check's time",
            median_f64(windows.clone())
        );
    }
    let previews: Vec<(f64, usize)> = rounds.iter().filter_map(|r| r.preview).collect();
    if let Some(&(_, changed)) = previews.first() {
        let ratio = median_f64(previews.iter().map(|p| p.0).collect());
        println!("rules preview: {ratio:.2}× check's time ({changed} records would change)");
    }
    let growth: Vec<(f64, f64)> = rounds.iter().filter_map(|r| r.growth).collect();
    if let Some(&(_, records)) = growth.first() {
        let time = median_f64(growth.iter().map(|g| g.0).collect());
        println!(
            "growth: {records:.2}× the records took {time:.2}× the time to check ({:.2}× per record)",
            time / records
        );
    }
}

/// One round's times: each step with its name, the baseline, gzip (decompress, check), and
/// growth (check's time on FILE over its time on the smaller file, and the records' ratio).
#[derive(Default)]
struct Round {
    steps: Vec<(String, Duration)>,
    base: Duration,
    gzip: Option<(Duration, Duration, Duration)>,
    /// `map`'s peak resident memory in bytes.
    map_peak: Option<u64>,
    /// The window's load over check's time.
    window: Option<f64>,
    growth: Option<(f64, f64)>,
    preview: Option<(f64, usize)>,
}
