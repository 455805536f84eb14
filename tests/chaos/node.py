"""One appliance of a chaos run: the real `servertrack run` (tests/supervisor/
supervised.py: Supervised) on a fresh segment, fixed ports, a data dir of its
own, checkpoints every CHECKPOINT_INTERVAL seconds and an ingest token file,
and the faults that can be done to it. Called from the run's fault thread only.

    Node(name, capacity, token_file)   started and ready; .ingest_url .query_url .address
        .worker_pid(kind) .signal_worker(kind, sig) .signal_supervisor(sig)
        .kill_supervisor() / .restart()       SIGKILL (workers follow), a new supervisor
        .power_cut() -> (window start, cut)   SIGKILL of everything, segment removed
        .break_data_dir() / .mend_data_dir()  checkpoints fail meanwhile
        .answers(bound) -> seconds or None    /healthz of both kinds, a POST and a GET
        .close()

A power cut's loss window (README, Where the data lives: "at most the samples of
the last checkpoint interval") starts where the newest checkpoint's walk of the
segment may have begun: DUMP_MARGIN s before the `dumped_unix` its header holds,
and in any case not before the previous checkpoint file was last written (a dump
starts only after the previous one finished) or this supervisor started. Every
sample acknowledged before that is in the checkpoint the restart restores.
"""

import contextlib
import os
import shutil
import struct
import tempfile
import time

from appliance import TestSegment, free_port, healthy, http, poll, shmtool
from servertrack.checkpoint import checkpoint_files
from supervised import Supervised, process_gone

CHECKPOINT_INTERVAL = 4
INGEST_WORKERS = 2
# Seconds before the newest checkpoint's `dumped_unix` its walk of the segment may
# have begun: the header's time is taken after the walk, in whole seconds, and a
# walk of CAPACITY slots takes microseconds unless preempted (nice 10, loaded host).
DUMP_MARGIN = 1
# cli/snapshot_file.h: the header's dumped_unix, an i64 at offset 40.
DUMPED_UNIX = struct.Struct("<q")


def dumped_unix(path):
    with open(path, "rb") as snapshot:
        return DUMPED_UNIX.unpack_from(snapshot.read(48), 40)[0]


class Node:
    def __init__(self, name, capacity, token_file):
        self.name = name
        self.token_file = token_file
        self.segment = TestSegment(capacity)
        self.segment.__enter__()
        self.data_dir = tempfile.mkdtemp(prefix=f"servertrack-chaos-{name}-")
        self.ingest_port, self.query_port = free_port(), free_port()
        self.ingest_url = f"http://127.0.0.1:{self.ingest_port}"
        self.query_url = f"http://127.0.0.1:{self.query_port}"
        self.logs = []  # the log of each supervisor before the current one
        self.run = None
        self.start()

    def start(self):
        self.started_at = time.time()
        self.run = Supervised(self.segment.name, None, ingest_workers=INGEST_WORKERS,
                              ingest_port=self.ingest_port, query_port=self.query_port, data_dir=self.data_dir,
                              extra_args=("--checkpoint-interval", str(CHECKPOINT_INTERVAL),
                                          "--ingest-token-file", self.token_file))
        self.run.wait_ready(timeout=60)

    @property
    def address(self):
        """'127.0.0.1:INGEST:QUERY', as deploy/haproxy/generate.py's --node takes it."""
        return f"127.0.0.1:{self.ingest_port}:{self.query_port}"

    def checkpoint_files(self):
        """[(sequence, path)] of every checkpoint, full or delta (restore applies a
        chain's deltas too), newest first."""
        return sorted(checkpoint_files(self.data_dir, self.segment.name)
                      + checkpoint_files(self.data_dir, self.segment.name, delta=True), reverse=True)

    def checkpoints(self):
        return len(self.checkpoint_files())

    def worker_pid(self, worker):
        return self.run.current_pid(worker)

    def signal_worker(self, worker, number):
        pid = self.worker_pid(worker)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, number)
        return pid

    def signal_supervisor(self, number):
        self.run.signal(number)

    def _retire(self):
        """The current supervisor is gone: waits for its workers, keeps its log."""
        pids = self.run.worker_pids()
        poll(lambda: all(process_gone(pid) for pid in pids), 15)
        self.run.__exit__()
        self.logs.append(self.run.log())

    def kill_supervisor(self):
        self.run.proc.kill()
        self.run.proc.wait()
        self._retire()

    def restart(self):
        self.start()

    def power_cut(self):
        files = self.checkpoint_files()
        window_start = max(os.path.getmtime(files[1][1]) if len(files) > 1 else self.started_at,
                           dumped_unix(files[0][1]) - DUMP_MARGIN)
        self.run.power_cut()
        cut = time.time()
        self._retire()
        shmtool("remove", "--segment", self.segment.name, "--force")
        return window_start, cut

    def break_data_dir(self):
        """The data dir's path becomes a file: every checkpoint fails (ENOTDIR)."""
        os.rename(self.data_dir, self.data_dir + ".away")
        with open(self.data_dir, "w", encoding="ascii") as blocker:
            blocker.write("not a directory\n")

    def mend_data_dir(self):
        os.unlink(self.data_dir)
        os.rename(self.data_dir + ".away", self.data_dir)

    def answers(self, bound, token):
        """Seconds until both kinds answer /healthz and a POST and a GET work, or None."""
        started = time.monotonic()
        headers = {"Authorization": f"Bearer {token}"}
        while time.monotonic() - started < bound:
            with contextlib.suppress(OSError):
                if (healthy([self.ingest_url, self.query_url])
                        and http("POST", self.ingest_url + "/server/probe-" + self.name, '{"cpu": 1, "ram": 1}',
                                 headers, timeout=2)[0] == 204
                        and http("GET", self.query_url + "/server/probe-" + self.name, timeout=2)[0] == 200):
                    return time.monotonic() - started
            time.sleep(0.1)
        return None

    def log(self):
        return "\n".join(self.logs + ([self.run.log()] if self.run else []))

    def close(self):
        if self.run is not None:
            self.run.__exit__()
        self.segment.__exit__()
        if os.path.isfile(self.data_dir):  # broken by failing_checkpoint
            self.mend_data_dir()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        shutil.rmtree(self.data_dir + ".away", ignore_errors=True)
