#!/usr/bin/env python3
"""The Prometheus side at scale: GET /api/v1/query_range over 100 servers x 60
minutes, and GET /export/prometheus at --servers servers (time and size).

    SERVERTRACK_BUILD_DIR=build python3 tests/bench/prometheus/run.py [--servers 100000] [--requests 11]

Uses the built workers of $SERVERTRACK_BUILD_DIR (a release build: ./servertrack
build). Starts a fresh appliance on 127.0.0.1 whose clock libfaketime pins to 5 s
into a minute, fills --servers names with one sample in the last complete minute
(POST /servers batches with "time"), and 100 of them ("bench-r00".."bench-r99")
with one sample in each of the last 60 minutes. Then times, one request after
another on one keep-alive connection, --requests of each and prints the median,
the spread and the body size in one Markdown table, with the load average before
and after. Everything started is stopped and the segment removed at the end.
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from appliance import FakeClock, TestSegment, Worker, post_batch  # noqa: E402

BATCH = 1000  # samples per POST /servers body, inside the 64 KiB limit


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=100000)
    parser.add_argument("--requests", type=int, default=11, help="requests per target, median reported")
    return parser.parse_args()


def post_all(ingest, samples):
    """samples: [(name, [sample, ...])]; posted in batches of about BATCH
    samples; fails on any refusal."""
    batch, count = {}, 0
    for index, (name, items) in enumerate(samples):
        batch[name] = items
        count += len(items)
        if count >= BATCH or index == len(samples) - 1:
            status, answer = post_batch(ingest, batch)
            if status != 200 or answer.get("refused"):
                raise RuntimeError(f"POST /servers: {status} {json.dumps(answer)[:300]}")
            batch, count = {}, 0


def time_requests(port, method, target, count, body=None, headers=None, before=lambda: None):
    """(milliseconds of each request, body bytes of the last); each must be 200.
    before() runs ahead of each request, untimed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    timings = []
    try:
        for _ in range(count):
            before()
            started = time.perf_counter()
            connection.request(method, target, body=body, headers=headers or {})
            response = connection.getresponse()
            payload = response.read()
            timings.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise RuntimeError(f"{method} {target[:80]}: {response.status} {payload[:200]!r}")
    finally:
        connection.close()
    return timings, len(payload)


def main():
    args = parse_args()
    clock = FakeClock()
    now = int(time.time()) // 60 * 60 + 5
    clock.set(now)
    minute = now - 5
    with TestSegment(max(1024, int(args.servers * 1.31) + 200)) as segment, \
            Worker("ingest", segment, env=clock.env) as ingest, Worker("query", segment, env=clock.env) as query:
        started = time.monotonic()
        post_all(ingest, [(f"bench-{i:06d}", [{"cpu": i % 100, "ram": 50, "time": minute - 50}])
                          for i in range(args.servers)])
        post_all(ingest, [(f"bench-r{i:02d}", [{"cpu": (i + m) % 100, "ram": 40, "time": minute - 60 * m + 1}
                                              for m in range(59, -1, -1)]) for i in range(100)])
        fill_seconds = time.monotonic() - started
        load_before = os.getloadavg()
        form = urllib.parse.urlencode({"query": 'servertrack_cpu_percent{server=~"bench-r.*"}',
                                       "start": minute - 59 * 60, "end": minute, "step": 60})
        avg_form = urllib.parse.urlencode({"query": 'avg(servertrack_cpu_percent{server=~"bench-r.*"})',
                                           "start": minute - 59 * 60, "end": minute, "step": 60})
        post = {"Content-Type": "application/x-www-form-urlencoded"}
        targets = [
            ("query_range, 100 servers x 60 minutes (POST)", "POST", "/api/v1/query_range", form, post),
            ("query_range, avg of them (POST)", "POST", "/api/v1/query_range", avg_form, post),
            (f"/export/prometheus, {args.servers + 100} servers", "GET", "/export/prometheus", None, None),
            (f"/export/prometheus, {args.servers + 100} servers, gzip", "GET", "/export/prometheus", None,
             {"Accept-Encoding": "gzip"}),
        ]
        rows = []
        for label, method, path, body, headers in targets:
            # The workers' clock goes back to 5 s into the minute before each
            # request: "the last complete minute" stays the filled one.
            timings, size = time_requests(query.port, method, path, args.requests, body, headers,
                                          lambda: clock.set(now))
            rows.append((label, statistics.median(timings), min(timings), max(timings), size))
        load_after = os.getloadavg()
    clock.close()
    print(f"servers: {args.servers} + 100 with 60 minutes; filled in {fill_seconds:.1f} s; "
          f"{args.requests} requests each, one connection\n")
    print("| request | median ms | min ms | max ms | body bytes |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, median, low, high, size in rows:
        print(f"| {label} | {median:.1f} | {low:.1f} | {high:.1f} | {size:,} |")
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min); "
          f"{os.cpu_count()} cores")


if __name__ == "__main__":
    main()
