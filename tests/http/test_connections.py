"""1,000 concurrent keep-alive clients are all served: 1,000 real sockets stay
open, each sends requests round after round, and once every client has been
answered once (the worker has accepted them all), no request waits more than a
second for its answer. With cpp-httplib's defaults (~8 threads, one per live
connection) most clients would never be answered while the others stay open."""

import selectors
import socket
import time
import unittest

from appliance import appliance, http
from raw_client import raise_file_limit, statuses_in

CONNECTIONS = 1000
ROUNDS = 3
MAX_WAIT_SECONDS = 1.0


def run_rounds(test, port, request):
    """Opens CONNECTIONS sockets, runs 1 + ROUNDS rounds of one request on each;
    returns the longest wait of the timed rounds (after the first) per round and
    every status seen."""
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=10)
               for _ in range(CONNECTIONS)]
    selector = selectors.DefaultSelector()
    try:
        for index, sock in enumerate(sockets):
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, index)
        longest, statuses = [0.0] * (1 + ROUNDS), set()
        for round_index in range(1 + ROUNDS):
            sent_at, received = [0.0] * CONNECTIONS, [b""] * CONNECTIONS
            pending = set(range(CONNECTIONS))
            for index, sock in enumerate(sockets):
                sent_at[index] = time.monotonic()
                sock.sendall(request)
            deadline = time.monotonic() + 30
            while pending and time.monotonic() < deadline:
                for key, _ in selector.select(timeout=1):
                    index = key.data
                    chunk = key.fileobj.recv(65536)
                    test.assertTrue(chunk, f"connection {index} closed by the worker")
                    received[index] += chunk
                    complete = statuses_in(received[index])
                    if complete and index in pending:
                        pending.discard(index)
                        statuses.add(complete[0])
                        longest[round_index] = max(longest[round_index],
                                                   time.monotonic() - sent_at[index])
            test.assertFalse(pending, f"{len(pending)} connections got no answer in 30 s")
        return longest[1:], statuses
    finally:
        selector.close()
        for sock in sockets:
            sock.close()


class ConnectionsTest(unittest.TestCase):
    def setUp(self):
        raise_file_limit(CONNECTIONS + 256)

    def test_query_worker_serves_1000_keepalive_clients(self):
        with appliance() as (_, ingest, query):
            self.assertEqual(http("POST", f"{ingest.url}/server/many", '{"cpu":1,"ram":2}')[0], 204)
            longest, statuses = run_rounds(
                self, query.port, b"GET /server/many HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(statuses, {200})
            self.assertLess(max(longest), MAX_WAIT_SECONDS, longest)

    def test_ingest_worker_serves_1000_keepalive_clients(self):
        with appliance() as (_, ingest, query):
            body = b'{"cpu": 4, "ram": 8}'
            longest, statuses = run_rounds(
                self, ingest.port,
                b"POST /server/many HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                % (len(body), body))
            self.assertEqual(statuses, {204})
            self.assertLess(max(longest), MAX_WAIT_SECONDS, longest)
            status, _, document = http("GET", f"{query.url}/server/many")
            self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main()
