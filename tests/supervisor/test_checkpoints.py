"""Checkpoints with the real supervisor, workers and shmtool (README: Where the
data lives): what a power cut and a clean reboot lose, the fallback to the
previous checkpoint, the capacity a plain `run` adopts, a migration from another
segment layout, and a failing checkpoint that stops nothing.

A "reboot" is what it leaves behind: no processes and no /dev/shm segment, the
data dir as it was.
"""
import json
import os
import re
import shutil
import signal
import random
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from appliance import TestSegment, build_path, http, poll, shmtool
from supervised import Supervised

SERVERS = [f"cp_{i}" for i in range(40)]
# The time tests/cli/fixtures/layout4_format2.snap was made around: 2026-12-06 12:00:00 UTC.
FIXTURE_T = 1796558400


def post_round(url, names, value):
    for name in names:
        status, _, body = http("POST", f"{url}/server/{name}", json.dumps({"cpu": value, "ram": value / 2}))
        assert status == 204, (name, status, body)


def buckets(query_url, name):
    """Every non-empty bucket of both windows, keyed by its start time: equal
    across a restart even when the windows moved on by a minute meanwhile."""
    status, _, body = http("GET", f"{query_url}/server/{name}")
    if status != 200:
        return status
    found = {}
    for window_name, window in json.loads(body).items():
        for i, (cpu, ram) in enumerate(zip(window["cpu"], window["ram"])):
            if cpu is not None:
                found[(window_name, window["start"] + i * window["step"])] = (cpu, ram)
    return found


def checkpoints(data_dir, segment, result="ok"):
    """servertrack_checkpoints_total{result=...} from the supervisor's metrics file."""
    try:
        with open(os.path.join(data_dir, f"{segment}-checkpoints.prom")) as f:
            text = f.read()
    except FileNotFoundError:
        return 0
    return int(re.search(f'result="{result}"' + r'\} (\d+)', text)[1])


def checkpoint_names(data_dir, segment):
    return sorted(n for n in os.listdir(data_dir) if re.fullmatch(re.escape(segment) + r"-\d{10}\.snap", n))


def data_dir_files(data_dir, segment):
    """The segment's checkpoint files, complete, partial and deltas, sorted."""
    return sorted(n for n in os.listdir(data_dir)
                  if re.fullmatch(re.escape(segment) + r"-\d{10}(\.partial|\.delta)?\.snap", n))


def record(segment, lines, *options):
    """Feeds "NAME UNIX CPU RAM" lines to tests/cli/record_samples (a writer through the library)."""
    return subprocess.run([build_path("tests/cli/record_samples"), segment, *options], input="".join(lines),
                          text=True, capture_output=True)


def remove_segment(name):
    """What a reboot does to /dev/shm."""
    os.unlink(os.path.join("/dev/shm", name))


class Checkpoints(unittest.TestCase):
    def setUp(self):
        self.data = tempfile.TemporaryDirectory(prefix="servertrack-checkpoints-")
        self.addCleanup(self.data.cleanup)
        self.segment = TestSegment(capacity=1024).__enter__()
        self.addCleanup(self.segment.__exit__, None, None, None)

    def start(self, *args, capacity=None):
        supervised = Supervised(self.segment.name, capacity, data_dir=self.data.name, extra_args=args)
        self.addCleanup(supervised.__exit__)
        supervised.wait_ready()
        return supervised

    def test_power_cut_loses_at_most_what_came_after_the_last_checkpoint(self):
        first = self.start("--checkpoint-interval", "0.5")
        for value in (10.0, 20.0, 30.0):
            post_round(first.ingest_url, SERVERS, value)
        acknowledged = {name: buckets(first.query_url, name) for name in SERVERS}
        # The second checkpoint completed from now on began after every sample above.
        done = checkpoints(self.data.name, self.segment.name)
        self.assertTrue(poll(lambda: checkpoints(self.data.name, self.segment.name) >= done + 2, 20),
                        first.log())
        post_round(first.ingest_url, ["cp_after_the_checkpoint"], 99.0)
        first.power_cut()
        remove_segment(self.segment.name)

        second = self.start("--checkpoint-interval", "0.5")
        self.assertIn("restored 40 servers", second.log())
        self.assertEqual({name: buckets(second.query_url, name) for name in SERVERS}, acknowledged)

    def test_clean_reboot_loses_nothing(self):
        first = self.start()  # the default interval: only the checkpoint at stop can save the data
        for value in (1.5, 2.5):
            post_round(first.ingest_url, SERVERS, value)
        acknowledged = {name: buckets(first.query_url, name) for name in SERVERS}
        first.signal(signal.SIGTERM)
        self.assertEqual(first.proc.wait(timeout=30), 0, first.log())
        self.assertIn("checkpoint at stop: dumped 40 servers", first.log())
        remove_segment(self.segment.name)

        second = self.start()
        self.assertEqual({name: buckets(second.query_url, name) for name in SERVERS}, acknowledged)

    def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_and_is_kept(self):
        # Every checkpoint a full one: test_delta_checkpoints.py damages deltas.
        first = self.start("--checkpoint-interval", "0.3", "--full-checkpoint-every", "1")
        post_round(first.ingest_url, SERVERS, 5.0)
        acknowledged = {name: buckets(first.query_url, name) for name in SERVERS}
        # Both checkpoints kept must have begun after the samples: the third
        # completed from now on, and the one before it.
        done = checkpoints(self.data.name, self.segment.name)
        self.assertTrue(poll(lambda: checkpoints(self.data.name, self.segment.name) >= done + 3, 20))
        first.power_cut()
        remove_segment(self.segment.name)
        names = checkpoint_names(self.data.name, self.segment.name)
        self.assertEqual(len(names), 2, names)  # the last two good ones, no more
        newest = os.path.join(self.data.name, names[-1])
        with open(newest, "r+b") as f:
            f.seek(100)
            byte = f.read(1)
            f.seek(100)
            f.write(bytes([byte[0] ^ 0xFF]))

        second = self.start("--checkpoint-interval", "0.2", "--full-checkpoint-every", "1")
        self.assertIn(f"checkpoint {newest} does not load, set aside as {newest}.unloadable", second.log())
        self.assertIn(f"from {os.path.join(self.data.name, names[0])}", second.log())
        self.assertEqual({name: buckets(second.query_url, name) for name in SERVERS}, acknowledged)
        # Checkpoints go on and rotate; the file set aside is never removed (nor loaded again).
        done = checkpoints(self.data.name, self.segment.name)
        self.assertTrue(poll(lambda: checkpoints(self.data.name, self.segment.name) >= done + 3, 20))
        self.assertEqual(len(checkpoint_names(self.data.name, self.segment.name)), 2)
        self.assertTrue(os.path.exists(newest + ".unloadable"))
        second.signal(signal.SIGTERM)
        self.assertEqual(second.proc.wait(timeout=30), 0, second.log())
        remove_segment(self.segment.name)
        third = self.start("--checkpoint-interval", "0.2", "--full-checkpoint-every", "1")
        self.assertNotIn("does not load", third.log())
        self.assertTrue(os.path.exists(newest + ".unloadable"))

    def test_a_plain_run_adopts_the_capacity_of_the_segment_and_of_the_checkpoint(self):
        first = self.start()  # TestSegment made it with capacity 1024, not the default
        self.assertIn("capacity 1024", first.log())
        post_round(first.ingest_url, SERVERS[:3], 7.0)
        first.signal(signal.SIGTERM)
        self.assertEqual(first.proc.wait(timeout=30), 0, first.log())
        remove_segment(self.segment.name)
        self.start()
        info = json.loads(shmtool("info", "--json", "--segment", self.segment.name).stdout)
        self.assertEqual((info["capacity"], info["used_slots"]), (1024, 3))

    def test_a_segment_of_another_layout_migrates_through_the_checkpoint(self):
        first = self.start()
        post_round(first.ingest_url, SERVERS, 3.0)
        acknowledged = {name: buckets(first.query_url, name) for name in SERVERS}
        first.signal(signal.SIGTERM)
        self.assertEqual(first.proc.wait(timeout=30), 0, first.log())
        # The segment an older build left: header offset 8 is the layout version (shm/layout.h).
        with open(os.path.join("/dev/shm", self.segment.name), "r+b") as f:
            f.seek(8)
            version = struct.unpack("<I", f.read(4))[0]
            f.seek(8)
            f.write(struct.pack("<I", version + 1))

        second = self.start()
        self.assertIn(f"has layout version {version + 1}", second.log())
        self.assertIn("migrating it through the newest checkpoint", second.log())
        self.assertEqual({name: buckets(second.query_url, name) for name in SERVERS}, acknowledged)
        info = json.loads(shmtool("info", "--json", "--segment", self.segment.name).stdout)
        self.assertEqual(info["layout_version"], version)

    def test_a_layout_4_appliance_migrates_through_its_format_2_checkpoint(self):
        # A checkpoint written by layout 4's shmtool (tests/cli/fixtures/README.md), and the
        # segment that build left: header offset 8 is the layout version (shm/layout.h).
        fixture = os.path.join(os.path.dirname(__file__), "..", "cli", "fixtures", "layout4_format2.snap")
        shutil.copy(fixture, os.path.join(self.data.name, f"{self.segment.name}-0000000007.snap"))
        with open(os.path.join("/dev/shm", self.segment.name), "r+b") as f:
            f.seek(8)
            f.write(struct.pack("<I", 4))

        started = self.start()
        log = started.log()
        self.assertIn("has layout version 4", log)
        self.assertIn("migrating it through the newest checkpoint", log)
        self.assertIn("restored 2 servers", log)
        self.assertIn("snapshot format 2", log)
        self.assertIn("converted from the older format", log)
        info = json.loads(shmtool("info", "--json", "--segment", self.segment.name).stdout)
        self.assertEqual((info["layout_version"], info["days"], info["capacity"]), (5, 30, 8))
        # Its samples (FIXTURE_T - 3700, - 600, - 30, - 5: cpu 50, 1, 10, 30) as layout 4 counted
        # them, each count now a count of both metrics, peaks the means.
        shown = shmtool("show", "web-01", "--segment", self.segment.name, "--now", str(FIXTURE_T + 10)).stdout
        minutes, hours = shown.split("last 24 hours")[0], shown.split("last 24 hours")[1].split("last 30 days")[0]
        self.assertRegex(minutes, r"2026-12-06 11:59:00 UTC\s+2\s+20\.00\s+20\.00\s+2\s+40\.00\s+40\.00")
        self.assertRegex(hours, r"2026-12-06 10:00:00 UTC\s+1\s+50\.00\s+50\.00\s+1\s+70\.00\s+70\.00")
        self.assertRegex(hours, r"2026-12-06 11:00:00 UTC\s+3\s+13\.67\s+13\.67\s+3\s+27\.33\s+27\.33")

    def test_checkpoints_taken_under_continuous_posts_all_succeed(self):
        # Enough servers that a checkpoint's walk spans a second boundary while
        # POSTs stamp servers it has not reached yet with the newer second.
        self.segment = TestSegment(capacity=32768).__enter__()  # setUp's is removed by its cleanup
        self.addCleanup(self.segment.__exit__, None, None, None)
        names = [f"busy_{i}" for i in range(25000)]
        now = int(time.time())
        subprocess.run([build_path("tests/cli/record_samples"), self.segment.name], check=True,
                       input="".join(f"{name} {now - 60} 1 1\n" for name in names), text=True)
        first = self.start("--checkpoint-interval", "0.1")
        stop = threading.Event()

        def post_until_stopped():
            while not stop.is_set():
                name = random.choice(names)
                http("POST", f"{first.ingest_url}/server/{name}", '{"cpu": 2, "ram": 3}')

        posters = [threading.Thread(target=post_until_stopped) for _ in range(2)]
        for poster in posters:
            poster.start()
        try:
            self.assertTrue(poll(lambda: checkpoints(self.data.name, self.segment.name) >= 4, 120),
                            first.log())
        finally:
            stop.set()
            for poster in posters:
                poster.join()
        self.assertEqual(checkpoints(self.data.name, self.segment.name, "failed"), 0, first.log())

    def test_a_writer_killed_mid_write_with_no_later_traffic_is_repaired_and_the_data_dir_stays_bounded(self):
        now = int(time.time())
        self.assertEqual(record(self.segment.name, [f"{name} {now - 60} 5 5\n" for name in SERVERS]).returncode, 0)
        killed = record(self.segment.name, [f"victim {now - 120} 1 1\n", f"victim {now - 60} 2 2\n"], "--die-mid-write")
        self.assertEqual(killed.returncode, -signal.SIGKILL, killed.stderr)
        # Nobody reads or writes victim again; without --repair every dump would skip it (exit 3).
        self.assertEqual(shmtool("dump", "--segment", self.segment.name, os.path.join(self.data.name, "probe"),
                                 check=False).returncode, 3)
        os.unlink(os.path.join(self.data.name, "probe"))
        first = self.start("--checkpoint-interval", "0.05", "--full-checkpoint-every", "3")
        tried = lambda: sum(checkpoints(self.data.name, self.segment.name, r) for r in ("ok", "partial", "failed"))
        sizes = []
        while tried() < 20:  # 20 intervals
            self.assertTrue(poll(lambda: tried() > len(sizes), 20), first.log())
            sizes.append(len(data_dir_files(self.data.name, self.segment.name)))
        self.assertLessEqual(max(sizes), 6, sizes)  # two chains of a full checkpoint and two deltas
        self.assertEqual(checkpoints(self.data.name, self.segment.name, "failed"), 0, first.log())
        self.assertEqual(checkpoints(self.data.name, self.segment.name, "partial"), 0, first.log())
        self.assertIn("repaired server 'victim'", first.log())
        check = shmtool("check", "--repair", "--segment", self.segment.name, check=False)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(buckets(first.query_url, "victim")[("last_60_minutes", (now - 120) // 60 * 60)], (1, 1))

    def test_a_server_that_cannot_be_saved_makes_partial_checkpoints_that_stay_bounded(self):
        now = int(time.time())
        # A server whose last sample is an hour ahead of the clock: `shmtool dump` keeps it out.
        lines = [f"{name} {now - 60} 5 5\n" for name in SERVERS] + [f"ahead_1 {now + 3600} 1 1\n"]
        self.assertEqual(record(self.segment.name, lines).returncode, 0)
        first = self.start("--checkpoint-interval", "0.05", "--full-checkpoint-every", "3")
        sizes = []
        while checkpoints(self.data.name, self.segment.name, "partial") < 20:
            done = checkpoints(self.data.name, self.segment.name, "partial")
            self.assertTrue(poll(lambda: checkpoints(self.data.name, self.segment.name, "partial") > done, 20),
                            first.log())
            sizes.append(len(data_dir_files(self.data.name, self.segment.name)))
        self.assertLessEqual(max(sizes), 6, sizes)  # two chains of a partial full checkpoint and two deltas
        self.assertEqual(checkpoints(self.data.name, self.segment.name, "failed"), 0, first.log())
        self.assertEqual(first.log().count("kept out"), 1, first.log())  # said once, not every interval
        self.assertIn("skipped server 'ahead_1'", first.log())
        with open(os.path.join(self.data.name, f"{self.segment.name}-checkpoints.prom")) as f:
            self.assertIn("servertrack_checkpoint_skipped_servers 1\n", f.read())
        # A partial checkpoint restores every server but the one kept out ...
        first.power_cut()
        remove_segment(self.segment.name)
        second = self.start("--checkpoint-interval", "0.05")
        self.assertIn("restored 40 servers", second.log())
        self.assertIn("a partial checkpoint", second.log())
        # ... and once no server is unsound, a complete checkpoint replaces the partial ones.
        self.assertTrue(poll(lambda: checkpoints(self.data.name, self.segment.name) >= 2, 20), second.log())
        names = data_dir_files(self.data.name, self.segment.name)
        self.assertTrue(names and all(not name.endswith(".partial.snap") for name in names), names)

    def test_a_failing_checkpoint_is_counted_and_stops_nothing(self):
        first = self.start("--checkpoint-interval", "0.3")
        remove_segment(self.segment.name)  # the workers keep their mapping; a dump finds nothing
        self.assertIsNotNone(first.wait_for_line(lambda line: "failed (1 failed so far" in line, 20),
                             first.log())
        self.assertTrue(poll(lambda: checkpoints(self.data.name, self.segment.name, "failed") >= 1, 5))
        for worker_url in (first.ingest_url, first.query_url):  # every worker's /metrics shows the count
            status, _, body = http("GET", f"{worker_url}/metrics")
            self.assertEqual(status, 200)
            failed = re.search(r'^servertrack_checkpoints_total\{result="failed"\} (\d+)$', body.decode(), re.M)
            self.assertIsNotNone(failed, body.decode())
            self.assertGreaterEqual(int(failed[1]), 1)
        status, _, _ = http("POST", f"{first.ingest_url}/server/still_served", '{"cpu": 1, "ram": 2}')
        self.assertEqual(status, 204)
        self.assertIsNone(first.proc.poll())

    def test_a_data_dir_that_turns_into_a_file_fails_checkpoints_and_stops_nothing(self):
        first = self.start("--checkpoint-interval", "0.3")
        away = self.data.name + ".away"
        os.rename(self.data.name, away)
        with open(self.data.name, "w") as stand_in:  # the data dir's path is now a file
            stand_in.write("not a directory\n")
        try:
            self.assertIsNotNone(first.wait_for_line(lambda line: "cannot take its lock" in line, 20), first.log())
            status, _, _ = http("POST", f"{first.ingest_url}/server/still_served", '{"cpu": 1, "ram": 2}')
            self.assertEqual(status, 204)
            self.assertIsNone(first.proc.poll(), first.log())
        finally:
            os.unlink(self.data.name)
            os.rename(away, self.data.name)
        first.signal(signal.SIGTERM)
        self.assertEqual(first.proc.wait(timeout=30), 0, first.log())


if __name__ == "__main__":
    unittest.main()
