"""The shared-memory segment as the supervisor prepares it before any worker
starts, through shmtool only (it never maps the segment itself):

- a segment is there: use it, with its own capacity unless --capacity was given;
- none is there (after a reboot): restore the newest checkpoint that loads
  (complete or partial) with the deltas after it, else create an empty one; a
  full checkpoint that does not load is set aside with its deltas (renamed
  *.unloadable, kept) so no later start or rotation touches them; a delta that
  does not load, or does not follow, ends the chain there and is set aside;
- one of another layout version is there (after an upgrade): replace it by a
  restore of the newest checkpoint, whose format does not depend on the layout.
"""
import json
import re
import subprocess

from servertrack import defaults
from servertrack.checkpoint import EXIT_PARTIAL, chains, checkpoint_files, describe_age, is_partial, set_aside
from servertrack.log import log
from servertrack.programs import program

EXIT_ABSENT = 2   # shmtool: the segment does not exist
EXIT_USAGE = 64   # shmtool: bad command line, e.g. a --capacity too small to restore into
# How the segment library names a segment of another layout (shm/segment.cc, validate()).
OTHER_LAYOUT = "has layout version"


def run(argv):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)


def shmtool_words(result):
    return (result.stderr.strip() or result.stdout.strip()).removeprefix("shmtool: ")


def ensure_segment(build_dir, segment, capacity, days):
    """Creates the segment if absent; a compatible one is reused as it is.

    Returns None on success, else the message to show: shmtool's own words and
    the command that replaces the segment.
    """
    shmtool = program(build_dir, "shmtool")
    result = subprocess.run([shmtool, "create", "--segment", segment, "--capacity", str(capacity),
                             "--days", str(days)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode == 0:
        log(result.stdout.strip())
        return None
    return (f"cannot use segment '{segment}':\n{result.stdout.rstrip()}\n"
            f"To keep its data, run again with the options it was created with. To replace it\n"
            f"(its data is lost; `{shmtool} dump --segment {segment} FILE` saves it first):\n"
            f"  {shmtool} create --segment {segment} --capacity {capacity} --days {days} --force")


def restore_newest(shmtool, segment, data_dir, capacity, days, replace):
    """Restores the newest checkpoint that loads, falling back to older ones;
    with `capacity` or `days` (not None), into a segment of those.

    Returns (restored, problem, unloadable): whether one was restored, a message
    that stops the start (or None), and how many checkpoints failed to load
    (each set aside as <file>.unloadable).
    """
    unloadable = 0
    for path, deltas in chains(data_dir, segment):
        argv = [shmtool, "restore", "--segment", segment, path, *deltas]
        argv += ["--capacity", str(capacity)] if capacity else []
        argv += ["--days", str(days)] if days is not None else []
        argv += ["--force"] if replace else []
        result = run(argv)
        if result.returncode in (0, EXIT_PARTIAL):
            lines = result.stdout.strip().splitlines()
            applied = int(m[1]) if (m := re.search(r" and (\d+) deltas? up to ", lines[0])) else 0
            newest = deltas[applied - 1] if applied else path
            partial = (" (a partial checkpoint: the servers its dump kept out are not in it; "
                       "its log line named them)") if is_partial(path) else ""
            log(f"{lines[0]}; the checkpoint was written {describe_age(newest)} ago{partial}")
            stopped = [line.removeprefix("not applied: ") for line in lines[1:] if line.startswith("not applied: ")]
            if stopped:
                first = deltas[applied]
                log(f"the chain stopped at delta {first}, {kept_aside(first)}: {stopped[0][len(first) + 2:]}; "
                    f"restored up to {newest}" + "".join(f"\n  not applied: {line}" for line in stopped[1:]))
            return True, None, unloadable
        if result.returncode == EXIT_USAGE:
            return False, f"cannot restore {path}: {shmtool_words(result)}", unloadable
        unloadable += 1
        kept = kept_aside(path)
        for delta in deltas:
            kept_aside(delta)
        with_deltas = f" (and its {len(deltas)} delta{'s' if len(deltas) != 1 else ''})" if deltas else ""
        log(f"checkpoint {path} does not load, {kept}{with_deltas}: {shmtool_words(result)}; "
            f"trying the previous one")
    return False, None, unloadable


def kept_aside(path):
    """Sets a checkpoint aside (checkpoint.set_aside()) and says where it went."""
    try:
        return f"set aside as {set_aside(path)}"
    except OSError as error:
        return f"kept as it is (cannot rename it: {error.strerror})"


def prepare_segment(build_dir, segment, capacity, days, data_dir):
    """Makes the segment ready for the workers. `capacity` is --capacity, or None
    to adopt the segment's or the checkpoint's own; `days` likewise is --days,
    or None to adopt theirs (a segment created anew gets defaults.DAYS).

    Returns a message that stops the start, or None.
    """
    shmtool = program(build_dir, "shmtool")
    new_days = defaults.DAYS if days is None else days
    info = run([shmtool, "info", "--json", "--segment", segment])
    if info.returncode == 0:
        if capacity is not None:
            return ensure_segment(build_dir, segment, capacity, new_days)
        facts = json.loads(info.stdout)
        log(f"using segment '{segment}' as it is: capacity {facts['capacity']}, "
            f"{facts['used_slots']} servers")
        return None
    migrating = info.returncode != EXIT_ABSENT
    if migrating:
        words = shmtool_words(info)
        if OTHER_LAYOUT not in words or not checkpoint_files(data_dir, segment):
            return ensure_segment(build_dir, segment, capacity or defaults.CAPACITY, new_days)
        log(f"{words.split(';')[0]}: migrating it through the newest checkpoint in {data_dir}")
    restored, problem, unloadable = restore_newest(shmtool, segment, data_dir, capacity, days, replace=migrating)
    if restored or problem:
        return problem
    if migrating:
        return f"cannot migrate segment '{segment}': no checkpoint in {data_dir} loads"
    if unloadable:
        log(f"no checkpoint in {data_dir} loads; starting with an empty segment")
    return ensure_segment(build_dir, segment, capacity or defaults.CAPACITY, new_days)
