"""GET /metrics on both workers: valid Prometheus text format 0.0.4 (parsed by
Debian's python3-prometheus-client), and the values move as requests, samples
and rejections happen."""

import json
import socket
import time
import unittest

from prometheus_client.parser import text_string_to_metric_families

from appliance import appliance, http, post_batch


def scrape(worker):
    """-> {(sample name, frozenset(labels)): value}, after checking the headers."""
    status, headers, body = http("GET", worker.url + "/metrics")
    assert status == 200, body
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8", headers
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


class MetricsTest(unittest.TestCase):
    def test_both_workers_expose_their_own_counts(self):
        started = time.time()
        with appliance(capacity=8) as (_, ingest, query):
            before_ingest, before_query = scrape(ingest), scrape(query)
            for worker, samples in ((ingest, before_ingest), (query, before_query)):
                self.assertEqual(value(samples, "servertrack_segment_capacity_slots"), 8)
                self.assertEqual(value(samples, "servertrack_segment_used_slots"), 0)
                self.assertEqual(value(samples, "servertrack_segment_lock_takeovers_total"), 0)
                self.assertTrue(started - 2 <= value(samples, "process_start_time_seconds") <= time.time())

            for i in range(3):
                self.assertEqual(http("POST", f"{ingest.url}/server/host_{i}", '{"cpu": 1, "ram": 2}')[0], 204)
            self.assertEqual(http("POST", f"{ingest.url}/server/bad-name", '{"cpu": 1, "ram": 2}')[0], 400)
            self.assertEqual(http("POST", f"{ingest.url}/server/host_0", '{"cpu": -1, "ram": 2}')[0], 400)
            self.assertEqual(http("POST", f"{ingest.url}/server/host_0", "not json")[0], 400)
            self.assertEqual(post_batch(ingest, {"b_1": {"cpu": 1, "ram": 1}, "b_2": {"cpu": "x", "ram": 1}})[0], 200)
            for name in ("host_0", "host_1", "nobody"):
                http("GET", f"{query.url}/server/{name}")

            after_ingest, after_query = scrape(ingest), scrape(query)
            moved = lambda name, **labels: value(after_ingest, name, **labels) - value(before_ingest, name, **labels)
            self.assertEqual(moved("servertrack_samples_recorded_total"), 4)
            self.assertEqual(moved("servertrack_samples_rejected_total", reason="invalid_name"), 1)
            self.assertEqual(moved("servertrack_samples_rejected_total", reason="invalid_value"), 2)
            self.assertEqual(moved("servertrack_samples_rejected_total", reason="invalid_json"), 1)
            self.assertEqual(moved("servertrack_http_requests_total", route="/server/<name>", status="204"), 3)
            self.assertEqual(moved("servertrack_http_requests_total", route="/server/<name>", status="400"), 3)
            self.assertEqual(moved("servertrack_http_requests_total", route="/servers", status="200"), 1)
            self.assertEqual(moved("servertrack_http_request_duration_seconds_count", route="/server/<name>"), 6)
            self.assertEqual(value(after_ingest, "servertrack_segment_used_slots"), 4)
            self.assertEqual(value(after_query, "servertrack_segment_used_slots"), 4)

            # The query worker counted its own requests, not the ingest worker's.
            self.assertEqual(value(after_query, "servertrack_samples_recorded_total"), 0)
            self.assertEqual(value(after_query, "servertrack_http_requests_total", route="/server/<name>", status="200"), 2)
            self.assertEqual(value(after_query, "servertrack_http_requests_total", route="/server/<name>", status="404"), 1)
            self.assertEqual(value(after_query, "servertrack_http_requests_total", route="/metrics", status="200"), 1)
            histogram = [(float(dict(labels)["le"]), v) for (name, labels), v in after_query.items()
                         if name == "servertrack_http_request_duration_seconds_bucket"
                         and dict(labels)["route"] == "/server/<name>"]
            histogram.sort()
            self.assertEqual(histogram[-1], (float("inf"), 3))
            self.assertEqual([v for _, v in histogram], sorted(v for _, v in histogram))

    def test_requests_answered_before_any_route_are_counted_and_timed_where_they_can_be(self):
        with appliance(capacity=8) as (_, ingest, _query):
            before = scrape(ingest)
            self.assertEqual(http("GET", ingest.url + "/healthz")[0], 200)
            self.assertEqual(http("POST", ingest.url + "/nowhere", "{}")[0], 404)
            # Headers over 16 KiB: refused by the connection layer while framing.
            host, port = ingest.url.removeprefix("http://").rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=5) as raw:
                raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
                self.assertTrue(raw.recv(4096).startswith(b"HTTP/1.1 431 "))
            after = scrape(ingest)
            moved = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)
            self.assertEqual(moved("servertrack_http_requests_total", route="/healthz", status="200"), 1)
            self.assertEqual(moved("servertrack_http_request_duration_seconds_count", route="/healthz"), 1)
            self.assertEqual(moved("servertrack_http_requests_total", route="other", status="404"), 1)
            self.assertEqual(moved("servertrack_http_request_duration_seconds_count", route="other"), 1)
            self.assertEqual(moved("servertrack_http_requests_total", route="connection", status="431"), 1)
            self.assertEqual(moved("servertrack_http_request_duration_seconds_count", route="connection"), 0)

    def test_table_full_is_counted(self):
        with appliance(capacity=1) as (_, ingest, _query):
            status, answer = post_batch(ingest, {"a": {"cpu": 1, "ram": 1}, "b": {"cpu": 1, "ram": 1}})
            self.assertEqual((status, answer["recorded"]), (200, 1), json.dumps(answer))
            self.assertEqual(value(scrape(ingest), "servertrack_samples_rejected_total", reason="table_full"), 1)


if __name__ == "__main__":
    unittest.main()
