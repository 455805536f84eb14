"""Delta checkpoints with the real supervisor, workers and shmtool (README:
Where the data lives): a power cut with a chain of a full checkpoint and its
deltas brings back everything acknowledged before the last completed delta; a
torn last delta and a bit-flipped middle one end the chain before them, said
in the log; a clean stop writes a final delta that restores exactly; a full
checkpoint comes once the deltas add up to half of one, and every
--full-checkpoint-every; rotation keeps the two newest chains whole.

A "reboot" is what it leaves behind: no processes and no /dev/shm segment, the
data dir as it was.
"""
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from appliance import TestSegment, poll, shmtool
from supervised import SCRIPT, BUILD_DIR, Supervised
from test_checkpoints import SERVERS, buckets, checkpoints, post_round, remove_segment

HEADER = 80  # snapshot format 4 (cli/snapshot_file.h)


def records(path):
    """{name: record bytes} of a full format 4 snapshot, and its (capacity, created, mode, days)."""
    with open(path, "rb") as f:
        data = f.read()
    capacity, count, created = struct.unpack_from("<QQq", data, 16)
    mode, size, days = struct.unpack_from("<III", data, 48)
    found = {}
    for i in range(count):
        record = data[HEADER + i * size:HEADER + (i + 1) * size]
        found[record[8:8 + struct.unpack_from("<I", record)[0]].decode()] = record
    return found, (capacity, created, mode, days)


class DeltaCheckpoints(unittest.TestCase):
    def setUp(self):
        self.data = tempfile.TemporaryDirectory(prefix="servertrack-deltas-")
        self.addCleanup(self.data.cleanup)
        self.segment = TestSegment(capacity=1024).__enter__()
        self.addCleanup(self.segment.__exit__, None, None, None)

    def start(self, *args):
        supervised = Supervised(self.segment.name, None, data_dir=self.data.name, extra_args=args)
        self.addCleanup(supervised.__exit__)
        supervised.wait_ready()
        return supervised

    def files(self, suffix):
        return sorted(os.path.join(self.data.name, n) for n in os.listdir(self.data.name)
                      if n.startswith(self.segment.name + "-") and n.endswith(suffix))

    def checkpoint_now(self):
        """`servertrack checkpoint`, as the Debian package's prerm runs it; its log."""
        result = subprocess.run([sys.executable, SCRIPT, "checkpoint", "--segment", self.segment.name,
                                 "--data-dir", self.data.name, "--build-dir", BUILD_DIR],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result.stdout + result.stderr

    def state(self, url):
        return {name: buckets(url, name) for name in SERVERS}

    def test_power_cut_with_a_chain_loses_nothing_acknowledged_before_the_last_delta(self):
        first = self.start("--checkpoint-interval", "0.3", "--full-checkpoint-every", "1000")
        post_round(first.ingest_url, SERVERS, 10.0)
        done = checkpoints(self.data.name, self.segment.name)
        self.assertTrue(poll(lambda: checkpoints(self.data.name, self.segment.name) >= done + 1, 20), first.log())
        for value in (20.0, 30.0):
            post_round(first.ingest_url, SERVERS[:4], value)
        acknowledged = self.state(first.query_url)
        # The second checkpoint completed from now on (a delta) began after every sample above.
        done = checkpoints(self.data.name, self.segment.name)
        self.assertTrue(poll(lambda: checkpoints(self.data.name, self.segment.name) >= done + 2, 20), first.log())
        post_round(first.ingest_url, ["cp_after_the_checkpoint"], 99.0)
        first.power_cut()
        remove_segment(self.segment.name)
        self.assertTrue(self.files(".delta.snap"), os.listdir(self.data.name))

        second = self.start("--checkpoint-interval", "0.3")
        self.assertRegex(second.log(), r"restored 40 servers from \S+ and \d+ deltas? up to \S+\.delta\.snap")
        self.assertEqual(self.state(second.query_url), acknowledged)

    def test_a_torn_last_delta_or_a_flipped_middle_one_ends_the_chain_before_it(self):
        first = self.start("--checkpoint-interval", "0")  # only checkpoint_now() writes them
        post_round(first.ingest_url, SERVERS, 1.0)
        self.checkpoint_now()
        states = []
        for step in range(3):
            post_round(first.ingest_url, SERVERS[5 * step:5 * step + 5], 2.0 + step)
            states.append(self.state(first.query_url))
            self.assertIn("dumped a delta of 5 changed servers (of 40)", self.checkpoint_now())
        first.power_cut()
        remove_segment(self.segment.name)
        d1, d2, d3 = self.files(".delta.snap")
        with open(d3, "r+b") as f:
            f.truncate(os.path.getsize(d3) - 50)

        second = self.start("--checkpoint-interval", "0")
        self.assertIn(f"and 2 deltas up to {d2}", second.log())
        self.assertIn(f"the chain stopped at delta {d3}, set aside as {d3}.unloadable: checksum mismatch",
                      second.log())
        self.assertEqual(self.state(second.query_url), states[1])
        second.power_cut()
        remove_segment(self.segment.name)
        with open(d2, "r+b") as f:
            f.seek(HEADER + 400)
            byte = f.read(1)
            f.seek(HEADER + 400)
            f.write(bytes([byte[0] ^ 0x10]))

        third = self.start("--checkpoint-interval", "0")
        self.assertIn(f"and 1 delta up to {d1}", third.log())
        self.assertIn(f"the chain stopped at delta {d2}, set aside as {d2}.unloadable: checksum mismatch",
                      third.log())
        self.assertEqual(self.state(third.query_url), states[0])

    def test_a_clean_stop_writes_a_final_delta_that_restores_exactly(self):
        first = self.start("--checkpoint-interval", "0.3", "--full-checkpoint-every", "1000")
        post_round(first.ingest_url, SERVERS, 4.0)
        done = checkpoints(self.data.name, self.segment.name)
        self.assertTrue(poll(lambda: checkpoints(self.data.name, self.segment.name) >= done + 1, 20), first.log())
        post_round(first.ingest_url, SERVERS[7:9] + ["cp_new"], 6.0)
        first.signal(signal.SIGTERM)
        self.assertEqual(first.proc.wait(timeout=30), 0, first.log())
        self.assertRegex(first.log(), r"checkpoint at stop: dumped a delta of \d+ changed servers \(of 41\)")
        reference = os.path.join(self.data.name, "reference")
        shmtool("dump", "--segment", self.segment.name, reference)
        remove_segment(self.segment.name)

        self.start("--checkpoint-interval", "0")
        restored = os.path.join(self.data.name, "restored")
        shmtool("dump", "--segment", self.segment.name, restored)
        self.assertEqual(records(restored), records(reference))
        self.assertEqual(len(records(restored)[0]), 41)

    def test_a_delta_never_follows_a_checkpoint_gone_from_the_data_dir(self):
        first = self.start("--checkpoint-interval", "0")  # only checkpoint_now() writes them
        post_round(first.ingest_url, SERVERS, 1.0)
        self.checkpoint_now()
        post_round(first.ingest_url, SERVERS[:2], 2.0)
        self.assertIn("dumped a delta of 2 changed servers", self.checkpoint_now())
        os.unlink(self.files(".delta.snap")[0])  # the checkpoint the markers describe, removed by hand
        post_round(first.ingest_url, SERVERS[:1], 3.0)
        acknowledged = self.state(first.query_url)
        self.assertIn("on request: dumped 40 servers", self.checkpoint_now())  # a full one
        first.power_cut()
        remove_segment(self.segment.name)
        second = self.start("--checkpoint-interval", "0")
        self.assertEqual(self.state(second.query_url), acknowledged)

    def test_a_full_checkpoint_comes_once_the_deltas_add_up_to_half_of_one(self):
        first = self.start("--checkpoint-interval", "0.2", "--full-checkpoint-every", "1000")
        value = 1.0
        while checkpoints(self.data.name, self.segment.name) < 6:  # every server changes between two
            post_round(first.ingest_url, SERVERS, value)
            value += 1
            self.assertLess(value, 2000, first.log())
        fulls = [f for f in self.files(".snap") if not f.endswith(".delta.snap")]
        self.assertGreaterEqual(len(fulls), 2, os.listdir(self.data.name))

    def test_full_checkpoint_every_bounds_a_chain_and_rotation_keeps_two_chains(self):
        first = self.start("--checkpoint-interval", "0.1", "--full-checkpoint-every", "3")
        post_round(first.ingest_url, SERVERS, 1.0)
        deadline = time.monotonic() + 90
        while checkpoints(self.data.name, self.segment.name) < 12:
            post_round(first.ingest_url, SERVERS[:1], 2.0)  # a delta stays small
            time.sleep(0.05)
            self.assertLess(time.monotonic(), deadline, first.log())
        first.signal(signal.SIGTERM)
        self.assertEqual(first.proc.wait(timeout=30), 0, first.log())
        fulls = [f for f in self.files(".snap") if not f.endswith(".delta.snap")]
        self.assertEqual(len(fulls), 2, os.listdir(self.data.name))
        deltas = self.files(".delta.snap")
        # Each kept full checkpoint with the deltas after it (the older chain whole), at most two each.
        self.assertLessEqual(len(deltas), 4, os.listdir(self.data.name))
        self.assertEqual(len([d for d in deltas if fulls[0] < d < fulls[1]]), 2, os.listdir(self.data.name))
        self.assertTrue(all(d > fulls[0] for d in deltas), os.listdir(self.data.name))


if __name__ == "__main__":
    unittest.main()
