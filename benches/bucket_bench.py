#!/usr/bin/env python3
"""Opening export chunks from an S3 bucket against opening the same chunks from disk.

    cargo build --release --no-default-features --bin feedlens
    python3 benches/bucket_bench.py [--gb 1.0] [--rounds 3] [--dir DIR]

Writes gzip export chunks of about 128 MB each (records of the samples' shape, each with a
random session hash, so that they compress about as much as real exports with ids do) into DIR
(kept between runs), starts moto's S3 server (pip install 'moto[server]') on a free 127.0.0.1
port, uploads them under s3://bench/chunks/, then in each round (the order alternating) runs
`feedlens check --json` on the prefix and on the same chunks on disk, checks that both give the
same accounting, and prints every run, the medians and the bucket's time as a multiple of the
disk's. Nothing leaves 127.0.0.1.
"""

import argparse
import base64
import gzip
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = "77-1650003600-App Launched-20220415"
# The counts only: millions of findings printed would time the terminal, not the reading.
CHECK = ["check", "--json", "--severity", "error", "--max-findings", "0"]
ACCOUNTING = ["records_read", "mapped", "warned", "held", "dropped", "unreadable", "by_category", "by_event"]


def make_chunks(folder: Path, gigabytes: float) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob(f"{RUN}-*-5.json.gz"), key=lambda p: int(p.name.split("-")[-2]))
    total = sum(p.stat().st_size for p in existing)
    if existing and abs(total - gigabytes * 1e9) < 0.15e9:
        return existing
    for path in existing:
        path.unlink()
    templates = [json.loads(line) for line in (ROOT / "samples/events.jsonl").read_text().splitlines() if line.strip()]
    rng = random.Random(7)
    chunks, written, index = [], 0, 0
    while written < gigabytes * 1e9:
        path = folder / f"{RUN}-{index}-5.json.gz"
        with gzip.open(path, "wb", compresslevel=1) as out:
            lines = []
            # About 128 MB compressed per chunk.
            while out.fileobj.tell() < 128e6 and written + out.fileobj.tell() < gigabytes * 1e9:
                for _ in range(2000):
                    record = dict(rng.choice(templates))
                    record["profile"] = dict(record.get("profile", {}))
                    record["profile"]["identity"] = str(rng.randrange(10**15))
                    props = dict(record.get("eventProps", {}))
                    props["Session Hash"] = base64.b64encode(rng.randbytes(144)).decode()
                    record["eventProps"] = props
                    lines.append(json.dumps(record, separators=(",", ":")))
                out.write(("\n".join(lines) + "\n").encode())
                lines.clear()
        written += path.stat().st_size
        chunks.append(path)
        index += 1
        print(f"wrote {path.name}: {path.stat().st_size / 1e6:.0f} MB", flush=True)
    return chunks


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "feedlens-bucket-bench")
    parser.add_argument("--feedlens", type=Path, default=ROOT / "target/release/feedlens")
    args = parser.parse_args()

    chunks = make_chunks(args.dir, args.gb)
    size = sum(p.stat().st_size for p in chunks)
    print(f"{len(chunks)} chunks, {size / 1e6:.0f} MB of gzip", flush=True)

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("moto's server did not start")
                time.sleep(0.1)
        env = dict(
            os.environ,
            AWS_ENDPOINT_URL=endpoint,
            AWS_ALLOW_HTTP="true",
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_REGION="us-east-1",
            NO_PROXY="127.0.0.1",
        )
        import boto3  # installed with moto

        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
        s3.create_bucket(Bucket="bench")
        started = time.time()
        for path in chunks:
            s3.upload_file(str(path), "bench", f"chunks/{path.name}")
        print(f"uploaded in {time.time() - started:.1f} s", flush=True)

        commands = {
            "disk": [str(args.feedlens), *CHECK, *map(str, chunks)],
            "s3": [str(args.feedlens), *CHECK, "s3://bench/chunks"],
        }
        times = {"disk": [], "s3": []}
        for round_ in range(args.rounds):
            order = ["disk", "s3"] if round_ % 2 == 0 else ["s3", "disk"]
            accounting = {}
            for label in order:
                started = time.time()
                done = subprocess.run(commands[label], env=env, capture_output=True)
                seconds = time.time() - started
                if done.returncode not in (0, 1):
                    raise SystemExit(f"{label}: exit {done.returncode}: {done.stderr.decode()[-2000:]}")
                report = json.loads(done.stdout)
                accounting[label] = {key: report.get(key) for key in ACCOUNTING}
                times[label].append(seconds)
                print(f"round {round_} {label:4}: {seconds:6.2f} s ({size / 1e6 / seconds:.0f} MB/s of gzip)", flush=True)
            if accounting["disk"] != accounting["s3"]:
                raise SystemExit(f"disk and bucket disagree: {accounting}")
        disk, bucket = statistics.median(times["disk"]), statistics.median(times["s3"])
        print(f"median: disk {disk:.2f} s, s3 {bucket:.2f} s: s3 = {bucket / disk:.2f}x disk")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
