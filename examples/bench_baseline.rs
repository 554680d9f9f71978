//! feedlens beside a plain parse of the same file, in one run (issue 5's bench command).
//!
//! `cargo run --release --example bench_baseline -- FILE [--gzip FILE.gz] [--repeat N]`
//!
//! For FILE (NDJSON in the page cache) it times, taking the median of N runs each:
//! - read: reading the file into memory;
//! - baseline: reading it and parsing every line with sonic-rs into values on all cores;
//! - check: feedlens reading, parsing, mapping and checking every record (accounting and
//!   findings kept, nothing printed), on all cores;
//! - map: the `feedlens map FILE -o OUT` binary (release) writing the batches to a file;
//!
//! and, with `--gzip`, the time to decompress the file alone beside `check` on it. Ratios are
//! to the baseline measured in the same run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use feedlens::mapping::{Engine, MapOptions, Rules};
use feedlens::pipeline::{self, Accounting};
use rayon::prelude::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time<T>(repeat: usize, mut work: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..repeat {
        let start = Instant::now();
        last = Some(work());
        times.push(start.elapsed());
    }
    (median(times), last.expect("repeat is at least 1"))
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
    let mut findings = 0usize;
    pipeline::run_with(
        &[path.to_path_buf()],
        engine,
        &AtomicBool::new(false),
        |_| {},
        |_, chunk| {
            let mut counted = Accounting::default();
            let mut found = 0;
            for outcome in &chunk {
                counted.add(outcome);
                found += outcome.findings.len();
            }
            (counted, found)
        },
        |_, (counted, found)| {
            accounting.merge(counted);
            findings += found;
        },
    );
    accounting
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut file = None;
    let mut gzip = None;
    let mut repeat = 3;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--gzip" => gzip = iter.next().map(PathBuf::from),
            "--repeat" => repeat = iter.next().and_then(|n| n.parse().ok()).unwrap_or(3),
            other => file = Some(PathBuf::from(other)),
        }
    }
    let Some(file) = file else {
        eprintln!("usage: bench_baseline FILE [--gzip FILE.gz] [--repeat N]");
        std::process::exit(2);
    };
    let repeat = repeat.max(1);
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let engine = Engine::new(
        Arc::new(Rules::default_rules().expect("built-in rules")),
        MapOptions::default(),
    );
    let feedlens_bin = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("feedlens")))
        .filter(|bin| bin.exists());

    println!(
        "file: {} ({:.0} MB), {} threads, median of {repeat}",
        file.display(),
        size as f64 / 1e6,
        rayon::current_num_threads()
    );
    let (read, bytes) = time(repeat, || {
        std::fs::read(&file).map(|b| b.len()).unwrap_or(0)
    });
    let (base, parsed) = time(repeat, || baseline(&file));
    let (checked, accounting) = time(repeat, || check(&file, &engine));
    println!(
        "records: {parsed} parsed by sonic-rs, {} read by feedlens ({} unreadable)",
        accounting.records_read, accounting.unreadable
    );
    let ratio = |d: Duration| d.as_secs_f64() / base.as_secs_f64();
    println!("{:<44} {:>9} {:>8}", "step", "seconds", "× base");
    println!(
        "{:<44} {:>9.3} {:>8.2}",
        format!("read {bytes} bytes"),
        read.as_secs_f64(),
        ratio(read)
    );
    println!(
        "{:<44} {:>9.3} {:>8.2}",
        "baseline: read + sonic-rs parse, all cores",
        base.as_secs_f64(),
        1.0
    );
    println!(
        "{:<44} {:>9.3} {:>8.2}",
        "feedlens check (read, parse, map, check)",
        checked.as_secs_f64(),
        ratio(checked)
    );
    if let Some(bin) = &feedlens_bin {
        let out = std::env::temp_dir().join("feedlens-bench-map.ndjson");
        let (mapped, _) = time(repeat, || {
            std::process::Command::new(bin)
                .args(["map", &file.to_string_lossy(), "-o", &out.to_string_lossy()])
                .stderr(std::process::Stdio::null())
                .status()
                .map(|s| s.code())
        });
        let _ = std::fs::remove_file(&out);
        println!(
            "{:<44} {:>9.3} {:>8.2}",
            "feedlens map -o FILE (the binary)",
            mapped.as_secs_f64(),
            ratio(mapped)
        );
    } else {
        println!("(build the binary with `cargo build --release` to time `feedlens map`)");
    }
    if let Some(gz) = gzip {
        let (inflate, _) = time(repeat, || {
            let mut decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
                std::fs::File::open(&gz).expect("gzip file opens"),
            ));
            std::io::copy(&mut decoder, &mut std::io::sink()).unwrap_or(0)
        });
        let (gz_check, _) = time(repeat, || check(&gz, &engine));
        println!(
            "{:<44} {:>9.3}",
            "gzip: decompress alone",
            inflate.as_secs_f64()
        );
        println!(
            "{:<44} {:>9.3} {:>8.2} × decompress",
            "gzip: feedlens check",
            gz_check.as_secs_f64(),
            gz_check.as_secs_f64() / inflate.as_secs_f64()
        );
    }
}
