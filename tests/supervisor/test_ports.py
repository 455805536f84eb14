"""Ports and starts that say what is wrong (README: Restarts and the log; the port
claims under Where the data lives): a second appliance started on ports another
one holds stops at once, non-zero, naming the holder's segment and pid, and never
prints the "running" banner; a worker that cannot have its port (its claim stuck)
stops the supervisor with an error instead of being restarted forever."""
import fcntl
import os
import unittest

from appliance import TestSegment, free_port
from supervised import Supervised


def claim_path(port):
    return f"/dev/shm/servertrack-port-{port}.lock"


class Ports(unittest.TestCase):
    def segment(self):
        """A fresh segment, removed after the supervisors of the test are gone."""
        segment = TestSegment().__enter__()
        self.addCleanup(segment.__exit__, None, None, None)
        return segment

    def test_a_second_appliance_on_held_ports_stops_naming_the_holder(self):
        first_segment, second_segment = self.segment(), self.segment()
        first = Supervised(first_segment.name, None)
        self.addCleanup(first.__exit__)
        first.wait_ready()
        second = Supervised(second_segment.name, None, ingest_port=first.ingest_port, query_port=first.query_port)
        self.addCleanup(second.__exit__)
        self.assertEqual(second.proc.wait(timeout=20), 2, second.log())
        holder = first.current_pid("ingest#1")
        self.assertIn(f"port {first.ingest_port} is held by the workers of segment '{first_segment.name}' "
                      f"(pid {holder}", second.log())
        self.assertNotIn("ServerTrack is running", second.log())
        self.assertEqual(second.worker_pids(), set(), "it started workers on another appliance's ports")
        self.assertIsNone(first.proc.poll())

    def test_a_worker_that_cannot_claim_its_port_stops_the_supervisor(self):
        segment = self.segment()
        port = free_port()
        with open(claim_path(port), "w") as held:
            self.addCleanup(os.unlink, claim_path(port))
            held.write(segment.name)  # its own segment's claim, held exclusively: a claimer stopped mid-way
            held.flush()
            fcntl.flock(held, fcntl.LOCK_EX)
            supervised = Supervised(segment.name, None, ingest_port=port)
            self.addCleanup(supervised.__exit__)
            self.assertEqual(supervised.proc.wait(timeout=30), 1, supervised.log())
        log = supervised.log()
        self.assertIn(f"waiting for the claim of port {port}", log)
        self.assertIn(f"gave up claiming port {port} after 5 s", log)
        self.assertIn("not restarting it", log)
        self.assertIn("stopping: a worker could not claim its port", log)
        self.assertEqual(log.count("ingest#1 started"), 1, log)
        self.assertNotIn("restarted", log)
        self.assertNotIn("ServerTrack is running", log)


if __name__ == "__main__":
    unittest.main()
