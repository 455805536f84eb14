"""servertrack-agent behind the README's HAProxy recipe (deploy/haproxy/generate.py,
"More than one host"): with the node that owns its name stopped for 5 of its
intervals, the agent spools every sample (the balancer's 503) and, once the
node is back, sends the spool as one array to POST /server/<name>, which the
balancer routes like a single sample: afterwards every interval's sample is in
its own minute, counted once. A --url whose path the balancer does not route
(404) keeps the sample and exits 78 with --once.

Two real appliances with a token, Debian's HAProxy, the real agent reading a
fake /proc whose CPU counters the test advances once per wanted sample (an
interval without ticks gives none), so the test knows every sample."""

import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.environ.get("SERVERTRACK_SOURCE_DIR", ""), "tests", "sharding"))

from appliance import wait_until  # noqa: E402
from agent_common import Agent, FakeProc, minute_samples, read_spool, spool_size  # noqa: E402
from fleet import Appliance, Balancer  # noqa: E402

NAME = "ip-10-0-12-34.eu-west-1.compute.internal"
TOKEN = "tok_" + os.urandom(12).hex()


class Through:
    """minute_samples() reads GET /server/<name> from this URL (the balancer's)."""

    def __init__(self, url):
        self.url = url


class BalancerTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="servertrack-agent-haproxy-")
        self.addCleanup(shutil.rmtree, self.work)
        self.token_file = os.path.join(self.work, "token")
        with open(self.token_file, "w", encoding="ascii") as token:
            token.write(TOKEN + "\n")
        self.proc = FakeProc()
        self.addCleanup(self.proc.__exit__)
        self.proc.set_meminfo(total_kib=1000, available_kib=500)
        self.ticks = 1000
        self.busy = 0

    def tick(self):
        """One more sample for the agent to take: 100 ticks, a different busy share each time."""
        self.busy += 10
        self.ticks += 100
        self.proc.set_stat(user=self.busy * 10, system=0, idle=self.ticks - self.busy * 10)

    def agent(self, url, spool_dir, *args):
        self.tick()
        agent = Agent(url, spool_dir, ("--name", NAME, "--interval", "1", "--token-file", self.token_file,
                                       "--proc-root", self.proc.path, *args))
        self.addCleanup(agent.__exit__)
        agent.wait_for_log("reporting as")
        return agent

    def test_a_node_stopped_for_5_intervals_loses_no_sample(self):
        with Appliance(TOKEN) as node_a, Appliance(TOKEN) as node_b, \
                Balancer([("a", [node_a]), ("b", [node_b])]) as balancer:
            spool_dir = os.path.join(self.work, "spool")
            spool_file = os.path.join(spool_dir, NAME)
            through = Through(balancer.url)
            agent = self.agent(balancer.url, spool_dir)
            self.tick()
            live = wait_until(lambda: minute_samples(through, NAME), what="the first sample, sent live")
            [owner] = [(letter, node) for letter, node in (("a", node_a), ("b", node_b)) if NAME in node.names()]
            letter, node = owner
            node.stop_workers()
            balancer.wait_until_down(f"node_{letter}_ingest/{letter}", f"node_{letter}_query/{letter}")

            for count in range(1, 6):
                self.tick()
                wait_until(lambda: spool_size(spool_file) >= count, what=f"spooled sample {count}")
            spooled = read_spool(spool_file)
            self.assertEqual(len(spooled), 5)
            self.assertIn("error: 503 ", agent.stderr_text())

            node.start_workers()
            wait_until(lambda: f"node_{letter}_ingest/{letter} is UP" in balancer.log_text(),
                       what="HAProxy marks the node up again")
            # The next sample finds the node back and takes the spool with it;
            # it is taken in this minute (not within 3 s of its end).
            if time.time() % 60 > 55:
                time.sleep(61 - time.time() % 60)
            minute_of_last = int(time.time()) // 60 * 60
            self.tick()
            agent.wait_for_log("sent the spool (6 samples)")
            self.assertEqual(int(time.time()) // 60 * 60, minute_of_last)
            self.assertEqual(agent.stop(), 0)
            self.assertEqual(spool_size(spool_file), 0)

            expected = {}
            for minute, (count, _, _) in live.items():
                expected[minute] = expected.get(minute, 0) + count
            for when, _, _ in spooled:
                expected[when // 60 * 60] = expected.get(when // 60 * 60, 0) + 1
            expected[minute_of_last] = expected.get(minute_of_last, 0) + 1
            minutes = minute_samples(through, NAME)
            self.assertEqual({minute: count for minute, (count, _, _) in minutes.items()}, expected)
            # Each spooled sample's exact values are in its minute's mean.
            for minute in {when // 60 * 60 for when, _, _ in spooled}:
                if expected[minute] == len([1 for when, _, _ in spooled if when // 60 * 60 == minute]):
                    values = [cpu for when, cpu, _ in spooled if when // 60 * 60 == minute]
                    self.assertAlmostEqual(minutes[minute][1], sum(values) / len(values))

    def test_a_path_the_balancer_does_not_route_keeps_the_sample(self):
        with Appliance(TOKEN) as node_a, Balancer([("a", [node_a])]) as balancer:
            spool_dir = os.path.join(self.work, "spool-404")
            agent = self.agent(balancer.url + "/servertrack", spool_dir, "--once")
            self.tick()
            self.assertEqual(agent.wait(), 78, agent.stderr_text())
            self.assertIn("error: 404 ", agent.stderr_text())
            self.assertIn("point --url at the appliance's ingest or query worker or at its balancer",
                          agent.stderr_text())
            self.assertEqual(spool_size(os.path.join(spool_dir, NAME)), 1)
            self.assertEqual(node_a.names(), set())


if __name__ == "__main__":
    unittest.main()
