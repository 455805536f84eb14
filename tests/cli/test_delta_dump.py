"""shmtool dump --marks / --delta and restore FULL DELTA...: a delta holds only
the servers whose slot changed since the dump its markers came from, a chain
restores byte for byte what a full dump taken at the same moment restores
(deleted servers stay deleted), and a torn or flipped delta ends the chain
there, the files before it restored."""

import os
import struct
import subprocess
import tempfile
import unittest

from appliance import TestSegment, build_path
from shmtool_test_base import NOW, ShmtoolTestCase, record, run_shmtool
from test_dump_restore import reseal

HEADER = 80  # format 4 (cli/snapshot_file.h)
RECORD = 5696  # a record with 30 days
DUMPED_AT = slice(40, 48)  # the header's dump time: differs between any two dumps


def apply_lines(segment, lines):
    """Samples ("NAME UNIX CPU RAM") and deletes ("NAME UNIX delete") through the segment library."""
    result = subprocess.run([build_path("tests/cli/record_samples"), segment], input="".join(l + "\n" for l in lines),
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"record_samples failed: {result.stderr}")


def parse(data):
    """(kind, record names, names section) of a format 4 file."""
    count, = struct.unpack_from("<Q", data, 24)
    kind, = struct.unpack_from("<I", data, 60)
    name_count, = struct.unpack_from("<Q", data, 72)
    records = []
    for i in range(count):
        at = HEADER + i * RECORD
        length, = struct.unpack_from("<I", data, at)
        records.append(data[at + 8:at + 8 + length].decode())
    names, at = [], HEADER + count * RECORD
    for _ in range(name_count):
        length = data[at]
        names.append(data[at + 1:at + 1 + length].decode())
        at += 1 + length
    return kind, records, names


class DeltaDumpTest(ShmtoolTestCase):
    def setUp(self):
        self.segment = TestSegment(capacity=64)
        self.name = self.segment.__enter__().name
        self.addCleanup(self.segment.__exit__, None, None, None)
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.dir = directory.name
        self.marks = self.path("marks")
        record(self.name, [(f"srv_{s}", NOW - step, s + step % 7, step % 13)
                           for s in range(20) for step in range(0, 3 * 3600, 600 + 17 * s)])

    def path(self, name):
        return os.path.join(self.dir, name)

    def other_segment(self):
        segment = TestSegment(capacity=64)
        self.addCleanup(segment.__exit__, None, None, None)
        return segment.__enter__().name

    def dump(self, file, *options, segment=None, code=0):
        result = run_shmtool("dump", "--segment", segment or self.name, self.path(file), *options)
        self.assertExit(result, code)
        return result

    def read(self, file):
        with open(self.path(file), "rb") as f:
            return f.read()

    def write(self, file, data):
        with open(self.path(file), "wb") as f:
            f.write(data)

    def restored_dump(self, *files):
        """A plain dump of a segment restored from `files`, without its dump time and checksum,
        and the restore's CompletedProcess."""
        target = self.other_segment()
        run_shmtool("remove", "--segment", target, "--force")
        restored = run_shmtool("restore", "--segment", target, *map(self.path, files))
        if restored.returncode not in (0, 3):
            self.fail(f"restore failed: {restored.stderr}")
        out = f"of_{target}.snap"
        self.dump(out, segment=target)
        data = self.read(out)
        return data[:DUMPED_AT.start] + data[DUMPED_AT.stop:-8], restored

    def test_a_delta_holds_only_the_servers_written_since(self):
        self.dump("full.snap", "--repair", "--marks", self.marks)
        apply_lines(self.name, [f"srv_3 {NOW + 5} 50 60", f"srv_17 {NOW + 6} 51 61", f"new_one {NOW + 7} 1 2"])
        result = self.dump("d1.snap", "--repair", "--marks", self.marks, "--delta")
        self.assertIn(f"dumped a delta of 3 changed servers (of 21) of segment '{self.name}'", result.stdout)
        kind, records, names = parse(self.read("d1.snap"))
        self.assertEqual((kind, sorted(records)), (1, ["new_one", "srv_17", "srv_3"]))
        self.assertEqual(sorted(names), sorted([f"srv_{s}" for s in range(20)] + ["new_one"]))
        # Nothing written since: an empty delta.
        self.dump("d2.snap", "--repair", "--marks", self.marks, "--delta")
        kind, records, names = parse(self.read("d2.snap"))
        self.assertEqual((kind, records, len(names)), (1, [], 21))

    def test_full_and_deltas_restore_what_a_full_dump_restores(self):
        self.dump("full.snap", "--repair", "--marks", self.marks)
        apply_lines(self.name, [f"srv_{s} {NOW + 60} {s} 3" for s in range(0, 20, 4)] + [f"srv_5 {NOW + 61} delete"])
        self.dump("d1.snap", "--repair", "--marks", self.marks, "--delta")
        apply_lines(self.name, [f"srv_0 {NOW + 120} 9 9"] + [f"late_{n} {NOW + 121} {n} 1" for n in range(3)]
                    + [f"srv_9 {NOW + 122} delete", f"srv_9 {NOW + 123} 7 7"])
        self.dump("d2.snap", "--repair", "--marks", self.marks, "--delta")
        self.dump("now.snap")  # a full dump at the same moment
        chain, restored = self.restored_dump("full.snap", "d1.snap", "d2.snap")
        self.assertExit(restored, 0)
        self.assertIn("and 2 deltas up to", restored.stdout)
        full, _ = self.restored_dump("now.snap")
        self.assertEqual(chain, full)
        self.assertNotIn(b"srv_5\0", chain)  # deleted, and stays so
        self.assertIn(b"late_2\0", chain)

    def test_a_torn_or_flipped_delta_ends_the_chain_before_it(self):
        self.dump("full.snap", "--repair", "--marks", self.marks)
        for step in range(3):
            apply_lines(self.name, [f"srv_{step} {NOW + 60 * (step + 1)} 5 5"])
            self.dump(f"d{step + 1}.snap", "--repair", "--marks", self.marks, "--delta")
        up_to_d2, _ = self.restored_dump("full.snap", "d1.snap", "d2.snap")
        up_to_d1, _ = self.restored_dump("full.snap", "d1.snap")
        d2, d3 = self.read("d2.snap"), self.read("d3.snap")
        self.write("d3.snap", d3[:-100])  # torn: the last one
        got, restored = self.restored_dump("full.snap", "d1.snap", "d2.snap", "d3.snap")
        self.assertExit(restored, 3)
        self.assertIn(f"not applied: {self.path('d3.snap')}: checksum mismatch", restored.stdout)
        self.assertIn(f"and 2 deltas up to {self.path('d2.snap')}", restored.stdout)
        self.assertEqual(got, up_to_d2)
        self.write("d3.snap", d3)
        self.write("d2.snap", d2[:HEADER + 300] + bytes([d2[HEADER + 300] ^ 4]) + d2[HEADER + 301:])  # flipped: a middle one
        got, restored = self.restored_dump("full.snap", "d1.snap", "d2.snap", "d3.snap")
        self.assertExit(restored, 3)
        self.assertIn(f"not applied: {self.path('d2.snap')}: checksum mismatch", restored.stdout)
        self.assertIn(f"not applied: {self.path('d3.snap')}: it comes after that one", restored.stdout)
        self.assertIn(f"the chain stopped at {self.path('d2.snap')}", restored.stderr)
        self.assertEqual(got, up_to_d1)

    def test_a_delta_is_refused_against_another_segments_marks(self):
        self.dump("full.snap", "--repair", "--marks", self.marks)
        other = self.other_segment()
        refused = self.dump("d.snap", "--repair", "--marks", self.marks, "--delta", segment=other, code=4)
        self.assertIn("another segment's markers", refused.stderr)
        self.assertFalse(os.path.exists(self.path("d.snap")))
        self.dump("d1.snap", "--repair", "--marks", self.marks, "--delta")
        refused = run_shmtool("restore", "--segment", other, "--force", self.path("d1.snap"))
        self.assertExit(refused, 1)
        self.assertIn("it is a delta", refused.stderr)

    def test_a_format_3_file_still_restores(self):
        self.dump("now.snap")
        data = self.read("now.snap")
        # Format 3 as the previous shmtool wrote it: the 64-byte header (no base, no names).
        body = data[:8] + struct.pack("<I", 3) + data[12:60] + bytes(4) + data[HEADER:-8]
        self.write("format3.snap", reseal(body + bytes(8)))
        got, restored = self.restored_dump("format3.snap")
        self.assertExit(restored, 0)
        self.assertIn("snapshot format 3", restored.stdout)
        self.assertNotIn("converted", restored.stdout)
        self.assertEqual(got, self.restored_dump("now.snap")[0])


if __name__ == "__main__":
    unittest.main()
