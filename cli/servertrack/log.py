"""The supervisor's log: one line per event on stderr, with a UTC timestamp.

    servertrack [2026-11-28 23:30:00.573] ingest#1 started, pid 9015

Any module may call log(); it is one write(2), so lines of the supervisor and
of the workers (which share its stderr) never interleave mid-line.
"""
import os
import sys
import time


def log(message):
    now = time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}"
    sys.stderr.flush()
    os.write(sys.stderr.fileno(), f"servertrack [{stamp}] {message}\n".encode())
