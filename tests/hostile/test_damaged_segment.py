"""A slot damaged by random bytes or impossible values: the
real query and ingest workers keep answering within a bounded time and never
crash, other servers are unaffected, and `shmtool check` reports the damage.

Damage is planted through tests/cli/segment_bytes.py (offsets of shm/layout.h)
into the slot of "victim", with both workers running, one fresh segment per case.
"""

import json
import math
import os
import random
import sys
import time
import unittest

from appliance import TestSegment, Worker, http, shmtool

sys.path.insert(0, os.path.join(os.environ.get("SERVERTRACK_SOURCE_DIR", ""), "tests", "cli"))
import segment_bytes as layout  # noqa: E402
from segment_bytes import SegmentBytes  # noqa: E402

ANSWER_BOUND = 10  # seconds; a sound answer takes milliseconds
SAMPLE = '{"cpu": 5, "ram": 6}'
FUTURE_INDEX = 0xFFFFFFF0


def random_bytes(seed):
    return lambda seg, base: seg.map.__setitem__(
        slice(base, base + seg.slot_size()), random.Random(seed).randbytes(seg.slot_size()))


def random_data(seed):
    """Everything but state, name and hash: the slot is still found by name."""
    def damage(seg, base):
        noise = random.Random(seed).randbytes(seg.slot_size())
        seg.map[base + layout.SEQ:base + layout.NAME_LENGTH] = noise[layout.SEQ:layout.NAME_LENGTH]
        seg.map[base + layout.LAST_SAMPLE:base + layout.NAME] = noise[layout.LAST_SAMPLE:layout.NAME]
        seg.map[base + layout.JOURNAL:base + seg.slot_size()] = noise[layout.JOURNAL:]
    return damage


def every_bucket(minute, hour):
    """Writes (format, *values) `minute` into every minute bucket, `hour` into every hour bucket."""
    def damage(seg, base):
        for ring, count, size, (fmt, *values) in ((layout.MINUTES, layout.MINUTE_BUCKETS, layout.MINUTE_SIZE, minute),
                                                  (layout.HOURS, layout.HOUR_BUCKETS, layout.HOUR_SIZE, hour)):
            for position in range(count):
                seg.put(base + ring + position * size, fmt, *values)
    return damage


# name -> (damage(segment, slot offset), what `shmtool check` must mention)
DAMAGE = {
    **{f"random_slot_seed_{seed}": (random_bytes(seed), "slot") for seed in (1, 2, 3)},
    **{f"random_data_seed_{seed}": (random_data(seed), "victim") for seed in (1, 2, 3)},
    "odd_seq_free_lock": (lambda seg, base: (seg.put(base + layout.LOCK_OWNER, "<Q", 0),
                                             seg.put(base + layout.SEQ, "<I", 7)), "sequence word 7 is odd"),
    "lock_word_all_ones": (lambda seg, base: seg.put(base + layout.LOCK_OWNER, "<Q", 0xFFFFFFFF), "lock word"),
    "name_length_1000": (lambda seg, base: seg.put(base + layout.NAME_LENGTH, "<I", 1000), "name length 1000"),
    "state_7": (lambda seg, base: seg.put(base + layout.STATE, "<I", 7), "state 7"),
    "future_buckets": (every_bucket(("<I", FUTURE_INDEX), ("<I", FUTURE_INDEX)), "from the future"),
    "nan_sums": (every_bucket(layout.minute_bucket(0, 1, math.nan), layout.hour_bucket(0, 1, math.nan)),
                 "non-finite cpu sum"),
}


class DamagedSegmentTest(unittest.TestCase):
    def answer_within_bound(self, method, url, body=None):
        started = time.monotonic()
        status, _, payload = http(method, url, body, timeout=ANSWER_BOUND)
        self.assertLess(time.monotonic() - started, ANSWER_BOUND)
        return status, payload

    def run_case(self, damage, expected_report):
        with TestSegment(capacity=16) as segment, Worker("ingest", segment) as ingest, \
                Worker("query", segment) as query:
            for name in ("victim", "bystander"):
                self.assertEqual(http("POST", f"{ingest.url}/server/{name}", SAMPLE)[0], 204)
            with SegmentBytes(segment.name) as seg:
                damage(seg, seg.slot_offset(seg.slots()["victim"]))
            check = shmtool("check", "--segment", segment.name, check=False)
            self.assertEqual(check.returncode, 1, check.stdout + check.stderr)
            self.assertIn(expected_report, check.stdout)
            for _ in range(3):  # read and write the damaged slot, again after each write
                status, payload = self.answer_within_bound("GET", f"{query.url}/server/victim")
                self.assertIn(status, (200, 404, 503), payload)
                if status == 200:
                    json.loads(payload)  # valid JSON, whatever the slot held
                status, payload = self.answer_within_bound("POST", f"{ingest.url}/server/victim", SAMPLE)
                self.assertLess(status, 500, payload)
            self.assertEqual(self.answer_within_bound("GET", f"{query.url}/server/bystander")[0], 200)
            self.assertEqual(self.answer_within_bound("POST", f"{ingest.url}/server/bystander", SAMPLE)[0], 204)
            for worker in (ingest, query):
                self.assertIsNone(worker.proc.poll(), f"{worker.kind} died: {worker.stderr_text()[-2000:]}")

    def test_each_damage(self):
        for case, (damage, expected_report) in DAMAGE.items():
            with self.subTest(case):
                self.run_case(damage, expected_report)


if __name__ == "__main__":
    unittest.main()
