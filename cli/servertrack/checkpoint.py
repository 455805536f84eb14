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

Most checkpoints are deltas (`shmtool dump --delta`): only the servers whose
slot changed since the checkpoint before, found by the change markers the
previous dump left in <segment>-checkpoint.marks, and every server's name; a
full one is written every `full_every` checkpoints, when the deltas since the
last full one add up to half its size, when there is no chain to follow, and
when shmtool says the markers are not this segment's (exit 4: the segment was
created or restored since). A full checkpoint and the deltas after it are a
chain; `shmtool restore FULL DELTA...` applies it (segment.py).

A dump that skipped some servers (unsound data that cannot be repaired; exit 3)
is still a checkpoint of everything else: a full one is renamed
<segment>-<sequence>.partial.snap, a delta keeps the older copies of the
servers it skipped; the log names the servers skipped (when that list
changes), and it counts as result="partial".

Files in the data directory, named after the segment so that appliances of
different segments may share one directory:
    <segment>-<sequence>.snap    the checkpoints; the sequence only grows, so the
                                 newest is the highest (a clock set back at boot
                                 cannot reorder them)
    <segment>-<sequence>.partial.snap   a full checkpoint that skipped some servers
    <segment>-<sequence>.delta.snap     a delta of the checkpoints before it
    <segment>-checkpoint.marks   the change markers of the newest checkpoint
                                 (advisory: without it the next one is full)
    <segment>-checkpoint.lock    flock()ed while a dump runs: this supervisor's
                                 and `servertrack checkpoint`'s never interleave,
                                 so the markers describe the newest checkpoint
    <segment>-<sequence>.snap.unloadable  a checkpoint that failed to load at a
                                 start, set aside (kept, never removed, never
                                 loaded again) for whoever investigates
    <segment>-checkpoints.prom   the supervisor's checkpoint counters in the
                                 Prometheus text format, rewritten after every try

After each checkpoint written, complete or partial, the chains of the two
newest complete full checkpoints are kept, and at most two chains of partial
ones newer than the newest complete one; the rest are removed (a delta before
every full one kept with them). So a chain is removed only once two newer
full checkpoints completed, and the directory stays bounded (at most four
chains of at most `full_every` files) whatever the dumps find.

Checkpointer is driven from the supervisor's main thread (tick() from its loop,
final() after the workers stopped); it never raises on a failed checkpoint.
`servertrack checkpoint` (the Debian package's prerm, before an upgrade) calls
final() once, with metrics=False so that the running supervisor's counters stay.
"""
import fcntl
import glob
import os
import re
import subprocess
import time

from servertrack.log import log
from servertrack.programs import program

KEEP = 2          # chains of complete full checkpoints kept
KEEP_PARTIAL = 2  # chains of partial ones kept, if newer than the newest complete one
EXIT_PARTIAL = 3  # shmtool dump: some servers were skipped, the rest written
EXIT_NO_DELTA = 4  # shmtool dump --delta: the markers are not this segment's
DELTA_SHARE = 0.5  # a full checkpoint once the chain's deltas add up to this share of its full one
PARTIAL_SUFFIX = ".partial.snap"
DELTA_SUFFIX = ".delta.snap"
SET_ASIDE_SUFFIX = ".unloadable"


def checkpoint_files(data_dir, segment, partial=None, delta=False):
    """[(sequence, path)] of the segment's full checkpoints in data_dir, newest
    first: complete and partial ones, or only those whose partiality is
    `partial`; with delta=True, its deltas instead."""
    try:
        names = os.listdir(data_dir)
    except OSError:  # absent, or no longer a directory one can read
        return []
    pattern = re.compile(re.escape(segment) + r"-(\d{10})(\.partial|\.delta)?\.snap")
    found = [(int(m[1]), os.path.join(data_dir, name)) for name in names
             if (m := pattern.fullmatch(name)) and (m[2] == ".delta") == delta
             and (delta or partial in (None, m[2] is not None))]
    return sorted(found, reverse=True)


def chains(data_dir, segment):
    """[(full path, [delta paths, oldest first])] of the segment's chains, the
    newest first: each full checkpoint with the deltas between it and the next."""
    fulls = checkpoint_files(data_dir, segment)
    deltas = sorted(checkpoint_files(data_dir, segment, delta=True))
    found, until = [], float("inf")
    for sequence, path in fulls:
        found.append((path, [d for s, d in deltas if sequence < s < until]))
        until = sequence
    return found


def marks_follow(marks, chain):
    """Whether the checkpoint the marks describe (the checksum at offset 24 of
    the marks file, cli/checkpoint_marks.h) is a file of `chain`, each file
    ending with its checksum (cli/snapshot_file.h): a delta of those marks then
    follows the chain. Not so when the files were changed behind the
    supervisor's back (copied, removed); the next checkpoint is then a full one."""
    with open(marks, "rb") as f:
        f.seek(24)
        described = f.read(8)
    for path in chain:
        with open(path, "rb") as f:
            f.seek(-8, os.SEEK_END)
            if f.read(8) == described:
                return True
    return False


def is_partial(path):
    return path.endswith(PARTIAL_SUFFIX)


def checkpoint_path(data_dir, segment, sequence, delta=False):
    return os.path.join(data_dir, f"{segment}-{sequence:010d}{DELTA_SUFFIX if delta else '.snap'}")


def marks_path(data_dir, segment):
    return os.path.join(data_dir, f"{segment}-checkpoint.marks")


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
    prefix = os.path.join(glob.escape(data_dir), glob.escape(segment))
    for path in glob.glob(prefix + "-*.snap.tmp-*") + glob.glob(prefix + "-checkpoint.marks.tmp-*"):
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
    """Writes a checkpoint every `interval` seconds and once more at stop; a
    full one every `full_every` (1: every one full, no deltas)."""

    def __init__(self, build_dir, segment, data_dir, interval, metrics=True, full_every=30):
        self.metrics = metrics
        self.full_every = full_every
        self.full_due = False  # the markers are not this segment's: the next one is full
        self.shmtool = program(build_dir, "shmtool")
        self.segment, self.data_dir, self.interval = segment, data_dir, interval
        self.due = time.monotonic() + interval
        self.running = None  # (Popen, path, started, delta, lock) while a dump runs
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
        written = False
        for _ in range(2):  # a second time only when the delta was refused: a full one
            self.start(wait=True)
            if self.running is None:  # the data dir cannot hold the lock: logged as failed
                return False
            self.running[0].wait()
            written = self.finish(final=when)
            if not self.full_due:
                break
        return written

    def lock(self, wait):
        """The data dir's checkpoint lock, held while a dump runs, so that no two
        dumps (this supervisor's and `servertrack checkpoint`'s) interleave: the
        markers then always describe the newest checkpoint. None if busy."""
        fd = os.open(os.path.join(self.data_dir, f"{self.segment}-checkpoint.lock"), os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def delta_due(self):
        """Whether the next checkpoint may be a delta of the newest chain."""
        if self.full_due or self.full_every <= 1 or not os.path.exists(marks_path(self.data_dir, self.segment)):
            return False
        found = chains(self.data_dir, self.segment)
        if not found:
            return False
        full, deltas = found[0]
        try:
            delta_bytes = sum(os.path.getsize(d) for d in deltas)
            return (len(deltas) + 1 < self.full_every and delta_bytes < DELTA_SHARE * os.path.getsize(full)
                    and marks_follow(marks_path(self.data_dir, self.segment), [full] + deltas))
        except OSError:
            return False

    def start(self, wait=False):
        """Starts a dump, unless another holds the lock (then the next tick tries again).
        A data dir that cannot hold the lock fails the checkpoint, as a dump that
        cannot write would: logged and counted, and the appliance runs on."""
        try:
            lock = self.lock(wait)
        except OSError as error:
            self.fail_to_start(f"cannot take its lock: {error.strerror}")
            return
        if lock is None:
            return
        delta = self.delta_due()
        sequence = max([s for s, _ in checkpoint_files(self.data_dir, self.segment)
                        + checkpoint_files(self.data_dir, self.segment, delta=True)], default=0) + 1
        path = checkpoint_path(self.data_dir, self.segment, sequence, delta=delta)
        self.due = time.monotonic() + self.interval
        self.full_due = False
        argv = [self.shmtool, "dump", "--repair", "--segment", self.segment, path]
        argv += ["--marks", marks_path(self.data_dir, self.segment)]
        argv += ["--delta"] if delta else []
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, preexec_fn=nice_child)
        self.running = (proc, path, time.monotonic(), delta, lock)

    def fail_to_start(self, why):
        self.due = time.monotonic() + self.interval
        self.failed += 1
        self.failing = True
        log(f"checkpoint into {self.data_dir} failed ({self.failed} failed so far; the appliance runs on): {why}")
        self.write_metrics()

    def finish(self, final=None):
        """Reaps the running dump; `final` names the last one in the log ("at stop")."""
        proc, path, started, delta, lock = self.running
        self.running = None
        try:
            return self.reap(proc, path, started, delta, final)
        finally:
            os.close(lock)

    def reap(self, proc, path, started, delta, final):
        output = proc.stdout.read().strip()
        proc.stdout.close()
        seconds = time.monotonic() - started
        lines = output.splitlines()
        skipped = [line for line in lines if line.startswith("skipped server ")]
        skipped_names = [line.split("'")[1] for line in skipped]  # the reasons may name the time
        repaired = [line for line in lines if line.startswith("repaired server ")]
        if proc.returncode == EXIT_NO_DELTA:
            log(f"checkpoint: a full one instead of a delta: {output.removeprefix('shmtool: ')}")
            self.full_due = True
            self.due = time.monotonic()
            return False
        written = path if proc.returncode == 0 or (delta and proc.returncode == EXIT_PARTIAL) else None
        if proc.returncode == EXIT_PARTIAL and not delta and os.path.exists(path):
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
        for full, deltas in chains(self.data_dir, self.segment):
            if full in keep:
                keep.update(deltas)
        for _, path in checkpoint_files(self.data_dir, self.segment) + checkpoint_files(
                self.data_dir, self.segment, delta=True):
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
