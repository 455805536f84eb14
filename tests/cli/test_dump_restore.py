"""shmtool dump / restore: an exact round trip, and refusal of any damaged,
foreign or mismatched snapshot without touching the segment."""

import json
import os
import struct
import tempfile
import time
import unittest

from appliance import TestSegment, Worker, post_sample, window_counts
from segment_bytes import (HOUR_SIZE, HOUR_SUM, HOURS, LOCK_OWNER, MINUTE_SIZE, MINUTES, SEQ, SegmentBytes, dead_pid,
                           minute_bucket)
from shmtool_test_base import NOW, Registered, ShmtoolTestCase, record, run_shmtool


# A dump of layout 4 (format 2) and the time it was made around (fixtures/README.md).
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "layout4_format2.snap")
FIXTURE_T = 1796558400


def fnv1a64(data):
    value = 0xcbf29ce484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return value


def reseal(data):
    """The file with its trailing checksum recomputed, as a careful forger would."""
    return data[:-8] + struct.pack("<Q", fnv1a64(data[:-8]))


class DumpRestoreTest(ShmtoolTestCase):
    def setUp(self):
        self.segment = TestSegment(capacity=32)
        self.name = self.segment.__enter__().name
        self.addCleanup(self.segment.__exit__, None, None, None)
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.file = os.path.join(directory.name, "servers.snap")
        samples = []
        for server in range(20):
            for step in range(0, 26 * 3600, 1237 + 31 * server):  # > 24 h: the rings wrap
                samples.append((f"srv_{server}", NOW - step, (server * 7 + step) % 101 / 3.0,
                                (step % 977) * 0.1))
        record(self.name, samples)
        self.original = self.buckets()

    def buckets(self):
        """{name: raw bytes of last sample time and both rings}."""
        with SegmentBytes(self.name) as segment:
            return {name: segment.data(index) for name, index in segment.slots().items()}

    def dump(self):
        result = run_shmtool("dump", self.file, "--segment", self.name)
        self.assertExit(result, 0)
        self.assertIn(f"dumped 20 servers of segment '{self.name}' to {self.file}", result.stdout)
        with open(self.file, "rb") as f:
            return f.read()

    def test_dump_remove_restore_round_trips_every_bucket_exactly(self):
        self.dump()
        shown = run_shmtool("show", "srv_3", "--segment", self.name, "--json", "--now", NOW).stdout
        self.assertExit(run_shmtool("remove", "--segment", self.name), 0)
        result = run_shmtool("restore", self.file, "--segment", self.name)
        self.assertExit(result, 0)
        self.assertIn(f"restored 20 servers from {self.file}", result.stdout)
        self.assertEqual(self.buckets(), self.original)
        self.assertEqual(run_shmtool("show", "srv_3", "--segment", self.name, "--json", "--now", NOW).stdout,
                         shown)
        info = json.loads(run_shmtool("info", "--segment", self.name, "--json").stdout)
        self.assertEqual((info["capacity"], info["used_slots"], info["mode"]), (32, 20, "0660"))
        self.assertExit(run_shmtool("check", "--segment", self.name), 0)
        self.assertEqual(os.listdir("/dev/shm").count(self.name), 1)
        self.assertFalse([n for n in os.listdir("/dev/shm") if n.startswith(self.name + ".restore")])

    def test_restore_into_another_capacity_keeps_every_bucket(self):
        self.dump()
        self.assertExit(run_shmtool("restore", self.file, "--segment", self.name, "--capacity", 64,
                                    "--force"), 0)
        self.assertEqual(self.buckets(), self.original)
        self.assertExit(run_shmtool("restore", self.file, "--segment", self.name, "--capacity", 10,
                                    "--force"), 64)

    def test_restore_refuses_an_existing_segment_unless_forced(self):
        self.dump()
        record(self.name, [("late_one", NOW, 1.0, 1.0)])
        refused = run_shmtool("restore", self.file, "--segment", self.name)
        self.assertExit(refused, 1)
        self.assertIn("exists", refused.stderr)
        self.assertIn("late_one", self.buckets())
        self.assertExit(run_shmtool("restore", self.file, "--segment", self.name, "--force"), 0)
        self.assertEqual(self.buckets(), self.original)

    def test_restore_refuses_to_replace_a_segment_with_live_workers(self):
        self.dump()
        worker = Registered(self.name, "ingest")
        try:
            refused = run_shmtool("restore", self.file, "--segment", self.name, "--force")
            self.assertExit(refused, 1)
            self.assertIn(f"ingest pid {worker.pid}", refused.stderr)
        finally:
            worker.stop()

    def test_damaged_or_foreign_snapshots_are_refused_and_nothing_is_restored(self):
        good = self.dump()
        self.assertExit(run_shmtool("remove", "--segment", self.name), 0)
        record_at = 80 + 5 * 5696  # format 4 records with 30 days
        damaged = {
            "a flipped bit": (good[:500] + bytes([good[500] ^ 1]) + good[501:], "checksum mismatch"),
            "a truncated file": (good[:-100], "checksum mismatch"),
            "an empty file": (b"", "not a shmtool snapshot"),
            "another format version": (good[:8] + struct.pack("<I", 9) + good[12:], "format version 9"),
            "a bad name, resealed": (reseal(good[:record_at + 9] + b"!" + good[record_at + 10:]),
                                     "record 5: its name is not"),
            "a future bucket, resealed": (
                reseal(good[:record_at + 272] + struct.pack("<I", 2**32 - 1) + good[record_at + 276:]),
                "record 5: server"),
            "a record count too large, resealed": (reseal(good[:24] + struct.pack("<Q", 21) + good[32:]),
                                                   "header says 21 records"),
        }
        for what, (data, reason) in damaged.items():
            with self.subTest(what=what):
                with open(self.file, "wb") as f:
                    f.write(data)
                result = run_shmtool("restore", self.file, "--segment", self.name)
                self.assertExit(result, 1)
                self.assertIn("refused, nothing restored", result.stderr)
                self.assertIn(reason, result.stderr)
                self.assertFalse([n for n in os.listdir("/dev/shm") if n.startswith(self.name)])

    def test_snapshots_of_formats_1_and_2_restore_each_count_into_both_metrics(self):
        # Format 2 as layout 4's shmtool wrote it (fixtures/README.md); format 1 (layouts 1
        # to 3) is the same but for 64-byte names and no retry marks.
        with open(FIXTURE, "rb") as f:
            format2 = f.read()
        header, records = format2[:64], format2[64:-8]
        format1 = [header[:8], struct.pack("<I", 1), header[12:52], struct.pack("<I", 2096), header[56:]]
        for at in range(0, len(records), 2384):
            record = records[at:at + 2384]
            self.assertEqual(record[8 + 64:8 + 256], bytes(192))  # these names fit in 64 bytes
            format1.append(record[:8 + 64] + record[264:2288])
        format1 = reseal(b"".join(format1) + bytes(8))
        for version, data in ((2, format2), (1, format1)):
            with self.subTest(format=version):
                self.assertExit(run_shmtool("remove", "--segment", self.name), 0)
                with open(self.file, "wb") as f:
                    f.write(data)
                restored = run_shmtool("restore", self.file, "--segment", self.name)
                self.assertExit(restored, 0)
                self.assertIn(f"restored 2 servers from {self.file}", restored.stdout)
                self.assertIn(f"snapshot format {version}", restored.stdout)
                self.assertIn("converted from the older format", restored.stdout)
                info = json.loads(run_shmtool("info", "--segment", self.name, "--json").stdout)
                self.assertEqual((info["layout_version"], info["days"], info["capacity"]), (5, 30, 8))
                shown = run_shmtool("show", "web-01", "--segment", self.name, "--now", FIXTURE_T + 10).stdout
                minutes, hours = shown.split("last 24 hours")
                self.assertRegex(minutes, r"2026-12-06 11:59:00 UTC\s+2\s+20\.00\s+20\.00\s+2\s+40\.00\s+40\.00")
                self.assertRegex(hours, r"2026-12-06 11:00:00 UTC\s+3\s+13\.67\s+13\.67\s+3\s+27\.33\s+27\.33")
                self.assertIn("(0 of 30 buckets of 86400 s have samples", hours)  # no days
                shown = run_shmtool("show", "db-2.example.com", "--segment", self.name, "--now", FIXTURE_T + 10)
                self.assertRegex(shown.stdout, r"2026-12-06 11:58:00 UTC\s+1\s+12\.04\s+12\.04\s+1\s+40\.00\s+40\.00")
                self.assertExit(run_shmtool("check", "--segment", self.name, "--now", FIXTURE_T + 10), 0)

    def test_restore_with_other_days_keeps_the_days_inside_the_new_window(self):
        self.dump()
        before = run_shmtool("show", "srv_3", "--segment", self.name, "--now", NOW).stdout
        self.assertExit(run_shmtool("restore", self.file, "--segment", self.name, "--days", 1, "--force"), 0)
        info = json.loads(run_shmtool("info", "--segment", self.name, "--json").stdout)
        self.assertEqual(info["days"], 1)
        after = run_shmtool("show", "srv_3", "--segment", self.name, "--now", NOW).stdout
        self.assertIn("last 1 days", after)
        today = [line for line in before.split("last 30 days")[1].splitlines() if line.startswith("  2026-11-28")]
        self.assertEqual(len(today), 1)
        self.assertIn(today[0], after)  # today's bucket, as it was
        self.assertEqual(before.split("last 24 hours")[0], after.split("last 24 hours")[0])

    def test_a_snapshot_dumped_by_an_older_segment_layout_restores(self):
        good = self.dump()
        for layout in (1, 2, 3):  # the layout a file names is only who wrote it
            with self.subTest(layout=layout):
                self.assertExit(run_shmtool("remove", "--segment", self.name), 0)
                with open(self.file, "wb") as f:
                    f.write(reseal(good[:12] + struct.pack("<I", layout) + good[16:]))
                self.assertExit(run_shmtool("restore", self.file, "--segment", self.name), 0)
                self.assertEqual(self.buckets(), self.original)

    def test_the_retry_marks_survive_dump_and_restore(self):
        now = int(time.time())
        with TestSegment(capacity=8) as segment:
            with Worker("ingest", segment) as ingest:
                self.assertEqual(post_sample(ingest, "agent-1.example.com", 10, 20, now - 90), 204)
            self.assertExit(run_shmtool("dump", self.file, "--segment", segment.name, "--force"), 0)
            self.assertExit(run_shmtool("remove", "--segment", segment.name), 0)
            self.assertExit(run_shmtool("restore", self.file, "--segment", segment.name), 0)
            with Worker("ingest", segment) as ingest, Worker("query", segment) as query:
                self.assertEqual(post_sample(ingest, "agent-1.example.com", 10, 20, now - 90), 204)  # a resend
                self.assertEqual(window_counts(query, "agent-1.example.com")[0], {(now - 90) // 60 * 60: 1})
                self.assertEqual(post_sample(ingest, "agent-1.example.com", 30, 40, now - 30), 204)
                self.assertEqual(sum(window_counts(query, "agent-1.example.com")[0].values()), 2)

    def test_dump_refuses_to_overwrite_unless_forced_and_a_slot_mid_write(self):
        first = self.dump()
        refused = run_shmtool("dump", self.file, "--segment", self.name)
        self.assertExit(refused, 1)
        self.assertIn("already exists", refused.stderr)
        record(self.name, [("srv_0", NOW, 1.0, 1.0)])
        self.assertExit(run_shmtool("dump", self.file, "--segment", self.name, "--force"), 0)
        with open(self.file, "rb") as f:
            self.assertNotEqual(f.read(), first)
        with SegmentBytes(self.name) as segment:
            base = segment.slot_offset(segment.slots()["srv_1"])
            segment.put(base + LOCK_OWNER, "<Q", dead_pid())
            segment.put(base + SEQ, "<I", 1)
        stuck = run_shmtool("dump", self.file + ".2", "--segment", self.name)
        self.assertExit(stuck, 3)
        self.assertIn("dumped 19 servers", stuck.stdout)
        self.assertIn("skipped server 'srv_1': it was left mid-write", stuck.stdout)
        self.assertIn("1 server of segment", stuck.stderr)
        self.assertTrue(os.path.exists(self.file + ".2"))
        # With --repair (the supervisor's checkpoints) the dead writer's half write is undone and srv_1 saved.
        repaired = run_shmtool("dump", self.file + ".3", "--segment", self.name, "--repair")
        self.assertExit(repaired, 0)
        self.assertIn("dumped 20 servers", repaired.stdout)
        self.assertIn("repaired server 'srv_1': its writer died mid-write", repaired.stdout)
        self.assertExit(run_shmtool("check", "--segment", self.name), 0)


FUTURE_MINUTE = int(time.time()) // 60 + 7  # dump checks against the real clock


class PartialDumpTest(ShmtoolTestCase):
    """One damaged server of 100 never stops the backup of the 99 others."""

    def setUp(self):
        self.segment = TestSegment(capacity=128)
        self.name = self.segment.__enter__().name
        self.addCleanup(self.segment.__exit__, None, None, None)
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.file = os.path.join(directory.name, "servers.snap")
        record(self.name, [(f"srv_{i}", NOW - step, i % 97 / 7.0, step % 13 * 0.5)
                           for i in range(100) for step in range(0, 25 * 3600, 1500 + 17 * i)])

    def buckets(self):
        with SegmentBytes(self.name) as segment:
            return {name: segment.data(index) for name, index in segment.slots().items()}

    def dump_restore_around(self, damage):
        """Damages srv_42 with damage(segment, slot offset), dumps, restores; checks the 99."""
        with SegmentBytes(self.name) as segment:
            damage(segment, segment.slot_offset(segment.slots()["srv_42"]))
        before = self.buckets()
        dumped = run_shmtool("dump", self.file, "--segment", self.name)
        self.assertExit(dumped, 3)
        self.assertIn("dumped 99 servers", dumped.stdout)
        self.assertIn("skipped server 'srv_42': ", dumped.stdout)
        self.assertExit(run_shmtool("restore", self.file, "--segment", self.name, "--force"), 0)
        del before["srv_42"]
        self.assertEqual(self.buckets(), before)
        return dumped.stdout

    def test_a_bucket_from_the_future_in_one_slot_of_100(self):
        said = self.dump_restore_around(lambda segment, base: segment.put(
            base + MINUTES + FUTURE_MINUTE % 60 * MINUTE_SIZE, *minute_bucket(FUTURE_MINUTE, 1, 5.0)))
        self.assertIn("is from the future", said)

    def test_a_non_finite_sum_in_one_slot_of_100(self):
        said = self.dump_restore_around(lambda segment, base: segment.put(
            base + HOURS + NOW // 3600 % 24 * HOUR_SIZE + HOUR_SUM, "<d", float("inf")))
        self.assertIn("non-finite cpu sum", said)

if __name__ == "__main__":
    unittest.main()
