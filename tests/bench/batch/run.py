#!/usr/bin/env python3
"""Samples per second through batch ingest (POST /servers) versus single POSTs
(POST /server/<name>), side by side in one run against one release-build ingest
worker on a fresh segment, driven by wrk.

  tests/bench/batch/run.py [--build-dir build-release] [--seconds 5] [--batch 1000]
                           [--connections 16] [--threads 2]

Configures and builds the release build directory if it has no build.ninja.
Bounded: two wrk runs of --seconds each plus start-up. Prints a table and the
ratio (the target in docs/design.md, "The HTTP contract", is >= 20x).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))


def build(build_dir):
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        subprocess.run(["meson", "setup", build_dir, ROOT, "--buildtype=release",
                        "--wrap-mode=nofallback"], check=True)
    subprocess.run(["meson", "compile", "-C", build_dir, "ingest/servertrack-ingest",
                    "cli/shmtool"], check=True, stdout=subprocess.DEVNULL)


def wrk(url, path, body, args):
    with tempfile.NamedTemporaryFile("w", suffix=".json") as body_file:
        body_file.write(body)
        body_file.flush()
        result = subprocess.run(
            ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
             "--timeout", "5s", "-s", os.path.join(os.path.dirname(__file__), "post_body.lua"),
             url, "--", path],
            env={**os.environ, "BODY_FILE": body_file.name}, capture_output=True, text=True,
            timeout=args.seconds + 30, check=True)
    match = re.search(r"RESULT requests=(\d+) seconds=([\d.]+) non_2xx=(\d+)", result.stdout)
    if not match:
        raise RuntimeError(f"wrk printed no result: {result.stdout}{result.stderr}")
    requests, seconds, failed = int(match[1]), float(match[2]), int(match[3])
    if failed:
        raise RuntimeError(f"{failed} of {requests} requests to {path} failed")
    return requests, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build-release"))
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1000, help="samples per batch body")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    build(os.path.abspath(args.build_dir))
    os.environ["SERVERTRACK_BUILD_DIR"] = os.path.abspath(args.build_dir)
    from appliance import TestSegment, Worker

    names = [f"bench_{i:05d}" for i in range(args.batch)]
    batch_body = json.dumps({n: {"cpu": 12.5, "ram": 40.25} for n in names}, separators=(",", ":"))
    if len(batch_body) > 64 * 1024:
        sys.exit(f"--batch {args.batch} makes a {len(batch_body)}-byte body, over the 64 KiB limit")
    with TestSegment(capacity=2 * args.batch) as segment, Worker("ingest", segment) as ingest:
        single_requests, single_seconds = wrk(ingest.url, "/server/bench_00000",
                                              '{"cpu":12.5,"ram":40.25}', args)
        batch_requests, batch_seconds = wrk(ingest.url, "/servers", batch_body, args)
    single_rate = single_requests / single_seconds
    batch_rate = batch_requests * args.batch / batch_seconds
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, one ingest worker "
          f"({os.path.basename(os.path.abspath(args.build_dir))}), {os.cpu_count()} CPUs")
    print(f"{'mode':<28}{'requests':>10}{'seconds':>9}{'samples/s':>14}")
    print(f"{'single POST /server/<name>':<28}{single_requests:>10}{single_seconds:>9.2f}{single_rate:>14,.0f}")
    print(f"{f'batch POST /servers ({args.batch})':<28}{batch_requests:>10}{batch_seconds:>9.2f}{batch_rate:>14,.0f}")
    print(f"ratio batch/single: {batch_rate / single_rate:.1f}x (target >= 20x)")


if __name__ == "__main__":
    main()
