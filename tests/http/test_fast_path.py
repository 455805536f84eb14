"""The fast path (http/fast_path.h) answers exactly as cpp-httplib does.

Each request is sent twice, each time on a new connection to a real worker: as it is, which
the fast path serves, and with one header the routes ignore but the fast path
declines ("X-Note: 100%": cpp-httplib decodes %XX in header values), which
cpp-httplib serves. The two responses must be the same bytes, and the worker's
fast-path counter must have counted exactly the plain ones.
"""

import re
import socket
import unittest

from appliance import appliance, http

GENERAL = "X-Note: 100%\r\n"


def read_response(sock, pending=b""):
    """One whole response (Content-Length framed) and the bytes after it."""
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed mid-response: {pending!r}")
        pending += chunk
    head, _, rest = pending.partition(b"\r\n\r\n")
    length = int(re.search(rb"\r\nContent-Length: (\d+)\r\n", head + b"\r\n").group(1))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed mid-body")
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def fast_path_count(worker):
    _, _, body = http("GET", worker.url + "/metrics")
    return int(re.search(rb"\nservertrack_http_fast_path_requests_total (\d+)\n", body).group(1))


def request(method, name, body="", extra=""):
    length = f"Content-Length: {len(body)}\r\n" if method == "POST" else ""
    return f"{method} /server/{name} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}{length}\r\n{body}".encode()


class FastPathTest(unittest.TestCase):
    def both_ways(self, worker, method, name, body="", extra=""):
        """(fast answer, general answer) of one request, each on its own
        connection, and the counter's increase."""
        before = fast_path_count(worker)
        answers = []
        for headers in (extra, extra + GENERAL):
            with socket.create_connection(("127.0.0.1", worker.port), timeout=5) as sock:
                sock.sendall(request(method, name, body, headers))
                answer, rest = read_response(sock)
                self.assertEqual(rest, b"")
                answers.append(answer)
        return answers[0], answers[1], fast_path_count(worker) - before

    def test_posts_answer_alike_on_both_paths(self):
        with appliance() as (_, ingest, _query):
            for body, status in (('{"cpu": 12.5, "ram": 40.1}', b"204"),
                                 ('{"cpu": 12.5', b"400"),
                                 ('{"cpu": -1, "ram": 40.1}', b"400"),
                                 ('{"cpu": 1, "ram": 2, "time": 1}', b"400"),
                                 ('"text"', b"400"),
                                 ('[1, 2]', b"200"),
                                 ('[{"cpu": 12.5, "ram": 40.1}, {"cpu": 1}]', b"200")):
                for extra in ("", "Connection: close\r\n"):
                    with self.subTest(body=body, extra=extra):
                        fast, general, counted = self.both_ways(ingest, "POST", "web-01", body, extra)
                        self.assertTrue(fast.startswith(b"HTTP/1.1 " + status), fast)
                        self.assertEqual(fast, general)
                        self.assertEqual(counted, 1)

    def test_gets_answer_alike_on_both_paths(self):
        with appliance() as (_, ingest, query):
            self.assertEqual(http("POST", ingest.url + "/server/db-2", '{"cpu": 1, "ram": 2}')[0], 204)
            for name, status, extra in (("db-2", b"200", ""), ("nobody", b"404", ""),
                                        ("nobody", b"404", "Connection: close\r\n")):
                with self.subTest(name=name, extra=extra):
                    for _ in range(3):  # a minute boundary between the two moves "start"
                        fast, general, counted = self.both_ways(query, "GET", name, extra=extra)
                        if fast == general:
                            break
                    self.assertTrue(fast.startswith(b"HTTP/1.1 " + status), fast)
                    self.assertEqual(fast, general)
                    self.assertEqual(counted, 1)

    def test_a_token_is_checked_on_the_fast_path(self):
        with appliance(ingest_args=("--ingest-token", "s3cret")) as (_, ingest, _query):
            before = fast_path_count(ingest)
            with socket.create_connection(("127.0.0.1", ingest.port), timeout=5) as sock:
                body = '{"cpu": 1, "ram": 2}'
                sock.sendall(request("POST", "a", body, "Authorization: Bearer s3cret\r\n"))
                accepted, rest = read_response(sock)
                sock.sendall(request("POST", "a", body, "Authorization: Bearer wrong\r\n"))
                refused, rest = read_response(sock, rest)
            self.assertTrue(accepted.startswith(b"HTTP/1.1 204"), accepted)
            self.assertTrue(refused.startswith(b"HTTP/1.1 401"), refused)
            self.assertIn(b"\r\nWWW-Authenticate: Bearer\r\n", refused)
            self.assertEqual(fast_path_count(ingest) - before, 1)

    def test_pipelined_requests_of_both_paths_are_answered_in_order(self):
        with appliance() as (_, ingest, _query):
            names = [f"p{i}" for i in range(6)]
            batch = b"".join(request("POST", name, f'{{"cpu": {i}, "ram": 1}}', GENERAL if i % 2 else "")
                             for i, name in enumerate(names))
            batch += request("POST", "p.last", '{"cpu": 1', "Connection: close\r\n")
            with socket.create_connection(("127.0.0.1", ingest.port), timeout=5) as sock:
                sock.sendall(batch)
                rest = b""
                for _ in names:
                    answer, rest = read_response(sock, rest)
                    self.assertTrue(answer.startswith(b"HTTP/1.1 204"), answer)
                last, rest = read_response(sock, rest)
                self.assertTrue(last.startswith(b"HTTP/1.1 400"), last)
                self.assertIn(b"\r\nConnection: close\r\n", last)
                self.assertEqual(rest + sock.recv(100), b"")  # then the worker closes


if __name__ == "__main__":
    unittest.main()
