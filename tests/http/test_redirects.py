"""307 both ways, followed by real clients (curl -L and a method-preserving
follower), gives the same result as the direct call."""

import json
import shutil
import subprocess
import unittest
import urllib.parse

from appliance import TestSegment, Worker, free_port, http, recent_minutes


def follow(method, url, body=None, hops=5):
    """Like a browser for 307: repeats the same method and body at Location."""
    for _ in range(hops):
        status, headers, payload = http(method, url, body)
        if status != 307:
            return status, payload
        url = urllib.parse.urljoin(url, headers["location"])
    raise AssertionError(f"more than {hops} redirects")


class RedirectTest(unittest.TestCase):
    def setUp(self):
        ingest_port, query_port = free_port(), free_port()
        segment = TestSegment()
        self.enterContext(segment)
        self.ingest = self.enterContext(Worker(
            "ingest", segment, port=ingest_port,
            args=("--sibling-url", f"http://127.0.0.1:{query_port}")))
        self.query = self.enterContext(Worker(
            "query", segment, port=query_port,
            args=("--sibling-url", f"http://127.0.0.1:{ingest_port}/")))

    def assert_same_as_direct(self, name, redirected):
        before = http("GET", f"{self.query.url}/server/{name}")[2]
        after = http("GET", f"{self.query.url}/server/{name}")[2]
        self.assertIn(json.loads(redirected), (json.loads(before), json.loads(after)))

    def test_follower_posts_through_the_query_port_and_reads_through_the_ingest_port(self):
        status, _ = follow("POST", f"{self.query.url}/server/r1", '{"cpu": 5, "ram": 6}')
        self.assertEqual(status, 204)
        status, body = follow("GET", f"{self.ingest.url}/server/r1")
        self.assertEqual(status, 200)
        self.assert_same_as_direct("r1", body)
        self.assertEqual(recent_minutes(json.loads(body), "cpu"), [5])

    def test_errors_are_the_same_through_the_redirect(self):
        direct = http("POST", f"{self.ingest.url}/server/r2", '{"cpu": -1, "ram": 6}')
        redirected = follow("POST", f"{self.query.url}/server/r2", '{"cpu": -1, "ram": 6}')
        self.assertEqual(redirected, (direct[0], direct[2]))
        self.assertEqual(follow("GET", f"{self.ingest.url}/server/r2"),
                         (404, http("GET", f"{self.query.url}/server/r2")[2]))

    @unittest.skipUnless(shutil.which("curl"), "curl is not installed")
    def test_curl_follows_both_ways(self):
        def curl(*args):
            result = subprocess.run(["curl", "-sS", "-L", "-w", "\n%{http_code}", *args],
                                    capture_output=True, text=True, timeout=30, check=True)
            body, _, code = result.stdout.rpartition("\n")
            return int(code), body
        self.assertEqual(curl("-d", '{"cpu": 1.5, "ram": 2.5}', f"{self.query.url}/server/r3"),
                         (204, ""))
        status, body = curl(f"{self.ingest.url}/server/r3")
        self.assertEqual(status, 200)
        self.assert_same_as_direct("r3", body)


if __name__ == "__main__":
    unittest.main()
