"""The restart policy: the Backoff rule itself, then a real crash-looping worker.

The crash loop runs the real supervisor on a temporary --build-dir whose ingest
binary is the fixture `exit_at_once_worker` (exits with status 3 at once) and
whose query binary and shmtool are the real ones, so the test also shows that a
crash-looping worker leaves the other one running and answering.
"""
import os
import shutil
import tempfile
import time
import unittest

from appliance import TestSegment, build_path, poll, status_or_error
from servertrack.supervise import Backoff
from supervised import Supervised

EXPECTED_DELAYS = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]


class BackoffRule(unittest.TestCase):
    def test_doubles_from_100_ms_up_to_5_s(self):
        backoff = Backoff()
        self.assertEqual([backoff.next_delay(uptime=0.01) for _ in EXPECTED_DELAYS], EXPECTED_DELAYS)

    def test_30_s_of_health_starts_again_at_100_ms(self):
        backoff = Backoff()
        for _ in range(5):
            backoff.next_delay(uptime=1.0)
        self.assertEqual(backoff.next_delay(uptime=29.9), 3.2)
        self.assertEqual(backoff.next_delay(uptime=30.0), 0.1)
        self.assertEqual(backoff.next_delay(uptime=0.5), 0.2)


def crash_looping_build_dir(directory):
    """A --build-dir whose ingest binary is the exit_at_once_worker fixture."""
    fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exit_at_once_worker")
    for part in ("ingest", "query", "cli", "alert"):
        os.mkdir(os.path.join(directory, part))
    stand_in = os.path.join(directory, "ingest", "servertrack-ingest")
    shutil.copy(fixture, stand_in)
    os.chmod(stand_in, 0o755)
    for part in ("query/servertrack-query", "cli/shmtool", "alert/servertrack-alert"):
        os.symlink(build_path(part), os.path.join(directory, part))
    return directory


class CrashLoop(unittest.TestCase):
    def test_crash_looping_worker_backs_off_and_the_other_keeps_serving(self):
        with tempfile.TemporaryDirectory() as directory, TestSegment() as segment, \
                Supervised(segment.name, segment.capacity,
                           build_dir=crash_looping_build_dir(directory)) as supervised:
            query_healthz = supervised.query_url + "/healthz"
            self.assertTrue(poll(lambda: status_or_error("GET", query_healthz) == 200, 15),
                            supervised.log())
            exits_wanted = len(EXPECTED_DELAYS)
            deadline = time.monotonic() + sum(EXPECTED_DELAYS) + 15
            query_pid = None
            while time.monotonic() < deadline:
                exits = [e for e in supervised.events() if e.worker == "ingest#1" and e.kind == "exited"]
                if len(exits) >= exits_wanted:
                    break
                self.assertEqual(status_or_error("GET", query_healthz), 200)
                query_pid = query_pid or supervised.current_pid("query#1")
                time.sleep(0.05)

            events = [e for e in supervised.events() if e.worker == "ingest#1"]
            exits = [e for e in events if e.kind == "exited"]
            starts = [e for e in events if e.kind == "started"]
            self.assertGreaterEqual(len(exits), exits_wanted, supervised.log())
            self.assertEqual([e.delay for e in exits[:exits_wanted]], EXPECTED_DELAYS)
            self.assertTrue(all(e.how == "exited with status 3" for e in exits), supervised.log())
            self.assertEqual(len({e.pid for e in starts}), len(starts), "every restart has a new pid")
            for exit_event, delay, restart in zip(exits, EXPECTED_DELAYS, starts[1:]):
                waited = restart.time - exit_event.time
                self.assertGreaterEqual(waited, delay - 0.05, supervised.log())
                self.assertLessEqual(waited, delay + 0.75, supervised.log())

            self.assertIsNotNone(query_pid)
            self.assertEqual(supervised.current_pid("query#1"), query_pid)
            self.assertFalse(any(e.worker == "query#1" and e.kind == "exited"
                                 for e in supervised.events()), supervised.log())


if __name__ == "__main__":
    unittest.main()
