"""Counts connections that never got a byte back (wrk does not).

Used by wrk.py while a load runs. A background thread samples the client side
of every TCP connection to the server's ports with `ss -tni` (pinned to the
client's core) every 0.5 s. A connection is "never served" when it stayed open
for at least one second and its bytes_received stayed 0 (absent in ss) in
every sample: it was waiting in the accept queue or for a server thread. Cost:
one `ss` call per sample, a few milliseconds with 1,000 connections.
"""

import re
import subprocess
import threading
import time

import processes

SAMPLE_EVERY_S = 0.5
UNSERVED_AFTER_S = 1.0

_COOKIE = re.compile(r"\bsk:([0-9a-f]+)")
_RECEIVED = re.compile(r"\bbytes_received:(\d+)")


def _sample(ports, core):
    """{socket cookie: bytes received} for client sockets connected to ports."""
    dports = " or ".join(f"dport = :{port}" for port in ports)
    command = ["ss", "-tniHe", "state", "established", "state", "syn-sent", f"( {dports} )"]
    output = subprocess.run(processes.pinned(command, core), capture_output=True, text=True, check=True).stdout
    sockets = {}
    cookie = None
    for line in output.splitlines():
        if not line[:1].isspace():
            match = _COOKIE.search(line)
            cookie = match.group(1) if match else None
            if cookie is not None:
                sockets[cookie] = 0
        elif cookie is not None:
            match = _RECEIVED.search(line)
            sockets[cookie] = int(match.group(1)) if match else 0
    return sockets


class ConnectionWatch:
    """Samples until stop(); then .seen and .never_served hold the counts."""

    def __init__(self, ports, core):
        self._ports = ports
        self._core = core
        self._stopping = threading.Event()
        self._first_seen = {}
        self._last_seen = {}
        self._served = set()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.seen = 0
        self.never_served = 0

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stopping.set()
        self._thread.join()
        self.seen = len(self._first_seen)
        self.never_served = sum(
            1 for cookie, first in self._first_seen.items()
            if cookie not in self._served and self._last_seen[cookie] - first >= UNSERVED_AFTER_S)

    def _run(self):
        while not self._stopping.wait(SAMPLE_EVERY_S):
            now = time.monotonic()
            for cookie, received in _sample(self._ports, self._core).items():
                self._first_seen.setdefault(cookie, now)
                self._last_seen[cookie] = now
                if received > 0:
                    self._served.add(cookie)
