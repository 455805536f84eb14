"""Every status code and body of the HTTP contract (docs/design.md), one test each."""

import json
import time
import unittest

from appliance import TestSegment, Worker, appliance, assert_json_error, get_server, http, post_sample, request_json


class ContractTest(unittest.TestCase):
    def test_post_answers_204_with_no_body_and_get_shows_the_sample(self):
        with appliance() as (_, ingest, query):
            status, _, body = http("POST", f"{ingest.url}/server/web_01",
                                   '{"cpu": 12.04, "ram": 46.3}')
            self.assertEqual((status, body), (204, b""))
            status, headers, raw = http("GET", f"{query.url}/server/web_01")
            self.assertEqual(status, 200)
            self.assertEqual(headers["content-type"], "application/json")
            document = json.loads(raw)
            self.assertEqual(list(document), ["last_60_minutes", "last_24_hours", "last_30_days"])
            minutes, hours, days = document["last_60_minutes"], document["last_24_hours"], document["last_30_days"]
            self.assertEqual(minutes["step"], 60)
            self.assertEqual(hours["step"], 3600)
            self.assertEqual(days["step"], 86400)
            for window, length in ((minutes, 60), (hours, 24), (days, 30)):
                self.assertEqual(list(window), ["start", "step", "cpu", "ram"])
                self.assertEqual(len(window["cpu"]), length)
                self.assertEqual(len(window["ram"]), length)
                self.assertEqual(window["cpu"][-1], 12.04)
                self.assertEqual(window["ram"][-1], 46.3)
                self.assertEqual(window["cpu"][:-1], [None] * (length - 1))
                self.assertEqual(window["ram"][:-1], [None] * (length - 1))
            now = int(time.time())
            # The last bucket is the current minute (hour), so start is 59 (23) steps back.
            self.assertIn(minutes["start"], {now // 60 * 60 - 59 * 60, (now // 60 - 1) * 60 - 59 * 60})
            self.assertIn(hours["start"], {now // 3600 * 3600 - 23 * 3600,
                                           (now // 3600 - 1) * 3600 - 23 * 3600})
            self.assertIn(days["start"], {now // 86400 * 86400 - 29 * 86400,
                                          (now // 86400 - 1) * 86400 - 29 * 86400})

    def test_each_metric_is_null_where_it_has_no_sample(self):
        with appliance() as (_, ingest, query):
            self.assertEqual(http("POST", f"{ingest.url}/server/cpu_only", '{"cpu": 12.5}')[0], 204)
            self.assertEqual(http("POST", f"{ingest.url}/server/ram_only", '{"ram": 40}')[0], 204)
            _, cpu_only = get_server(query, "cpu_only")
            _, ram_only = get_server(query, "ram_only")
            for window in ("last_60_minutes", "last_24_hours", "last_30_days"):
                with self.subTest(window=window):
                    self.assertEqual((cpu_only[window]["cpu"][-1], cpu_only[window]["ram"][-1]), (12.5, None))
                    self.assertEqual((ram_only[window]["cpu"][-1], ram_only[window]["ram"][-1]), (None, 40))

    def test_peaks_and_counts_add_arrays_per_metric(self):
        with appliance() as (_, ingest, query):
            hour = (int(time.time()) // 3600 - 1) * 3600  # the previous hour, all in the past
            for sample in ({"cpu": 10, "ram": 1, "time": hour + 60}, {"cpu": 30, "time": hour + 120}):
                self.assertEqual(request_json("POST", f"{ingest.url}/server/p", sample)[0], 204)
            keys = {"": ["start", "step", "cpu", "ram"],
                    "?peaks=1": ["start", "step", "cpu", "ram", "cpu_max", "ram_max"],
                    "?counts=1": ["start", "step", "cpu", "ram", "cpu_count", "ram_count", "count"],
                    "?counts=1&peaks=1": ["start", "step", "cpu", "ram", "cpu_max", "ram_max",
                                          "cpu_count", "ram_count", "count"]}
            for params, expected in keys.items():
                with self.subTest(params=params):
                    status, _, document = request_json("GET", f"{query.url}/server/p{params}")
                    self.assertEqual(status, 200)
                    for window, length in (("last_60_minutes", 60), ("last_24_hours", 24), ("last_30_days", 30)):
                        self.assertEqual(list(document[window]), expected, window)
                        for key in expected[2:]:
                            self.assertEqual(len(document[window][key]), length, key)
            _, _, document = request_json("GET", f"{query.url}/server/p?counts=1&peaks=1")
            hours = document["last_24_hours"]
            index = (hour - hours["start"]) // 3600
            self.assertEqual({key: hours[key][index] for key in list(hours)[2:]},
                             {"cpu": 20, "ram": 1, "cpu_max": 30, "ram_max": 1,
                              "cpu_count": 2, "ram_count": 1, "count": 2})

    def test_bad_peaks_values_are_400(self):
        with appliance() as (_, ingest, query):
            self.assertEqual(http("POST", f"{ingest.url}/server/p", '{"cpu": 1}')[0], 204)
            for value in ("2", "true", "", "1&peaks=0"):
                with self.subTest(value=value):
                    status, headers, body = http("GET", f"{query.url}/server/p?peaks={value}")
                    assert_json_error(self, status, headers, body, 400)
                    self.assertIn("peaks must be 1", body.decode())

    def test_doubles_print_as_the_shortest_text_that_reads_back_the_same(self):
        with appliance() as (_, ingest, query):
            self.assertEqual(post_sample(ingest, "a", 0.1, 1e-300), 204)
            self.assertEqual(post_sample(ingest, "a", 0.2, 12345.6789), 204)
            _, _, raw = http("GET", f"{query.url}/server/a")
            text = raw.decode()
            self.assertIn(repr((0.1 + 0.2) / 2), text)  # 0.15000000000000002
            self.assertIn(repr((1e-300 + 12345.6789) / 2), text)  # 6172.83945
            self.assertNotIn("nan", text)
            self.assertNotIn("inf", text)

    def test_integers_are_accepted_and_unknown_members_ignored(self):
        with appliance() as (_, ingest, query):
            status, _, _ = http("POST", f"{ingest.url}/server/b",
                                '{"host": "x", "cpu": 3, "ram": 0, "tags": [1, {"a": null}]}')
            self.assertEqual(status, 204)
            _, document = get_server(query, "b")
            self.assertEqual(document["last_60_minutes"]["cpu"][-1], 3)
            self.assertEqual(document["last_60_minutes"]["ram"][-1], 0)

    def test_content_type_is_ignored(self):
        with appliance() as (_, ingest, query):
            status, _, _ = http("POST", f"{ingest.url}/server/c", '{"cpu": 1, "ram": 2}',
                                {"Content-Type": "application/x-www-form-urlencoded"})
            self.assertEqual(status, 204)
            self.assertEqual(get_server(query, "c")[0], 200)

    def test_names_are_case_sensitive(self):
        with appliance() as (_, ingest, query):
            self.assertEqual(post_sample(ingest, "Web", 1, 2), 204)
            self.assertEqual(get_server(query, "Web")[0], 200)
            assert_json_error(self, *http("GET", f"{query.url}/server/web"), 404)

    def test_unknown_name_is_404_with_json_error(self):
        for days, silence in ((30, "silent for 30 days"), (0, "silent for 24 hours")):
            with self.subTest(days=days), appliance(days=days) as (_, _, query):
                status, headers, body = http("GET", f"{query.url}/server/never_seen")
                assert_json_error(self, status, headers, body, 404)
                self.assertIn(silence, json.loads(body)["error"])

    def test_invalid_name_on_get_is_400(self):
        with appliance() as (_, _, query):
            for name in (".ab", "-ab", "x" * 254, "", "a%2Fb", "%C3%A9", "a:b"):
                with self.subTest(name=name):
                    assert_json_error(self, *http("GET", f"{query.url}/server/{name}"), 400)

    def test_full_table_is_507_and_existing_names_keep_working(self):
        with TestSegment(capacity=2) as segment, Worker("ingest", segment) as ingest:
            self.assertEqual(post_sample(ingest, "one", 1, 1), 204)
            self.assertEqual(post_sample(ingest, "two", 1, 1), 204)
            assert_json_error(self, *http("POST", f"{ingest.url}/server/three",
                                          '{"cpu": 1, "ram": 1}'), 507)
            self.assertEqual(post_sample(ingest, "one", 2, 2), 204)
            self.assertEqual(post_sample(ingest, "two", 2, 2), 204)

    def test_wrong_port_is_307_to_the_sibling_default_port_on_the_same_host(self):
        with appliance() as (_, ingest, query):
            status, headers, _ = http("GET", f"{ingest.url}/server/a?x=1")
            self.assertEqual(status, 307)
            self.assertEqual(headers["location"], "http://127.0.0.1:8888/server/a?x=1")
            status, headers, _ = http("POST", f"{query.url}/server/a", '{"cpu": 1, "ram": 1}')
            self.assertEqual(status, 307)
            self.assertEqual(headers["location"], "http://127.0.0.1:8889/server/a")

    def test_healthz_on_both_workers(self):
        with appliance() as (segment, ingest, query):
            for worker in (ingest, query):
                status, headers, body = http("GET", f"{worker.url}/healthz")
                self.assertEqual(status, 200)
                self.assertEqual(headers["content-type"], "application/json")
                document = json.loads(body)
                self.assertEqual(document["pid"], worker.pid)
                self.assertEqual(document["segment"], segment.name)

    def test_home_page_explains_the_api(self):
        with appliance() as (_, _, query):
            status, headers, body = http("GET", f"{query.url}/")
            self.assertEqual(status, 200)
            self.assertTrue(headers["content-type"].startswith("text/html"))
            self.assertIn(b"curl", body)
            self.assertIn(b"/server/", body)

    def test_unknown_path_and_method_get_json_errors(self):
        with appliance() as (_, ingest, query):
            assert_json_error(self, *http("GET", f"{query.url}/nothing/here"), 404)
            assert_json_error(self, *http("POST", f"{ingest.url}/nothing", "{}"), 404)
            assert_json_error(self, *http("DELETE", f"{query.url}/server/a"), 405)
            assert_json_error(self, *http("PUT", f"{ingest.url}/server/a"), 405)
            # The workers run on ephemeral ports: the 404 must not name the default ones.
            _, _, document = request_json("GET", f"{query.url}/nothing/here")
            self.assertNotRegex(document["error"], "8888|8889")

    def test_sigterm_exits_0_within_5_seconds(self):
        with appliance() as (_, ingest, query):
            for worker in (ingest, query):
                started = time.monotonic()
                self.assertEqual(worker.stop(timeout=10), 0)
                self.assertLess(time.monotonic() - started, 5)


if __name__ == "__main__":
    unittest.main()
