"""The shared-memory segment as the supervisor sees it, through shmtool only.

Runs shmtool as a child process and turns its exit status and words into
a message for the log; it never maps the segment itself.
"""
import subprocess

from servertrack.log import log
from servertrack.programs import program


def ensure_segment(build_dir, segment, capacity):
    """Creates the segment if absent; a compatible one is reused as it is.

    Returns None on success, else the message to show: shmtool's own words and
    the command that replaces the segment.
    """
    shmtool = program(build_dir, "shmtool")
    result = subprocess.run([shmtool, "create", "--segment", segment, "--capacity", str(capacity)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode == 0:
        log(result.stdout.strip())
        return None
    return (f"cannot use segment '{segment}':\n{result.stdout.rstrip()}\n"
            f"To keep its data, run again with the options it was created with. To replace it\n"
            f"(its data is lost; `{shmtool} dump --segment {segment} FILE` saves it first):\n"
            f"  {shmtool} create --segment {segment} --capacity {capacity} --force")
