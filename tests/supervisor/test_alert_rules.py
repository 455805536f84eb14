"""`servertrack run --alert-rules FILE`: the supervisor asks the alert process to
read the rules before anything starts (a bad file stops it with exit 2 and the
line), then runs servertrack-alert beside the workers, restarts it when it is
killed, serves its alerts as GET /alerts and its counters in /metrics, and
stops it with the rest. A real POST sequence is judged in tests/alert/."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest

from appliance import TestSegment, http, wait_until
from supervised import BUILD_DIR, SCRIPT, Supervised

RULES = "[cpu-high]\nseverity = critical\nwhen = cpu above 90 for 5 minutes\n"


class AlertRules(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        self.rules = os.path.join(self.folder.name, "rules.ini")

    def write_rules(self, text):
        with open(self.rules, "w") as f:
            f.write(text)

    def test_a_bad_rules_file_stops_the_start_naming_the_line(self):
        cases = {"N too large": (RULES.replace("5 minutes", "61 minutes"), "rules.ini:3: for 61 minutes"),
                 "a missing file": (None, "cannot read"),
                 "a url without rules": ("", "need --alert-rules")}
        for what, (content, phrase) in cases.items():
            with self.subTest(what=what), TestSegment() as segment:
                args = ["--alert-rules", self.rules]
                if content is None:
                    os.path.exists(self.rules) and os.unlink(self.rules)
                elif content == "":
                    args = ["--alertmanager-url", "http://127.0.0.1:9"]
                else:
                    self.write_rules(content)
                result = subprocess.run(
                    [sys.executable, SCRIPT, "run", "--segment", segment.name, "--capacity", str(segment.capacity),
                     "--build-dir", BUILD_DIR, *args], capture_output=True, text=True, timeout=30)
                output = result.stdout + result.stderr
                self.assertEqual(result.returncode, 2, output)
                self.assertIn(phrase, output)
                self.assertNotIn("started, pid", output)

    def test_the_alert_process_runs_restarts_and_serves_alerts(self):
        self.write_rules(RULES)
        with TestSegment() as segment, \
                Supervised(segment.name, segment.capacity, extra_args=("--alert-rules", self.rules)) as run:
            run.wait_ready()
            alert_pid = wait_until(lambda: run.current_pid("alert#1"), 10, "alert#1 started")
            state = os.path.join(run.data_dir, f"{segment.name}-alerts.json")
            wait_until(lambda: os.path.exists(state), 10, "an evaluation at start")
            status, _, body = http("GET", f"{run.query_url}/alerts")
            answer = json.loads(body)
            self.assertEqual((status, answer["rules"], answer["alerts"]), (200, 1, []))
            self.assertGreaterEqual(answer["evaluations"], 1)
            self.assertIn("servertrack_alert_evaluations_total", http("GET", f"{run.query_url}/metrics")[2].decode())
            os.kill(alert_pid, signal.SIGKILL)
            self.assertTrue(run.wait_for_new_pid("alert#1", alert_pid, 10), run.log())


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
