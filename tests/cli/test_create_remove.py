"""shmtool create / remove, absent segments and --help, on real segments."""

import os
import stat
import unittest

from appliance import TestSegment
from segment_bytes import SegmentBytes
from shmtool_test_base import Registered, ShmtoolTestCase, run_shmtool

SUBCOMMANDS = ["create", "remove", "info", "list", "show", "check", "dump", "restore"]


class CreateRemoveTest(ShmtoolTestCase):
    def setUp(self):
        self.name = TestSegment().name  # a fresh unused name
        self.path = os.path.join("/dev/shm", self.name)
        self.addCleanup(lambda: os.path.exists(self.path) and os.unlink(self.path))

    def test_create_makes_a_segment_of_the_asked_capacity_and_mode(self):
        result = run_shmtool("create", "--segment", self.name, "--capacity", 40, "--mode", "0640")
        self.assertExit(result, 0)
        self.assertIn(f"created segment '{self.name}'", result.stdout)
        self.assertIn("capacity 40 servers", result.stdout)
        info = os.stat(self.path)
        self.assertEqual(stat.S_IMODE(info.st_mode), 0o640)
        self.assertEqual(info.st_size, 4096 + 4096 + 40 * 5888)  # header, fingerprint page, slots of 30 days
        with SegmentBytes(self.name) as segment:
            self.assertEqual(segment.capacity(), 40)
        self.assertIn("in 4 KiB pages (smaller than one 2 MiB page)", result.stdout)

    def test_create_says_which_pages_back_a_large_segment(self):
        result = run_shmtool("create", "--segment", self.name, "--capacity", 20000)
        self.assertExit(result, 0)
        # 2 MiB pages where the kernel gives them (tests/shm/test_huge_pages.cc checks
        # the mapping), otherwise 4 KiB pages and why.
        self.assertRegex(result.stdout, r"30 days, 112\.4 MiB in (2 MiB pages|4 KiB pages.* \(.+\)), mode 0660")

    def test_create_again_with_the_same_capacity_changes_nothing(self):
        self.assertExit(run_shmtool("create", "--segment", self.name, "--capacity", 8), 0)
        with SegmentBytes(self.name) as segment:
            before = bytes(segment.map)
        result = run_shmtool("create", "--segment", self.name, "--capacity", 8)
        self.assertExit(result, 0)
        self.assertIn("already exists", result.stdout)
        self.assertIn("left unchanged", result.stdout)
        with SegmentBytes(self.name) as segment:
            self.assertEqual(bytes(segment.map), before)

    def test_create_refuses_another_capacity_unless_forced(self):
        self.assertExit(run_shmtool("create", "--segment", self.name, "--capacity", 8), 0)
        result = run_shmtool("create", "--segment", self.name, "--capacity", 16)
        self.assertExit(result, 1)
        self.assertIn("has capacity 8, expected 16", result.stderr)
        with SegmentBytes(self.name) as segment:
            self.assertEqual(segment.capacity(), 8)
        self.assertExit(run_shmtool("create", "--segment", self.name, "--capacity", 16, "--force"), 0)
        with SegmentBytes(self.name) as segment:
            self.assertEqual(segment.capacity(), 16)

    def test_create_refuses_a_damaged_segment_saying_what_differs(self):
        self.assertExit(run_shmtool("create", "--segment", self.name, "--capacity", 8), 0)
        with SegmentBytes(self.name) as segment:
            segment.put(8, "<I", 99)  # layout version
        result = run_shmtool("create", "--segment", self.name, "--capacity", 8)
        self.assertExit(result, 1)
        self.assertIn("layout version 99", result.stderr)
        self.assertExit(run_shmtool("create", "--segment", self.name, "--capacity", 8, "--force"), 0)
        self.assertExit(run_shmtool("check", "--segment", self.name), 0)

    def test_bad_arguments_are_refused_and_create_nothing(self):
        for args in (["--mode", "0666"], ["--mode", "rw"], ["--mode", "0060"], ["--capacity", "0"],
                     ["--capacity", "-3"]):
            with self.subTest(args=args):
                result = run_shmtool("create", "--segment", self.name, *args)
                self.assertExit(result, 64)
                self.assertTrue(result.stderr.strip())
                self.assertFalse(os.path.exists(self.path))
        self.assertExit(run_shmtool("create", "--segment", "a/b"), 64)

    def test_remove_deletes_and_then_reports_absence(self):
        self.assertExit(run_shmtool("create", "--segment", self.name, "--capacity", 8), 0)
        result = run_shmtool("remove", "--segment", self.name)
        self.assertExit(result, 0)
        self.assertFalse(os.path.exists(self.path))
        self.assertExit(run_shmtool("remove", "--segment", self.name), 2)

    def test_remove_refuses_while_a_live_process_is_attached(self):
        self.assertExit(run_shmtool("create", "--segment", self.name, "--capacity", 8), 0)
        worker = Registered(self.name, "ingest")
        try:
            result = run_shmtool("remove", "--segment", self.name)
            self.assertExit(result, 1)
            self.assertIn(f"ingest pid {worker.pid}", result.stderr)
            self.assertTrue(os.path.exists(self.path))
        finally:
            worker.kill()
        # A dead registered process does not hold the segment.
        self.assertExit(run_shmtool("remove", "--segment", self.name), 0)

    def test_remove_force_ignores_live_processes(self):
        self.assertExit(run_shmtool("create", "--segment", self.name, "--capacity", 8), 0)
        worker = Registered(self.name, "query")
        try:
            self.assertExit(run_shmtool("remove", "--segment", self.name, "--force"), 0)
            self.assertFalse(os.path.exists(self.path))
        finally:
            worker.stop()

    def test_every_other_subcommand_names_an_absent_segment_and_how_to_create_it(self):
        extra = {"show": ["web01"], "dump": ["/nonexistent-dir/x.snap"]}
        for command in ["info", "list", "show", "check", "dump", "remove"]:
            with self.subTest(command=command):
                result = run_shmtool(command, *extra.get(command, []), "--segment", self.name)
                self.assertExit(result, 2)
                self.assertIn(f"segment '{self.name}' does not exist", result.stderr)
                if command != "remove":
                    self.assertIn(f"shmtool create --segment {self.name}", result.stderr)

    def test_every_subcommand_has_help(self):
        for command in SUBCOMMANDS:
            with self.subTest(command=command):
                result = run_shmtool(command, "--help")
                self.assertExit(result, 0)
                self.assertIn(f"shmtool {command}", result.stdout)
                self.assertIn("--segment", result.stdout)
        result = run_shmtool()
        self.assertExit(result, 64)


if __name__ == "__main__":
    unittest.main()
