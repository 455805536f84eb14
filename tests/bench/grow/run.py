#!/usr/bin/env python3
"""How long writes wait while the segment grows (README: Growing without
stopping): a supervised appliance holding --servers servers (one sample each)
in a segment of --capacity slots, clients posting without pause, and
`servertrack grow` to twice the capacity. Prints, per round (a fresh segment
each): the time shmtool says writes were refused (the copy), the longest span
in which no client got a 204 (the copy plus the workers' restart on the larger
segment), the refusals the clients saw (503 and refused connections), and that
every sample answered 204 is in the grown segment.

  tests/bench/grow/run.py [--build-dir build] [--servers 100000]
                          [--capacity 131072] [--rounds 3] [--clients 4]

Bounded: each round fills, posts for 3 s, grows, posts 3 s more. Clients retry
a refusal after 10 ms (not after Retry-After), so the span is measured to ~10 ms.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
SCRIPT = os.path.join(ROOT, "servertrack")


class Client(threading.Thread):
    """Posts stated samples (one second each) to names of its own, retrying each
    until 204; keeps the times of every 204 and counts every refusal."""

    def __init__(self, number, port, stop):
        super().__init__(daemon=True)
        self.number, self.port, self.stop = number, port, stop
        self.acknowledged, self.answered_at, self.refusals = {}, [], 0

    def post(self, path, body):
        try:
            connection = self.connection or HTTPConnection("127.0.0.1", self.port, timeout=5)
            self.connection = connection
            connection.request("POST", path, body=body)
            response = connection.getresponse()
            response.read()
            return response.status
        except OSError:
            self.connection = None
            return None

    def run(self):
        self.connection = None
        start, i = int(time.time()) - 3000, 0
        deadline = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < deadline and i < 2900 * 50:
            # 50 names, each sample its own second of its name: the retry rule counts each once.
            name = f"bench-c{self.number}-{i % 50}"
            body = json.dumps({"cpu": 1, "ram": 2, "time": start + i // 50})
            while time.monotonic() < deadline:
                if self.post(f"/server/{name}", body) == 204:
                    self.acknowledged[name] = self.acknowledged.get(name, 0) + 1
                    self.answered_at.append(time.monotonic())
                    break
                self.refusals += 1
                time.sleep(0.01)
            i += 1


def fill(build_dir, segment, servers):
    now = int(time.time())
    recorder = subprocess.Popen([os.path.join(build_dir, "tests", "cli", "record_samples"), segment],
                                stdin=subprocess.PIPE, text=True)
    recorder.stdin.write("".join(f"srv{i} {now} {10 + i % 80}.5 {20 + i % 70}.25\n" for i in range(servers)))
    recorder.stdin.close()
    if recorder.wait() != 0:
        raise RuntimeError("record_samples failed")


def round_of_growth(args, from_appliance):
    free_port, http, TestSegment = from_appliance
    with TestSegment(capacity=args.capacity) as segment:
        fill(args.build_dir, segment.name, args.servers)
        ingest, query = free_port(), free_port()
        supervisor = subprocess.Popen(
            [sys.executable, SCRIPT, "run", "--segment", segment.name, "--build-dir", args.build_dir,
             "--ingest-port", str(ingest), "--query-port", str(query), "--checkpoint-interval", "0",
             "--data-dir", os.path.join(args.build_dir, "grow-bench-data")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if http("GET", f"http://127.0.0.1:{ingest}/healthz")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            stop = threading.Event()
            clients = [Client(n, ingest, stop) for n in range(args.clients)]
            for client in clients:
                client.start()
            time.sleep(3)
            grown = subprocess.run([sys.executable, SCRIPT, "grow", "--segment", segment.name, "--capacity",
                                    str(args.capacity * 2), "--build-dir", args.build_dir],
                                   capture_output=True, text=True, timeout=120)
            if grown.returncode != 0:
                raise RuntimeError(grown.stdout + grown.stderr)
            refused_ms = float(grown.stdout.split("writes were refused for ")[1].split(" ms")[0])
            time.sleep(3)
            stop.set()
            for client in clients:
                client.join(70)
            answered = sorted(t for c in clients for t in c.answered_at)
            longest_gap = max(b - a for a, b in zip(answered, answered[1:]))
            lost = 0
            for client in clients:
                for name, count in client.acknowledged.items():
                    status, _, body = http("GET", f"http://127.0.0.1:{query}/server/{name}?counts=1")
                    counted = sum(json.loads(body)["last_60_minutes"]["cpu_count"]) if status == 200 else 0
                    lost += max(0, count - counted)
            return {"refused_ms": refused_ms, "gap_ms": longest_gap * 1000, "acknowledged": len(answered),
                    "refusals": sum(c.refusals for c in clients), "lost": lost}
        finally:
            os.killpg(supervisor.pid, 15)
            supervisor.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--servers", type=int, default=100_000)
    parser.add_argument("--capacity", type=int, default=131072)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    args.build_dir = os.path.abspath(args.build_dir)
    os.environ["SERVERTRACK_BUILD_DIR"] = args.build_dir
    from appliance import TestSegment, free_port, http  # noqa: E402  (reads SERVERTRACK_BUILD_DIR)

    load_before = os.getloadavg()
    rounds = []
    for n in range(args.rounds):
        figures = round_of_growth(args, (free_port, http, TestSegment))
        rounds.append(figures)
        print(f"round {n + 1}: writes refused (the copy) {figures['refused_ms']:.0f} ms; longest span without a 204 "
              f"{figures['gap_ms']:.0f} ms; {figures['acknowledged']:,} samples acknowledged, "
              f"{figures['refusals']} refusals retried, {figures['lost']} lost", flush=True)
    print(f"{args.servers:,} servers, capacity {args.capacity:,} -> {args.capacity * 2:,}, {args.clients} clients: "
          f"median refused {statistics.median(r['refused_ms'] for r in rounds):.0f} ms, median longest span without "
          f"a 204 {statistics.median(r['gap_ms'] for r in rounds):.0f} ms, lost {sum(r['lost'] for r in rounds)}")
    print("load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}; {} cores".format(
        *load_before, *os.getloadavg(), os.cpu_count()))
    print("command: python3 tests/bench/grow/run.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
