#!/usr/bin/env bash
# Seeds the corpus from samples/ and fuzzes each target for SECONDS (default 60), one after the
# other, as one low-priority process.
#
#   fuzz/run.sh [SECONDS] [TARGET...]        e.g. fuzz/run.sh 900 read_file
#
# Targets: read_file, map_json (default: both). Needs `cargo install cargo-fuzz`. The toolchain is
# stable, so nightly-only flags are unlocked with RUSTC_BOOTSTRAP=1. Crashes land in
# fuzz/artifacts/<target>/; reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --codegen-units 16 <target> fuzz/artifacts/<target>/<file>
# then inline it in tests/integration/fuzz_regressions.rs. Extra libFuzzer flags: FUZZ_FLAGS="-dict=...".
set -euo pipefail

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(read_file map_json)
fi

fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
samples="$fuzz_dir/../samples"
cd "$fuzz_dir"

# read_file: byte 0 picks the file name (see NAMES in fuzz_targets/read_file.rs), so each sample
# is seeded under the name its extension asks for: 0 .jsonl, 1 .json, 2 .csv, 3 .json.gz, and the
# export-pattern names 5 (.json) and 6 (.csv.gz).
seed_read_file() {
    local dir="corpus/read_file" file name selector
    mkdir -p "$dir"
    for file in "$samples"/*; do
        [ -f "$file" ] || continue
        name="$(basename "$file")"
        case "$name" in
            *-*-*-*-*-*.json) selector='\x05' ;;
            *.csv) selector='\x02' ;;
            *.gz) selector='\x03' ;;
            *.json) selector='\x01' ;;
            *) selector='\x00' ;;
        esac
        { printf "$selector"; cat "$file"; } >"$dir/sample-$name"
        # The same bytes with tracing and the source kept (bits 3 and 4 of byte 0).
        { printf '\x1c'; cat "$file"; } >"$dir/sample-traced-$name"
    done
}

# map_json: bytes 0 and 1 pick policies and options; the rest is JSON (documents, NDJSON or an
# array). Every JSON sample is seeded, gzip ones decompressed, with two option settings.
seed_map_json() {
    local dir="corpus/map_json" file name
    mkdir -p "$dir"
    for file in "$samples"/*; do
        [ -f "$file" ] || continue
        name="$(basename "$file")"
        case "$name" in
            *.gz) { printf '\x00\x00'; gzip -dc "$file"; } >"$dir/sample-$name" ;;
            *.csv) continue ;;
            *) { printf '\x00\x00'; cat "$file"; } >"$dir/sample-$name" ;;
        esac
        { printf '\x35\xd4'; tail -c +3 "$dir/sample-$name"; } >"$dir/sample-options-$name"
    done
}

export RUSTC_BOOTSTRAP=1
# read_file writes each input to one file here (in memory when /dev/shm exists); removed at exit.
FEEDLENS_FUZZ_DIR="$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/feedlens-fuzz.XXXXXX")"
export FEEDLENS_FUZZ_DIR
trap 'rm -rf "$FEEDLENS_FUZZ_DIR"' EXIT
# The pipeline maps on rayon's pool; one thread keeps this a one-core job on a shared machine.
export RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-1}"

for target in "${targets[@]}"; do
    "seed_$target"
    echo "== fuzzing $target for ${seconds}s (corpus fuzz/corpus/$target)"
    # -timeout catches hangs, -rss_limit_mb (and the malloc limit it implies) unbounded
    # allocation; 64 KB inputs are enough to reach every reader state. -detect_leaks=0: the
    # pipeline reads each file on a short-lived thread, and LeakSanitizer can look while that
    # thread is past its join but before glibc frees its 32-byte thread-exit registration; it
    # stopped runs with that "leak" (safe Rust frees what it allocates; runaway memory is still
    # caught by the RSS and malloc limits).
    # shellcheck disable=SC2086
    nice -n 19 cargo fuzz run --codegen-units 16 "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -detect_leaks=0 -print_final_stats=1 ${FUZZ_FLAGS:-}
done
