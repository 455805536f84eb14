#!/usr/bin/env python3
"""servertrack-alert at scale: --servers servers and 10 rules (README, "Alerts").

    SERVERTRACK_BUILD_DIR=build python3 tests/bench/alert/run.py [--servers 100000] [--evaluations 5]

Uses the built workers of $SERVERTRACK_BUILD_DIR (a release build). Starts a fresh
segment on 127.0.0.1, an ingest worker and the alert process under one libfaketime
clock, fills srv0 .. srv<N-1> with one sample each in the last complete minute
(POST /servers), then:
- evaluation: moves the clock one minute --evaluations times; each move makes the
  alert process run one full evaluation (every rule over every server), whose
  duration it reports itself (servertrack_alert_evaluation_seconds) and whose CPU
  time is read from /proc/<pid>/stat;
- idle: its CPU over 20 s with no minute change (the 5-s walk for late spools, the
  wake-ups), so the CPU share at one evaluation a minute is
  (CPU of one evaluation + 60 s of idle) / 60 s: both terms measured;
- ingest beside it: wrk POSTing single samples to random srv names for 10 s,
  alternately with the alert process stopped (SIGSTOP) and with it evaluating
  at 30 times its rate (the clock moved one minute every 2 s), twice each.
Prints one Markdown table with the load average before and after. Everything
started is stopped and the segment removed at the end.
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from appliance import FakeClock, TestSegment, Worker, build_path, kill_and_reap, post_batch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WRK_SCRIPT = os.path.join(HERE, "..", "http", "random_names.lua")
RULES = """
[cpu-high]
severity = critical
when = cpu above 90 for 5 minutes
[cpu-low]
severity = info
when = cpu below 1 for 10 minutes
[ram-high]
severity = warning
when = ram above 95 for 10 minutes
[ram-low]
severity = info
when = ram below 2 for 3 minutes
[web-cpu]
severity = critical
prefix = srv1
when = cpu above 80 for 2 minutes
[cpu-long]
severity = warning
when = cpu above 70 for 30 minutes
[cpu-hours]
severity = warning
when = cpu above 75 over 3 hours
[ram-hours]
severity = warning
when = ram above 90 over 12 hours
[silent]
severity = critical
when = silent for 10 minutes
[silent-day]
severity = warning
when = silent for 1440 minutes
"""


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(path, name):
    try:
        with open(path) as f:
            match = re.search(rf"^{name} (\S+)$", f.read(), re.M)
    except FileNotFoundError:
        return None
    return float(match.group(1)) if match else None


def wrk(url, servers, seconds):
    out = subprocess.run(["wrk", "-t1", "-c8", f"-d{seconds}s", "-s", WRK_SCRIPT, url, "--", "POST", str(servers)],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    result = json.loads(out.split("WRK_RESULT ", 1)[1].splitlines()[0])
    return result["requests"] / (result["duration_us"] / 1e6)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=100000)
    parser.add_argument("--evaluations", type=int, default=5)
    parser.add_argument("--ingest-rounds", type=int, default=2, help="10-s wrk runs of each kind; 0 skips them")
    args = parser.parse_args()
    load_before = os.getloadavg()
    base = (int(time.time()) // 60 - 120) * 60  # two hours ago, minute-aligned
    work = tempfile.TemporaryDirectory(prefix="st-alert-bench-")
    rules, state, metrics = (os.path.join(work.name, n) for n in ("rules.ini", "alerts.json", "alerts.prom"))
    with open(rules, "w") as f:
        f.write(RULES)
    with FakeClock() as clock, TestSegment(capacity=max(1024, args.servers * 13 // 10)) as segment, \
            Worker("ingest", segment, env=clock.env) as ingest:
        clock.set(base + 1)
        for first in range(0, args.servers, 1000):
            batch = {f"srv{i}": {"cpu": i % 100, "ram": (i * 7) % 100, "time": base - 30}
                     for i in range(first, min(first + 1000, args.servers))}
            status, answer = post_batch(ingest, batch)
            if status != 200 or answer["rejected"]:
                raise RuntimeError(f"seeding: {status} {str(answer)[:200]}")
        alert = subprocess.Popen([build_path("alert/servertrack-alert"), "--segment", segment.name, "--rules", rules,
                                  "--state-file", state, "--metrics-file", metrics],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env={**os.environ, **clock.env})
        try:
            durations, cpus = [], []
            minute = 0

            def next_evaluation():
                nonlocal minute
                minute += 1
                done = metric(metrics, "servertrack_alert_evaluations_total") or 0
                clock.set(base + minute * 60 + 3)
                deadline = time.monotonic() + 60
                while (metric(metrics, "servertrack_alert_evaluations_total") or 0) <= done:
                    if time.monotonic() > deadline or alert.poll() is not None:
                        raise RuntimeError("the alert process did not evaluate")
                    time.sleep(0.02)

            next_evaluation()  # the first one maps the segment's pages in
            if os.environ.get("ALERT_BENCH_PAUSE"):  # e.g. to attach perf to the pid printed
                print(f"alert pid {alert.pid}", flush=True)
                time.sleep(float(os.environ["ALERT_BENCH_PAUSE"]))
            for _ in range(args.evaluations):
                time.sleep(1)
                before = cpu_seconds(alert.pid)
                next_evaluation()
                cpus.append(cpu_seconds(alert.pid) - before)
                durations.append(metric(metrics, "servertrack_alert_evaluation_seconds"))
            time.sleep(1)
            idle_before, idle_start = cpu_seconds(alert.pid), time.monotonic()
            time.sleep(20)
            idle_rate = (cpu_seconds(alert.pid) - idle_before) / (time.monotonic() - idle_start)
            share = (statistics.median(cpus) + 60 * idle_rate) / 60

            rates = {"stopped": [], "evaluating": []}
            stepping = threading.Event()

            def step_minutes():
                while stepping.is_set():
                    next_evaluation()
                    time.sleep(2)

            for _ in range(args.ingest_rounds):
                alert.send_signal(signal.SIGSTOP)
                rates["stopped"].append(wrk(ingest.url, args.servers, 10))
                alert.send_signal(signal.SIGCONT)
                stepping.set()
                stepper = threading.Thread(target=step_minutes)
                stepper.start()
                rates["evaluating"].append(wrk(ingest.url, args.servers, 10))
                stepping.clear()
                stepper.join()
        finally:
            kill_and_reap(alert, True)
    work.cleanup()
    load_after = os.getloadavg()
    stopped = statistics.median(rates["stopped"]) if args.ingest_rounds else float("nan")
    evaluating = statistics.median(rates["evaluating"]) if args.ingest_rounds else float("nan")
    print(f"servertrack-alert, {args.servers:,} servers, 10 rules; load average before "
          f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, after "
          f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}\n")
    print("| measure | value |\n|---|---|")
    print(f"| one full evaluation, wall (median of {len(durations)}) | {statistics.median(durations) * 1000:.0f} ms "
          f"(min {min(durations) * 1000:.0f}, max {max(durations) * 1000:.0f}) |")
    print(f"| one full evaluation, CPU (median) | {statistics.median(cpus) * 1000:.0f} ms |")
    print(f"| idle CPU between evaluations | {idle_rate * 100:.3f} % of a core |")
    print(f"| CPU share at one evaluation a minute | {share * 100:.2f} % of a core |")
    print(f"| ingest POSTs/s, alert process stopped (median of {args.ingest_rounds} x 10 s) | {stopped:,.0f} |")
    print(f"| ingest POSTs/s, alert process evaluating every 2 s (median of {args.ingest_rounds} x 10 s) | {evaluating:,.0f} |")
    print(f"| ratio | {evaluating / stopped:.3f} |")


if __name__ == "__main__":
    main()
