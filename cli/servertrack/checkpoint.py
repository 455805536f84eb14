"""Checkpoints: the segment written to the data directory while the appliance
runs, and read back when a start finds no segment (README: Where the data lives).

A checkpoint is a `shmtool dump` file (versioned, checksummed, independent of
the segment's layout; cli/snapshot_file.h), written by a shmtool child process
that reads the segment like any reader: no lock, no pause of ingest. shmtool
writes it to a temporary file, fsyncs it, renames it and fsyncs the directory.

Files in the data directory, named after the segment so that appliances of
different segments may share one directory:
    <segment>-<sequence>.snap    the checkpoints; the sequence only grows, so the
                                 newest is the highest (a clock set back at boot
                                 cannot reorder them)
    <segment>-checkpoints.prom   the supervisor's checkpoint counters in the
                                 Prometheus text format, rewritten after every try

After each checkpoint written, all but the two newest are removed; a file
that failed to load at start is never removed by the supervisor and does not
count among the two kept.

Checkpointer is driven from the supervisor's main thread (tick() from its loop,
final() after the workers stopped); it never raises on a failed checkpoint.
`servertrack checkpoint` (the Debian package's prerm, before an upgrade) calls
final() once, with metrics=False so that the running supervisor's counters stay.
"""
import glob
import os
import re
import subprocess
import time

from servertrack.log import log
from servertrack.programs import program

KEEP = 2


def checkpoint_files(data_dir, segment):
    """[(sequence, path)] of the segment's checkpoints in data_dir, newest first."""
    try:
        names = os.listdir(data_dir)
    except FileNotFoundError:
        return []
    pattern = re.compile(re.escape(segment) + r"-(\d{10})\.snap")
    found = [(int(m[1]), os.path.join(data_dir, name)) for name in names if (m := pattern.fullmatch(name))]
    return sorted(found, reverse=True)


def checkpoint_path(data_dir, segment, sequence):
    return os.path.join(data_dir, f"{segment}-{sequence:010d}.snap")


def metrics_path(data_dir, segment):
    return os.path.join(data_dir, f"{segment}-checkpoints.prom")


def remove_stale_temporaries(data_dir, segment):
    """Temporary files of a dump that was killed mid-write (e.g. a power cut)."""
    for path in glob.glob(os.path.join(glob.escape(data_dir), glob.escape(segment) + "-*.snap.tmp-*")):
        os.unlink(path)


def describe_age(path):
    seconds = max(0, time.time() - os.stat(path).st_mtime)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def nice_child():
    """Runs in the dump's child before exec: a checkpoint yields the CPU to the workers."""
    os.nice(10)


class Checkpointer:
    """Writes a checkpoint every `interval` seconds and once more at stop."""

    def __init__(self, build_dir, segment, data_dir, interval, unloadable=(), metrics=True):
        self.metrics = metrics
        self.shmtool = program(build_dir, "shmtool")
        self.segment, self.data_dir, self.interval = segment, data_dir, interval
        self.unloadable = set(unloadable)
        self.next_sequence = max([s for s, _ in checkpoint_files(data_dir, segment)], default=0) + 1
        self.due = time.monotonic() + interval
        self.running = None  # (Popen, path, started) while a dump runs
        self.succeeded = self.failed = 0
        self.failing = False
        self.last_success_unix = 0.0
        self.write_metrics()

    def tick(self):
        """Called from the supervisor's loop: reaps a finished dump, starts a due one."""
        if self.running and self.running[0].poll() is not None:
            self.finish()
        if self.running is None and time.monotonic() >= self.due:
            self.start()

    def final(self, when="at stop"):
        """After the workers stopped: the last checkpoint, with everything they acknowledged."""
        if self.running:
            self.running[0].wait()
            self.finish()
        self.start()
        self.running[0].wait()
        return self.finish(final=when)

    def start(self):
        path = checkpoint_path(self.data_dir, self.segment, self.next_sequence)
        self.next_sequence += 1
        self.due = time.monotonic() + self.interval
        proc = subprocess.Popen([self.shmtool, "dump", "--segment", self.segment, path],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, preexec_fn=nice_child)
        self.running = (proc, path, time.monotonic())

    def finish(self, final=None):
        """Reaps the running dump; `final` names the last one in the log ("at stop")."""
        proc, path, started = self.running
        self.running = None
        output = proc.stdout.read().strip()
        proc.stdout.close()
        seconds = time.monotonic() - started
        if proc.returncode == 0:
            self.succeeded += 1
            self.last_success_unix = time.time()
            if final or self.succeeded == 1 or self.failing:
                log(f"checkpoint{' ' + final if final else ''}: {output} in {seconds:.1f} s")
            self.failing = False
            self.prune()
        else:
            self.failed += 1
            self.failing = True
            log(f"checkpoint to {path} failed ({self.failed} failed so far; the appliance runs on): {output}")
        self.write_metrics()
        return proc.returncode == 0

    def prune(self):
        good = [path for _, path in checkpoint_files(self.data_dir, self.segment) if path not in self.unloadable]
        for path in good[KEEP:]:
            os.unlink(path)

    def write_metrics(self):
        if not self.metrics:
            return
        text = (
            "# HELP servertrack_checkpoints_total Checkpoints this supervisor tried, by result.\n"
            "# TYPE servertrack_checkpoints_total counter\n"
            f'servertrack_checkpoints_total{{result="ok"}} {self.succeeded}\n'
            f'servertrack_checkpoints_total{{result="failed"}} {self.failed}\n'
            "# HELP servertrack_checkpoint_last_success_seconds When the last checkpoint was written "
            "(Unix time; 0: none yet).\n"
            "# TYPE servertrack_checkpoint_last_success_seconds gauge\n"
            f"servertrack_checkpoint_last_success_seconds {self.last_success_unix:.3f}\n")
        path = metrics_path(self.data_dir, self.segment)
        temporary = f"{path}.tmp-{os.getpid()}"
        try:
            with open(temporary, "w") as f:
                f.write(text)
            os.replace(temporary, path)
        except OSError as error:
            log(f"cannot write {path}: {error.strerror}")
