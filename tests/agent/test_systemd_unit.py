"""deploy/systemd/servertrack-agent.service.in as the build configures it:
systemd-analyze verify finds
nothing to say about it, its hardening scores as OK, and the command line it
runs is one the agent accepts (run here with --once against a closed port: it
spools the sample in the state directory and exits 75)."""

import os
import re
import shlex
import subprocess
import tempfile
import unittest

from agent_common import read_spool
from appliance import build_path, free_port

UNIT = build_path(os.path.join("deploy", "servertrack-agent.service"))
# systemd-analyze security: 0 is the most locked down, 10 the least; below 2 is "OK".
MOST_EXPOSURE = 2.0


class SystemdUnitTest(unittest.TestCase):
    def setUp(self):
        with open(UNIT, encoding="utf-8") as unit_file:
            self.unit_text = unit_file.read()
        self.installed = re.search(r"^ExecStart=(\S+)", self.unit_text, re.MULTILINE).group(1)
        self.assertTrue(self.installed.endswith("/bin/servertrack-agent"), self.installed)
        self.work = tempfile.TemporaryDirectory(prefix="servertrack-agent-unit-")
        self.addCleanup(self.work.cleanup)
        # verify insists that ExecStart's program exists: point it at the build.
        self.unit = os.path.join(self.work.name, "servertrack-agent.service")
        with open(self.unit, "w", encoding="utf-8") as unit_file:
            unit_file.write(self.unit_text.replace(self.installed, build_path("agent/servertrack-agent")))

    def test_systemd_analyze_verify_is_silent(self):
        result = subprocess.run(["systemd-analyze", "verify", self.unit], capture_output=True,
                                text=True, timeout=60)
        self.assertEqual((result.returncode, result.stderr.strip()), (0, ""))

    def test_hardening_exposure_is_ok(self):
        result = subprocess.run(["systemd-analyze", "security", "--offline=yes", self.unit],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        exposure = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
        self.assertIsNotNone(exposure, result.stdout)
        self.assertLess(float(exposure.group(1)), MOST_EXPOSURE, result.stdout)

    def test_the_agent_accepts_its_command_line(self):
        exec_start = re.search(r"^ExecStart=(.*)$", self.unit_text, re.MULTILINE).group(1)
        credentials = os.path.join(self.work.name, "credentials")
        os.mkdir(credentials)
        with open(os.path.join(credentials, "token"), "w", encoding="ascii") as token:
            token.write("secret\n")
        closed_port = f"http://127.0.0.1:{free_port()}"
        command = (exec_start.replace("${SERVERTRACK_URL}", closed_port)
                   .replace("%d", credentials).replace("%S", self.work.name)
                   .replace(self.installed, build_path("agent/servertrack-agent")))
        self.assertNotRegex(command, r"[%$]", "a specifier or variable the test does not know")
        result = subprocess.run([*shlex.split(command), "--name", "unit-check.example.com", "--interval", "1",
                                 "--once"], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 75, result.stderr)
        spooled = read_spool(os.path.join(self.work.name, "servertrack-agent", "unit-check.example.com"))
        self.assertEqual(len(spooled), 1)


if __name__ == "__main__":
    unittest.main()
