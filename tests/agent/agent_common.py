"""Helpers of the agent's end-to-end tests: the real servertrack-agent against a
real appliance (tests/lib/appliance.py), a fake /proc it reads, its spool file.

    Agent(url, spool_dir, args=(), env=None)   the agent, started; .wait_for_log(text)
                                              .kill() .stop() .wait() .stderr_text()
    FakeProc()                                a directory with stat and meminfo; .set_stat()
                                              .set_meminfo() replace them atomically
    read_spool(path)                          -> [(time, cpu, ram)] of a spool file
    write_spool(path, samples, tail=b"")      a spool file as the agent writes it, plus
                                              `tail` (e.g. a record torn by a crash)
    minute_samples(query, name)               -> {minute start: (count, cpu, ram)}
"""

import json
import os
import signal
import struct
import subprocess
import tempfile
import time
import zlib

from appliance import build_path, http, kill_and_reap

AGENT = os.path.join("agent", "servertrack-agent")
# agent/spool.h, SpoolRecord: magic, crc, time, cpu, ram in the host's byte order.
SPOOL_RECORD = struct.Struct("=IIqdd")
SPOOL_MAGIC = 0x31415453


class Agent:
    """A running servertrack-agent; stderr is kept for the test to read."""

    def __init__(self, url, spool_dir, args=(), env=None):
        command = [build_path(AGENT), "--url", url, "--spool-dir", spool_dir, *args]
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._stderr, env={**os.environ, **(env or {})})
        self.pid = self.proc.pid

    def stderr_text(self):
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def wait_for_log(self, text, timeout=15, count=1):
        """Waits until `text` appears `count` times in the agent's stderr."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stderr_text().count(text) >= count:
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"agent exited with {self.proc.returncode} before logging "
                                     f"{text!r}: {self.stderr_text()}")
            time.sleep(0.02)
        raise AssertionError(f"agent did not log {text!r} within {timeout} s: {self.stderr_text()}")

    def wait(self, timeout=30):
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout=10):
        """SIGTERM, wait, and return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self):
        kill_and_reap(self.proc, faketime=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        self._stderr.close()
        return False


class FakeProc:
    """A fake /proc (stat and meminfo) for --proc-root; removed on exit."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="servertrack-agent-proc-")
        self.path = self._dir.name

    def _replace(self, name, text):
        temporary = os.path.join(self.path, name + ".new")
        with open(temporary, "w", encoding="ascii") as file:
            file.write(text)
        os.rename(temporary, os.path.join(self.path, name))

    def set_stat(self, user, system, idle, iowait=0):
        """The aggregate cpu line (nice, irq, softirq, steal 0) and one per-CPU line."""
        self._replace("stat", f"cpu  {user} 0 {system} {idle} {iowait} 0 0 0 0 0\n"
                              f"cpu0 {user} 0 {system} {idle} {iowait} 0 0 0 0 0\n"
                              "intr 12345 0 0\nctxt 67890\nbtime 1700000000\n")

    def set_meminfo(self, total_kib, available_kib):
        self._replace("meminfo", f"MemTotal:       {total_kib} kB\nMemFree:          1024 kB\n"
                                 f"MemAvailable:   {available_kib} kB\nBuffers:          2048 kB\n")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._dir.cleanup()
        return False


def read_spool(path):
    """The samples of a spool file, oldest first, as (time, cpu, ram)."""
    with open(path, "rb") as file:
        data = file.read()
    samples = []
    for offset in range(0, len(data) - SPOOL_RECORD.size + 1, SPOOL_RECORD.size):
        magic, _crc, when, cpu, ram = SPOOL_RECORD.unpack_from(data, offset)
        assert magic == SPOOL_MAGIC, f"record at {offset} of {path} has magic {magic:#x}"
        samples.append((when, cpu, ram))
    return samples


def write_spool(path, samples, tail=b""):
    """Writes (time, cpu, ram) samples as spool records, then `tail`."""
    with open(path, "wb") as file:
        for when, cpu, ram in samples:
            body = struct.pack("=qdd", when, cpu, ram)
            file.write(struct.pack("=II", SPOOL_MAGIC, zlib.crc32(body)) + body)
        file.write(tail)


def spool_size(path):
    """Whole records in the spool file (0 when it does not exist yet)."""
    try:
        return os.path.getsize(path) // SPOOL_RECORD.size
    except FileNotFoundError:
        return 0


def minute_samples(query, name):
    """{minute start (unix s): (count, cpu mean, ram mean)} of the non-empty
    minutes of GET /server/<name>?counts=1; {} when the server is unknown."""
    status, _, body = http("GET", f"{query.url}/server/{name}?counts=1")
    if status == 404:
        return {}
    assert status == 200, (status, body)
    window = json.loads(body)["last_60_minutes"]
    return {window["start"] + i * window["step"]: (count, cpu, ram)
            for i, (count, cpu, ram) in enumerate(zip(window["count"], window["cpu"], window["ram"]))
            if count}


