"""What servertrack-agent does with each answer (README, "How a fleet reports"),
against a stub HTTP server on 127.0.0.1 that answers what the test says: only
a sample the appliance judged invalid (400 for one sample; an array item
refused invalid_value, invalid_time or invalid_name) is dropped, with its
reason; every other status keeps the sample in the spool, is logged as an
error with what to fix (at most once a minute for the same answer), and sets
--once's exit status; a 413 splits the array; an item refused for later
(slot_busy, table_full) stays in the spool with every item after it."""

import http.server
import json
import os
import shutil
import tempfile
import threading
import time
import unittest

from appliance import wait_until
from agent_common import Agent, FakeProc, read_spool, spool_size, write_spool

NAME = "web-01.example.com"

# status -> (--once exit status, a word of the remedy the log must give)
KEPT = {
    401: (77, "--token-file"),
    403: (77, "forbidden"),
    404: (78, "--url"),
    405: (78, "--url"),
    408: (75, "sent again"),
    409: (78, "--url"),
    413: (78, "raise"),
    429: (75, "rate limit"),
    500: (75, "cannot take samples now"),
    502: (75, "cannot take samples now"),
    503: (75, "cannot take samples now"),
    504: (75, "cannot take samples now"),
    507: (75, "free slot"),
    301: (78, "loop"),  # to itself: followed until the redirect limit
    300: (78, "not followed"),  # no Location
}


class StubHandler(http.server.BaseHTTPRequestHandler):
    """Answers every POST with self.server.answer(parsed body) -> (status, JSON or None)."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.posts.append((self.path, body))
        status, document = self.server.answer(body)
        payload = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        if status == 301:
            self.send_header("Location", self.path)
        self.send_header("Content-Length", str(len(payload)))
        if payload:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def array_answer(samples, refused_times=None, later_from=None):
    """The appliance's answer to an array: the samples whose time is in
    refused_times = {time: reason} are refused; from the first sample at or
    after later_from = (time, reason) on, every one is refused for later, as the
    appliance stops an array there."""
    rejected = []
    for index, sample in enumerate(samples):
        reason = (refused_times or {}).get(sample["time"])
        if later_from and sample["time"] >= later_from[0]:
            reason = later_from[1]
        if reason:
            rejected.append({"name": NAME, "index": index, "reason": reason, "error": f"stub: {reason}"})
    return 200, {"rejected": rejected, "recorded": len(samples) - len(rejected)}


class AnswersTest(unittest.TestCase):
    def setUp(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StubHandler)
        self.server.posts = []
        self.server.answer = lambda body: (204, None)
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.proc = FakeProc()
        self.addCleanup(self.proc.__exit__)
        self.proc.set_meminfo(total_kib=1000, available_kib=500)
        self.stat_ticks = 1000

    def new_spool_dir(self):
        spool_dir = tempfile.mkdtemp(prefix="servertrack-agent-spool-")
        self.addCleanup(shutil.rmtree, spool_dir)
        return spool_dir

    def tick(self):
        """Lets a second of CPU time pass in the fake /proc: the next interval has a sample."""
        self.stat_ticks += 100
        self.proc.set_stat(user=self.stat_ticks // 2, system=0, idle=self.stat_ticks - self.stat_ticks // 2)

    def start_agent(self, spool_dir, *args):
        self.tick()
        agent = Agent(self.url, spool_dir, ("--name", NAME, "--interval", "1", "--proc-root", self.proc.path,
                                            *args))
        self.addCleanup(agent.__exit__)
        agent.wait_for_log("reporting as")
        self.tick()
        return agent

    def run_once(self, spool_dir):
        """One --once run -> (exit status, log)."""
        agent = self.start_agent(spool_dir, "--once")
        return agent.wait(), agent.stderr_text()

    def test_each_status_that_does_not_judge_the_sample_keeps_it(self):
        for status, (exit_status, remedy) in KEPT.items():
            with self.subTest(status=status):
                self.server.answer = lambda body, status=status: (status, {"error": f"stub says {status}"})
                spool_dir = self.new_spool_dir()
                code, log = self.run_once(spool_dir)
                self.assertEqual(code, exit_status, log)
                self.assertIn("(ExceedRedirectCount error)" if status == 301 else f"error: {status} ", log)
                self.assertIn(remedy, log)
                self.assertNotIn("dropped", log)
                self.assertEqual(spool_size(os.path.join(spool_dir, NAME)), 1, log)

    def test_a_400_for_one_sample_drops_it_with_the_reason(self):
        self.server.answer = lambda body: (400, {"error": "stub: \"time\" is in the future"})
        spool_dir = self.new_spool_dir()
        code, log = self.run_once(spool_dir)
        self.assertEqual(code, 1, log)
        self.assertIn("refused the sample of", log)
        self.assertIn("is in the future", log)
        self.assertEqual(spool_size(os.path.join(spool_dir, NAME)), 0)

    def test_a_400_for_an_array_keeps_the_spool(self):
        # An appliance too old to take arrays at /server/<name> answers 400.
        self.server.answer = lambda body: (400, {"error": "the body is an array, not a JSON object"})
        spool_dir = self.new_spool_dir()
        write_spool(os.path.join(spool_dir, NAME), [(int(time.time()) - 60, 1.0, 2.0)])
        code, log = self.run_once(spool_dir)
        self.assertEqual(code, 78, log)
        self.assertIn("upgrade the appliance", log)
        self.assertEqual(spool_size(os.path.join(spool_dir, NAME)), 2)

    def test_a_413_splits_the_array_until_it_fits(self):
        self.server.answer = lambda body: ((204, None) if isinstance(body, dict)
                                           else (413, {"error": "too large"}) if len(body) > 10
                                           else array_answer(body))
        spool_dir = self.new_spool_dir()
        now = int(time.time())
        spooled = [(now - 3600 + i, float(i), 1.0) for i in range(50)]
        write_spool(os.path.join(spool_dir, NAME), spooled)
        code, log = self.run_once(spool_dir)
        self.assertEqual(code, 0, log)
        self.assertIn("sending 25 samples per request from now on", log)
        sent = [sample["time"] for _, body in self.server.posts
                if isinstance(body, list) and len(body) <= 10 for sample in body]
        self.assertEqual(sent, [when for when, _, _ in spooled])  # all, in order, once
        self.assertIsInstance(self.server.posts[-1][1], dict)  # then the new sample alone
        self.assertEqual(spool_size(os.path.join(spool_dir, NAME)), 0)

    def test_array_items_refused_for_later_stay_in_the_spool_with_all_after_them(self):
        for reason in ("slot_busy", "table_full"):
            with self.subTest(reason=reason):
                self.server.posts.clear()
                now = int(time.time())
                # Item 0 recorded, 1 invalid, 2 refused for later, and so everything after it.
                self.server.answer = lambda body, reason=reason, now=now: array_answer(
                    body, {now - 240: "invalid_time"}, (now - 180, reason))
                spool_dir = self.new_spool_dir()
                spool_file = os.path.join(spool_dir, NAME)
                write_spool(spool_file, [(now - 300 + 60 * i, float(i), 1.0) for i in range(4)])
                code, log = self.run_once(spool_dir)
                self.assertEqual(code, 75, log)
                self.assertIn(f"refused the spooled sample of {now - 240} (invalid_time", log)
                self.assertIn("dropped it", log)
                self.assertIn(f"refused the spooled sample of {now - 180} for now ({reason}", log)
                # Item 2, item 3 and the new sample, in time order.
                self.assertEqual([when for when, _, _ in read_spool(spool_file)][:2], [now - 180, now - 120])
                self.assertEqual(spool_size(spool_file), 3)

    def test_the_same_problem_is_logged_once_a_minute(self):
        self.server.answer = lambda body: (401, {"error": "stub: a valid ingest token is required"})
        spool_dir = self.new_spool_dir()
        agent = self.start_agent(spool_dir)
        for count in range(2, 5):
            wait_until(lambda: spool_size(os.path.join(spool_dir, NAME)) >= count - 1, timeout=10,
                       what=f"spooled sample {count - 1}")
            self.tick()
        wait_until(lambda: len(self.server.posts) >= 4, timeout=10, what="4 tries")
        self.assertEqual(agent.stop(), 0)
        self.assertEqual(agent.stderr_text().count("error: 401"), 1, agent.stderr_text())
        self.assertGreaterEqual(spool_size(os.path.join(spool_dir, NAME)), 3)


if __name__ == "__main__":
    unittest.main()
