#!/usr/bin/env python3
"""A full checkpoint against a delta checkpoint after 1 % of the servers changed
(README: Where the data lives): time and bytes of each, side by side in one run.

  tests/bench/delta_checkpoint/run.py [--build-dir build] [--servers 100000]
                                      [--rounds 3] [--changed 0.01] [--data-dir DIR]

Fills a fresh segment (30 days, capacity 2 x servers rounded up to a power of
two) with --servers servers through tests/cli/record_samples, each with samples
in 8 minutes, 8 hours and 8 days; then --rounds times: a full checkpoint
(`shmtool dump --repair --marks`), one new sample for --changed of the servers,
and a delta (`shmtool dump --repair --marks --delta`), each exactly as the
supervisor runs it (servertrack.checkpoint: nice 10). Prints every figure,
the medians, their ratios and the load average before and after. Bounded:
one fill and 2 x --rounds dumps. Removes its segment and files.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "cli"))

from servertrack.checkpoint import nice_child  # noqa: E402


def record(build_dir, segment, lines):
    recorder = subprocess.Popen([os.path.join(build_dir, "tests", "cli", "record_samples"), segment],
                                stdin=subprocess.PIPE, text=True)
    for chunk in lines:
        recorder.stdin.write(chunk)
    recorder.stdin.close()
    if recorder.wait() != 0:
        raise RuntimeError("record_samples failed")


def dump(shmtool, segment, path, marks, delta):
    """One checkpoint as the supervisor takes it; returns (seconds, bytes)."""
    started = time.monotonic()
    subprocess.run([shmtool, "dump", "--repair", "--segment", segment, path, "--marks", marks]
                   + (["--delta"] if delta else []), check=True, stdout=subprocess.DEVNULL, preexec_fn=nice_child)
    return time.monotonic() - started, os.path.getsize(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--servers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--data-dir", help="where the checkpoints go (default: a temporary dir under /tmp)")
    args = parser.parse_args()
    shmtool = os.path.join(args.build_dir, "cli", "shmtool")
    capacity = 1 << (2 * args.servers - 1).bit_length()
    segment = f"bench_delta_{os.getpid()}"
    data_dir = tempfile.mkdtemp(prefix="servertrack-delta-bench-", dir=args.data_dir)
    print(f"load average before: {os.getloadavg()}")
    subprocess.run([shmtool, "create", "--segment", segment, "--capacity", str(capacity), "--days", "30"],
                   check=True, stdout=subprocess.DEVNULL)
    try:
        now = int(time.time())
        times = sorted({now - d * 86400 for d in range(7, 0, -1)} | {now - h * 3600 for h in range(7, 0, -1)}
                       | {now - m * 60 for m in range(7, -1, -1)})
        started = time.monotonic()
        record(args.build_dir, segment, ("".join(f"srv{i} {t} {i % 90}.5 {i % 70}.25\n" for i in range(args.servers))
                                         for t in times))
        print(f"filled {args.servers} servers ({len(times)} samples each) in {time.monotonic() - started:.1f} s; "
              f"capacity {capacity}")
        step = max(1, round(1 / args.changed))
        full, delta = [], []
        for r in range(args.rounds):
            marks = os.path.join(data_dir, "marks")
            full.append(dump(shmtool, segment, os.path.join(data_dir, f"full{r}.snap"), marks, False))
            os.unlink(os.path.join(data_dir, f"full{r}.snap"))
            changed = range(r, args.servers, step)
            record(args.build_dir, segment, [f"srv{i} {now + 1 + r} 1 1\n" for i in changed])
            delta.append(dump(shmtool, segment, os.path.join(data_dir, f"delta{r}.snap"), marks, True))
            os.unlink(os.path.join(data_dir, f"delta{r}.snap"))
            print(f"round {r + 1}: full {full[-1][0]:.3f} s {full[-1][1]:,} bytes; delta after {len(changed)} "
                  f"changed: {delta[-1][0]:.3f} s {delta[-1][1]:,} bytes", flush=True)
        full_s, delta_s = statistics.median(s for s, _ in full), statistics.median(s for s, _ in delta)
        full_b, delta_b = statistics.median(b for _, b in full), statistics.median(b for _, b in delta)
        print(f"median full: {full_s:.3f} s, {full_b:,} bytes; median delta: {delta_s:.3f} s, {delta_b:,} bytes")
        print(f"delta / full: time {delta_s / full_s:.3f}, bytes {delta_b / full_b:.4f}")
    finally:
        subprocess.run([shmtool, "remove", "--segment", segment, "--force"], stdout=subprocess.DEVNULL)
        shutil.rmtree(data_dir, ignore_errors=True)
        print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
