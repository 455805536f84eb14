#!/usr/bin/env python3
"""Throughput of three appliances behind HAProxy versus one appliance direct.

Run by hand from the repository root (not a test; needs a build, Debian's
haproxy and wrk):

    python3 tests/bench/sharding/run.py [--build-dir build] [--seconds 5] [--repetitions 3]

Starts four appliances on 127.0.0.1, each with its own segment and an ingest
token: three behind deploy/haproxy/generate.py's configuration run by HAProxy
(tests/sharding/fleet.py), one alone. Every name srv0 .. srv<N-1> is posted
once to both beforehand. Then, alternately so both see the same machine,
`wrk -t1 -c64` with tests/bench/http/random_names.lua posts (or gets) random
names directly to the lone appliance's workers and through the balancer, for
--seconds per run, --repetitions times. wrk is pinned to core 0; every server
process (HAProxy, the workers) to core 1 from its start, so on a 2-core machine the ratio
measures what the balancer costs: it shares the one server core with the
workers it fronts. Prints medians, the worst error counts, the CPU time
HAProxy spends per request, the ratio and the load average before and after. As root it runs in a session of its own at
nice -20 (servers and wrk alike). Every load stops by itself (wrk -d); every
process started here is ended by its pid.
"""

import argparse
import json
import os
import statistics
import sys
from http.client import HTTPConnection

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path[:0] = [os.path.join(ROOT, "tests", "lib"), os.path.join(ROOT, "tests", "sharding"),
                os.path.join(ROOT, "tests", "bench", "http")]

CLIENT_CORE, SERVER_CORE = 0, 1
TOKEN = "tok_" + os.urandom(12).hex()


def own_session_at_high_priority():
    """As root, like tests/bench/http/processes.py: re-runs itself in a session of
    its own whose scheduler autogroup, and every process it starts, get nice -20,
    so the builds of other users do not starve the loads and servers alike."""
    if os.geteuid() != 0:
        return
    if os.getsid(0) != os.getpid():
        os.execvp("setsid", ["setsid", "-w", sys.executable, *sys.argv])
    with open("/proc/self/autogroup", "w", encoding="ascii") as autogroup:
        autogroup.write("-20")
    os.nice(-20)


def fill(base_url, names):
    """POSTs one sample to each name on one keep-alive connection."""
    host, port = base_url.split("//")[1].split(":")
    connection = HTTPConnection(host, int(port), timeout=10)
    try:
        for index in range(names):
            connection.request("POST", f"/server/srv{index}", json.dumps({"cpu": 10.0, "ram": 20.0}),
                               {"Authorization": f"Bearer {TOKEN}"})
            response = connection.getresponse()
            response.read()
            if response.status != 204:
                raise RuntimeError(f"fill {base_url}: POST srv{index} answered {response.status}")
    finally:
        connection.close()


def load_average():
    with open("/proc/loadavg", encoding="ascii") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run (default 5)")
    parser.add_argument("--repetitions", type=int, default=3, help="runs per target and method (default 3)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--names", type=int, default=3000)
    args = parser.parse_args()
    if not 1 <= args.seconds <= 60 or not 1 <= args.repetitions <= 9:
        parser.error("--seconds 1..60 and --repetitions 1..9 keep a run bounded")
    own_session_at_high_priority()
    # Every server started from here on inherits the server core (HAProxy then
    # starts one thread); wrk is started pinned to the client core.
    os.sched_setaffinity(0, {SERVER_CORE})
    os.environ["SERVERTRACK_BUILD_DIR"] = os.path.abspath(args.build_dir)
    os.environ.setdefault("SERVERTRACK_SOURCE_DIR", ROOT)

    import processes  # tests/bench/http: CPU time of processes
    import wrk  # tests/bench/http: wrk pinned to the client core, WRK_RESULT parsing
    from fleet import Appliance, Balancer

    capacity = 1 << (args.names * 10 // 9).bit_length()
    before = load_average()
    rows = []
    with Appliance(TOKEN, capacity) as alone, Appliance(TOKEN, capacity) as a, \
            Appliance(TOKEN, capacity) as b, Appliance(TOKEN, capacity) as c, \
            Balancer([("a", [a]), ("b", [b]), ("c", [c])], check_interval_ms=2000) as balancer:
        fill(alone.ingest.url, args.names)
        fill(balancer.url, args.names)
        shards = [len(node.names()) for node in (a, b, c)]
        targets = {
            "one appliance, direct": ({"POST": alone.ingest.url, "GET": alone.query.url},
                                      [alone.ingest.pid, alone.query.pid]),
            "3 appliances via HAProxy": ({"POST": balancer.url, "GET": balancer.url},
                                         [balancer.process.pid] + [w.pid for n in (a, b, c)
                                                                   for w in (n.ingest, n.query)]),
        }
        for method in ("POST", "GET"):
            runs = {label: [] for label in targets}
            for _ in range(args.repetitions):
                for label, (urls, pids) in targets.items():
                    load = wrk.Load(urls[method], "random_names.lua", (method, args.names), args.connections,
                                    headers=(f"Authorization: Bearer {TOKEN}",))
                    haproxy = [pid for pid in pids if pid == balancer.process.pid]
                    balancer_cpu = processes.cpu_seconds(haproxy)
                    outcome = wrk.run([load], args.seconds, CLIENT_CORE, pids)
                    balancer_cpu = processes.cpu_seconds(haproxy) - balancer_cpu
                    per_request_us = balancer_cpu / outcome.results[0]["requests"] * 1e6
                    runs[label].append((outcome.results[0], outcome.server_cpu, per_request_us))
            for label, results in runs.items():
                rows.append((method, label, results))
    after = load_average()

    print(f"wrk -t1 -c{args.connections} -d{args.seconds}s, {args.repetitions} runs each, "
          f"{args.names} names (balanced shards: {shards[0]}/{shards[1]}/{shards[2]}), "
          f"wrk on core {CLIENT_CORE}, servers on core {SERVER_CORE}")
    print(f"load average before: {before}   after: {after}")
    print()
    print("| method | target | req/s (median) | p50 ms | p99 ms | non-2xx | timeouts | server CPU "
          "| HAProxy CPU µs/request | ratio |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    direct = {}
    for method, label, results in rows:
        rps = statistics.median(result["rps"] for result, _, _ in results)
        direct.setdefault(method, rps)
        p50 = statistics.median(result["p50_us"] for result, _, _ in results) / 1000
        p99 = statistics.median(result["p99_us"] for result, _, _ in results) / 1000
        errors = max(result["status"] for result, _, _ in results)
        timeouts = max(result["timeout"] for result, _, _ in results)
        cpu = statistics.median(cpu for _, cpu, _ in results)
        haproxy_us = statistics.median(us for _, _, us in results)
        print(f"| {method} | {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors} | {timeouts} | "
              f"{cpu:.0%} | {f'{haproxy_us:.0f}' if haproxy_us else '–'} | {rps / direct[method]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
