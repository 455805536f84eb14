#!/usr/bin/env python3
"""GET /fleet at scale: median time of one page and the query worker's memory.

    python3 tests/bench/http/fleet.py [--servers 100000] [--requests 31] [--no-build]

Builds a release in <source>/build-bench (as run.py does), fills a fresh
appliance with --servers names (one sample each, fill.lua), then sends
--requests GETs one after another on one keep-alive connection for each of:
GET /fleet?limit=100 (sort=cpu, the default), GET /fleet?limit=100&sort=name,
and GET /servers?limit=100 (the other whole-table walk, for a side-by-side
ratio). While they run it samples the query worker's /proc/<pid>/status every
10 ms and reports the peak of VmRSS, RssAnon (its own heap and stacks) and
RssShmem (the part of the segment it touched). Prints one Markdown table with
the load average before and after.
"""

import argparse
import http.client
import os
import statistics
import sys
import threading
import time

import run
import workers


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=100000)
    parser.add_argument("--requests", type=int, default=31, help="GETs per target, medians reported")
    parser.add_argument("--build-dir", default=os.path.join(run.SOURCE_ROOT, "build-bench"))
    parser.add_argument("--no-build", action="store_true", help="use the build dir as it is")
    return parser.parse_args()


class MemorySampler(threading.Thread):
    """Peak kB of VmRSS, RssAnon and RssShmem of one process, sampled every 10 ms."""

    FIELDS = ("VmRSS", "RssAnon", "RssShmem")

    def __init__(self, pid):
        super().__init__(daemon=True)
        self._path = f"/proc/{pid}/status"
        self.peak = dict.fromkeys(self.FIELDS, 0)
        self._done = threading.Event()

    def run(self):
        while not self._done.wait(0.01):
            with open(self._path) as status:
                for line in status:
                    key, _, value = line.partition(":")
                    if key in self.peak:
                        self.peak[key] = max(self.peak[key], int(value.split()[0]))

    def stop(self):
        self._done.set()
        self.join(timeout=5)


def time_gets(port, target, count):
    """Milliseconds of each of `count` GETs of target on one connection; checks each is 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    timings = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            connection.request("GET", target)
            response = connection.getresponse()
            body = response.read()
            timings.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise RuntimeError(f"GET {target}: {response.status} {body[:200]!r}")
    finally:
        connection.close()
    return timings, len(body)


def main():
    args = parse_args()
    client_core, server_core = run.cores()
    if not args.no_build:
        run.progress(f"building a release in {args.build_dir}")
        run.build(args.build_dir)
    loads_before = open("/proc/loadavg").read().split()[:3]
    capacity = args.servers * 10 // 9
    lines = [f"GET /fleet with {args.servers:,} servers ({capacity:,} slots): {args.requests} sequential GETs "
             f"per row on one keep-alive connection; query worker pinned to core {server_core}.",
             "| request | median ms | p90 ms | max ms | body bytes | ratio to /servers |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    with workers.Workers(args.build_dir, capacity, server_core) as appliance:
        run.progress(f"filling {args.servers:,} names")
        appliance.fill(args.servers, client_core)
        sampler = MemorySampler(appliance.running[-1].pid)
        sampler.start()
        figures = {}
        for target in ("/servers?limit=100", "/fleet?limit=100", "/fleet?limit=100&sort=name"):
            run.progress(f"GET {target}")
            timings, size = time_gets(appliance.query_port, target, args.requests)
            figures[target] = (statistics.median(timings), statistics.quantiles(timings, n=10)[-1],
                               max(timings), size)
        sampler.stop()
    base = figures["/servers?limit=100"][0]
    for target, (median, p90, worst, size) in figures.items():
        lines.append(f"| GET {target} | {median:.1f} | {p90:.1f} | {worst:.1f} | {size:,} | {median / base:.2f} |")
    peak = sampler.peak
    lines.append(f"Query worker memory while they ran (peak): VmRSS {peak['VmRSS'] / 1024:,.0f} MiB = RssAnon "
                 f"{peak['RssAnon'] / 1024:,.1f} MiB (its own) + RssShmem {peak['RssShmem'] / 1024:,.0f} MiB "
                 f"(segment pages it touched).")
    loads_after = open("/proc/loadavg").read().split()[:3]
    lines.append(f"Load average before {' '.join(loads_before)}, after {' '.join(loads_after)}. Command: "
                 f"python3 tests/bench/http/fleet.py {' '.join(sys.argv[1:])}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
