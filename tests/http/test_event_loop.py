"""The workers' event loop (http/event_loop.h) against real clients on raw
sockets: 10,000 idle connections cost the well-behaved client nothing,
pipelined requests are answered in order, HTTP/1.0 and Connection: close end
the connection, 100-continue is answered before the body, chunked bodies are
served, and clients that never finish a request are answered 408 and dropped
within the request deadline (10 s) plus generous margins."""

import select
import socket
import time
import unittest

from appliance import appliance, get_server, http, recent_minutes
from raw_client import post, raise_file_limit, read_responses, read_until_closed

IDLE_CONNECTIONS = 10_000
BODY = b'{"cpu": 1.5, "ram": 2.5}'
DROP_WITHIN_SECONDS = 20  # request deadline 10 s + the loop's 1 s sweep + margin


class EventLoopTest(unittest.TestCase):
    def test_pipelined_requests_are_answered_in_order(self):
        with appliance() as (_, ingest, query):
            with socket.create_connection(("127.0.0.1", ingest.port)) as conn:
                conn.sendall(post(b"p1", BODY) + post(b"p2", BODY) + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                             + post(b"bad/name", BODY) + post(b"p3", BODY))
                self.assertEqual(read_responses(conn, 5), [204, 204, 200, 400, 204])
            for name in ("p1", "p2", "p3"):
                self.assertEqual(get_server(query, name)[0], 200)

    def test_http_1_0_and_connection_close_end_the_connection(self):
        with appliance() as (_, ingest, _):
            for request in (post(b"old", BODY, version=b"HTTP/1.0"),
                            post(b"closing", BODY, extra_headers=b"Connection: close\r\n")):
                with socket.create_connection(("127.0.0.1", ingest.port)) as conn:
                    conn.sendall(request)
                    answer = read_until_closed(conn, timeout=10)
                    self.assertTrue(answer.startswith(b"HTTP/1.1 204 "), answer[:80])

    def test_expect_100_continue_is_answered_before_the_body(self):
        with appliance() as (_, ingest, query):
            with socket.create_connection(("127.0.0.1", ingest.port), timeout=10) as conn:
                conn.sendall(b"POST /server/cont HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(BODY))
                self.assertEqual(conn.recv(4096), b"HTTP/1.1 100 Continue\r\n\r\n")
                conn.sendall(BODY)
                self.assertEqual(read_responses(conn, 1), [204])
            self.assertEqual(get_server(query, "cont")[0], 200)

    def test_chunked_body_is_served(self):
        with appliance() as (_, ingest, query):
            with socket.create_connection(("127.0.0.1", ingest.port), timeout=10) as conn:
                conn.sendall(b"POST /server/chunked HTTP/1.1\r\nHost: x\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n"
                             b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (5, BODY[:5], len(BODY) - 5, BODY[5:]))
                self.assertEqual(read_responses(conn, 1), [204])
            status, document = get_server(query, "chunked")
            self.assertEqual(status, 200)
            self.assertEqual(recent_minutes(document, "cpu"), [1.5])

    def test_huge_header_is_431_and_closed(self):
        with appliance() as (_, ingest, _):
            with socket.create_connection(("127.0.0.1", ingest.port), timeout=10) as conn:
                try:
                    conn.sendall(b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\n\r\n")
                except OSError:
                    pass  # the worker answers and closes before reading it all
                answer = read_until_closed(conn, timeout=10)
                self.assertTrue(answer.startswith(b"HTTP/1.1 431 "), answer[:80])

    def test_clients_that_never_finish_are_dropped_with_408(self):
        with appliance() as (_, ingest, query):
            slowloris = socket.create_connection(("127.0.0.1", ingest.port))
            short_body = socket.create_connection(("127.0.0.1", ingest.port))
            slowloris.sendall(b"POST /server/slow HTTP/1.1\r\n")
            short_body.sendall(b"POST /server/short HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
            started = time.monotonic()
            # Trickle a header byte every half second until the worker answers;
            # the deadline counts from the request's first byte, so trickling
            # does not extend it.
            while time.monotonic() - started < DROP_WITHIN_SECONDS:
                if select.select([slowloris], [], [], 0.5)[0]:
                    break
                slowloris.send(b"X")
                self.assertEqual(http("GET", f"{ingest.url}/healthz")[0], 200)
            for conn in (slowloris, short_body):
                with conn:
                    answer = read_until_closed(conn, timeout=DROP_WITHIN_SECONDS)
                    self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), answer[:80])
            self.assertLess(time.monotonic() - started, DROP_WITHIN_SECONDS + 5)
            self.assertEqual(get_server(query, "short")[0], 404)

    def test_10000_idle_connections_and_the_well_behaved_client_is_served(self):
        limit = raise_file_limit(IDLE_CONNECTIONS + 512)
        if limit < IDLE_CONNECTIONS + 512:
            self.skipTest(f"RLIMIT_NOFILE limit {limit} is below {IDLE_CONNECTIONS + 512}")
        with appliance() as (_, ingest, query):
            idle = []
            try:
                for _ in range(IDLE_CONNECTIONS):
                    idle.append(socket.create_connection(("127.0.0.1", ingest.port), timeout=10))
                for i in range(50):
                    status, _, body = http("POST", f"{ingest.url}/server/good", BODY, timeout=5)
                    self.assertEqual(status, 204, body)
                self.assertEqual(get_server(query, "good")[0], 200)
                # Every idle connection is still open and served when it speaks.
                for conn in idle[::500]:
                    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                    self.assertEqual(read_responses(conn, 1), [200])
            finally:
                for conn in idle:
                    conn.close()

    def test_sigterm_closes_idle_connections_and_exits_0(self):
        with appliance() as (_, ingest, _):
            idle = socket.create_connection(("127.0.0.1", ingest.port))
            served = socket.create_connection(("127.0.0.1", ingest.port))
            served.sendall(post(b"last", BODY))
            self.assertEqual(read_responses(served, 1), [204])
            started = time.monotonic()
            self.assertEqual(ingest.stop(timeout=10), 0)
            self.assertLess(time.monotonic() - started, 5)
            with idle, served:
                self.assertEqual(read_until_closed(idle, timeout=5), b"")
                self.assertEqual(read_until_closed(served, timeout=5), b"")

if __name__ == "__main__":
    unittest.main()
