"""Two ingest processes share one port (SO_REUSEPORT): both receive traffic and
nothing acknowledged is lost."""

import re
import unittest

from appliance import TestSegment, Worker, free_port, get_server, http

SAMPLES = 300


class SharedPortTest(unittest.TestCase):
    def test_two_ingest_workers_on_one_port(self):
        port = free_port()
        with TestSegment() as segment, \
                Worker("ingest", segment, port=port) as first, \
                Worker("ingest", segment, port=port) as second, \
                Worker("query", segment) as query:
            answered_by = {first.pid: 0, second.pid: 0}
            for i in range(SAMPLES):  # a new connection each time
                status, headers, body = http("POST", f"{first.url}/server/s{i}",
                                             f'{{"cpu": {i}, "ram": {i / 4}}}')
                self.assertEqual(status, 204, body)
                pid = int(re.search(r"pid (\d+)", headers["server"]).group(1))
                answered_by[pid] += 1
            self.assertGreater(answered_by[first.pid], 0, answered_by)
            self.assertGreater(answered_by[second.pid], 0, answered_by)
            for i in range(SAMPLES):
                status, document = get_server(query, f"s{i}")
                self.assertEqual(status, 200)
                self.assertEqual(document["last_60_minutes"]["cpu"][-1], i)
                self.assertEqual(document["last_60_minutes"]["ram"][-1], i / 4)


if __name__ == "__main__":
    unittest.main()
