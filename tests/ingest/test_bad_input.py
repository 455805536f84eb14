"""The bad-input matrix: each bad request gets its 4xx, the JSON error body, and
records nothing (a later GET of that name still 404s)."""

import socket
import time
import unittest

from appliance import appliance, assert_json_error, http

BIG = '{"cpu": 1, "ram": 2, "pad": "' + "x" * (64 * 1024) + '"}'

# (label, name as sent in the URL, body, expected status)
BAD_BODIES = [
    ("malformed JSON", "n1", '{"cpu": 1, "ram": }', 400),
    ("truncated JSON", "n2", '{"cpu": 1, "ram": 2', 400),
    ("trailing brace", "n3", '{"cpu": 1, "ram": 2}}', 400),
    ("second document", "n4", '{"cpu": 1, "ram": 2} {"cpu": 1, "ram": 2}', 400),
    ("trailing word", "n5", '{"cpu": 1, "ram": 2} x', 400),
    ("number body", "n7", '12', 400),
    ("string body", "n8", '"cpu"', 400),
    ("null body", "n9", 'null', 400),
    ("neither metric, a time", "n10", '{"time": %d}' % time.time(), 400),
    ("neither metric, other members", "n11", '{"host": "web-01", "disk": 12}', 400),
    ("empty object", "n12", '{}', 400),
    ("duplicate cpu", "n13", '{"cpu": 1, "ram": 2, "cpu": 3}', 400),
    ("cpu as string", "n14", '{"cpu": "12", "ram": 2}', 400),
    ("ram as boolean", "n15", '{"cpu": 1, "ram": true}', 400),
    ("cpu null", "n16", '{"cpu": null, "ram": 2}', 400),
    ("cpu array", "n17", '{"cpu": [1], "ram": 2}', 400),
    ("cpu object", "n18", '{"cpu": {"v": 1}, "ram": 2}', 400),
    ("NaN literal", "n19", '{"cpu": NaN, "ram": 2}', 400),
    ("Infinity literal", "n20", '{"cpu": 1, "ram": Infinity}', 400),
    ("negative cpu", "n21", '{"cpu": -0.5, "ram": 2}', 400),
    ("negative ram", "n22", '{"cpu": 1, "ram": -1}', 400),
    ("1e400", "n23", '{"cpu": 1e400, "ram": 2}', 400),
    ("empty body", "n24", '', 400),
    ("whitespace body", "n25", '  \n', 400),
    ("broken unknown member", "n26", '{"cpu": 1, "ram": 2, "x": tru}', 400),
    ("invalid UTF-8", "n27", b'{"cpu": 1, "ram": 2, "x": "\xff"}', 400),
    ("body over 64 KiB", "n28", BIG, 413),
]

# Valid body, bad name: (label, path after /server/, name that must stay unknown)
GOOD_BODY = '{"cpu": 1, "ram": 2}'
BAD_NAMES = [
    ("leading dash", "-ab", "a_b"),
    ("leading dot", ".ab", "a_b"),
    ("slash", "a/b", "a"),
    ("encoded slash", "a%2Fb", "a"),
    ("space", "a%20b", "a"),
    ("non-ASCII", "%C3%A9t%C3%A9", "t"),
    ("254 characters", "x" * 254, "x" * 253),
    ("empty name", "", "x"),
]


def answer_head(port, path, header, chunks):
    """POSTs with one extra header line and the body chunks on a raw socket;
    returns the first bytes of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as conn:
        conn.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n" % (path, header))
        try:
            for chunk in chunks:
                conn.sendall(chunk)
        except OSError:
            pass  # the worker may answer and stop reading first
        return conn.recv(4096)


class BadInputTest(unittest.TestCase):
    def test_bad_bodies(self):
        with appliance() as (_, ingest, query):
            for label, name, body, expected in BAD_BODIES:
                with self.subTest(label):
                    assert_json_error(self, *http("POST", f"{ingest.url}/server/{name}", body),
                                      expected)
                    assert_json_error(self, *http("GET", f"{query.url}/server/{name}"), 404)

    def test_bad_names(self):
        with appliance() as (_, ingest, query):
            for label, path, unknown in BAD_NAMES:
                with self.subTest(label):
                    assert_json_error(self, *http("POST", f"{ingest.url}/server/{path}",
                                                  GOOD_BODY), 400)
                    assert_json_error(self, *http("GET", f"{query.url}/server/{unknown}"), 404)

    def test_oversized_chunked_body_is_413_and_nothing_recorded(self):
        chunk = b'{"cpu": 1, "ram": 2, "p": "' + b"x" * 8000
        with appliance() as (_, ingest, query):
            head = answer_head(ingest.port, b"/server/chunky", b"Transfer-Encoding: chunked",
                               [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 20)  # 160 KB
            self.assertTrue(head.startswith(b"HTTP/1.1 413 "), head[:80])
            assert_json_error(self, *http("GET", f"{query.url}/server/chunky"), 404)

    def test_huge_declared_length_is_413_without_sending_the_body(self):
        # cpp-httplib drains a declared body it refuses, until the read timeout.
        with appliance() as (_, ingest, _):
            head = answer_head(ingest.port, b"/server/big", b"Content-Length: 100000000", [])
            self.assertTrue(head.startswith(b"HTTP/1.1 413 "), head[:80])

    def test_the_worker_still_works_after_the_matrix(self):
        with appliance() as (_, ingest, query):
            for label, name, body, _ in BAD_BODIES:
                http("POST", f"{ingest.url}/server/{name}", body)
            self.assertEqual(http("POST", f"{ingest.url}/server/ok", GOOD_BODY)[0], 204)
            self.assertEqual(http("GET", f"{query.url}/server/ok")[0], 200)


if __name__ == "__main__":
    unittest.main()
