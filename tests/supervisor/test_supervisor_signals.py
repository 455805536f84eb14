"""Stopping the supervisor: SIGTERM stops cleanly, SIGKILL leaves no orphan,
and either way a new supervisor starts at once on the same ports and finds the
data still in the segment.
"""
import json
import signal
import unittest

from appliance import TestSegment, http, poll
from supervised import Supervised, process_gone


class SupervisorSignals(unittest.TestCase):
    def stop_and_start_again(self, stop_signal, children_gone_within):
        """Posts a sample, stops the supervisor with stop_signal, checks every
        worker is gone in time, starts a new one on the same ports and reads the
        sample back. Returns the first supervisor's exit code."""
        with TestSegment() as segment:
            with Supervised(segment.name, segment.capacity, ingest_workers=2, query_workers=2) as first:
                first.wait_ready()
                status, _, _ = http("POST", first.ingest_url + "/server/kept", '{"cpu": 12.5, "ram": 40.25}')
                self.assertEqual(status, 204)
                pids = first.worker_pids()
                self.assertEqual(len(pids), 4, first.log())
                first.signal(stop_signal)
                gone = poll(lambda: all(process_gone(pid) for pid in pids), children_gone_within)
                self.assertTrue(gone, f"workers still running {children_gone_within} s after "
                                      f"{stop_signal.name}\n{first.log()}")
                exit_code = first.proc.wait(timeout=children_gone_within)
            with Supervised(segment.name, segment.capacity, ingest_port=first.ingest_port,
                            query_port=first.query_port) as second:
                second.wait_ready()
                status, _, body = http("GET", second.query_url + "/server/kept")
                self.assertEqual(status, 200, second.log())
                window = json.loads(body)["last_60_minutes"]
                self.assertIn(12.5, window["cpu"])
                self.assertIn(40.25, window["ram"])
        return exit_code

    def test_sigterm_stops_every_worker_and_exits_0(self):
        self.assertEqual(self.stop_and_start_again(signal.SIGTERM, children_gone_within=5), 0)

    def test_sigkill_takes_the_workers_down_too(self):
        self.assertEqual(self.stop_and_start_again(signal.SIGKILL, children_gone_within=2), -signal.SIGKILL)


if __name__ == "__main__":
    unittest.main()
