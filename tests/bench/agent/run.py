#!/usr/bin/env python3
"""What servertrack-agent costs its host: CPU time and memory of the real agent
posting to a real ingest worker (fresh segment, 127.0.0.1), scaled down to
--interval 1 and extrapolated to an hour of one-minute samples.

  tests/bench/agent/run.py [--build-dir build] [--samples 120]

Uses an existing build (meson compile first). Bounded: about --samples seconds.
Prints the agent's CPU time (from /proc/<pid>/schedstat and /proc/<pid>/stat,
start-up included), its resident memory at the end and at its peak (and how much of it is its own), the samples the
appliance counted, and the CPU time per sample times 60 for one hour at the
default --interval 60 (the agent does nothing between samples but sleep).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

NAME = "bench_agent"


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds_exact(pid):
    """Time on a CPU from the scheduler's own account (ns), finer than clock ticks."""
    with open(f"/proc/{pid}/schedstat", encoding="ascii") as schedstat:
        return int(schedstat.read().split()[0]) / 1e9


def memory_kib(pid):
    """Resident, peak resident, and resident anonymous memory (not shared libraries)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        values = dict(line.split(":", 1) for line in status)
    return tuple(int(values[key].split()[0]) for key in ("VmRSS", "VmHWM", "RssAnon"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--samples", type=int, default=120)
    args = parser.parse_args()
    os.environ["SERVERTRACK_BUILD_DIR"] = os.path.abspath(args.build_dir)
    from appliance import TestSegment, Worker, http  # needs SERVERTRACK_BUILD_DIR

    with TestSegment() as segment, Worker("ingest", segment) as ingest, \
            Worker("query", segment) as query, \
            tempfile.TemporaryDirectory(prefix="servertrack-agent-bench-") as spool_dir:
        agent = subprocess.Popen([os.path.join(args.build_dir, "agent", "servertrack-agent"),
                                  "--url", ingest.url, "--name", NAME, "--interval", "1",
                                  "--spool-dir", spool_dir], stderr=subprocess.PIPE, text=True)
        started = time.monotonic()
        # The first sample comes one interval after the start.
        time.sleep(args.samples + 0.5)
        used = cpu_seconds(agent.pid)
        scheduled = cpu_seconds_exact(agent.pid)
        rss, peak, anonymous = memory_kib(agent.pid)
        elapsed = time.monotonic() - started
        agent.terminate()
        log = agent.communicate(timeout=10)[1]
        status, _, body = http("GET", f"{query.url}/server/{NAME}?counts=1")
        counted = sum(json.loads(body)["last_60_minutes"]["count"]) if status == 200 else 0

    per_sample = scheduled / max(counted, 1)
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print(f"agent ran {elapsed:.1f} s at --interval 1; the appliance counted {counted} samples")
    print(f"CPU time, start-up included: {scheduled * 1000:.1f} ms on the CPU (schedstat), "
          f"{used * 1000:.0f} ms user+system in clock ticks; {per_sample * 1000:.3f} ms per sample")
    print(f"resident memory at the end: {rss} KiB (anonymous {anonymous} KiB, the rest shared "
          f"libraries), peak: {peak} KiB")
    print(f"extrapolated to one hour at --interval 60 (60 samples): {per_sample * 60 * 1000:.0f} ms "
          f"of CPU time, {per_sample * 60 / 3600 * 100:.4f} % of one core")
    if log.strip():
        print("agent log:\n" + log.strip())


if __name__ == "__main__":
    main()
