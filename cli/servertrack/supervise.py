"""Supervision: start every worker, restart one that exits, stop them all on a signal,
pass SIGHUP on to them (they re-read their token files).

Restart policy (README: Restarts and the log). The first restart waits
BACKOFF_FIRST seconds, each further one twice the previous, at most
BACKOFF_CAP; a worker that ran at least HEALTHY_AFTER seconds before exiting
starts the sequence again. An exit the caller's fatal_exit judges fatal (one
that would repeat at every restart, e.g. a port held by another appliance)
stops every worker instead, and run() returns 1. A worker that leaves because a
grow replaced its segment (EXIT_SEGMENT_REPLACED) is started again at once, with
no backoff: its successor attaches the larger segment. On stop, workers get
SIGTERM and defaults.STOP_GRACE seconds (common/defaults.ini) to exit before SIGKILL.

Single-threaded by design: workers are forked only from the main thread, which
PR_SET_PDEATHSIG needs (see die_with_parent).
"""
import ctypes
import os
import select
import signal
import subprocess
import time

from servertrack import defaults
from servertrack.log import log

BACKOFF_FIRST = 0.1
BACKOFF_CAP = 5.0
HEALTHY_AFTER = 30.0
EXIT_SEGMENT_REPLACED = 75  # http/worker.h, kExitSegmentReplaced


PR_SET_PDEATHSIG = 1


def die_with_parent(libc, parent_pid):
    """Runs in the forked child before exec: SIGTERM when the parent dies.

    The kernel sends the signal when the thread that forked exits, so workers
    are only ever started from the supervisor's main thread. If the parent died
    between fork and prctl, the signal would never come: exit at once instead.
    """
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0 or os.getppid() != parent_pid:
        os._exit(1)


def spawn(argv):
    """Starts one worker in its own process group (Ctrl-C reaches only us)."""
    libc, parent = ctypes.CDLL(None, use_errno=True), os.getpid()
    return subprocess.Popen(argv, preexec_fn=lambda: die_with_parent(libc, parent),
                            process_group=0, stdin=subprocess.DEVNULL)


def describe_exit(returncode):
    if returncode < 0:
        return f"killed by signal {-returncode} ({signal.Signals(-returncode).name})"
    return f"exited with status {returncode}"


class Backoff:
    """How long to wait before restarting a worker, given how long it ran."""

    def __init__(self, first=BACKOFF_FIRST, cap=BACKOFF_CAP, healthy_after=HEALTHY_AFTER):
        self.first, self.cap, self.healthy_after = first, cap, healthy_after
        self.previous = None

    def next_delay(self, uptime):
        if self.previous is None or uptime >= self.healthy_after:
            delay = self.first
        else:
            delay = min(self.previous * 2, self.cap)
        self.previous = delay
        return delay


class SupervisedWorker:
    """One worker slot: its process while it runs, its restart time while it does not."""

    def __init__(self, name, argv, backoff):
        self.name, self.argv, self.backoff = name, argv, backoff
        self.proc = None
        self.started_at = None
        self.restart_at = None
        self.starts = 0

    def start(self, now):
        verb = "restarted" if self.starts else "started"
        self.starts += 1
        self.started_at, self.restart_at = now, None
        try:
            self.proc = spawn(self.argv)
        except OSError as error:
            log(f"{self.name} could not be {verb}: {error}")
            self.schedule_restart(now)
            return
        log(f"{self.name} {verb}, pid {self.proc.pid}")

    def reap(self, now, fatal_exit):
        """If the process has exited: log it and schedule the restart. Returns the
        sentence fatal_exit(returncode) gave (then no restart is scheduled), or None."""
        if self.proc is None or self.proc.poll() is None:
            return None
        pid, returncode = self.proc.pid, self.proc.returncode
        self.proc = None
        fatal = fatal_exit(returncode)
        if fatal:
            log(f"{self.name} pid {pid} {describe_exit(returncode)} after {now - self.started_at:.1f} s; "
                "not restarting it")
            return fatal
        if returncode == EXIT_SEGMENT_REPLACED:
            self.restart_at = now
            log(f"{self.name} pid {pid} left its segment, which a grow replaced; restarting it at once on the "
                "larger one")
            return None
        delay = self.schedule_restart(now)
        log(f"{self.name} pid {pid} {describe_exit(returncode)} after {now - self.started_at:.1f} s; "
            f"restarting in {delay:g} s")
        return None

    def schedule_restart(self, now):
        delay = self.backoff.next_delay(now - self.started_at)
        self.restart_at = now + delay
        return delay

    def restart_if_due(self, now):
        if self.proc is None and self.restart_at is not None and now >= self.restart_at:
            self.start(now)


class Supervisor:
    """Starts the workers, restarts any that exit, stops them all on SIGINT or
    SIGTERM, and passes SIGHUP on to every running worker (a reload: they
    re-read their token files and keep their connections).

    Single-threaded: signals are read from a wakeup pipe (signal.set_wakeup_fd)
    and children are reaped when SIGCHLD arrives, so workers are forked only
    from the main thread (see die_with_parent).
    """

    STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, commands, backoff_factory=Backoff):
        self.workers = [SupervisedWorker(name, argv, backoff_factory()) for name, argv in commands]

    def run(self, on_tick=lambda: None, fatal_exit=lambda returncode: None):
        """Supervises until a stop signal (returns 0) or a fatal worker exit
        (returns 1), after every worker is gone."""
        wakeup = self.install_signal_pipe()
        now = time.monotonic()
        for worker in self.workers:
            worker.start(now)
        while True:
            received = self.wait_for_event(wakeup)
            stops = [n for n in received if n in self.STOP_SIGNALS]
            if signal.SIGHUP in received and not stops:
                self.forward_reload()
            if stops:
                log(f"{signal.Signals(stops[0]).name} received; stopping every worker")
                return self.stop_all()
            now = time.monotonic()
            for worker in self.workers:
                fatal = worker.reap(now, fatal_exit)
                if fatal:
                    log(f"stopping: {fatal}")
                    self.stop_all()
                    return 1
                worker.restart_if_due(now)
            on_tick()

    def install_signal_pipe(self):
        read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        for number in self.STOP_SIGNALS + (signal.SIGHUP, signal.SIGCHLD):
            signal.signal(number, lambda *_: None)
        signal.set_wakeup_fd(write_end)
        return read_end

    def wait_for_event(self, wakeup):
        """Sleeps until a signal or the next due restart (at most 0.5 s); returns the signals."""
        now = time.monotonic()
        due = [w.restart_at for w in self.workers if w.restart_at is not None]
        timeout = max(0.0, min(due + [now + 0.5]) - now)
        readable, _, _ = select.select([wakeup], [], [], timeout)
        if not readable:
            return []
        try:
            return list(os.read(wakeup, 256))
        except BlockingIOError:
            return []

    def forward_reload(self):
        running = [w for w in self.workers if w.proc is not None]
        log(f"SIGHUP received; {len(running)} workers re-read their token files")
        for worker in running:
            worker.proc.send_signal(signal.SIGHUP)

    def stop_all(self):
        running = [w for w in self.workers if w.proc is not None]
        for worker in running:
            worker.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + defaults.STOP_GRACE
        for worker in running:
            proc = worker.proc
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{worker.name} pid {proc.pid} still running after {defaults.STOP_GRACE:g} s; sending SIGKILL")
                proc.kill()
                proc.wait()
            log(f"{worker.name} pid {proc.pid} {describe_exit(proc.returncode)}")
        log("every worker stopped")
        return 0
