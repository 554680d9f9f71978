//! Fuzz target: arbitrary JSON values through `Engine::map`, `build_batches` and
//! `split_requests`. The checks are in `../checks.rs`.

#![no_main]

#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::map_json(data));
