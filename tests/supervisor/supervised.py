"""The real `servertrack run` as a child process of a test, with its log followed.

Used by the tests in this folder. Supervised(...) starts the supervisor script
on a test segment, free ports and a data dir (a temporary one unless given),
reads its combined stdout/stderr on a thread and parses the worker events it
logs ("ingest#1 started, pid N", "ingest#1 pid N killed by signal 9 (SIGKILL)
after 0.4 s; restarting in 0.1 s"). Leaving the
`with` block SIGKILLs the supervisor if it still runs and waits for every worker
it started to be gone.
"""
import collections
import contextlib
import datetime
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

from appliance import free_port, poll

SCRIPT = os.path.join(os.environ["SERVERTRACK_SOURCE_DIR"], "servertrack")
BUILD_DIR = os.environ["SERVERTRACK_BUILD_DIR"]

LINE = re.compile(r"^servertrack \[(?P<stamp>[^\]]+)\] (?P<worker>\w+#\d+) "
                  r"(?:(?:started|restarted), pid (?P<started>\d+)"
                  r"|pid (?P<exited>\d+) (?P<how>.+?) after [\d.]+ s; restarting in (?P<delay>[\d.]+) s)$")

# kind: 'started' or 'exited'; delay: the announced restart delay (exits only).
Event = collections.namedtuple("Event", "time worker kind pid how delay")


def parse_event(line):
    match = LINE.match(line)
    if not match:
        return None
    stamp = datetime.datetime.strptime(match["stamp"], "%Y-%m-%d %H:%M:%S.%f")
    when = stamp.replace(tzinfo=datetime.timezone.utc).timestamp()
    if match["started"]:
        return Event(when, match["worker"], "started", int(match["started"]), None, None)
    return Event(when, match["worker"], "exited", int(match["exited"]), match["how"], float(match["delay"]))


def process_gone(pid):
    """True when pid no longer runs (absent, or a zombie nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone before the open, or between open and read
        return True


class Supervised:
    def __init__(self, segment, capacity, ingest_workers=1, query_workers=1,
                 build_dir=BUILD_DIR, ingest_port=None, query_port=None, data_dir=None, extra_args=()):
        self.own_data_dir = None if data_dir else tempfile.TemporaryDirectory(prefix="servertrack-data-")
        self.data_dir = data_dir or self.own_data_dir.name
        self.ingest_port = ingest_port or free_port()
        self.query_port = query_port or free_port()
        self.ingest_url = f"http://127.0.0.1:{self.ingest_port}"
        self.query_url = f"http://127.0.0.1:{self.query_port}"
        args = [sys.executable, SCRIPT, "run", "--bind", "127.0.0.1",
                "--ingest-port", str(self.ingest_port), "--query-port", str(self.query_port),
                "--ingest-workers", str(ingest_workers), "--query-workers", str(query_workers),
                "--segment", segment, "--build-dir", build_dir, "--data-dir", self.data_dir,
                *(["--capacity", str(capacity)] if capacity else []), *extra_args]
        self.lines = []
        self.changed = threading.Condition()
        # Its own process group, as under a service manager: power_cut() kills it whole.
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, process_group=0)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def log(self):
        with self.changed:
            return "\n".join(self.lines)

    def events(self):
        with self.changed:
            return [e for e in map(parse_event, self.lines) if e is not None]

    def wait_for_line(self, predicate, timeout):
        """The first log line satisfying predicate, waiting up to timeout seconds."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = next((line for line in self.lines if predicate(line)), None)
                remaining = deadline - time.monotonic()
                if found is not None or remaining <= 0:
                    return found
                self.changed.wait(remaining)

    def wait_ready(self, timeout=20):
        if self.wait_for_line(lambda line: line.startswith("ServerTrack is running"), timeout) is None:
            raise AssertionError(f"supervisor not ready within {timeout} s; log:\n{self.log()}")

    def current_pid(self, worker):
        started = [e.pid for e in self.events() if e.worker == worker and e.kind == "started"]
        return started[-1] if started else None

    def wait_for_new_pid(self, worker, old_pid, timeout):
        line = self.wait_for_line(
            lambda l: (e := parse_event(l)) is not None and e.worker == worker
            and e.kind == "started" and e.pid != old_pid, timeout)
        return parse_event(line).pid if line else None

    def worker_pids(self):
        return {e.pid for e in self.events() if e.kind == "started"}

    def signal(self, number):
        self.proc.send_signal(number)

    def power_cut(self):
        """SIGKILL to the supervisor's process group (it and any checkpoint it is
        writing) and to every worker (each in a group of its own): nothing gets to
        run another instruction, as when the power goes."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in self.worker_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        # The whole group: a checkpoint the supervisor is writing (shmtool dump,
        # its child) must not go on writing into a data dir the test removes.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        pids = self.worker_pids()
        if not poll(lambda: all(process_gone(pid) for pid in pids), 10):
            for pid in pids:
                if not process_gone(pid):
                    os.kill(pid, signal.SIGKILL)
        self.reader.join(timeout=5)
        self.proc.stdout.close()
        if self.own_data_dir:
            self.own_data_dir.cleanup()
