"""Checkpoints: the segment written to the data directory while the appliance
runs, and read back when a start finds no segment (README: Where the data lives).

A checkpoint is a `shmtool dump --repair` file (versioned, checksummed,
independent of the segment's layout; cli/snapshot_file.h), written by a shmtool
child process that reads the segment like any reader: no lock, no pause of
ingest. With --repair it also repairs a server's slot that a writer killed
mid-write left behind (taking the dead writer's lock over, as the next write
would), so such a server is in the checkpoint rather than waiting for traffic.
shmtool writes it to a temporary file, fsyncs it, renames it and fsyncs the
directory.

A dump that skipped some servers (unsound data that cannot be repaired; exit 3)
is still a checkpoint of everything else: it is renamed <segment>-<sequence>.partial.snap,
the log names the servers skipped (when that list changes), and it counts as
result="partial".

Files in the data directory, named after the segment so that appliances of
different segments may share one directory:
    <segment>-<sequence>.snap    the checkpoints; the sequence only grows, so the
                                 newest is the highest (a clock set back at boot
                                 cannot reorder them)
    <segment>-<sequence>.partial.snap   a checkpoint that skipped some servers
    <segment>-<sequence>.snap.unloadable  a checkpoint that failed to load at a
                                 start, set aside (kept, never removed, never
                                 loaded again) for whoever investigates
    <segment>-checkpoints.prom   the supervisor's checkpoint counters in the
                                 Prometheus text format, rewritten after every try

After each checkpoint written, complete or partial, the two newest complete
ones are kept, and at most two partial ones newer than the newest complete one;
the rest are removed. So the directory stays bounded whatever the dumps find.

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

KEEP = 2          # complete checkpoints kept
KEEP_PARTIAL = 2  # partial ones kept, if newer than the newest complete one
EXIT_PARTIAL = 3  # shmtool dump: some servers were skipped, the rest written
PARTIAL_SUFFIX = ".partial.snap"
SET_ASIDE_SUFFIX = ".unloadable"


def checkpoint_files(data_dir, segment, partial=None):
    """[(sequence, path)] of the segment's checkpoints in data_dir, newest first:
    complete and partial ones, or only those whose partiality is `partial`."""
    try:
        names = os.listdir(data_dir)
    except FileNotFoundError:
        return []
    pattern = re.compile(re.escape(segment) + r"-(\d{10})(\.partial)?\.snap")
    found = [(int(m[1]), os.path.join(data_dir, name)) for name in names
             if (m := pattern.fullmatch(name)) and partial in (None, m[2] is not None)]
    return sorted(found, reverse=True)


def is_partial(path):
    return path.endswith(PARTIAL_SUFFIX)


def checkpoint_path(data_dir, segment, sequence):
    return os.path.join(data_dir, f"{segment}-{sequence:010d}.snap")


def fsync_directory(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def set_aside(path):
    """Renames a checkpoint that failed to load so that it is neither loaded nor
    rotated away again; returns its new path."""
    aside = path + SET_ASIDE_SUFFIX
    os.replace(path, aside)
    fsync_directory(os.path.dirname(path))
    return aside


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

    def __init__(self, build_dir, segment, data_dir, interval, metrics=True):
        self.metrics = metrics
        self.shmtool = program(build_dir, "shmtool")
        self.segment, self.data_dir, self.interval = segment, data_dir, interval
        self.next_sequence = max([s for s, _ in checkpoint_files(data_dir, segment)], default=0) + 1
        self.due = time.monotonic() + interval
        self.running = None  # (Popen, path, started) while a dump runs
        self.succeeded = self.partial = self.failed = 0
        self.skipped = []  # the names of the servers the last checkpoint kept out
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
        proc = subprocess.Popen([self.shmtool, "dump", "--repair", "--segment", self.segment, path],
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
        lines = output.splitlines()
        skipped = [line for line in lines if line.startswith("skipped server ")]
        skipped_names = [line.split("'")[1] for line in skipped]  # the reasons may name the time
        repaired = [line for line in lines if line.startswith("repaired server ")]
        written = path if proc.returncode == 0 else None
        if proc.returncode == EXIT_PARTIAL and os.path.exists(path):
            written = path.removesuffix(".snap") + PARTIAL_SUFFIX
            os.replace(path, written)
            fsync_directory(self.data_dir)
        if written:
            self.succeeded += proc.returncode == 0
            self.partial += proc.returncode == EXIT_PARTIAL
            self.last_success_unix = time.time()
            when = f" {final}" if final else ""
            summary = next((line for line in lines if line.startswith("dumped ")), output)
            if skipped and skipped_names != self.skipped:
                log(f"checkpoint{when}: {summary}, a partial checkpoint: {len(skipped)} server"
                    f"{'' if len(skipped) == 1 else 's'} kept out:\n  " + "\n  ".join(skipped)
                    + f"\n  `shmtool check --segment {self.segment}` shows why; every other server is saved")
            elif (final or self.succeeded + self.partial == 1 or self.failing or repaired
                  or skipped_names != self.skipped):
                log(f"checkpoint{when}: {summary} in {seconds:.1f} s" + "".join(f"; {line}" for line in repaired))
            self.skipped = skipped_names
            self.failing = False
            self.prune()
        else:
            self.failed += 1
            self.failing = True
            log(f"checkpoint to {path} failed ({self.failed} failed so far; the appliance runs on): {output}")
        self.write_metrics()
        return written is not None

    def prune(self):
        complete = checkpoint_files(self.data_dir, self.segment, partial=False)
        newest_complete = complete[0][0] if complete else 0
        partial = checkpoint_files(self.data_dir, self.segment, partial=True)
        keep = {path for _, path in complete[:KEEP]}
        keep |= {path for sequence, path in partial[:KEEP_PARTIAL] if sequence > newest_complete}
        for _, path in complete + partial:
            if path not in keep:
                os.unlink(path)

    def write_metrics(self):
        if not self.metrics:
            return
        text = (
            "# HELP servertrack_checkpoints_total Checkpoints this supervisor tried, by result.\n"
            "# TYPE servertrack_checkpoints_total counter\n"
            f'servertrack_checkpoints_total{{result="ok"}} {self.succeeded}\n'
            f'servertrack_checkpoints_total{{result="partial"}} {self.partial}\n'
            f'servertrack_checkpoints_total{{result="failed"}} {self.failed}\n'
            "# HELP servertrack_checkpoint_last_success_seconds When the last checkpoint was written, "
            "complete or partial (Unix time; 0: none yet).\n"
            "# TYPE servertrack_checkpoint_last_success_seconds gauge\n"
            f"servertrack_checkpoint_last_success_seconds {self.last_success_unix:.3f}\n"
            "# HELP servertrack_checkpoint_skipped_servers Servers the last checkpoint kept out "
            "(unsound data; `shmtool check` says why).\n"
            "# TYPE servertrack_checkpoint_skipped_servers gauge\n"
            f"servertrack_checkpoint_skipped_servers {len(self.skipped)}\n")
        path = metrics_path(self.data_dir, self.segment)
        temporary = f"{path}.tmp-{os.getpid()}"
        try:
            with open(temporary, "w") as f:
                f.write(text)
            os.replace(temporary, path)
        except OSError as error:
            log(f"cannot write {path}: {error.strerror}")
