"""POST /servers: each valid entry is recorded exactly like a single POST; every
refused entry is listed with its reason; a body that is not a JSON object is
refused whole and records nothing."""

import json
import unittest

from appliance import appliance, assert_json_error, http, list_servers, post_batch, recent_minutes, request_json


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

    def test_batch_sent_to_the_query_port_is_redirected(self):
        with appliance() as (_, _ingest, query):
            status, headers, _ = http("POST", f"{query.url}/servers", "{}")
            self.assertEqual(status, 307)
            self.assertTrue(headers["location"].endswith("/servers"), headers)


if __name__ == "__main__":
    unittest.main()
