"""GET /server/<name>?counts=1 adds "count" (samples per bucket) to each
window; without it (or with counts=0) the answer is the contract's."""

import json
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
            for window, length in (("last_60_minutes", 60), ("last_24_hours", 24)):
                with self.subTest(window=window):
                    counts = counted[window].pop("count")
                    self.assertEqual(counted[window], plain[window])
                    self.assertEqual(len(counts), length)
                    self.assertEqual(sum(counts), 3)
                    for count, cpu in zip(counts, plain[window]["cpu"]):
                        self.assertEqual(count == 0, cpu is None)

    def test_bad_counts_values_are_400(self):
        with appliance() as (_, ingest, query):
            self.assertEqual(http("POST", f"{ingest.url}/server/host", '{"cpu": 1, "ram": 1}')[0], 204)
            for value in ("2", "yes", "", "1&counts=0"):
                with self.subTest(value=value):
                    assert_json_error(self, *request_json("GET", f"{query.url}/server/host?counts={value}"), 400)


if __name__ == "__main__":
    unittest.main()
