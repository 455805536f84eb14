"""servertrack-agent against a real appliance while it answers: the numbers it
posts from a fake /proc are exact, it sends the token, --once reports one
sample and exits, a sample the appliance judges invalid is dropped (not
spooled), one refused for a wrong token is spooled (exit 77) and sent once the
token is right, it stops with its own message, and every bad option exits 2."""

import os
import subprocess
import sys
import tempfile
import time
import unittest

from agent_common import Agent, FakeProc, minute_samples, spool_size
from appliance import FakeClock, TestSegment, Worker, build_path, wait_until

sys.path.insert(0, os.path.join(os.environ.get("SERVERTRACK_SOURCE_DIR", ""), "tests", "cli"))
import segment_bytes as layout  # noqa: E402  (tests/cli's raw segment reader)

NAME = "web-01.example.com"
TOKEN = "tok_" + os.urandom(12).hex()


class LiveTest(unittest.TestCase):
    def setUp(self):
        self.spool_dir = tempfile.mkdtemp(prefix="servertrack-agent-spool-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.spool_dir], check=True))
        token_file = tempfile.NamedTemporaryFile("w", prefix="servertrack-token-", delete=False)
        token_file.write(TOKEN + "\n")
        token_file.close()
        self.token_file = token_file.name
        self.addCleanup(os.unlink, self.token_file)

    def start_appliance(self, env=None):
        segment = TestSegment()
        self.segment = segment
        segment.__enter__()
        self.addCleanup(segment.__exit__)
        ingest = Worker("ingest", segment, args=("--ingest-token-file", self.token_file), env=env)
        self.addCleanup(ingest.__exit__)
        query = Worker("query", segment, args=("--sibling-url", ingest.url), env=env)
        self.addCleanup(query.__exit__)
        return ingest, query

    def test_posted_numbers_are_exact(self):
        ingest, query = self.start_appliance()
        with FakeProc() as proc:
            proc.set_stat(user=1000, system=500, idle=8000, iowait=500)
            proc.set_meminfo(total_kib=16_000_000, available_kib=12_000_000)
            with Agent(ingest.url, self.spool_dir,
                       ("--name", NAME, "--interval", "1", "--token-file", self.token_file,
                        "--proc-root", proc.path)) as agent:
                agent.wait_for_log("reporting as")
                # Interval 1: 400 ticks, 50 busy (iowait counts as idle) -> 12.5 %; RAM 25 %.
                proc.set_stat(user=1030, system=520, idle=8300, iowait=550)
                wait_until(lambda: minute_samples(query, NAME), what="the first sample")
                # Interval 2: 120 ticks, 30 busy -> 25 %; RAM 50 %.
                proc.set_meminfo(total_kib=16_000_000, available_kib=8_000_000)
                proc.set_stat(user=1050, system=530, idle=8390, iowait=550)
                wait_until(lambda: sum(c for c, _, _ in minute_samples(query, NAME).values()) >= 2,
                           what="the second sample")
                # The counters stand still from now on: no tick elapsed, no sample.
                agent.wait_for_log("no CPU time elapsed")
                self.assertEqual(agent.stop(), 0)
                self.assertNotIn(TOKEN, agent.stderr_text())
                # Its own words on SIGTERM, not a worker's.
                self.assertIn("servertrack-agent: signal 15: stopping; samples not sent yet stay in the spool",
                              agent.stderr_text())
                self.assertNotIn("requests in flight", agent.stderr_text())
            minutes = minute_samples(query, NAME)
            self.assertEqual(sum(count for count, _, _ in minutes.values()), 2, minutes)
            # One minute bucket holding both (mean) or two holding one each.
            self.assertEqual(sum(count * cpu for count, cpu, _ in minutes.values()), 12.5 + 25)
            self.assertEqual(sum(count * ram for count, _, ram in minutes.values()), 25 + 50)
            if len(minutes) == 2:
                self.assertEqual(sorted((cpu, ram) for _, cpu, ram in minutes.values()),
                                 [(12.5, 25), (25, 50)])
            self.assertEqual(spool_size(os.path.join(self.spool_dir, NAME)), 0)

    def test_once_reports_one_sample_and_exits_0(self):
        _, query = self.start_appliance()
        with FakeProc() as proc:
            proc.set_stat(user=100, system=100, idle=800)
            proc.set_meminfo(total_kib=1000, available_kib=900)
            # Given the query port, the agent follows its 307 to the ingest port.
            with Agent(query.url, self.spool_dir,
                       ("--name", NAME, "--interval", "2", "--once", "--token-file", self.token_file,
                        "--proc-root", proc.path)) as agent:
                agent.wait_for_log("reporting as")
                proc.set_stat(user=200, system=100, idle=1100)
                self.assertEqual(agent.wait(), 0, agent.stderr_text())
        self.assertEqual(list(minute_samples(query, NAME).values()), [(1, 25, 10)])

    def run_once(self, url, token_file, proc):
        """One --once run; -> (exit status, log)."""
        proc.set_stat(user=100, system=100, idle=800)
        proc.set_meminfo(total_kib=1000, available_kib=900)
        with Agent(url, self.spool_dir, ("--name", NAME, "--interval", "1", "--once", "--token-file",
                                         token_file, "--proc-root", proc.path)) as agent:
            agent.wait_for_log("reporting as")
            proc.set_stat(user=200, system=100, idle=1100)
            return agent.wait(), agent.stderr_text()

    def test_a_sample_judged_invalid_is_dropped_not_spooled(self):
        # The appliance's clock is an hour behind: the sample's "time" is in its future.
        with FakeClock() as clock:
            clock.set(time.time() - 3600)
            ingest, query = self.start_appliance(env=clock.env)
            with FakeProc() as proc:
                status, log = self.run_once(ingest.url, self.token_file, proc)
        self.assertEqual(status, 1, log)
        self.assertIn("error: the appliance refused the sample of", log)
        self.assertIn("after the appliance's clock", log)
        self.assertIn("dropped it", log)
        self.assertEqual(spool_size(os.path.join(self.spool_dir, NAME)), 0)
        self.assertEqual(minute_samples(query, NAME), {})

    def test_a_wrong_token_keeps_the_sample_until_the_token_is_right(self):
        ingest, query = self.start_appliance()
        with tempfile.NamedTemporaryFile("w", prefix="servertrack-token-") as wrong_token, FakeProc() as proc:
            wrong_token.write("not-the-token\n")
            wrong_token.flush()
            status, log = self.run_once(ingest.url, wrong_token.name, proc)
            self.assertEqual(status, 77, log)
            self.assertIn("error: 401 ", log)
            self.assertIn("put its ingest token in the first line of --token-file", log)
            self.assertEqual(spool_size(os.path.join(self.spool_dir, NAME)), 1)
            self.assertEqual(minute_samples(query, NAME), {})
            status, log = self.run_once(ingest.url, self.token_file, proc)
        self.assertEqual(status, 0, log)
        self.assertIn("sent the spool (1 samples)", log)
        self.assertEqual(sum(count for count, _, _ in minute_samples(query, NAME).values()), 2)
        self.assertEqual(spool_size(os.path.join(self.spool_dir, NAME)), 0)

    def test_a_busy_slot_keeps_the_samples_until_it_frees(self):
        # A lock word naming a live process that is not a writer (a sleeping
        # child) makes the server's slot busy: 503 to one sample, slot_busy to
        # every item of an array. Once that process is gone the lock is taken
        # over, and the spool goes out.
        ingest, query = self.start_appliance()
        spool_file = os.path.join(self.spool_dir, NAME)
        with FakeProc() as proc:
            ticks = [1000]

            def tick():
                ticks[0] += 100
                proc.set_stat(user=ticks[0] // 4, system=0, idle=ticks[0] - ticks[0] // 4)

            proc.set_meminfo(total_kib=1000, available_kib=500)
            tick()
            with Agent(ingest.url, self.spool_dir, ("--name", NAME, "--interval", "1", "--token-file",
                                                    self.token_file, "--proc-root", proc.path)) as agent:
                agent.wait_for_log("reporting as")
                tick()
                wait_until(lambda: minute_samples(query, NAME), what="the first sample")
                holder = subprocess.Popen(["sleep", "60"])
                try:
                    with layout.SegmentBytes(self.segment.name) as raw:
                        raw.put(raw.slot_offset(raw.slots()[NAME]) + layout.LOCK_OWNER, "<Q",
                                layout.lock_word(holder.pid))
                    for count in (1, 2, 3):
                        tick()
                        wait_until(lambda: spool_size(spool_file) >= count, what=f"spooled sample {count}")
                    agent.wait_for_log("(slot_busy:")  # an array's items, refused for later
                finally:
                    holder.kill()
                    holder.wait()
                # The next try (the third sample's, or a fourth's) takes the spool over the freed lock.
                wait_until(lambda: "sent the spool" in agent.stderr_text() or tick(), timeout=10,
                           interval=1.5, what="the spool sent")
                # Every sample taken (one per tick after the start) is counted, once.
                taken = ticks[0] // 100 - 11
                wait_until(lambda: sum(count for count, _, _ in minute_samples(query, NAME).values()) >= taken,
                           what=f"{taken} samples counted")
                self.assertEqual(agent.stop(), 0)
                log = agent.stderr_text()
        self.assertIn("error: 503 ", log)
        self.assertNotIn("dropped", log)
        self.assertEqual(spool_size(spool_file), 0)
        self.assertEqual(sum(count for count, _, _ in minute_samples(query, NAME).values()), taken)

    def test_bad_options_exit_2_with_a_clear_message(self):
        missing = os.path.join(self.spool_dir, "no-such-file")
        url = ["--url", "http://127.0.0.1:1"]
        for args, message in (([*url, "--name", "bad name!"], "--name"),
                              (["--url", "ftp://127.0.0.1:1", "--name", NAME], "--url"),
                              (["--url", "http://user@127.0.0.1:1", "--name", NAME], "--url"),
                              ([*url, "--name", NAME, "--token-file", missing], "--token-file"),
                              ([*url, "--interval", "0"], "--interval"),
                              ([*url, "--interval", "3601"], "--interval"),
                              ([*url, "--interval", "often"], "--interval"),
                              ([*url, "--ca-file", missing], "--ca-file"),
                              ([*url, "--no-such-option"], "--no-such-option"),
                              ([*url, "--once=maybe"], "--once"),
                              (["--name", NAME], "--url"),
                              ([*url, "--name"], "--name"),
                              ([*url, "extra"], "extra")):
            with self.subTest(args=args):
                result = subprocess.run([build_path("agent/servertrack-agent"), "--spool-dir",
                                         self.spool_dir, *args], capture_output=True, text=True,
                                        timeout=10)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(message, result.stderr)
        self.assertEqual(os.listdir(self.spool_dir), [])
        helped = subprocess.run([build_path("agent/servertrack-agent"), "--help"], capture_output=True,
                                text=True, timeout=10)
        self.assertEqual(helped.returncode, 0)
        self.assertIn("--once", helped.stdout)


if __name__ == "__main__":
    unittest.main()
