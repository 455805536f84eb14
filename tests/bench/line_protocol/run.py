#!/usr/bin/env python3
"""Line protocol (POST /write) beside the JSON API (POST /server/<name>, POST
/servers), side by side in one run against one release-build ingest worker on a
fresh segment, driven by wrk: single requests and batches (1,000 lines plain,
5,000 lines gzip as Telegraf sends them, 1,000 JSON samples). A sample is
one record into the segment: a JSON sample carries cpu and ram (2 values), a
line one of them (1 value).

  tests/bench/line_protocol/run.py [--build-dir build-release] [--seconds 3] [--rounds 3]
                                   [--connections 16] [--threads 2]

Each mode runs --rounds times, the modes interleaved; each run is --seconds of
wrk. Per run: samples and values per second, and samples per CPU-second of the
ingest worker (its utime + stime from /proc: "per core"). Prints the medians,
each mode's ratio to the JSON batch in samples per CPU-second, the requests not
answered 2xx (all runs; not counted as recorded), and the load average before
and after. Bounded: 5 x rounds x seconds of wrk.
"""
import argparse
import gzip
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
# tests/bench/batch/run.py's build(): configure and build the release build directory.
_batch_spec = importlib.util.spec_from_file_location("batch_bench", os.path.join(ROOT, "tests", "bench", "batch", "run.py"))
batch_bench = importlib.util.module_from_spec(_batch_spec)
_batch_spec.loader.exec_module(batch_bench)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url, requests, encoding, pid, args):
    """`requests`: [(path, body)], sent round and round."""
    with tempfile.NamedTemporaryFile("wb", suffix=".bodies") as body_file:
        body_file.write(b"".join(f"{path} {len(body)}\n".encode() + body for path, body in requests))
        body_file.flush()
        before = cpu_seconds(pid)
        result = subprocess.run(
            ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "5s",
             "-s", os.path.join(os.path.dirname(__file__), "post_bodies.lua"), url],
            env={**os.environ, "BODY_FILE": body_file.name, "CONTENT_ENCODING": encoding},
            capture_output=True, text=True, timeout=args.seconds + 30, check=True)
        spent = cpu_seconds(pid) - before
    match = re.search(r"RESULT requests=(\d+) seconds=([\d.]+) non_2xx=(\d+)", result.stdout)
    if not match:
        raise RuntimeError(f"wrk printed no result: {result.stdout}{result.stderr}")
    count, seconds, failed = int(match[1]), float(match[2]), int(match[3])
    return count, seconds, spent, failed


def line_pairs(hosts, first):
    return "".join(f"cpu,cpu=cpu-total,host=lp-{first + h:05d} usage_idle=87.5\n"
                   f"mem,host=lp-{first + h:05d} available_percent=60.25\n" for h in range(hosts)).encode()


def modes():
    """(label, [(path, body)], Content-Encoding, samples and values per request). Single
    requests rotate over 256 names: no minute of a name counts more than it may."""
    json_batch = json.dumps({f"js-{i:05d}": {"cpu": 12.5, "ram": 40.25} for i in range(1000)},
                            separators=(",", ":")).encode()
    plain_batch = line_pairs(500, 0)
    gzip_batch = gzip.compress(line_pairs(2500, 1000))
    assert len(json_batch) < 64 * 1024 and len(plain_batch) < 64 * 1024 and len(gzip_batch) < 64 * 1024
    return [
        ("JSON single POST /server/<name>",
         [(f"/server/one-{i:03d}", b'{"cpu":12.5,"ram":40.25}') for i in range(256)], "", 1, 2),
        ("JSON batch POST /servers (1000)", [("/servers", json_batch)], "", 1000, 2000),
        ("line single POST /write",
         [("/write", f"cpu,cpu=cpu-total,host=one-{i:03d} usage_idle=87.5\n".encode()) for i in range(256)], "", 1, 1),
        ("lines POST /write (1000)", [("/write", plain_batch)], "", 1000, 1000),
        ("lines POST /write (5000, gzip)", [("/write", gzip_batch)], "gzip", 5000, 5000),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build-release"))
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    batch_bench.build(os.path.abspath(args.build_dir))
    os.environ["SERVERTRACK_BUILD_DIR"] = os.path.abspath(args.build_dir)
    from appliance import TestSegment, Worker

    load_before = os.getloadavg()
    runs = {}
    with TestSegment(capacity=8192) as segment, Worker("ingest", segment) as ingest:
        for _ in range(args.rounds):
            for label, requests, encoding, samples, values in modes():
                count, seconds, spent, failed = wrk(ingest.url, requests, encoding, ingest.pid, args)
                answered = count - failed  # only 2xx requests count as recorded
                runs.setdefault(label, []).append(
                    (answered * samples / seconds, answered * values / seconds, answered * samples / spent, failed))
    load_after = os.getloadavg()
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s x {args.rounds} rounds, one ingest "
          f"worker ({os.path.basename(os.path.abspath(args.build_dir))}, 2 event loops), {os.cpu_count()} CPUs")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    reference = statistics.median(run[2] for run in runs["JSON batch POST /servers (1000)"])
    print(f"{'mode (medians)':<34}{'samples/s':>12}{'values/s':>12}{'samples/CPU-s':>15}{'vs JSON batch':>15}"
          f"{'non-2xx':>9}")
    for label, results in runs.items():
        samples, values, per_cpu = (statistics.median(run[i] for run in results) for i in range(3))
        failed = sum(run[3] for run in results)
        print(f"{label:<34}{samples:>12,.0f}{values:>12,.0f}{per_cpu:>15,.0f}{per_cpu / reference:>14.2f}x"
              f"{failed:>9}")


if __name__ == "__main__":
    main()
