//! Every input the fuzzers (`fuzz/`) found, replayed by `cargo test` against the same checks the
//! fuzz targets make (`fuzz/checks.rs`), plus the seed corpus built from `samples/`. CI runs this,
//! not the fuzzer. To add a finding: minimise it (`cargo fuzz tmin`), inline it below with a line
//! on what it broke, and fix the code until this test passes.

#[allow(dead_code, reason = "fuzz_dir serves the fuzz targets only")]
#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::Path;

/// Inputs for `checks::read_file`: byte 0 picks the file name (`checks::NAMES`), the rest is the
/// file. Each is (what it broke, input).
fn read_file_regressions() -> Vec<(&'static str, Vec<u8>)> {
    vec![(
        // A CSV header of 30,000 dotted segments: the parent-column check was quadratic in
        // the depth (a timeout of the read_file harness), and the record nested 30,000 deep.
        "csv header with thousands of dots",
        [
            b"\x02ts,eventName,".as_slice(),
            "p.".repeat(30_000).as_bytes(),
            b"p\n1700000000,A,x\n",
        ]
        .concat(),
    )]
}

/// Inputs for `checks::map_json`: bytes 0 and 1 pick policies and options, the rest is JSON.
fn map_json_regressions() -> Vec<(&'static str, Vec<u8>)> {
    vec![]
}

#[test]
fn read_file_regressions_replay() {
    let dir = tempfile::tempdir().unwrap();
    for (what, input) in read_file_regressions() {
        eprintln!("replaying: {what}");
        checks::read_file(dir.path(), &input);
    }
}

#[test]
fn map_json_regressions_replay() {
    for (what, input) in map_json_regressions() {
        eprintln!("replaying: {what}");
        checks::map_json(&input);
    }
}

/// The seed corpus `fuzz/run.sh` builds: every sample under each file name, and every JSON
/// sample through the mapper with two option settings.
#[test]
fn samples_pass_the_fuzz_checks() {
    let dir = tempfile::tempdir().unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut count = 0;
    for entry in std::fs::read_dir(samples).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        for selector in 0..checks::NAMES.len() as u8 {
            checks::read_file(dir.path(), &[&[selector | 0x18], bytes.as_slice()].concat());
        }
        let name = path.file_name().unwrap().to_string_lossy();
        let json = if name.ends_with(".gz") {
            let mut text = Vec::new();
            std::io::Read::read_to_end(
                &mut flate2::read::MultiGzDecoder::new(bytes.as_slice()),
                &mut text,
            )
            .unwrap();
            text
        } else {
            bytes
        };
        for options in [[0x00, 0x00], [0x35, 0xd4], [0xfe, 0xff]] {
            checks::map_json(&[options.as_slice(), &json].concat());
        }
        count += 1;
    }
    assert!(count >= 6, "samples/ should hold the bundled samples");
}
