"""SIGKILL one worker of each kind while a bounded load runs through both ports.

The supervisor must have it back with a new pid, answering /healthz, within 1 s;
every sample acknowledged with 204 (before, during and after) must be readable
afterwards; and not one request to the other kind may fail meanwhile.
"""
import json
import os
import signal
import threading
import time
import unittest

from appliance import TestSegment, http, poll, status_or_error
from supervised import Supervised

LOAD_REQUESTS = 600       # per thread; the test segment has 1024 slots
LOAD_SECONDS = 20         # hard bound on each load thread
LOAD_PAUSE = 0.003        # between requests, so the load spans the kill


class Load(threading.Thread):
    """POSTs samples for new names (ingest) or GETs one known name (query)."""

    def __init__(self, kind, base_url, stop):
        super().__init__(daemon=True)
        self.kind, self.base_url, self.stop = kind, base_url, stop
        self.acknowledged = []   # (name, cpu) answered 204
        self.answered = 0
        self.failures = []       # (request number, status or error)

    def run(self):
        deadline = time.monotonic() + LOAD_SECONDS
        for i in range(LOAD_REQUESTS):
            if self.stop.is_set() or time.monotonic() > deadline:
                return
            if self.kind == "ingest":
                name, cpu = f"load_{i}", i + 0.5
                status = status_or_error("POST", f"{self.base_url}/server/{name}",
                                   json.dumps({"cpu": cpu, "ram": 1.0}))
                if status == 204:
                    self.acknowledged.append((name, cpu))
            else:
                status = status_or_error("GET", f"{self.base_url}/server/seed")
            if status in (200, 204):
                self.answered += 1
            else:
                self.failures.append((i, status))
            time.sleep(LOAD_PAUSE)


class WorkerRestarts(unittest.TestCase):
    def kill_under_load(self, kind):
        other = "query" if kind == "ingest" else "ingest"
        with TestSegment() as segment, Supervised(segment.name, segment.capacity) as supervised:
            supervised.wait_ready()
            urls = {"ingest": supervised.ingest_url, "query": supervised.query_url}
            self.assertEqual(status_or_error("POST", urls["ingest"] + "/server/seed", '{"cpu":1,"ram":2}'), 204)

            stop = threading.Event()
            loads = {k: Load(k, urls[k], stop) for k in ("ingest", "query")}
            for load in loads.values():
                load.start()
            time.sleep(0.3)

            worker = f"{kind}#1"
            old_pid = supervised.current_pid(worker)
            os.kill(old_pid, signal.SIGKILL)
            killed_at = time.monotonic()
            new_pid = supervised.wait_for_new_pid(worker, old_pid, timeout=1.0)
            back = poll(lambda: status_or_error("GET", urls[kind] + "/healthz") == 200,
                              max(0.0, killed_at + 1.0 - time.monotonic()), interval=0.01)
            back_after = time.monotonic() - killed_at
            answered_before = loads[kind].answered
            time.sleep(0.5)
            stop.set()
            for load in loads.values():
                load.join(timeout=LOAD_SECONDS + 10)

            self.assertIsNotNone(new_pid, supervised.log())
            self.assertNotEqual(new_pid, old_pid)
            self.assertTrue(back, f"{kind} not healthy {back_after:.2f} s after SIGKILL\n{supervised.log()}")
            self.assertIn(f"{worker} pid {old_pid} killed by signal 9 (SIGKILL)", supervised.log())
            self.assertEqual(loads[other].failures, [], f"{other} requests failed while {kind} restarted")
            self.assertGreater(loads[kind].answered, answered_before, f"no {kind} request served after restart")
            self.assertGreater(len(loads["ingest"].acknowledged), 0)
            for name, cpu in loads["ingest"].acknowledged:
                status, _, body = http("GET", f"{urls['query']}/server/{name}")
                self.assertEqual(status, 200, f"acknowledged sample for {name} missing")
                self.assertIn(cpu, json.loads(body)["last_60_minutes"]["cpu"], name)

    def test_sigkill_ingest_worker_under_load(self):
        self.kill_under_load("ingest")

    def test_sigkill_query_worker_under_load(self):
        self.kill_under_load("query")


if __name__ == "__main__":
    unittest.main()
