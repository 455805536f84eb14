"""Growing the segment while the appliance serves (README: Growing without
stopping): `servertrack grow --capacity N` on demand, and with --auto-grow the
supervisor's own grow when the table is --auto-grow-at percent full.

The grow itself is `shmtool grow` (shm/grow.h): it builds the larger segment,
publishes it under the segment's name, and the workers, seeing theirs
replaced, exit with EXIT_SEGMENT_REPLACED; the supervisor starts them again at
once (supervise.py). AutoGrow runs shmtool as a child it polls from the
supervisor's tick, so supervision never waits on it.
"""
import json
import subprocess
import time

from servertrack.log import log
from servertrack.programs import program

CHECK_EVERY = 5.0  # seconds between two looks at the table's fill
MAX_CAPACITY = 1 << 32  # shm::Segment::create's bound


def grown_capacity(capacity):
    """The capacity an automatic grow asks for: twice the current one."""
    return min(capacity * 2, MAX_CAPACITY)


def grow_command(build_dir, segment, capacity):
    return [program(build_dir, "shmtool"), "grow", "--segment", segment, "--capacity", str(capacity)]


class AutoGrow:
    def __init__(self, build_dir, segment, percent, check_every=CHECK_EVERY):
        self.build_dir, self.segment, self.percent, self.check_every = build_dir, segment, percent, check_every
        self.next_look = time.monotonic() + check_every
        self.child = None

    def tick(self):
        if self.child is not None:
            self.finish()
        elif time.monotonic() >= self.next_look:
            self.next_look = time.monotonic() + self.check_every
            self.look()

    def look(self):
        info = subprocess.run([program(self.build_dir, "shmtool"), "info", "--json", "--segment", self.segment],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if info.returncode != 0:
            return  # the segment is being replaced or restored: look again later
        facts = json.loads(info.stdout)
        capacity, used = facts["capacity"], facts["used_slots"]
        if used * 100 < capacity * self.percent or capacity >= MAX_CAPACITY:
            return
        log(f"auto-grow: segment '{self.segment}' holds {used} servers in {capacity} slots "
            f"(at least {self.percent:g} %); growing it to {grown_capacity(capacity)}")
        self.child = subprocess.Popen(grow_command(self.build_dir, self.segment, grown_capacity(capacity)),
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True)

    def finish(self):
        if self.child.poll() is None:
            return
        said = self.child.stdout.read().strip()
        log(f"auto-grow: {said.removeprefix('shmtool: ')}")
        self.child = None

    def stop(self):
        if self.child is not None:
            self.child.wait()
            self.finish()
