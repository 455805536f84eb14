"""A token rotation over two real agents loses nothing (README, "Exposing it
safely"): the appliance's --ingest-token-file holds the old token; the new one
is added and the workers reloaded (SIGHUP); a second agent starts on the new
token while the first still sends the old one; the first is restarted on the
new token; the old line is removed and the workers reloaded. Not one POST is
refused on the way, every sample taken is recorded and no spool is left, and
the old token is refused at the end."""

import os
import re
import signal
import subprocess
import tempfile
import time
import unittest

from agent_common import Agent, minute_samples, spool_size
from appliance import TestSegment, Worker, http

INTERVAL = "1"


def metric_lines(worker, pattern):
    body = http("GET", worker.url + "/metrics")[2].decode()
    return {match[0]: int(float(match[1])) for match in re.findall(pattern, body, re.MULTILINE)}


class TokenRotation(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="servertrack-rotation-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.dir], check=True))
        self.old, self.new = os.urandom(16).hex(), os.urandom(16).hex()
        self.appliance_tokens = os.path.join(self.dir, "ingest-tokens")

    def write(self, path, text):
        with open(path + ".tmp", "w", encoding="ascii") as f:
            f.write(text)
        os.replace(path + ".tmp", path)

    def agent_token(self, name, token):
        path = os.path.join(self.dir, f"{name}.token")
        self.write(path, token + "\n")
        return path

    def reload(self, ingest, expect):
        before = ingest.stderr_text().count("SIGHUP: tokens")
        os.kill(ingest.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while ingest.stderr_text().count("SIGHUP: tokens") == before:
            self.assertLess(time.monotonic(), deadline, ingest.stderr_text())
            time.sleep(0.01)
        self.assertIn(expect, ingest.stderr_text().rsplit("SIGHUP: tokens", 1)[1])

    def start_agent(self, ingest, name, token_file):
        agent = Agent(ingest.url, os.path.join(self.dir, f"spool-{name}"),
                      ("--name", name, "--interval", INTERVAL, "--token-file", token_file))
        self.addCleanup(agent.__exit__)
        agent.wait_for_log("reporting as")
        return agent

    def test_two_agents_on_the_old_and_the_new_token_lose_nothing(self):
        for name in ("rotation-a", "rotation-b"):
            os.mkdir(os.path.join(self.dir, f"spool-{name}"))
        self.write(self.appliance_tokens, f"{self.old}\n")
        with TestSegment() as segment, \
                Worker("ingest", segment, args=("--ingest-token-file", self.appliance_tokens)) as ingest, \
                Worker("query", segment, args=("--sibling-url", ingest.url)) as query:
            first = self.start_agent(ingest, "rotation-a", self.agent_token("a", self.old))
            time.sleep(2)
            # Step 1: the appliance accepts both.
            self.write(self.appliance_tokens, f"{self.old}\n{self.new}\n")
            self.reload(ingest, "reloaded: 2 tokens in force")
            second = self.start_agent(ingest, "rotation-b", self.agent_token("b", self.new))
            time.sleep(2.5)
            # Step 2: the first agent moves to the new token (its unit restarts it).
            self.assertEqual(first.stop(), 0)
            retired = first
            first = self.start_agent(ingest, "rotation-a", self.agent_token("a", self.new))
            time.sleep(2)
            # Step 3: the old token goes.
            self.write(self.appliance_tokens, f"{self.new}\n")
            self.reload(ingest, "reloaded: 1 token in force")
            time.sleep(2.5)
            self.assertEqual(first.stop(), 0)
            self.assertEqual(second.stop(), 0)

            statuses = metric_lines(ingest, r'^servertrack_http_requests_total\{route="/server/<name>",'
                                            r'status="(\d+)"\} (\S+)$')
            self.assertEqual(set(statuses), {"204"}, f"every POST was accepted: {statuses}")
            recorded = metric_lines(ingest, r"^(servertrack_samples_recorded_total) (\S+)$")
            counts = {name: sum(count for count, _, _ in minute_samples(query, name).values())
                      for name in ("rotation-a", "rotation-b")}
            self.assertEqual(sum(counts.values()), recorded["servertrack_samples_recorded_total"])
            self.assertEqual(sum(counts.values()), statuses["204"], "every acknowledged sample is there")
            self.assertGreaterEqual(counts["rotation-a"], 6, counts)
            self.assertGreaterEqual(counts["rotation-b"], 4, counts)
            for name in ("rotation-a", "rotation-b"):
                self.assertEqual(spool_size(os.path.join(self.dir, f"spool-{name}", name)), 0)
            for agent in (retired, first, second):
                self.assertNotIn("refused", agent.stderr_text())
                self.assertNotIn("spooling", agent.stderr_text())
            # The old token is really gone; the new one works.
            post = ingest.url + "/server/rotation-c"
            self.assertEqual(http("POST", post, '{"cpu": 1, "ram": 1}', {"Authorization": f"Bearer {self.old}"})[0], 401)
            self.assertEqual(http("POST", post, '{"cpu": 1, "ram": 1}', {"Authorization": f"Bearer {self.new}"})[0], 204)


if __name__ == "__main__":
    unittest.main()
