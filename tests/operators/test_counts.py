"""GET /server/<name>?counts=1 adds "cpu_count" and "ram_count" (samples of
each metric per bucket) and "count" (the larger of the two) to each window;
without it (or with counts=0) the answer is the contract's."""

import json
import time
import unittest

from appliance import appliance, assert_json_error, http, request_json


class CountsTest(unittest.TestCase):
    def test_counts_follow_the_samples(self):
        with appliance() as (_, ingest, query):
            for cpu in (10, 20, 30):
                self.assertEqual(http("POST", f"{ingest.url}/server/host",
                                      json.dumps({"cpu": cpu, "ram": 1}))[0], 204)
            status, _, plain = request_json("GET", f"{query.url}/server/host")
            self.assertEqual(status, 200)
            self.assertEqual(request_json("GET", f"{query.url}/server/host?counts=0")[2], plain)
            status, _, counted = request_json("GET", f"{query.url}/server/host?counts=1")
            self.assertEqual(status, 200)
            for window, length in (("last_60_minutes", 60), ("last_24_hours", 24), ("last_30_days", 30)):
                with self.subTest(window=window):
                    counts = {key: counted[window].pop(key) for key in ("cpu_count", "ram_count", "count")}
                    self.assertEqual(counted[window], plain[window])
                    for key, values in counts.items():
                        self.assertEqual(len(values), length, key)
                        self.assertEqual(sum(values), 3, key)
                    for metric in ("cpu", "ram"):
                        for count, mean in zip(counts[metric + "_count"], plain[window][metric]):
                            self.assertEqual(count == 0, mean is None)

    def test_each_metric_is_counted_on_its_own(self):
        hour = (int(time.time()) // 3600 - 1) * 3600  # the previous hour, all in the past
        with appliance() as (_, ingest, query):
            # One minute apart: in an hour older than the minute window a stated
            # sample is told from a retry by its minute (docs/api.md, "Backfill and the retry rule").
            for offset, sample in enumerate(({"cpu": 1}, {"cpu": 2}, {"ram": 3}, {"cpu": 4, "ram": 5})):
                sample["time"] = hour + 60 * offset
                self.assertEqual(request_json("POST", f"{ingest.url}/server/host", sample)[0], 204)
            status, _, counted = request_json("GET", f"{query.url}/server/host?counts=1")
            self.assertEqual(status, 200)
            hours = counted["last_24_hours"]
            index = (hour - hours["start"]) // 3600
            self.assertEqual([hours[key][index] for key in ("cpu_count", "ram_count", "count")], [3, 2, 3])
            self.assertEqual([hours[key][index] for key in ("cpu", "ram")], [7 / 3, 4])

    def test_bad_counts_values_are_400(self):
        with appliance() as (_, ingest, query):
            self.assertEqual(http("POST", f"{ingest.url}/server/host", '{"cpu": 1, "ram": 1}')[0], 204)
            for value in ("2", "yes", "", "1&counts=0"):
                with self.subTest(value=value):
                    assert_json_error(self, *request_json("GET", f"{query.url}/server/host?counts={value}"), 400)


if __name__ == "__main__":
    unittest.main()
