"""shmtool info / list / show on real segments: data written through the
segment library at explicit times, and through the real workers."""

import json
import time
import unittest

from appliance import FakeClock, TestSegment, Worker, http
from shmtool_test_base import NOW, Registered, ShmtoolTestCase, record, run_shmtool

MINUTE = NOW // 60 * 60
HOUR = NOW // 3600 * 3600


class InspectTest(ShmtoolTestCase):
    def setUp(self):
        self.segment = TestSegment(capacity=16)
        self.name = self.segment.__enter__().name
        self.addCleanup(self.segment.__exit__, None, None, None)
        record(self.name, [
            ("web01", NOW - 5, 10.0, 20.0),
            ("web01", NOW - 20, 30.0, 60.0),
            ("web01", NOW - 600, 1.0, 2.0),        # 10 minutes ago
            ("web01", NOW - 2 * 3600, 50.0, 70.0),  # 2 hours ago: not in the last hour
            ("web02", NOW - 3000, 5.0, 6.0),
            ("db_1", NOW - 7200, 7.0, 8.0),
        ])

    def test_info_shows_sizes_counters_and_processes(self):
        alive = Registered(self.name, "ingest")
        dead = Registered(self.name, "query")
        dead.kill()
        try:
            text = run_shmtool("info", "--segment", self.name)
            as_json = run_shmtool("info", "--segment", self.name, "--json")
        finally:
            alive.stop()
        self.assertExit(text, 0)
        self.assertRegex(text.stdout, r"capacity\s+16 servers")
        self.assertRegex(text.stdout, r"used slots\s+3 \(18\.8 % full\)")
        self.assertRegex(text.stdout, r"size\s+100\.0 KiB in all: 4\.0 KiB header \+ 4\.0 KiB fingerprints \+ 5\.8 KiB per server")
        self.assertRegex(text.stdout, r"samples recorded\s+6")
        self.assertRegex(text.stdout, r"processes\s+2 registered, 1 alive")
        self.assertRegex(text.stdout, rf"{alive.pid}\s+ingest\s+.*alive")
        self.assertRegex(text.stdout, rf"{dead.pid}\s+query\s+.*dead")
        self.assertExit(as_json, 0)
        info = json.loads(as_json.stdout)
        self.assertEqual(info["segment"], self.name)
        self.assertEqual(info["path"], f"/dev/shm/{self.name}")
        self.assertEqual((info["capacity"], info["used_slots"], info["samples_recorded"]), (16, 3, 6))
        self.assertEqual(info["bytes_total"], 4096 + 4096 + 16 * 5888)
        self.assertEqual((info["bytes_header"], info["bytes_fingerprints"], info["bytes_per_server"]),
                         (4096, 4096, 5888))
        self.assertEqual((info["layout_version"], info["days"]), (5, 30))
        self.assertEqual(info["mode"], "0660")
        processes = {(p["pid"], p["kind"], p["alive"]) for p in info["processes"]}
        self.assertEqual(processes, {(alive.pid, "ingest", True), (dead.pid, "query", False)})

    def test_list_gives_last_sample_and_samples_in_the_last_hour(self):
        result = run_shmtool("list", "--segment", self.name, "--json", "--now", NOW)
        self.assertExit(result, 0)
        self.assertEqual(json.loads(result.stdout), [
            {"name": "db_1", "last_sample_unix": NOW - 7200, "samples_last_hour": 0},
            {"name": "web01", "last_sample_unix": NOW - 5, "samples_last_hour": 3},
            {"name": "web02", "last_sample_unix": NOW - 3000, "samples_last_hour": 1},
        ])
        text = run_shmtool("list", "--segment", self.name, "--now", NOW)
        self.assertExit(text, 0)
        lines = text.stdout.splitlines()
        self.assertRegex(lines[0], r"^NAME\s+LAST SAMPLE\s+AGE\s+SAMPLES \(LAST HOUR\)$")
        self.assertRegex(lines[2], r"^web01\s+2026-11-28 12:00:25 UTC\s+5 s ago\s+3$")
        self.assertEqual(lines[-1], "3 servers")
        # Columns line up: every row's age ends where the heading's does.
        self.assertEqual(len({len(line) for line in lines[:-1]}), 1)

    def test_list_filters_by_activity_and_prefix(self):
        def names(*args):
            result = run_shmtool("list", "--segment", self.name, "--json", "--now", NOW, *args)
            self.assertExit(result, 0)
            return [row["name"] for row in json.loads(result.stdout)]

        self.assertEqual(names("--active-within", "1m"), ["web01"])
        self.assertEqual(names("--active-within", "1h"), ["web01", "web02"])
        self.assertEqual(names("--active-within", "7200s"), ["db_1", "web01", "web02"])
        self.assertEqual(names("--prefix", "web"), ["web01", "web02"])
        self.assertEqual(names("--prefix", "web", "--active-within", "30s"), ["web01"])
        self.assertEqual(names("--prefix", "zz"), [])
        self.assertExit(run_shmtool("list", "--segment", self.name, "--active-within", "ten"), 64)
        bare = run_shmtool("list", "--segment", self.name, "--active-within", "10")
        self.assertExit(bare, 64)
        self.assertIn("'10' has no unit: write 10s, 10m, 10h or 10d", bare.stderr)

    def sections(self, stdout):
        """The minute, hour and day sections of `shmtool show`."""
        minutes, rest = stdout.split("last 24 hours")
        hours, days = rest.split("last 30 days")
        return minutes, hours, days

    def test_show_prints_the_buckets_with_samples(self):
        result = run_shmtool("show", "web01", "--segment", self.name, "--now", NOW)
        self.assertExit(result, 0)
        self.assertTrue(result.stdout.startswith(
            "server web01: last sample 2026-11-28 12:00:25 UTC (5 s ago)\n"))
        minutes, hours, days = self.sections(result.stdout)
        self.assertIn("last 60 minutes (2 of 60 buckets of 60 s have samples, oldest first; --all shows every bucket)",
                      minutes)
        self.assertIn(" (1 of 30 buckets of 86400 s have samples", days)
        self.assertRegex(days, r"  2026-11-28 00:00:00 UTC\s+4\s+22\.75\s+50\.00\s+4\s+38\.00\s+70\.00\n$")
        self.assertEqual([l.split()[1] for l in minutes.splitlines() if l.startswith("  2026-")],
                         ["11:50:00", "12:00:00"])
        self.assertEqual([l.split()[1] for l in hours.splitlines() if l.startswith("  2026-")],
                         ["10:00:00", "11:00:00", "12:00:00"])
        # The current minute: two samples, means 20 and 40, peaks 30 and 60; ten minutes ago: one.
        self.assertRegex(minutes, r"  START\s+CPU SAMPLES\s+CPU MEAN %\s+CPU MAX %\s+RAM SAMPLES\s+RAM MEAN %\s+"
                                  r"RAM MAX %\n  2026-11-28 11:50:00 UTC\s+1\s+1\.00\s+1\.00\s+1\s+2\.00\s+2\.00\n")
        self.assertRegex(minutes, r"2026-11-28 12:00:00 UTC\s+2\s+20\.00\s+30\.00\s+2\s+40\.00\s+60\.00\n")
        self.assertRegex(hours, r"  2026-11-28 10:00:00 UTC\s+1\s+50\.00\s+50\.00\s+1\s+70\.00\s+70\.00\n")
        self.assertRegex(hours, r"  2026-11-28 12:00:00 UTC\s+2\s+20\.00\s+30\.00\s+2\s+40\.00\s+60\.00\n")
        self.assertIn("(1 of 30 buckets of 86400 s have samples", days)
        self.assertRegex(days, r"  2026-11-28 00:00:00 UTC\s+4\s+22\.75\s+50\.00\s+4\s+38\.00\s+70\.00\n")

    def test_show_all_prints_every_bucket(self):
        result = run_shmtool("show", "web01", "--all", "--segment", self.name, "--now", NOW)
        self.assertExit(result, 0)
        minutes, hours, days = self.sections(result.stdout)
        self.assertEqual(len([l for l in minutes.splitlines() if l.startswith("  2026-")]), 60)
        self.assertEqual(len([l for l in hours.splitlines() if l.startswith("  2026-")]), 24)
        self.assertEqual(len([l for l in days.splitlines() if l.startswith("  2026-")]), 30)
        self.assertRegex(minutes, r"RAM MAX %\n  2026-11-28 11:01:00 UTC\s+0\s+-\s+-\s+0\s+-\s+-\n")
        self.assertRegex(minutes, r"  2026-11-28 11:50:00 UTC\s+1\s+1\.00\s+1\.00\s+1\s+2\.00\s+2\.00\n")
        self.assertRegex(hours, r"  2026-11-27 13:00:00 UTC\s+0\s+-\s+-\s+0\s+-\s+-\n")
        self.assertRegex(hours, r"  2026-11-28 11:00:00 UTC\s+1\s+1\.00\s+1\.00\s+1\s+2\.00\s+2\.00\n")

    def test_show_json_has_the_contract_shape(self):
        result = run_shmtool("show", "web01", "--segment", self.name, "--json", "--now", NOW)
        self.assertExit(result, 0)
        body = json.loads(result.stdout)
        minutes, hours = body["last_60_minutes"], body["last_24_hours"]
        self.assertEqual((minutes["start"], minutes["step"]), (MINUTE - 59 * 60, 60))
        self.assertEqual((hours["start"], hours["step"]), (HOUR - 23 * 3600, 3600))
        self.assertEqual(minutes["cpu"][-1], 20.0)
        self.assertEqual(minutes["ram"][-11], 2.0)
        self.assertEqual(sum(v is not None for v in minutes["cpu"]), 2)
        self.assertEqual(hours["cpu"][-3], 50.0)
        self.assertEqual(list(body), ["last_60_minutes", "last_24_hours", "last_30_days"])
        self.assertEqual(body["last_30_days"]["cpu"][-1], 91 / 4)
        peaked = json.loads(run_shmtool("show", "web01", "--segment", self.name, "--json", "--counts", "--peaks",
                                        "--now", NOW).stdout)
        self.assertEqual(peaked["last_60_minutes"]["cpu_max"][-1], 30.0)
        self.assertEqual(peaked["last_30_days"]["ram_count"][-1], 4)

    def test_show_refuses_unknown_and_invalid_names(self):
        unknown = run_shmtool("show", "nobody", "--segment", self.name)
        self.assertExit(unknown, 1)
        self.assertIn("server 'nobody'", unknown.stderr)
        self.assertIn("no such server", unknown.stderr)
        self.assertExit(run_shmtool("show", "bad/name", "--segment", self.name), 64)


class ThroughTheWorkersTest(ShmtoolTestCase):
    def test_show_json_is_what_the_query_worker_answers(self):
        with TestSegment(capacity=64) as segment, FakeClock() as clock:
            start = (int(time.time()) // 60 + 5) * 60 + 1  # 1 s into a future minute
            clock.set(start)
            with Worker("ingest", segment, env=clock.env) as ingest, \
                    Worker("query", segment, env=clock.env) as query:
                for sample in ({"cpu": 12.04, "ram": 46.3}, {"cpu": 20.5, "ram": 50.1}, {"cpu": 7.0, "ram": 1e-3},
                               {"ram": 3, "time": start - 3 * 86400}):
                    status, _, _ = http("POST", f"{ingest.url}/server/web_7", json.dumps(sample))
                    self.assertEqual(status, 204)
                for params, flags in (("", ()), ("?counts=1", ("--counts",)), ("?peaks=1", ("--peaks",)),
                                      ("?counts=1&peaks=1", ("--counts", "--peaks"))):
                    with self.subTest(params=params):
                        status, _, answer = http("GET", f"{query.url}/server/web_7{params}")
                        self.assertEqual(status, 200)
                        shown = run_shmtool("show", "web_7", "--segment", segment.name, "--json", *flags,
                                            "--now", start)
                        self.assertExit(shown, 0)
                        self.assertEqual(shown.stdout, answer.decode() + "\n")
                self.assertAlmostEqual(json.loads(shown.stdout)["last_60_minutes"]["cpu"][-1], 39.54 / 3)
                self.assertEqual(json.loads(shown.stdout)["last_30_days"]["ram_max"][-4], 3)

                listed = json.loads(run_shmtool("list", "--segment", segment.name, "--json",
                                                "--now", start).stdout)
                self.assertEqual([(r["name"], r["samples_last_hour"]) for r in listed], [("web_7", 3)])
                info = json.loads(run_shmtool("info", "--segment", segment.name, "--json").stdout)
                self.assertEqual({(p["pid"], p["kind"], p["alive"]) for p in info["processes"]},
                                 {(ingest.pid, "ingest", True), (query.pid, "query", True)})
                self.assertEqual(info["samples_recorded"], 4)
                refused = run_shmtool("remove", "--segment", segment.name)
                self.assertExit(refused, 1)
                self.assertIn(f"pid {ingest.pid}", refused.stderr)
                self.assertExit(run_shmtool("check", "--segment", segment.name, "--now", start), 0)


if __name__ == "__main__":
    unittest.main()
