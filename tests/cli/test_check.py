"""shmtool check: passes a clean segment and finds each kind of planted
corruption, one line per problem, without changing the segment."""

import signal
import struct
import subprocess
import unittest

from appliance import TestSegment, build_path
from segment_bytes import (LOCK_OWNER, MINUTES, NAME, SEQ, STATE, USED_SLOTS_OFFSET, MINUTE_FORMAT, MINUTE_SIZE,
                           minute_bucket,
                           SegmentBytes, dead_pid, lock_word)
from shmtool_test_base import NOW, Registered, ShmtoolTestCase, record, run_shmtool


class CheckTest(ShmtoolTestCase):
    def setUp(self):
        self.segment = TestSegment(capacity=8)
        self.name = self.segment.__enter__().name
        self.addCleanup(self.segment.__exit__, None, None, None)
        record(self.name, [("web01", NOW - 10, 10.0, 20.0), ("web01", NOW - 90, 30.0, 40.0),
                           ("db_1", NOW - 4000, 1.0, 2.0)])
        with SegmentBytes(self.name) as segment:
            self.web01 = segment.slots()["web01"]
            self.base = segment.slot_offset(self.web01)

    def check(self):
        """Runs check; returns its problem lines after asserting the exit code and that
        check changed nothing."""
        with SegmentBytes(self.name) as segment:
            before = bytes(segment.map)
        result = run_shmtool("check", "--segment", self.name, "--now", NOW)
        with SegmentBytes(self.name) as segment:
            self.assertEqual(bytes(segment.map), before, "check changed the segment")
        lines = [line for line in result.stdout.splitlines() if not line.startswith("note: ")]  # no problems
        if result.returncode == 0:
            self.assertEqual(lines, [f"segment '{self.name}' is sound: 8 slots, 2 servers checked"])
            return []
        self.assertExit(result, 1)
        self.assertIn(f"{len(lines)} problem", result.stderr)
        return lines

    def plant(self, offset, fmt, *values):
        with SegmentBytes(self.name) as segment:
            segment.put(offset, fmt, *values)

    def assertProblems(self, lines, prefix, *phrases):
        self.assertTrue(lines, "check found nothing")
        for line in lines:
            self.assertTrue(line.startswith(prefix), line)
        for phrase in phrases:
            self.assertTrue(any(phrase in line for line in lines), f"no line says {phrase!r}: {lines}")

    def test_a_clean_segment_passes(self):
        self.assertEqual(self.check(), [])

    def test_a_bad_name_byte(self):
        self.plant(self.base + NAME + 1, "<c", b"!")
        lines = self.check()
        self.assertProblems(lines, f"slot {self.web01} 'w!b01': ",
                            "name is not 1 to 253 characters", "name hash")
        self.assertEqual(len(lines), 2)

    def test_an_odd_sequence_word_left_by_a_killed_writer(self):
        self.plant(self.base + LOCK_OWNER, "<Q", dead_pid())
        self.plant(self.base + SEQ, "<I", 7)
        lines = self.check()
        self.assertProblems(lines, f"slot {self.web01} 'web01': ", "sequence word 7 is odd", "which is dead")
        self.assertEqual(len(lines), 2)
        # The next write through the library repairs it; check agrees.
        record(self.name, [("web01", NOW - 1, 1.0, 1.0)])
        self.assertEqual(self.check(), [])

    def test_fingerprints_that_disagree_with_their_slots(self):
        with SegmentBytes(self.name) as segment:
            fingerprint = segment.fingerprint_offset(self.web01)
            empty = next(i for i in range(8) if i not in segment.slots().values())
            empty_fingerprint = segment.fingerprint_offset(empty)
        self.plant(fingerprint, "<I", 0x12345679)
        self.plant(empty_fingerprint, "<I", 0x77)
        lines = self.check()
        self.assertEqual(len(lines), 2, lines)
        self.assertTrue(any(line.startswith(f"slot {self.web01} 'web01': fingerprint 0x12345679 is not "
                                            "its name hash's") for line in lines), lines)
        self.assertIn(f"slot {empty}: fingerprint 0x00000077 on a slot that never held a name", lines)

    def test_a_fingerprint_lost_by_a_claimer_killed_after_publishing(self):
        with SegmentBytes(self.name) as segment:
            fingerprint = segment.fingerprint_offset(self.web01)
        self.plant(fingerprint, "<I", 0)
        lines = self.check()
        self.assertProblems(lines, f"slot {self.web01} 'web01': ", "fingerprint missing")
        self.assertEqual(len(lines), 1)

    def test_a_lock_held_by_a_live_process_that_is_no_attached_writer(self):
        self.plant(self.base + LOCK_OWNER, "<Q", lock_word(1))  # init: alive, never attached
        lines = self.check()
        self.assertProblems(lines, f"slot {self.web01} 'web01': ",
                            "lock word holds id 1, a live thread of process 1", "not attached to the segment")
        self.assertEqual(len(lines), 1)
        # The same word naming a live attached process is a writer at work: no problem.
        worker = Registered(self.name, "ingest")
        try:
            self.plant(self.base + LOCK_OWNER, "<Q", lock_word(worker.pid))
            self.assertEqual(self.check(), [])
        finally:
            self.plant(self.base + LOCK_OWNER, "<Q", 0)
            worker.stop()

    def test_a_bucket_index_from_the_future(self):
        future = NOW // 60 + 7
        self.plant(self.base + MINUTES + (future % 60) * MINUTE_SIZE, *minute_bucket(future, 1, 5.0))
        lines = self.check()
        self.assertProblems(lines, f"slot {self.web01} 'web01': ",
                            f"minute bucket {future % 60} (index {future}) is from the future",
                            "has samples after the last sample time")

    def test_a_bucket_at_the_wrong_ring_position(self):
        minute = NOW // 60 - 3
        self.plant(self.base + MINUTES + ((minute + 1) % 60) * MINUTE_SIZE, *minute_bucket(minute, 1, 5.0))
        self.assertProblems(self.check(), f"slot {self.web01} 'web01': ",
                            f"(index {minute}) belongs at ring position {minute % 60}")

    def test_sums_inconsistent_with_counts(self):
        minute = NOW // 60 - 3
        position = self.base + MINUTES + (minute % 60) * MINUTE_SIZE
        self.plant(position, MINUTE_FORMAT, minute, 0, 0, 0.0, 0.0, 2.0, 0.0, 0, 0)
        self.assertProblems(self.check(), f"slot {self.web01} 'web01': ", "no cpu samples but a non-zero cpu sum")
        self.plant(position, MINUTE_FORMAT, minute, 1, 1, 1.0, 1.0, 1.0, -1.0, 0, 0)
        self.assertProblems(self.check(), f"slot {self.web01} 'web01': ", "negative or non-finite ram sum")

    def test_a_bad_slot_state_and_a_wrong_used_slots_counter(self):
        with SegmentBytes(self.name) as segment:
            free = next(i for i in range(8) if i not in segment.slots().values())
            free_state = segment.slot_offset(free) + STATE
        self.plant(free_state, "<I", 5)
        self.assertProblems(self.check(), "", f"slot {free}: state 5 is neither empty (0), ready (1) nor retired (2)")
        self.plant(free_state, "<I", 0)

    def test_a_deleted_servers_slot_is_sound_and_a_stale_fingerprint_on_it_is_named(self):
        with SegmentBytes(self.name) as segment:
            deleted = segment.slots()["db_1"]
            state, fingerprint = segment.slot_offset(deleted) + STATE, segment.fingerprint_offset(deleted)
            stale = struct.unpack_from("<I", segment.map, fingerprint)[0]
        self.plant(state, "<I", 2)  # retired, as a delete leaves it (shm/layout.h)
        self.plant(fingerprint, "<I", 2)
        self.plant(USED_SLOTS_OFFSET, "<Q", 1)
        result = run_shmtool("check", "--segment", self.name, "--now", NOW)
        self.assertExit(result, 0)
        self.assertEqual(result.stdout, f"segment '{self.name}' is sound: 8 slots, 1 servers checked\n")
        self.plant(fingerprint, "<I", stale)  # a deleter killed before retiring the fingerprint
        self.assertProblems(self.check(), f"slot {deleted}: ", "on a deleted server's slot")

    def test_a_used_slots_hint_off_the_count_is_noted_and_repaired(self):
        self.plant(USED_SLOTS_OFFSET, "<Q", 3)  # as a claimer killed before counting, or damage, leaves it
        noted = run_shmtool("check", "--segment", self.name, "--now", NOW)
        self.assertExit(noted, 0)
        self.assertIn("note: header: used_slots hint says 3, but 2 servers are live", noted.stdout)
        repaired = run_shmtool("check", "--repair", "--segment", self.name, "--now", NOW)
        self.assertExit(repaired, 0)
        self.assertIn("repaired: header: used_slots hint said 3, now 2", repaired.stdout)
        self.assertEqual(self.check(), [])

    def killed_mid_way(self, line):
        """Runs `line` through record_samples, SIGKILLed inside its critical section."""
        result = subprocess.run([build_path("tests/cli/record_samples"), self.name, "--die-mid-write"],
                                input=line + "\n", capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, -signal.SIGKILL, result.stderr)

    def repair(self, servers):
        """check --repair: its output lines, after asserting it ended clean with `servers` servers."""
        result = run_shmtool("check", "--repair", "--segment", self.name, "--now", NOW)
        self.assertExit(result, 0)
        self.assertTrue(result.stdout.endswith(f"segment '{self.name}' is sound: 8 slots, {servers} servers checked\n"),
                        result.stdout)
        return result.stdout.splitlines()

    def test_repair_clears_a_slot_a_claimer_left_locked_without_its_fingerprint(self):
        # Killed after publishing the name, before storing the fingerprint and unlocking (planted:
        # no hook sits there), and a real claimer killed mid-claim.
        with SegmentBytes(self.name) as segment:
            fingerprint = segment.fingerprint_offset(self.web01)
        self.plant(fingerprint, "<I", 0)
        self.plant(self.base + LOCK_OWNER, "<Q", dead_pid())
        self.killed_mid_way(f"newcomer {NOW} 1 1")
        lines = self.check()
        self.assertProblems(lines, "slot ", "fingerprint missing", "which is dead")
        repaired = self.repair(2)
        self.assertIn(f"repaired: slot {self.web01}: fingerprint 0x00000000 set to", "\n".join(repaired))
        self.assertTrue(any(line.startswith(f"repaired: slot {self.web01}: took over the lock") for line in repaired),
                        repaired)
        self.assertEqual(self.check(), [])
        record(self.name, [("web01", NOW, 3.0, 3.0), ("newcomer", NOW, 4.0, 4.0)])  # both usable again

    def test_repair_finishes_a_delete_whose_deleter_was_killed(self):
        self.killed_mid_way(f"web01 {NOW} delete")
        self.assertProblems(self.check(), f"slot {self.web01}", "which is dead", "sequence word")
        repaired = self.repair(1)
        self.assertTrue(any(line.startswith(f"repaired: slot {self.web01}: fingerprint") for line in repaired),
                        repaired)
        # The delete went through: web01 is gone; db_1 and a new server are what remain.
        record(self.name, [("web02", NOW, 1.0, 1.0)])
        with SegmentBytes(self.name) as segment:
            self.assertEqual(sorted(segment.slots()), ["db_1", "web02"])

    def test_a_damaged_header(self):
        self.plant(0, "<Q", 0x1234)
        result = run_shmtool("check", "--segment", self.name)
        self.assertExit(result, 1)
        self.assertIn("header: segment", result.stderr)
        self.assertIn("is not a ServerTrack segment", result.stderr)


if __name__ == "__main__":
    unittest.main()
