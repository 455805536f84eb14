"""POST /servers: each valid entry is recorded exactly like a single POST; every
refused entry is listed with its reason; a body that is not a JSON object is
refused whole and records nothing. POST /server/<name> with an array: that
server's samples, answered like a batch; a balancer that routes by name passes it."""

import json
import random
import time
import unittest

from appliance import (appliance, assert_json_error, http, list_servers, post_batch, recent_minutes,
                       request_json, window_counts, listed_names)

# A host name as the README's batch figure states it (41 to 42 characters).
HOST_NAME = "ip-10-0-{}-{}.eu-west-1.compute.internal"
# docs/api.md, "Batch ingest": how many such names, each with "time" and cpu and ram
# as an agent measures them (17 significant digits), fit in one 64 KiB body.
README_HOST_BATCH = 590


def host_batch(count, when):
    """{host name: sample with time} as fleets send them, numbers of full precision."""
    numbers = random.Random(count)
    return {HOST_NAME.format(i // 250, i % 250): {"cpu": numbers.uniform(0, 100),
                                                  "ram": numbers.uniform(0, 100), "time": when}
            for i in range(count)}


def post_array(ingest, name, samples):
    """POST /server/<name> with a JSON array -> (status, parsed answer)."""
    status, _, answer = request_json("POST", f"{ingest.url}/server/{name}", json.dumps(samples))
    return status, answer


def snapshot(query, name):
    status, _, document = request_json("GET", f"{query.url}/server/{name}?counts=1")
    return status, document


class BatchTest(unittest.TestCase):
    def test_batch_records_like_single_posts(self):
        samples = [(12.5, 40.1), (0, 0), (99.75, 3)]
        with appliance() as (_, ingest, query):
            for cpu, ram in samples:
                self.assertEqual(http("POST", f"{ingest.url}/server/single",
                                      json.dumps({"cpu": cpu, "ram": ram}))[0], 204)
                status, answer = post_batch(ingest, {"batched": {"cpu": cpu, "ram": ram},
                                                     "other": {"cpu": 1, "ram": 1, "extra": [1]}})
                self.assertEqual((status, answer), (200, {"recorded": 2, "rejected": []}))
            single, batched = snapshot(query, "single"), snapshot(query, "batched")
            self.assertEqual(single[0], 200)
            self.assertEqual(single, batched)
            self.assertEqual(sum(batched[1]["last_60_minutes"]["count"]), len(samples))

    def test_each_rejected_entry_is_listed_with_its_reason(self):
        with appliance(capacity=3) as (_, ingest, query):
            body = ('{"ok_1": {"cpu": 1, "ram": 2}, "bad/name": {"cpu": 1, "ram": 2},'
                    ' "neg": {"cpu": -1, "ram": 2}, "neither": {"host": "x"}, "text": "x",'
                    ' "ok_2": {"cpu": 3, "ram": 4}, "ok_1": {"cpu": 50, "ram": 50},'
                    ' "ok_3": {"cpu": 5, "ram": 6}, "no_room": {"cpu": 7, "ram": 8}}')
            status, answer = post_batch(ingest, body)
            self.assertEqual(status, 200, answer)
            self.assertEqual(answer["recorded"], 3)
            reasons = [(entry["name"], entry["reason"]) for entry in answer["rejected"]]
            self.assertEqual(reasons, [("bad/name", "invalid_name"), ("neg", "invalid_value"),
                                       ("neither", "invalid_value"), ("text", "invalid_value"),
                                       ("ok_1", "duplicate_name"), ("no_room", "table_full")])
            for entry in answer["rejected"]:
                self.assertTrue(entry["error"], entry)
            _, listing = list_servers(query)
            self.assertEqual([s["name"] for s in listing["servers"]], ["ok_1", "ok_2", "ok_3"])
            # The duplicate was not recorded: ok_1 holds its first sample only.
            _, document = snapshot(query, "ok_1")
            self.assertEqual(recent_minutes(document, "cpu"), [1])
            self.assertEqual(document["last_60_minutes"]["count"][-1], 1)

    def test_a_body_that_is_not_an_object_records_nothing(self):
        with appliance() as (_, ingest, query):
            for body in ('[{"a": {"cpu": 1, "ram": 2}}]', '"a"', "17", "null",
                         '{"a": {"cpu": 1, "ram": 2}', '{"a": {"cpu": 1, "ram": 2}}}', "", "{,}"):
                with self.subTest(body=body):
                    assert_json_error(self, *request_json("POST", f"{ingest.url}/servers", body), 400)
            self.assertEqual(list_servers(query), (200, {"servers": [], "next_after": None}))

    def test_an_empty_object_records_nothing_and_succeeds(self):
        with appliance() as (_, ingest, _query):
            self.assertEqual(post_batch(ingest, {}), (200, {"recorded": 0, "rejected": []}))

    def test_a_full_64_kib_batch_is_accepted_and_a_larger_one_refused(self):
        with appliance(capacity=4096) as (_, ingest, query):
            entry_size = len('"host_00000":{"cpu":1.5,"ram":2.5},')
            entries = {f"host_{i:05d}": {"cpu": 1.5, "ram": 2.5} for i in range(64 * 1024 // entry_size)}
            body = json.dumps(entries, separators=(",", ":"))
            self.assertLessEqual(len(body), 64 * 1024)
            self.assertGreater(len(body), 64 * 1024 - entry_size)
            status, answer = post_batch(ingest, body)
            self.assertEqual((status, answer["recorded"], answer["rejected"]), (200, len(entries), []))
            too_large = body[:-1] + ', "one_more": {"cpu": 1, "ram": 1}' + " " * 64 * 1024 + "}"
            assert_json_error(self, *request_json("POST", f"{ingest.url}/servers", too_large), 413)
            _, listing = list_servers(query, "prefix=one_more")
            self.assertEqual(listing["servers"], [])

    def test_the_readme_figure_of_host_names_with_time(self):
        now = int(time.time())
        with appliance(capacity=2048) as (_, ingest, _query):
            fits = json.dumps(host_batch(README_HOST_BATCH, now), separators=(",", ":"))
            thousand = json.dumps(host_batch(1000, now), separators=(",", ":"))
            print(f"{README_HOST_BATCH} host names with time: {len(fits)} bytes; "
                  f"1,000: {len(thousand)} bytes")
            self.assertLessEqual(len(fits), 64 * 1024)
            self.assertGreater(len(json.dumps(host_batch(README_HOST_BATCH + 5, now), separators=(",", ":"))),
                               64 * 1024)
            self.assertEqual(post_batch(ingest, fits), (200, {"recorded": README_HOST_BATCH, "rejected": []}))
            assert_json_error(self, *request_json("POST", f"{ingest.url}/servers", thousand), 413)

    def test_an_array_at_server_name_is_that_servers_samples(self):
        now = int(time.time())
        minute = now // 60 * 60
        samples = [{"cpu": 10, "ram": 20, "time": minute - 180}, {"cpu": 30, "ram": 40, "time": minute - 120},
                   {"cpu": -1, "ram": 40, "time": minute - 119}, {"cpu": 1, "ram": 1, "time": now - 31 * 86400},
                   "text", {"cpu": 50, "ram": 60, "time": minute - 60}]
        with appliance() as (_, ingest, query):
            status, answer = post_array(ingest, "web-01.example.com", samples)
            self.assertEqual(status, 200, answer)
            self.assertEqual(answer["recorded"], 3)
            self.assertEqual([(item["name"], item["index"], item["reason"]) for item in answer["rejected"]],
                             [("web-01.example.com", 2, "invalid_value"), ("web-01.example.com", 3, "invalid_time"),
                              ("web-01.example.com", 4, "invalid_value")])
            expected = {minute - 180: 1, minute - 120: 1, minute - 60: 1}
            self.assertEqual(window_counts(query, "web-01.example.com")[0], expected)
            # The retry rule: the same array again is acknowledged, not counted twice.
            status, again = post_array(ingest, "web-01.example.com", samples)
            self.assertEqual((status, again["recorded"]), (200, 3))
            self.assertEqual(window_counts(query, "web-01.example.com")[0], expected)
            # Each sample as POST /servers would take it: the same answer, item for item.
            status, batch = post_batch(ingest, {"web-02": samples})
            self.assertEqual((status, batch["recorded"]), (200, 3))
            self.assertEqual([item["index"] for item in batch["rejected"]], [2, 3, 4])
            self.assertEqual(post_array(ingest, "web-03", []), (200, {"recorded": 0, "rejected": []}))
            status, headers, body = request_json("POST", f"{ingest.url}/server/bad%2Fname", json.dumps(samples))
            assert_json_error(self, status, headers, body, 400)
            self.assertIn("name", body["error"])

    def test_an_array_stops_at_a_refusal_that_means_later(self):
        # table_full: the later items are not tried, so the array can be sent
        # again from the refused one, in time order (the retry rule needs it).
        now = int(time.time())
        samples = [{"cpu": i, "ram": i, "time": now - 300 + 60 * i} for i in range(3)]
        with appliance(capacity=1) as (_, ingest, query):
            self.assertEqual(post_batch(ingest, {"holder": {"cpu": 1, "ram": 1}})[0], 200)
            for status, answer in (post_array(ingest, "newcomer", samples),
                                   post_batch(ingest, {"newcomer": samples})):
                self.assertEqual((status, answer["recorded"]), (200, 0), answer)
                self.assertEqual([(item["index"], item["reason"]) for item in answer["rejected"]],
                                 [(0, "table_full"), (1, "table_full"), (2, "table_full")])
                self.assertIn("not tried: item 0", answer["rejected"][1]["error"])
            self.assertEqual(listed_names(query), ["holder"])

    def test_batch_sent_to_the_query_port_is_redirected(self):
        with appliance() as (_, _ingest, query):
            status, headers, _ = http("POST", f"{query.url}/servers", "{}")
            self.assertEqual(status, 307)
            self.assertTrue(headers["location"].endswith("/servers"), headers)


if __name__ == "__main__":
    unittest.main()
