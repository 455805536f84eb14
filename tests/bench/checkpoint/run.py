#!/usr/bin/env python3
"""What a checkpoint costs (README: Where the data lives): one of 100,000 servers
with full windows (every minute and hour bucket filled), its time and bytes,
and the POST throughput of an ingest worker while checkpoints run back to back
versus without, side by side in one run.

  tests/bench/checkpoint/run.py [--build-dir build] [--servers 100000]
                                [--rounds 3] [--seconds 5] [--data-dir DIR]

Uses a release build's ingest worker, shmtool and tests/cli's record_samples
(which fills the segment through the segment library with explicit times).
A checkpoint here is exactly what the supervisor runs (servertrack.checkpoint:
`shmtool dump` at nice 10, unpinned). Load: wrk, 1 thread, 64 keep-alive
connections, pinned to core 0 at raised priority (the worker pinned to core 1),
POSTs to random names of the filled ones. Bounded: fill, 3 checkpoints, then
2 x --rounds wrk runs of --seconds. Prints the figures, the medians, their
ratio and the load average before and after.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "cli"))
sys.path.insert(0, os.path.join(ROOT, "tests", "bench", "http"))

from processes import spawn  # noqa: E402
from servertrack.checkpoint import nice_child  # noqa: E402

RANDOM_NAMES = os.path.join(ROOT, "tests", "bench", "http", "random_names.lua")
# wrk stands in for clients on other hosts: pinned to one core at raised
# priority (tests/bench/http/processes.py), so a checkpoint cannot slow the
# load itself. The worker gets the other core at its usual priority, and the
# checkpoint runs as the supervisor runs it (nice 10, unpinned): it competes
# with the worker, as it would on a host whose cores ingest keeps busy.
CLIENT_CORE, SERVER_CORE = 0, 1


def fill(build_dir, segment, servers):
    """Every minute bucket and every hour bucket of every server gets samples."""
    now = int(time.time())
    times = [now - hours * 3600 for hours in range(23, 0, -1)] + [now - minutes * 60 for minutes in range(59, -1, -1)]
    recorder = subprocess.Popen([os.path.join(build_dir, "tests", "cli", "record_samples"), segment],
                                stdin=subprocess.PIPE, text=True)
    for when in times:
        recorder.stdin.write("".join(f"srv{i} {when} {10 + i % 80}.5 {20 + i % 70}.25\n" for i in range(servers)))
    recorder.stdin.close()
    if recorder.wait() != 0:
        raise RuntimeError("record_samples failed")
    return len(times)


def checkpoint(shmtool, segment, path):
    """One checkpoint as the supervisor takes it; returns (seconds, bytes)."""
    started = time.monotonic()
    subprocess.run([shmtool, "dump", "--segment", segment, path, "--force"], check=True,
                   stdout=subprocess.DEVNULL, preexec_fn=nice_child)
    return time.monotonic() - started, os.path.getsize(path)


def wrk_posts(url, servers, seconds):
    client = spawn(["wrk", "-t1", "-c64", f"-d{seconds}s", "--timeout", "2s", "-s", RANDOM_NAMES,
                    url, "--", "POST", str(servers)], CLIENT_CORE, stdout=subprocess.PIPE, text=True)
    output, _ = client.communicate(timeout=seconds + 30)
    if client.returncode != 0:
        raise RuntimeError(f"wrk exited with status {client.returncode}")
    line = next(l for l in output.splitlines() if l.startswith("WRK_RESULT "))
    figures = json.loads(line.split(" ", 1)[1])
    errors = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    if errors:
        raise RuntimeError(f"{errors} errors in {figures}")
    return figures["requests"] / (figures["duration_us"] / 1e6)


def posts_while_checkpointing(url, servers, seconds, shmtool, segment, path):
    """POST rate while checkpoints run back to back; returns (rate, checkpoints done)."""
    stop = threading.Event()
    done = []

    def loop():
        while not stop.is_set():
            done.append(checkpoint(shmtool, segment, path))

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        rate = wrk_posts(url, servers, seconds)
    finally:
        stop.set()
        thread.join()
    return rate, len(done)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--servers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--data-dir", help="where checkpoints are written (default: a temporary "
                                           "directory beside the build, on its disk)")
    args = parser.parse_args()
    os.environ["SERVERTRACK_BUILD_DIR"] = os.path.abspath(args.build_dir)
    from appliance import TestSegment, Worker, build_path  # noqa: E402  (reads SERVERTRACK_BUILD_DIR)

    shmtool = build_path("cli/shmtool")
    data_dir = tempfile.mkdtemp(prefix="checkpoint-bench-", dir=args.data_dir or os.path.abspath(args.build_dir))
    load_before = os.getloadavg()
    try:
        with TestSegment(capacity=131072) as segment:
            started = time.monotonic()
            samples = fill(args.build_dir, segment.name, args.servers)
            print(f"filled {args.servers:,} servers x {samples} samples (60 minute and 24 hour buckets each) "
                  f"in {time.monotonic() - started:.0f} s", flush=True)
            path = os.path.join(data_dir, f"{segment.name}-0000000001.snap")
            alone = [checkpoint(shmtool, segment.name, path) for _ in range(3)]
            seconds = statistics.median(s for s, _ in alone)
            size = alone[-1][1]
            print(f"checkpoint alone: {', '.join(f'{s:.2f}' for s, _ in alone)} s (median {seconds:.2f} s), "
                  f"{size:,} bytes ({size / 2**20:.1f} MiB, {size / seconds / 2**20:.0f} MiB/s), "
                  f"written and fsynced to {data_dir}", flush=True)
            with Worker("ingest", segment) as ingest:
                subprocess.run(["taskset", "-a", "-p", "-c", str(SERVER_CORE), str(ingest.pid)], check=True,
                               stdout=subprocess.DEVNULL)
                without, with_checkpoints, dumps = [], [], []
                for _ in range(args.rounds):
                    without.append(wrk_posts(ingest.url, args.servers, args.seconds))
                    rate, count = posts_while_checkpointing(ingest.url, args.servers, args.seconds,
                                                            shmtool, segment.name, path)
                    with_checkpoints.append(rate)
                    dumps.append(count)
            print("POST req/s without checkpoints: " + ", ".join(f"{r:,.0f}" for r in without)
                  + f" (median {statistics.median(without):,.0f})")
            print("POST req/s while checkpoints run back to back: " + ", ".join(f"{r:,.0f}" for r in with_checkpoints)
                  + f" (median {statistics.median(with_checkpoints):,.0f}; checkpoints per run {dumps})")
            print(f"ratio with/without: {statistics.median(with_checkpoints) / statistics.median(without):.2f}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print("load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}; {} cores".format(
        *load_before, *os.getloadavg(), os.cpu_count()))
    print("command: python3 tests/bench/checkpoint/run.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
