"""A sample's "time": counted in the minute and hour it names while they are in
the windows, refused with 400 when more than 60 s ahead or older than the
24-hour window; a resent timestamped sample counts once (the retry rule,
docs/design.md, "Concurrency rules"); POST /servers takes an array of samples
per server, each item recorded or refused on its own with its index."""

import time
import unittest

from appliance import appliance, get_server, post_batch, post_sample, request_json, window_counts


class BackfillTest(unittest.TestCase):
    def test_a_stated_time_counts_in_its_minute_and_hour(self):
        now = int(time.time())
        two_minutes_ago = now - 120
        five_hours_ago = now - 5 * 3600
        with appliance() as (_, ingest, query):
            self.assertEqual(post_sample(ingest, "web-01.example.com", 10, 20, two_minutes_ago), 204)
            self.assertEqual(post_sample(ingest, "web-01.example.com", 30, 40, five_hours_ago + 0.25), 204)
            minutes, hours = window_counts(query, "web-01.example.com")
            self.assertEqual(minutes, {two_minutes_ago // 60 * 60: 1})
            expected_hours = {two_minutes_ago // 3600 * 3600: 1}
            expected_hours[five_hours_ago // 3600 * 3600] = 1
            self.assertEqual(hours, expected_hours)

    def test_times_outside_the_windows_are_refused_and_change_nothing(self):
        now = int(time.time())
        with appliance() as (_, ingest, query):
            for when, phrase in ((now + 3600, "after the appliance's clock"),
                                 (now - 31 * 86400, "older than the"),
                                 ("yesterday", '"time" must be a number'),
                                 (-1, "not negative"),
                                 (now * 1000, "not milliseconds")):
                status, _, document = request_json("POST", f"{ingest.url}/server/db-2.example",
                                                   {"cpu": 1, "ram": 2, "time": when})
                self.assertEqual(status, 400, when)
                self.assertIn(phrase, document["error"])
            self.assertEqual(get_server(query, "db-2.example")[0], 404)
            # 60 s of slack for senders whose clock runs a little ahead.
            self.assertEqual(post_sample(ingest, "db-2.example", 1, 2, now + 50), 204)

    def test_a_resent_sample_counts_once(self):
        now = int(time.time())
        with appliance() as (_, ingest, query):
            for _ in range(3):
                self.assertEqual(post_sample(ingest, "agent-1.example.com", 10, 20, now - 90), 204)
            minutes, _ = window_counts(query, "agent-1.example.com")
            self.assertEqual(minutes, {(now - 90) // 60 * 60: 1})
            # Samples without a time are never taken for repeats.
            for _ in range(2):
                self.assertEqual(post_sample(ingest, "agent-1.example.com", 1, 1), 204)
            self.assertEqual(sum(window_counts(query, "agent-1.example.com")[0].values()), 3)

    def test_a_resent_batch_of_an_outage_counts_once(self):
        now = int(time.time())
        # An hour and a half of one-minute samples, oldest first, as a spooling agent sends them.
        times = [now - 5400 + 60 * i for i in range(90)]
        body = {"web-01.example.com": [{"cpu": i % 7, "ram": 50, "time": t} for i, t in enumerate(times)]}
        with appliance() as (_, ingest, query):
            for _ in range(2):
                self.assertEqual(post_batch(ingest, body), (200, {"rejected": [], "recorded": 90}))
            minutes, hours = window_counts(query, "web-01.example.com")
            self.assertEqual(sum(hours.values()), 90)
            self.assertEqual(sum(minutes.values()), sum(1 for t in times if t // 60 > now // 60 - 60))

    def test_an_array_batch_reports_each_refused_item_with_its_index(self):
        now = int(time.time())
        body = ('{"web-01": [{"cpu": 1, "ram": 2, "time": %d}, {"cpu": -1, "ram": 2}, '
                '{"cpu": 3, "ram": 4, "time": %d}, 7],'
                ' "db-2": {"cpu": 5, "ram": 6}, "db-2": [], "bad/name": [{"cpu": 1, "ram": 1}]}'
                % (now - 60, now + 7200))
        with appliance() as (_, ingest, query):
            status, answer = post_batch(ingest, body)
            self.assertEqual(status, 200)
            self.assertEqual(answer["recorded"], 2)
            self.assertEqual([(r["name"], r.get("index"), r["reason"]) for r in answer["rejected"]],
                             [("web-01", 1, "invalid_value"), ("web-01", 2, "invalid_time"),
                              ("web-01", 3, "invalid_value"), ("db-2", None, "duplicate_name"),
                              ("bad/name", 0, "invalid_name")])
            self.assertEqual(set(answer["rejected"][0]), {"name", "index", "reason", "error"})
            self.assertEqual(sum(window_counts(query, "web-01")[0].values()), 1)
            self.assertEqual(sum(window_counts(query, "db-2")[0].values()), 1)


if __name__ == "__main__":
    unittest.main()
