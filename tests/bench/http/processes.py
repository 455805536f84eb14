"""Child processes of the benchmark: pinned start, bounded stop, CPU use.

Called by nginx_ceiling.py, workers.py, wrk.py and served.py from run.py's one
thread. Every process is started here with `nice -n -20 taskset -c CORE` (both
exec, so the pid is the server's own) in a session of its own whose scheduler
autogroup gets nice -20 too: as root, that keeps other work on the machine
(which the kernel schedules per session) from starving the loads and the
servers alike. Processes are ended only by their pid: SIGTERM, then SIGKILL
after 5 s.
"""

import os
import signal
import subprocess
import time
import urllib.request

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PRIORITY = ["nice", "-n", "-20"] if os.geteuid() == 0 else []


def pinned(command, core):
    """The command at raised priority (as root), pinned to core when one is given."""
    affinity = [] if core is None else ["taskset", "-c", str(core)]
    return PRIORITY + affinity + list(command)


def spawn(command, core, **popen_options):
    """Starts the command pinned, at raised priority, in its own session."""
    process = subprocess.Popen(pinned(command, core), stdin=subprocess.DEVNULL, start_new_session=True,
                               **popen_options)
    if PRIORITY:
        with open(f"/proc/{process.pid}/autogroup", "w") as autogroup:
            autogroup.write(PRIORITY[-1])
    return process


def start(command, core, log_path):
    """A server: spawn() with stdout and stderr appended to log_path."""
    with open(log_path, "ab") as log:
        return spawn(command, core, stdout=log, stderr=subprocess.STDOUT)


def stop(process, grace_s=5.0):
    """SIGTERM, wait up to grace_s, then SIGKILL; returns the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def wait_until_ready(url, process, timeout_s=10.0):
    """Polls url until it answers 200; raises if the process exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url}: no 200 within {timeout_s} s")


def _children(pid):
    pids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as listing:
                pids.extend(int(child) for child in listing.read().split())
        except FileNotFoundError:
            pass
    return pids


def cpu_seconds(pids):
    """User + system CPU time of the processes and their children, in seconds."""
    ticks = 0
    pending = list(pids)
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            pending.extend(_children(pid))
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS
