"""What the shmtool tests share: running shmtool and the sample recorder."""

import subprocess
import unittest

from appliance import build_path

# A fixed "now" for tests that write samples with explicit times:
# 2026-11-28 12:00:30 UTC, 30 s into a minute.
NOW = 1795867230


def run_shmtool(*args, input=None):
    """shmtool's CompletedProcess (text), whatever its exit code."""
    return subprocess.run([build_path("cli/shmtool"), *map(str, args)], capture_output=True, text=True,
                          input=input, timeout=60)


def record(segment, samples):
    """Records (name, unix, cpu, ram) samples through the segment library, in
    time order as one clock would (a clock that steps back is a clock error:
    shm/slot.h, clock policy)."""
    in_order = sorted(samples, key=lambda sample: sample[1])
    lines = "".join(f"{name} {when} {cpu!r} {ram!r}\n" for name, when, cpu, ram in in_order)
    result = subprocess.run([build_path("tests/cli/record_samples"), segment], input=lines,
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"record_samples failed: {result.stderr}")


class Registered:
    """A process registered in the segment's registry (as a worker would be),
    attached until stop(). Started and registered on return."""

    def __init__(self, segment, kind="ingest"):
        self.proc = subprocess.Popen([build_path("tests/cli/record_samples"), segment, "--register", kind],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != "registered":
            self.kill()
            raise AssertionError("record_samples did not register")
        self.pid = self.proc.pid

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc.stdin.close()
        self.proc.stdout.close()


class ShmtoolTestCase(unittest.TestCase):
    def assertExit(self, result, code):
        self.assertEqual(result.returncode, code,
                         f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
