"""What a new user meets besides the data: the dashboard's curl examples name the
ingest URL (no -L through the query port), a 404 names no fixed port numbers, a
trailing slash after a server name is redirected to the name, and a 413 on
POST /servers says how to split a batch."""

import unittest

from appliance import Worker, appliance, http, request_json


class GuidanceTest(unittest.TestCase):
    def test_dashboard_examples_post_to_the_ingest_url(self):
        with appliance() as (segment, ingest, _):
            with Worker("query", segment, args=("--sibling-url", ingest.url)) as query:
                status, _, page = http("GET", query.url + "/")
                self.assertEqual(status, 200)
                text = page.decode()
                self.assertIn(f"""curl -d '{{"cpu": 12.0, "ram": 40.1}}' {ingest.url}/server/web_1""", text)
                self.assertIn(f"{ingest.url}/servers</code>", text)
                self.assertNotIn("curl -L", text)
                self.assertNotIn("{{ingest_origin}}", text)

    def test_dashboard_examples_without_a_sibling_url_use_the_host_asked_and_the_ingest_default_port(self):
        with appliance() as (_, _ingest, query):
            status, _, page = http("GET", query.url + "/", headers={"Host": f"monitor.example:{query.port}"})
            self.assertEqual(status, 200)
            self.assertIn("http://monitor.example:8889/server/web_1", page.decode())

    def test_not_found_names_the_workers_not_fixed_ports(self):
        with appliance() as (_, ingest, query):
            for url in (query.url + "/nothing", ingest.url + "/nothing"):
                status, _, answer = request_json("POST" if url.startswith(ingest.url) else "GET", url, {})
                self.assertEqual(status, 404, url)
                self.assertNotIn("8888", answer["error"])
                self.assertNotIn("8889", answer["error"])
                self.assertIn("ingest worker's port", answer["error"])
                self.assertIn("query worker's port", answer["error"])

    def test_trailing_slash_after_a_name_is_redirected_to_the_name(self):
        with appliance() as (_, _ingest, query):
            status, headers, _ = http("GET", query.url + "/server/web_1/?counts=1")
            self.assertEqual(status, 301)
            self.assertEqual(headers["location"], "/server/web_1?counts=1")
            status, headers, _ = http("GET", query.url + "/server/web_1/")
            self.assertEqual((status, headers["location"]), (301, "/server/web_1"))
            status, _, answer = request_json("GET", query.url + "/server/web:1/")
            self.assertEqual(status, 400)
            self.assertIn("invalid server name", answer["error"])

    def test_too_large_batch_says_how_to_split_it(self):
        with appliance() as (_, ingest, _query):
            entries = {f"srv_{i}": {"cpu": 1, "ram": 1} for i in range(3000)}
            status, _, answer = request_json("POST", ingest.url + "/servers", entries)
            self.assertEqual(status, 413)
            self.assertIn("several POST /servers", answer["error"])


if __name__ == "__main__":
    unittest.main()
