"""servertrack-alert end to end: the real ingest and query workers and the
alert process under one fake clock (libfaketime), Debian's Alertmanager on
loopback (its own API says what it received), and a webhook receiver in this
process. The fake clock runs two hours behind the real one, so minutes pass
by setting it, and the alerts' event times are in Alertmanager's past.

Pinned here (docs/design.md, "Alerts"): 95 % for 6 minutes -> listed by
Alertmanager with its labels within one evaluation after the 5th complete
minute, then resolved; a silent server; an agent's spool replayed after a
partition -> the webhook says the minutes it was taken in; the alert process
SIGKILLed while firing and restarted -> one alert, nothing resolved between;
a webhook answering 503 three times -> delivered once.
"""
import http.server as http_server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from appliance import (FakeClock, TestSegment, Worker, build_path, free_port, http, kill_and_reap, request_json,
                       wait_until)

START = (int(time.time()) - 7200) // 3600 * 3600 + 10 * 60  # 10 minutes into an hour two hours ago
RULES = """
[cpu-high]
severity = critical
prefix = web-
when = cpu above 90 for 5 minutes

[silent]
severity = warning
prefix = app-
when = silent for 3 minutes
"""


def at(minute, second=0):
    return START + minute * 60 + second


def hhmm(unix):
    return time.strftime("%H:%M", time.gmtime(unix))


def rfc3339(unix):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(unix))


class Alertmanager:
    """Debian's prometheus-alertmanager on an ephemeral loopback port, no gossip."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="st-alertmanager-")
        config = os.path.join(self.dir, "alertmanager.yml")
        with open(config, "w") as f:
            f.write("route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(
            ["prometheus-alertmanager", f"--config.file={config}", f"--storage.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self.ready, 20, "Alertmanager ready")

    def ready(self):
        try:
            return http("GET", self.url + "/-/ready", timeout=1)[0] == 200
        except OSError:
            return False

    def alerts(self):
        status, _, body = request_json("GET", self.url + "/api/v2/alerts")
        assert status == 200, body
        return body

    def close(self):
        kill_and_reap(self.proc, False)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class WebhookReceiver:
    """Records every POST body; answers the statuses of `script` first, then 200."""

    def __init__(self, script=()):
        self.bodies, self.attempts, self.script = [], 0, list(script)
        receiver = self

        class Handler(http_server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.attempts += 1
                status = receiver.script.pop(0) if receiver.script else 200
                if status == 200:
                    receiver.bodies.append(body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class AlertProcess:
    def __init__(self, segment, state_dir, env, args):
        self.args = [build_path("alert/servertrack-alert"), "--segment", segment, "--rules",
                     os.path.join(state_dir, "rules.ini"), "--state-file", os.path.join(state_dir, "alerts.json"),
                     "--metrics-file", os.path.join(state_dir, "alerts.prom"), "--appliance", "test-appliance",
                     "--dashboard-url", "http://127.0.0.1:8888", *args]
        self.env = {**os.environ, **env}
        self.stderr = tempfile.TemporaryFile()
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.stderr, env=self.env)

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def close(self):
        kill_and_reap(self.proc, True)
        self.stderr.close()


class AlertsEndToEnd(unittest.TestCase):
    def setUp(self):
        self.clock = FakeClock()
        self.clock.set(at(0, 1))
        self.addCleanup(self.clock.close)
        self.segment = TestSegment()
        self.segment.__enter__()
        self.addCleanup(self.segment.__exit__)
        self.ingest = Worker("ingest", self.segment, env=self.clock.env)
        self.addCleanup(self.ingest.__exit__)
        self.dir = tempfile.mkdtemp(prefix="st-alert-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        with open(os.path.join(self.dir, "rules.ini"), "w") as f:
            f.write(RULES)
        self.query = Worker("query", self.segment, env=self.clock.env,
                            args=("--alerts-file", os.path.join(self.dir, "alerts.json"),
                                  "--metrics-textfile", os.path.join(self.dir, "alerts.prom")))
        self.addCleanup(self.query.__exit__)
        self.alertmanager = Alertmanager()
        self.addCleanup(self.alertmanager.close)

    def start_alert(self, webhook_script=()):
        self.webhook = WebhookReceiver(webhook_script)
        self.addCleanup(self.webhook.close)
        self.alert = AlertProcess(self.segment.name, self.dir, self.clock.env,
                                  ["--alertmanager-url", self.alertmanager.url, "--webhook-url", self.webhook.url])
        self.addCleanup(self.alert.close)

    def minute(self, m, samples):
        """Moves the clock to second 10 of minute m and posts {name: cpu} there, twice."""
        self.clock.set(at(m, 10))
        for second in (10, 40):
            for name, cpu in samples.items():
                status, _, body = request_json("POST", f"{self.ingest.url}/server/{name}",
                                               {"cpu": cpu, "ram": 10, "time": at(m, second)})
                self.assertEqual(status, 204, body)

    def evaluated_at(self, unix):
        """Waits for the alert process's evaluation of the minute of `unix`."""
        def done():
            status, _, body = request_json("GET", f"{self.query.url}/alerts")
            return body if status == 200 and (body["evaluated_at"] or 0) >= unix else None
        return wait_until(done, 10, f"an evaluation at {unix}\n{self.alert.log()}")

    def firing_in_alertmanager(self, alertname):
        return [a for a in self.alertmanager.alerts() if a["labels"]["alertname"] == alertname]

    def test_high_cpu_fires_and_resolves_and_survives_a_restart(self):
        self.start_alert()
        for m in range(5):
            self.minute(m, {"web-01": 95, "web-02": 20})
        self.clock.set(at(4, 58))
        body = self.evaluated_at(at(4, 2))
        self.assertEqual([a["state"] for a in body["alerts"]], ["pending"], f"{body}\n{self.alert.log()}")
        self.assertEqual(self.firing_in_alertmanager("cpu-high"), [])
        # The 5th minute is complete: within one evaluation Alertmanager lists it.
        self.clock.set(at(5, 2))
        listed = wait_until(lambda: self.firing_in_alertmanager("cpu-high"), 10, "the alert in Alertmanager")
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["labels"], {"alertname": "cpu-high", "server": "web-01",
                                               "severity": "critical", "appliance": "test-appliance"})
        self.assertTrue(listed[0]["startsAt"].startswith(rfc3339(at(0))), listed[0]["startsAt"])
        self.assertIn(f"web-01: cpu above 90 for 5 minutes, from {hhmm(at(0))} to {hhmm(at(5))} UTC",
                      listed[0]["annotations"]["summary"])
        self.assertEqual(listed[0]["generatorURL"], "http://127.0.0.1:8888/#server=web-01")
        body = self.evaluated_at(at(5, 2))
        self.assertEqual([(a["rule"], a["server"], a["state"], a["starts_at"]) for a in body["alerts"]],
                         [("cpu-high", "web-01", "firing", at(0))])
        self.assertEqual(request_json("GET", f"{self.query.url}/alerts?x")[2]["alerts"][0]["severity"], "critical")

        # SIGKILLed while firing and started again: the same alert, told once.
        self.minute(5, {"web-01": 95, "web-02": 20})
        kill_and_reap(self.alert.proc, True)
        self.alert.start()
        self.clock.set(at(6, 2))
        self.evaluated_at(at(6, 2))
        listed = self.firing_in_alertmanager("cpu-high")
        self.assertEqual(len(listed), 1)
        self.assertTrue(listed[0]["startsAt"].startswith(rfc3339(at(0))))
        self.assertEqual([b["status"] for b in self.webhook.bodies], ["firing"],
                         "a restart neither resolves nor repeats a firing alert")

        # Back down: resolved at the end of the last minute above, gone from Alertmanager's list.
        self.minute(6, {"web-01": 20, "web-02": 20})
        self.clock.set(at(7, 2))
        wait_until(lambda: not self.firing_in_alertmanager("cpu-high"), 10, "the alert resolved in Alertmanager")
        wait_until(lambda: self.webhook.bodies[-1]["status"] == "resolved", 10, "the resolved webhook")
        time.sleep(1)
        self.assertEqual([b["status"] for b in self.webhook.bodies], ["firing", "resolved"],
                         "one firing, one resolved: the restart told nothing")
        resolved = self.webhook.bodies[1]
        self.assertEqual((resolved["version"], resolved["status"]), ("4", "resolved"))
        self.assertEqual(resolved["alerts"][0]["endsAt"], rfc3339(at(6)) + "Z")
        _, _, metrics = http("GET", f"{self.query.url}/metrics")
        self.assertRegex(metrics.decode(), r'servertrack_alert_notifications_total\{result="sent"\} [1-9]')
        self.assertRegex(metrics.decode(), r"servertrack_alert_evaluations_total [1-9]")

    def test_silent_server(self):
        self.start_alert()
        self.minute(0, {"app-1": 10})
        self.clock.set(at(3, 39))
        self.evaluated_at(at(3, 2))
        self.assertEqual(self.firing_in_alertmanager("silent"), [])
        self.clock.set(at(4, 2))  # 3 minutes after its last sample at 0:40
        listed = wait_until(lambda: self.firing_in_alertmanager("silent"), 10, "the silent alert")
        self.assertEqual(listed[0]["labels"]["server"], "app-1")
        self.assertTrue(listed[0]["startsAt"].startswith(rfc3339(at(3, 40))), listed[0]["startsAt"])

    def test_spool_replayed_after_a_partition_carries_the_event_times(self):
        self.start_alert()
        self.minute(0, {"web-03": 30})
        # Cut off until 0:21:10; then the agent's spool arrives, oldest first, as
        # the agent sends it: one array of timed samples.
        self.clock.set(at(21, 10))
        spool = [{"cpu": 95 if 2 <= m < 16 else 30, "ram": 10, "time": at(m, s)}
                 for m in range(1, 21) for s in (5, 35)]
        status, _, answer = request_json("POST", f"{self.ingest.url}/server/web-03", spool)
        self.assertEqual((status, answer["recorded"]), (200, len(spool)), answer)
        told = wait_until(lambda: self.webhook.bodies, 10, "the replayed episode on the webhook")
        self.assertEqual(len(told), 1)
        alert = told[0]["alerts"][0]
        self.assertEqual((told[0]["status"], alert["labels"]["server"]), ("resolved", "web-03"))
        self.assertEqual((alert["startsAt"], alert["endsAt"]), (rfc3339(at(2)) + "Z", rfc3339(at(16)) + "Z"))
        self.assertIn(f"from {hhmm(at(2))} to {hhmm(at(16))} UTC", alert["annotations"]["summary"])

    def test_webhook_retried_after_503_delivered_once(self):
        self.start_alert(webhook_script=(503, 503, 503))
        self.minute(0, {"app-2": 10})
        self.clock.set(at(3, 50))
        wait_until(lambda: self.webhook.bodies, 20, f"the webhook delivered\n{self.alert.log()}")
        time.sleep(1)
        self.assertEqual(self.webhook.attempts, 4)
        self.assertEqual(len(self.webhook.bodies), 1)
        self.assertEqual(self.webhook.bodies[0]["alerts"][0]["labels"]["alertname"], "silent")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
