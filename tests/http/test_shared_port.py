"""Two ingest processes share one port (SO_REUSEPORT): both receive traffic and
nothing acknowledged is lost. A worker of another segment is refused that port
(http/port_claim.h)."""

import re
import unittest

from appliance import TestSegment, Worker, free_port, get_server, http, recent_minutes

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
                self.assertEqual(recent_minutes(document, "cpu"), [i])
                self.assertEqual(document["last_60_minutes"]["ram"][-1], i / 4)

    def test_a_worker_of_another_segment_is_refused_the_port(self):
        port = free_port()
        with TestSegment() as first_segment, TestSegment() as other_segment, \
                Worker("ingest", first_segment, port=port) as first:
            with self.assertRaises(RuntimeError) as refused:
                Worker("ingest", other_segment, port=port).kill()
            message = str(refused.exception)
            self.assertIn("exited with 1", message)
            self.assertIn(f"port {port} is already served by the workers of segment '{first_segment.name}'",
                          message)
            # The first appliance keeps every request.
            for i in range(20):
                self.assertEqual(http("POST", f"{first.url}/server/s{i}", '{"cpu": 1, "ram": 2}')[0], 204)
            # Once the port's workers are gone, another segment may claim it.
            first.stop()
            with Worker("ingest", other_segment, port=port) as second:
                self.assertEqual(http("POST", f"{second.url}/server/s0", '{"cpu": 1, "ram": 2}')[0], 204)


if __name__ == "__main__":
    unittest.main()
