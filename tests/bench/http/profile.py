#!/usr/bin/env python3
"""Where a POST's cost goes: perf stat and perf record of the ingest worker.

    python3 tests/bench/http/profile.py [--threads N] [--seconds 10]

Uses the release build of run.py (<source>/build-bench, built already), a fresh
segment with 10,000 names, and the "POST, 64 keep-alive connections" load of
run.py, pinned the same way. While the load runs, `perf stat` and then
`perf record -g` attach to the ingest worker's pid for a bounded time each;
prints the counters, the samples per library and the top symbols (self time),
and where perf.data is.
"""

import argparse
import os
import subprocess
import tempfile
import time

import processes
import run
import scenarios
import workers
import wrk


def perf_during_load(appliance, perf_args, seconds, client_core):
    """Runs perf on the ingest worker while a POST 64 load runs; returns perf's
    stderr and the load's rate and the worker's CPU over the whole load, so
    the cost per request can be compared between builds on a busy machine."""
    load = scenarios.POST_64.loads(appliance, scenarios.POPULATED)[0]
    cpu_before = processes.cpu_seconds(appliance.pids[:1])
    started = time.monotonic()
    loader = processes.spawn(wrk.command_for(load, seconds + 2), client_core, stdout=subprocess.PIPE, text=True)
    try:
        report = subprocess.run(["perf", *perf_args, "-p", str(appliance.pids[0]), "--", "sleep", str(seconds)],
                                capture_output=True, text=True, check=True).stderr
    finally:
        output = loader.communicate(timeout=seconds + 30)[0]
    cpu = (processes.cpu_seconds(appliance.pids[:1]) - cpu_before) / (time.monotonic() - started)
    rps = wrk.parse_result(output)["rps"]
    return report + (f"\nPOST, 64 connections: {rps:,.0f} req/s at {cpu * 100:.0f} % of a core for the "
                     f"ingest worker: {cpu / rps * 1e6:.1f} µs of worker CPU per request\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    client_core, server_core = run.cores()
    out_dir = tempfile.mkdtemp(prefix="servertrack-bench-perf-")
    data = os.path.join(out_dir, "perf.data")
    with workers.Workers(os.path.join(run.SOURCE_ROOT, "build-bench"), scenarios.POPULATED * 2, server_core,
                         ingest_threads=args.threads) as appliance:
        appliance.fill(scenarios.POPULATED, client_core)
        print(perf_during_load(appliance, ["stat", "-e", "task-clock,context-switches,cpu-migrations,"
                                           "page-faults,cycles,instructions"], args.seconds, client_core))
        perf_during_load(appliance, ["record", "-g", "-o", data], args.seconds, client_core)
    for title, sort, limit in (("samples by library", "dso", "0.1"), ("top symbols", "dso,symbol", "1.5")):
        report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "--sort", sort,
                                 "--percent-limit", limit, "-g", "none"], capture_output=True, text=True).stdout
        print(f"{title}:")
        print("\n".join(line.rstrip(" -") for line in report.splitlines() if line.strip() and line[0] != "#"))
    print(f"perf data (for perf report -g): {data}")


if __name__ == "__main__":
    main()
