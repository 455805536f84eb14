"""The port claims of the workers (common/port_claim.h) as the supervisor reads
them: which segment's workers hold a port on this host, and their pids, so a
second appliance started on the same ports stops at once with who holds them
instead of announcing itself while the other one answers.

Reads only (/dev/shm/servertrack-port-<port>.lock and /proc/locks); takes no
lock. Any thread; a few syscalls per port.
"""
import os

# The worker's exit status when its port is not its appliance's to take (common/port_claim.h).
EXIT_PORT_UNAVAILABLE = 69  # EX_UNAVAILABLE


def claim_path(port):
    return f"/dev/shm/servertrack-port-{port}.lock"


def lock_holders(path):
    """Pids holding a flock on `path`, from /proc/locks; [] when none (or unreadable)."""
    try:
        status = os.stat(path)
        with open("/proc/locks") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    file_id = f"{os.major(status.st_dev):02x}:{os.minor(status.st_dev):02x}:{status.st_ino}"
    pids = set()
    for line in lines:
        # "1: FLOCK  ADVISORY  READ 1234 00:1a:5678 0 EOF"; a waiter's line has "->" after the number.
        fields = line.replace("->", "").split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == file_id:
            pids.add(int(fields[4]))
    return sorted(pids)


def held_by_another(port, segment):
    """The sentence saying which other appliance holds `port`, or None when it is
    free or held for `segment`."""
    path = claim_path(port)
    try:
        with open(path) as f:
            holder = f.read()
    except OSError:
        return None
    pids = lock_holders(path)
    if not pids or holder == segment:
        return None
    return (f"port {port} is held by the workers of segment '{holder}' (pid {', '.join(map(str, pids))}; "
            f"{path}): another appliance. Stop it, or give this one other ports "
            "(--ingest-port, --query-port)")
