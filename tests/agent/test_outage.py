"""servertrack-agent while the appliance is away, with a real appliance under a
fake clock that the test steps a minute per interval (the agent's intervals
stay real): every interval's sample waits in the spool, and once the
appliance is back each lands in its own minute with its exact values; an
agent SIGKILLed with a full spool sends it after its restart, and sending the
same spool again (a crash after the appliance acknowledged a batch but before
the spool was rewritten) counts nothing twice; a spool left with a torn last
record and a sample too old for the appliance sends the rest and drops those;
a full table (507, or "table_full" in a batch answer) keeps the samples in the
spool until a slot frees."""

import os
import time
import shutil
import tempfile
import unittest

from agent_common import Agent, minute_samples, read_spool, spool_size, write_spool
from appliance import FakeClock, TestSegment, Worker, delete_server, free_port, post_batch, wait_until

NAME = "web-01.example.com"
INTERVAL = 3
CAPACITY = 16



class OutageTest(unittest.TestCase):
    def setUp(self):
        self.clock = FakeClock()
        self.addCleanup(self.clock.close)
        self.spool_dir = tempfile.mkdtemp(prefix="servertrack-agent-spool-")
        self.addCleanup(shutil.rmtree, self.spool_dir)
        self.spool_file = os.path.join(self.spool_dir, NAME)
        self.segment = TestSegment(CAPACITY)
        self.segment.__enter__()
        self.addCleanup(self.segment.__exit__)
        self.query = Worker("query", self.segment, env=self.clock.env)
        self.addCleanup(self.query.__exit__)
        self.ingest_port = free_port()

    def start_ingest(self):
        ingest = Worker("ingest", self.segment, port=self.ingest_port, env=self.clock.env)
        self.addCleanup(ingest.__exit__)
        return ingest

    def start_agent(self):
        agent = Agent(f"http://127.0.0.1:{self.ingest_port}", self.spool_dir,
                      ("--name", NAME, "--interval", str(INTERVAL)), env=self.clock.env)
        self.addCleanup(agent.__exit__)
        return agent

    def minutes_later(self, minutes):
        """Moves the clock of the appliance and the agent `minutes` ahead of the real one."""
        self.clock.set(time.time() + 60 * minutes)

    def spool_one_sample_per_minute(self, count):
        """With the appliance away, lets the agent spool `count` samples, each
        taken a minute after the previous one on the fake clock."""
        for minute in range(1, count + 1):
            self.minutes_later(minute)
            wait_until(lambda: spool_size(self.spool_file) >= minute, timeout=4 * INTERVAL,
                       what=f"spooled sample {minute}")
        spooled = read_spool(self.spool_file)
        self.assertEqual(len(spooled), count)
        return spooled

    def assert_each_in_its_own_minute(self, spooled):
        minutes = minute_samples(self.query, NAME)
        for when, cpu, ram in spooled:
            with self.subTest(time=when):
                self.assertEqual(minutes.get(when // 60 * 60), (1, cpu, ram))

    def test_five_intervals_away_land_in_five_minutes(self):
        agent = self.start_agent()
        agent.wait_for_log("reporting as")
        spooled = self.spool_one_sample_per_minute(5)
        self.assertEqual(len({when // 60 for when, _, _ in spooled}), 5)
        self.minutes_later(7)
        self.start_ingest()
        agent.wait_for_log("sent the spool")
        self.assert_each_in_its_own_minute(spooled)
        self.assertEqual(spool_size(self.spool_file), 0)
        self.assertIn("is spooled", agent.stderr_text())
        self.assertEqual(agent.stop(), 0)

    def test_sigkilled_agent_sends_its_spool_once(self):
        agent = self.start_agent()
        agent.wait_for_log("reporting as")
        spooled = self.spool_one_sample_per_minute(3)
        agent.kill()
        with open(self.spool_file, "rb") as spool:
            spooled_bytes = spool.read()

        self.minutes_later(5)
        self.start_ingest()
        restarted = self.start_agent()
        restarted.wait_for_log(f"sent the spool ({len(spooled)} samples)")
        self.assertEqual(restarted.stop(), 0)
        self.assert_each_in_its_own_minute(spooled)

        # As if the agent died after the appliance acknowledged the batch but
        # before the spool was rewritten: the same samples go out again.
        with open(self.spool_file, "wb") as spool:
            spool.write(spooled_bytes)
        again = self.start_agent()
        again.wait_for_log(f"sent the spool ({len(spooled)} samples)")
        self.assertEqual(again.stop(), 0)
        self.assert_each_in_its_own_minute(spooled)
        self.assertEqual(spool_size(self.spool_file), 0)

    def test_a_torn_record_and_a_refused_sample_are_dropped_the_rest_sent(self):
        now = int(time.time())
        too_old = now - 31 * 86400  # before the 30 days of the segment
        kept = [(now - 600, 10.5, 20.25), (now - 540, 11.5, 21.25)]
        write_spool(self.spool_file, [(too_old, 1.0, 2.0), *kept], tail=b"\x53\x54\x41\x31" + bytes(9))
        self.start_ingest()
        agent = self.start_agent()
        agent.wait_for_log("sent the spool (3 samples)")
        self.assertEqual(agent.stop(), 0)
        log = agent.stderr_text()
        self.assertIn("dropped 1 damaged records from the spool", log)
        self.assertIn(f"refused the spooled sample of {too_old}", log)
        self.assert_each_in_its_own_minute(kept)
        self.assertEqual(spool_size(self.spool_file), 0)

    def test_a_full_table_keeps_samples_spooled_until_a_slot_frees(self):
        ingest = self.start_ingest()
        fillers = {f"filler-{i}.example.com": {"cpu": 1, "ram": 1} for i in range(CAPACITY)}
        status, answer = post_batch(ingest, fillers)
        self.assertEqual(status, 200)
        refused = {item["name"] for item in answer["rejected"]}
        recorded = [name for name in fillers if name not in refused]
        agent = self.start_agent()
        agent.wait_for_log("reporting as")
        # The first sample gets 507; the second goes in a batch answered
        # table_full (the agent spools a sample before it sends the spool).
        spooled = self.spool_one_sample_per_minute(2)
        agent.wait_for_log("table_full")
        self.assertIn("507", agent.stderr_text())
        self.assertEqual(delete_server(ingest, recorded[0]), 204)
        self.minutes_later(3)
        agent.wait_for_log("sent the spool")
        self.assert_each_in_its_own_minute(spooled)
        self.assertEqual(agent.stop(), 0)


if __name__ == "__main__":
    unittest.main()
