//! Fuzz target: arbitrary bytes as an input file through the reader and the mapper
//! (`pipeline::run`). The checks are in `../checks.rs`.

#![no_main]

#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::read_file(checks::fuzz_dir(), data));
