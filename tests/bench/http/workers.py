"""The appliance under test: a fresh segment plus ingest and query workers.

Called by run.py as a context manager, one per segment size. Creates a segment
with a unique name (`shmtool create`), starts `ingest_processes` ingest workers
sharing one port (SO_REUSEPORT) and one query worker, all pinned to the server
core, waits until each printed "listening on" and the ports answer /healthz,
and on exit stops them by pid and removes the segment (`shmtool remove
--force`). fill() posts one sample for each of N names through the ingest port.
The segment and ports come from the end-to-end tests' harness, tests/lib/appliance.py,
pointed at the benchmark's build dir.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import processes
import wrk

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
import appliance  # noqa: E402  (tests/lib: TestSegment, free_port)

FILL_LIMIT_S = 600


class Workers:
    def __init__(self, build_dir, capacity, server_core, ingest_processes=1, ingest_threads=None,
                 query_threads=None):
        self._build_dir = build_dir
        self.capacity = capacity
        self._segment = appliance.TestSegment(capacity)
        self.segment = self._segment.name
        self._core = server_core
        self._ingest_processes = ingest_processes
        self._ingest_threads = ingest_threads
        self._query_threads = query_threads
        self.log_dir = None
        self.running = []
        self.ingest_port = None
        self.query_port = None

    @property
    def post_url(self):
        return f"http://127.0.0.1:{self.ingest_port}"

    @property
    def get_url(self):
        return f"http://127.0.0.1:{self.query_port}"

    @property
    def pids(self):
        return [process.pid for process in self.running]

    def segment_bytes(self):
        """(size of the shared-memory object, bytes of it actually resident)."""
        info = os.stat(f"/dev/shm/{self.segment}")
        return info.st_size, info.st_blocks * 512

    def _start(self, kind, port, sibling_port, threads):
        command = [os.path.join(self._build_dir, kind, f"servertrack-{kind}"), "--bind", "127.0.0.1",
                   "--port", str(port), "--segment", self.segment,
                   "--sibling-url", f"http://127.0.0.1:{sibling_port}"]
        if threads is not None:
            command += ["--threads", str(threads)]
        log_path = os.path.join(self.log_dir, f"{kind}-{len(self.running)}.log")
        process = processes.start(command, self._core, log_path)
        self.running.append(process)
        deadline = time.monotonic() + 10
        while "listening on" not in open(log_path).read():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{kind} worker did not start:\n" + open(log_path).read())
            time.sleep(0.05)

    def __enter__(self):
        self.log_dir = tempfile.mkdtemp(prefix="servertrack-bench-workers-")
        appliance.BUILD_DIR = self._build_dir
        self._segment.__enter__()
        try:
            self.ingest_port = appliance.free_port()
            self.query_port = appliance.free_port()
            for _ in range(self._ingest_processes):
                self._start("ingest", self.ingest_port, self.query_port, self._ingest_threads)
            self._start("query", self.query_port, self.ingest_port, self._query_threads)
            processes.wait_until_ready(self.post_url + "/healthz", self.running[0])
            processes.wait_until_ready(self.get_url + "/healthz", self.running[-1])
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for process in self.running:
            processes.stop(process)
        self._segment.__exit__()
        shutil.rmtree(self.log_dir, ignore_errors=True)

    def fill(self, names, client_core, connections=64):
        """POSTs one sample for each of srv0 .. srv<names-1>; returns the seconds it took."""
        load = wrk.Load(self.post_url, "fill.lua", (names, connections), connections)
        started = time.monotonic()
        filler = processes.spawn(wrk.command_for(load, FILL_LIMIT_S), client_core, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
        filled = False
        try:
            for line in filler.stdout:
                if line.startswith("FILLED"):
                    filled = True
                    filler.send_signal(signal.SIGINT)
                    break
            output = filler.communicate(timeout=30)[0]
        finally:
            processes.stop(filler, grace_s=0)
        if not filled:
            raise RuntimeError(f"filling {names} names did not finish within {FILL_LIMIT_S} s:\n{output}")
        return time.monotonic() - started
