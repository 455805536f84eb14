"""What a bucket knows, end to end with the real workers (README, "The API"
and "Backfill"): a sample carries cpu, ram or both and each metric is counted on its
own; a sample with neither is refused and records nothing; ?peaks=1 shows each
bucket's largest sample; a sample backfilled 20 days ago shows in the days
window; the batch takes partial samples item by item."""

import json
import time
import unittest

from appliance import appliance, assert_json_error, get_server, http, post_batch, recent_minutes, request_json

MINUTE, HOUR, DAY = 60, 3600, 86400


def post(ingest, name, sample):
    """POST /server/<name> with `sample` as JSON -> (status, parsed body or None)."""
    status, _, document = request_json("POST", f"{ingest.url}/server/{name}", sample)
    return status, document


def snapshot(query, name, params="counts=1&peaks=1"):
    status, _, document = request_json("GET", f"{query.url}/server/{name}?{params}")
    if status != 200:
        raise AssertionError(f"GET /server/{name}?{params} answered {status}: {document}")
    return document


def bucket(window, at, key):
    """The value of `key` ("cpu", "ram_max", "cpu_count", ...) in the bucket
    of `window` that holds unix second `at`."""
    index = (at - window["start"]) // window["step"]
    if not 0 <= index < len(window[key]):
        raise AssertionError(f"{at} is outside the window starting at {window['start']}")
    return window[key][index]


def metrics_at(window, at):
    """{key: value} of every array of `window` in the bucket holding `at`."""
    return {key: bucket(window, at, key) for key, value in window.items() if isinstance(value, list)}


def away_from_a_minute_boundary():
    """Now, at least 3 s before the next minute, so that two requests sent at
    once fall in one minute."""
    while time.time() % MINUTE > MINUTE - 3:
        time.sleep(0.5)
    return int(time.time())


class IndependentMetricsTest(unittest.TestCase):
    def test_cpu_alone_then_ram_alone_at_the_same_time_are_both_counted_once(self):
        with appliance() as (_, ingest, query):
            at = away_from_a_minute_boundary()
            self.assertEqual(post(ingest, "a", {"cpu": 50}), (204, None))
            self.assertEqual(post(ingest, "a", {"ram": 70, "time": at}), (204, None))
            document = snapshot(query, "a")
            for window in ("last_60_minutes", "last_24_hours", "last_30_days"):
                with self.subTest(window=window):
                    self.assertEqual(metrics_at(document[window], at), {
                        "cpu": 50, "ram": 70, "cpu_max": 50, "ram_max": 70,
                        "cpu_count": 1, "ram_count": 1, "count": 1})

    def test_each_metric_has_its_own_retry_mark(self):
        at = int(time.time()) - 2 * MINUTE
        with appliance() as (_, ingest, query):
            for sample in ({"cpu": 10, "time": at}, {"ram": 20, "time": at},
                           {"cpu": 10, "time": at}, {"ram": 20, "time": at},  # retries of each
                           {"cpu": 10, "ram": 20, "time": at}):               # and of both at once
                self.assertEqual(post(ingest, "b", sample), (204, None), sample)
            minutes = snapshot(query, "b", "counts=1")["last_60_minutes"]
            self.assertEqual((bucket(minutes, at, "cpu_count"), bucket(minutes, at, "ram_count")), (1, 1))
            # A distinct second is a distinct sample, for one metric only.
            self.assertEqual(post(ingest, "b", {"ram": 40, "time": at + 1}), (204, None))
            minutes = snapshot(query, "b", "counts=1")["last_60_minutes"]
            self.assertEqual(metrics_at(minutes, at), {"cpu": 10, "ram": 30, "cpu_count": 1, "ram_count": 2,
                                                       "count": 2})

    def test_a_metric_without_samples_is_null_where_the_other_has_some(self):
        at = int(time.time()) - 3 * HOUR
        with appliance() as (_, ingest, query):
            self.assertEqual(post(ingest, "c", {"cpu": 5, "time": at}), (204, None))
            document = snapshot(query, "c")
            self.assertEqual(metrics_at(document["last_24_hours"], at), {
                "cpu": 5, "ram": None, "cpu_max": 5, "ram_max": None, "cpu_count": 1, "ram_count": 0, "count": 1})

    def test_a_sample_with_neither_metric_is_refused_and_records_nothing(self):
        at = int(time.time()) - MINUTE
        with appliance() as (_, ingest, query):
            for body in ({}, {"time": at}, {"host": "web-01", "disk": 12}):
                with self.subTest(body=body):
                    status, headers, raw = http("POST", f"{ingest.url}/server/d", json.dumps(body))
                    assert_json_error(self, status, headers, raw, 400)
                    self.assertIn('neither "cpu" nor "ram"', json.loads(raw)["error"])
                    self.assertEqual(get_server(query, "d")[0], 404)
            self.assertEqual(post(ingest, "d", {"cpu": 1, "time": at}), (204, None))
            before = snapshot(query, "d")
            status, _ = post(ingest, "d", {"time": at + 1})
            self.assertEqual(status, 400)
            self.assertEqual(snapshot(query, "d"), before)


class PeaksAndDaysTest(unittest.TestCase):
    def test_an_hour_of_10_100_10_has_mean_40_and_peak_100(self):
        hour = (int(time.time()) // HOUR - 1) * HOUR  # the previous hour, all of it in the past
        with appliance() as (_, ingest, query):
            for offset, cpu in ((60, 10), (120, 100), (180, 10)):
                self.assertEqual(post(ingest, "e", {"cpu": cpu, "ram": cpu / 2, "time": hour + offset}), (204, None))
            hours = snapshot(query, "e", "peaks=1")["last_24_hours"]
            self.assertEqual(list(hours), ["start", "step", "cpu", "ram", "cpu_max", "ram_max"])
            self.assertEqual(metrics_at(hours, hour), {"cpu": 40, "ram": 20, "cpu_max": 100, "ram_max": 50})
            plain = snapshot(query, "e", "")["last_24_hours"]
            self.assertEqual(list(plain), ["start", "step", "cpu", "ram"])
            self.assertEqual(bucket(plain, hour, "cpu"), 40)

    def test_a_sample_backfilled_20_days_ago_shows_in_the_last_30_days(self):
        now = int(time.time())
        at = now - 20 * DAY
        with appliance() as (_, ingest, query):
            self.assertEqual(post(ingest, "f", {"cpu": 33, "ram": 44, "time": at}), (204, None))
            document = snapshot(query, "f")
            days = document["last_30_days"]
            self.assertEqual(days["step"], DAY)
            self.assertEqual(len(days["cpu"]), 30)
            self.assertIn(days["start"], {(now // DAY - 29) * DAY, (now // DAY - 28) * DAY})
            self.assertEqual(metrics_at(days, at), {"cpu": 33, "ram": 44, "cpu_max": 33, "ram_max": 44,
                                                    "cpu_count": 1, "ram_count": 1, "count": 1})
            self.assertEqual(sum(days["count"]), 1)
            for window in ("last_60_minutes", "last_24_hours"):
                self.assertEqual(sum(document[window]["count"]), 0, window)
            # Older than the 30 days: refused, and says which window.
            status, refusal = post(ingest, "f", {"cpu": 1, "ram": 1, "time": now - 31 * DAY})
            self.assertEqual(status, 400)
            self.assertIn("30-day window", refusal["error"])
            self.assertEqual(snapshot(query, "f"), document)


class BatchTest(unittest.TestCase):
    def test_partial_samples_are_recorded_and_a_sample_with_neither_is_refused_alone(self):
        at = int(time.time()) - 5 * MINUTE
        with appliance() as (_, ingest, query):
            status, answer = post_batch(ingest, {
                "g_cpu": {"cpu": 5},
                "g_ram": {"ram": 7},
                "g_none": {"time": at},
                "g_spool": [{"cpu": 1, "time": at}, {"ram": 2, "time": at}, {"time": at}, {"cpu": 3, "ram": 4, "time": at}],
            })
            self.assertEqual(status, 200)
            self.assertEqual(answer["recorded"], 5)
            self.assertEqual([(r["name"], r.get("index"), r["reason"]) for r in answer["rejected"]],
                             [("g_none", None, "invalid_value"), ("g_spool", 2, "invalid_value")])
            for rejected in answer["rejected"]:
                self.assertIn('neither "cpu" nor "ram"', rejected["error"])
            self.assertEqual(get_server(query, "g_none")[0], 404)
            cpu_only = snapshot(query, "g_cpu")
            self.assertEqual((recent_minutes(cpu_only, "cpu"), recent_minutes(cpu_only, "ram")), ([5], []))
            ram_only = snapshot(query, "g_ram")
            self.assertEqual((recent_minutes(ram_only, "cpu"), recent_minutes(ram_only, "ram")), ([], [7]))
            # The spool's first two items share a time and carry one metric each;
            # the fourth carries both at that time: each metric's retry.
            self.assertEqual(metrics_at(snapshot(query, "g_spool")["last_60_minutes"], at), {
                "cpu": 1, "ram": 2, "cpu_max": 1, "ram_max": 2, "cpu_count": 1, "ram_count": 1, "count": 1})


if __name__ == "__main__":
    unittest.main()
