"""Growing the segment while the appliance serves (README: Growing without
stopping), with the real supervisor, workers and shmtool:

- `servertrack grow --capacity N` under continuous POSTs from clients that
  retry 503s and refused connections, as the README tells clients to: every
  sample answered 204 is in the grown segment, the workers were restarted on
  it, and `shmtool info` shows the new capacity;
- --auto-grow grows a table that reached its --auto-grow-at fill.
"""
import json
import subprocess
import sys
import threading
import time
import unittest

from appliance import TestSegment, http, poll, shmtool, status_or_error
from supervised import BUILD_DIR, SCRIPT, Supervised

CLIENTS = 3
NAMES_PER_CLIENT = 10
LOAD_SECONDS = 20  # hard bound on each client


class RetryingClient(threading.Thread):
    """Posts stated samples (one second each, so a resend counts once), retrying
    each until it gets 204; records what was acknowledged and how long it went
    unanswered at worst."""

    def __init__(self, number, url, stop):
        super().__init__(daemon=True)
        self.number, self.url, self.stop = number, url, stop
        self.acknowledged = {}   # name -> samples answered 204
        self.refusals = []       # statuses other than 204 (503, connection errors)
        self.longest_gap = 0.0   # seconds from a first try to its 204

    def run(self):
        deadline = time.monotonic() + LOAD_SECONDS
        start = int(time.time()) - 3000
        i = 0
        while not self.stop.is_set() and time.monotonic() < deadline:
            name = f"c{self.number}-{i % NAMES_PER_CLIENT}"
            body = json.dumps({"cpu": i % 100, "ram": 1, "time": start + i})
            first_try = time.monotonic()
            while time.monotonic() < deadline:
                status = status_or_error("POST", f"{self.url}/server/{name}", body)
                if status == 204:
                    self.acknowledged[name] = self.acknowledged.get(name, 0) + 1
                    self.longest_gap = max(self.longest_gap, time.monotonic() - first_try)
                    break
                self.refusals.append(status)
                time.sleep(0.05)
            i += 1
            time.sleep(0.002)


def minute_samples(query_url, name):
    status, _, body = http("GET", f"{query_url}/server/{name}?counts=1")
    return sum(json.loads(body)["last_60_minutes"]["cpu_count"]) if status == 200 else 0


def capacity(segment):
    return json.loads(shmtool("info", "--json", "--segment", segment).stdout)["capacity"]


class Grow(unittest.TestCase):
    def test_grow_under_load_keeps_every_acknowledged_sample(self):
        with TestSegment(capacity=64) as segment, Supervised(segment.name, 64) as supervised:
            supervised.wait_ready()
            stop = threading.Event()
            clients = [RetryingClient(n, supervised.ingest_url, stop) for n in range(CLIENTS)]
            for client in clients:
                client.start()
            self.assertTrue(poll(lambda: all(sum(c.acknowledged.values()) >= 20 for c in clients), 10))
            grown = subprocess.run([sys.executable, SCRIPT, "grow", "--segment", segment.name, "--capacity", "256",
                                    "--build-dir", BUILD_DIR], capture_output=True, text=True, timeout=60)
            self.assertEqual(grown.returncode, 0, grown.stdout + grown.stderr)
            self.assertIn("from capacity 64 to 256", grown.stdout)
            self.assertIsNotNone(supervised.wait_for_line(lambda line: "restarting it at once on the larger one" in line
                                                          and "ingest#1" in line, 10), supervised.log())
            acknowledged_at_grow = [sum(c.acknowledged.values()) for c in clients]
            self.assertTrue(poll(lambda: all(sum(c.acknowledged.values()) >= a + 20
                                             for c, a in zip(clients, acknowledged_at_grow)), 15),
                            "the clients are served again after the grow\n" + supervised.log())
            stop.set()
            for client in clients:
                client.join(LOAD_SECONDS + 10)
            self.assertEqual(capacity(segment.name), 256)
            for client in clients:
                for name, count in client.acknowledged.items():
                    self.assertEqual(minute_samples(supervised.query_url, name), count, name)
            gaps = [round(c.longest_gap, 3) for c in clients]
            print(f"longest time from a first try to its 204 per client: {gaps} s; "
                  f"refusals meanwhile: {sum(len(c.refusals) for c in clients)}")

    def test_auto_grow_at_its_fill(self):
        with TestSegment(capacity=16) as segment, \
                Supervised(segment.name, 16, extra_args=("--auto-grow", "--auto-grow-at", "50")) as supervised:
            supervised.wait_ready()
            for i in range(9):  # 9 of 16 slots: above 50 %
                self.assertEqual(status_or_error("POST", f"{supervised.ingest_url}/server/s{i}",
                                                 '{"cpu": 1, "ram": 2}'), 204)
            line = supervised.wait_for_line(lambda line: "auto-grow: grew segment" in line, 30)
            self.assertIsNotNone(line, supervised.log())
            self.assertIn("from capacity 16 to 32", line)
            self.assertTrue(poll(lambda: status_or_error("GET", f"{supervised.query_url}/server/s8") == 200
                                 and capacity(segment.name) == 32, 10))
            self.assertTrue(poll(lambda: status_or_error("POST", f"{supervised.ingest_url}/server/s9",
                                                         '{"cpu": 1, "ram": 2}') == 204, 10))


if __name__ == "__main__":
    unittest.main()
