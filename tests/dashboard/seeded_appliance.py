"""The real appliance with data for the dashboard tests: a fresh segment, one
ingest and one query worker, `server_count` servers posted in batches of 1,000, and
web_7 given a history with empty buckets.

The ingest worker's clock is moved (FakeClock) to post into past minutes,
hours and days, or held at NOW while samples state their own "time"
(backfill(): an agent's spool, an import), as operators seed it; the query
worker's clock is frozen at NOW, mid-minute of a future UTC hour, so the
windows the test reads and the ones the browser draws a few seconds later are
the same. Empty buckets of web_7: EMPTY_MINUTES, EMPTY_HOURS and EMPTY_DAYS
(positions in the 60-, 24- and 30-element arrays). Every SPIKE_EVERY-th of its
minutes also gets a second, higher sample, so the buckets holding them have a
peak above their mean. With `alert_rules`, the real servertrack-alert (its
clock frozen at NOW too) evaluates them once seeded, and the query worker
serves its alerts (GET /alerts).
"""
import os
import subprocess
import tempfile
import time

from appliance import FAKETIME_LIBRARY, FakeClock, TestSegment, Worker, build_path, http, kill_and_reap
import json

HOUR = 3600
DAY = 86400
NOW = (int(time.time()) // HOUR + 48) * HOUR + 30
EMPTY_MINUTES = {0, 1, 2, 3, 4, 17, 18, 30, 32, 45, 46, 47}
EMPTY_HOURS = {0, 1, 2, 3, 4, 5, 12, 20}
EMPTY_DAYS = {0, 1, 2, 9, 15, 16, 22}
SPIKE_EVERY = 6


def server_names(count):
    """`count` names over four prefixes: api_1, cache_1, db_1, web_1, api_2, ..."""
    prefixes = ("api", "cache", "db", "web")
    return [f"{prefixes[i % 4]}_{i // 4 + 1}" for i in range(count)]


def backfill(minutes_ago, cpu, ram):
    """A history stating its times, oldest first: one sample at the start of
    each of NOW's minutes `minutes_ago` ago; cpu(ago) and ram(ago) give its values."""
    return [{"cpu": cpu(ago), "ram": ram(ago), "time": (NOW // 60 - ago) * 60}
            for ago in sorted(minutes_ago, reverse=True)]


class SeededAppliance:
    """Has .url (the query worker) and .stop(). `history(post)`, if given, posts
    earlier samples before the servers' samples at NOW: a writer treats buckets
    later than its clock as a clock that ran ahead (docs/design.md, "Time and
    buckets"), so seeding goes oldest first."""

    def __init__(self, server_count, history=None, alert_rules=None):
        self.alert = None
        self.alert_dir = tempfile.TemporaryDirectory(prefix="servertrack-alerts-")
        self.alerts_file = os.path.join(self.alert_dir.name, "alerts.json")
        self.segment = TestSegment(capacity=2 * server_count)
        self.segment.__enter__()
        self.clock = FakeClock()
        frozen = {"LD_PRELOAD": FAKETIME_LIBRARY, "TZ": "UTC", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                  "FAKETIME": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(NOW)),
                  "ASAN_OPTIONS": self.clock.env["ASAN_OPTIONS"]}
        self.ingest = Worker("ingest", self.segment, env=self.clock.env)
        self.query = Worker("query", self.segment, env=frozen,
                            args=("--alerts-file", self.alerts_file) if alert_rules else ())
        self.url = self.query.url
        try:
            self.seed(server_count, history)
            if alert_rules:
                self.evaluate_alerts(alert_rules, frozen)
        except BaseException:
            self.stop()
            raise

    def post(self, at, entries):
        self.clock.set(at)
        status, _, body = http("POST", self.ingest.url + "/servers", json.dumps(entries))
        answer = json.loads(body)
        if status != 200 or answer["rejected"]:
            raise RuntimeError(f"seeding failed: {status} {answer}")

    def seed(self, server_count, history):
        # Oldest first, so no post resets a bucket a later one filled.
        for position in range(30):
            days_ago = 29 - position
            if position not in EMPTY_DAYS and days_ago >= 2:
                self.post(NOW - days_ago * DAY, {"web_7": {"cpu": 20 + position, "ram": 70 - position}})
        for position in range(24):
            hours_ago = 23 - position
            if position not in EMPTY_HOURS and hours_ago >= 2:
                self.post(NOW - hours_ago * HOUR, {"web_7": {"cpu": 30 + position, "ram": 60 - position}})
        for position in range(60):
            if position not in EMPTY_MINUTES:
                sample = {"cpu": 10 + position % 13, "ram": 50 + position % 7}
                spike = {"cpu": 80 + position % 5, "ram": 90}
                self.post(NOW - (59 - position) * 60, {"web_7": [sample, spike] if position % SPIKE_EVERY == 0 else sample})
        if history:
            history(self.post)
        names = server_names(server_count)
        for first in range(0, server_count, 1000):  # 1,000 samples a body stay under 64 KiB
            self.post(NOW, {name: {"cpu": i % 100, "ram": (i * 7) % 100}
                            for i, name in enumerate(names) if first <= i < first + 1000})

    def evaluate_alerts(self, rules, env):
        rules_file = os.path.join(self.alert_dir.name, "rules.ini")
        with open(rules_file, "w") as f:
            f.write(rules)
        self.alert = subprocess.Popen(
            [build_path("alert/servertrack-alert"), "--segment", self.segment.name, "--rules", rules_file,
             "--state-file", self.alerts_file], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env={**os.environ, **env})
        deadline = time.monotonic() + 20
        while not os.path.exists(self.alerts_file):
            if time.monotonic() > deadline or self.alert.poll() is not None:
                raise RuntimeError("servertrack-alert wrote no alert state")
            time.sleep(0.05)

    def stop(self):
        if self.alert:
            kill_and_reap(self.alert, True)
        self.alert_dir.cleanup()
        for worker in (self.query, self.ingest):
            worker.__exit__(None, None, None)
        self.clock.close()
        self.segment.__exit__(None, None, None)
