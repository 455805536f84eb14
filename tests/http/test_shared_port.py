"""Two ingest processes share one port (SO_REUSEPORT): both receive traffic and
nothing acknowledged is lost. A worker of another segment is refused that port
(common/port_claim.h, exit 69); a claim held exclusively is waited for, said at
once, and given up after a bound; the claim file is 0644, the worker's user's,
and removed with the port's last worker or by `shmtool remove`."""

import fcntl
import os
import re
import signal
import stat
import subprocess
import time
import unittest

from appliance import TestSegment, Worker, build_path, free_port, get_server, http, recent_minutes, shmtool


def claim_path(port):
    return f"/dev/shm/servertrack-port-{port}.lock"

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
            self.assertIn("exited with 69", message)
            self.assertIn(f"port {port} is already served by the workers of segment '{first_segment.name}'",
                          message)
            # The first appliance keeps every request.
            for i in range(20):
                self.assertEqual(http("POST", f"{first.url}/server/s{i}", '{"cpu": 1, "ram": 2}')[0], 204)
            # Once the port's workers are gone, another segment may claim it.
            first.stop()
            with Worker("ingest", other_segment, port=port) as second:
                self.assertEqual(http("POST", f"{second.url}/server/s0", '{"cpu": 1, "ram": 2}')[0], 204)

    def test_the_claim_file_is_the_users_0644_and_goes_with_the_ports_last_worker(self):
        port = free_port()
        with TestSegment() as segment:
            first = Worker("ingest", segment, port=port)
            second = Worker("ingest", segment, port=port)
            try:
                status = os.stat(claim_path(port))
                self.assertEqual(stat.S_IMODE(status.st_mode), 0o644)
                self.assertEqual(status.st_uid, os.getuid())
                self.assertEqual(first.stop(), 0)
                self.assertTrue(os.path.exists(claim_path(port)), "removed while a worker still serves the port")
                self.assertEqual(second.stop(), 0)
                self.assertFalse(os.path.exists(claim_path(port)), "left behind by the port's last worker")
            finally:
                first.__exit__(None, None, None)
                second.__exit__(None, None, None)

    def test_shmtool_remove_removes_the_claims_a_killed_appliance_left(self):
        port = free_port()
        with TestSegment() as segment:
            worker = Worker("ingest", segment, port=port)
            worker.__exit__(None, None, None)  # SIGKILL: no chance to remove its claim
            self.assertTrue(os.path.exists(claim_path(port)))
            removed = shmtool("remove", "--segment", segment.name)
            self.assertIn(f"removed its port claim {claim_path(port)}", removed.stdout)
            self.assertFalse(os.path.exists(claim_path(port)))
            shmtool("create", "--segment", segment.name, "--capacity", "64")  # for TestSegment's own removal

    def test_a_claim_held_exclusively_is_waited_for_said_at_once_and_given_up(self):
        port = free_port()
        with TestSegment() as segment, open(claim_path(port), "a+") as held:
            self.addCleanup(os.unlink, claim_path(port))
            fcntl.flock(held, fcntl.LOCK_EX)  # as a claimer stopped mid-claim would hold it
            proc = subprocess.Popen([build_path("ingest/servertrack-ingest"), "--bind", "127.0.0.1",
                                     "--port", str(port), "--segment", segment.name],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    text=True)
            try:
                first_line = proc.stderr.readline()
                said = time.monotonic()
                self.assertIn(f"waiting for the claim of port {port}", first_line)
                self.assertIn("giving up after 5 s", first_line)
                self.assertEqual(proc.wait(timeout=30), 69)
                # Said when the wait began, not when it ended (a loaded host may start the worker slowly).
                self.assertGreaterEqual(time.monotonic() - said, 4)
                rest = proc.stderr.read()
                self.assertIn(f"gave up claiming port {port} after 5 s", rest)
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                proc.stderr.close()


if __name__ == "__main__":
    unittest.main()
