"""The appliance's defaults, in one place.

The values every program shares (segment, capacity, days, ports) come from
common/defaults.ini, the file meson also compiles into the C++ programs
(common/defaults.h), so the supervisor, both workers and shmtool cannot
disagree (docs/design.md, "Defaults"). An install carries the file next to
this package. The rest are the supervisor's own.
"""
import os

from servertrack.programs import CHECKOUT, PACKAGE_DIR

DEFAULTS_FILE = (os.path.join(CHECKOUT, "common", "defaults.ini") if CHECKOUT
                 else os.path.join(PACKAGE_DIR, "defaults.ini"))


def read_defaults(path=DEFAULTS_FILE):
    """{segment, capacity, days, bind, query_port, ingest_port, stop_grace_ms}
    from a defaults.ini: "key = value" lines, # comments."""
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                key, value = (part.strip() for part in line.split("=", 1))
                values[key] = value if key in ("segment", "bind") else int(value)
    return values


_shared = read_defaults()
SEGMENT = _shared["segment"]
CAPACITY = _shared["capacity"]
DAYS = _shared["days"]
QUERY_PORT = _shared["query_port"]
INGEST_PORT = _shared["ingest_port"]
BIND = _shared["bind"]
# Seconds a stopping worker gets after SIGTERM before SIGKILL.
STOP_GRACE = _shared["stop_grace_ms"] / 1000

# The supervisor's own: seconds between checkpoints, how often one is a full one
# (the others deltas), and where an installed
# appliance keeps them when systemd gives no StateDirectory= (a checkout keeps
# them in <checkout>/data).
CHECKPOINT_INTERVAL = 60
FULL_CHECKPOINT_EVERY = 30  # a full checkpoint every 30, deltas between (checkpoint.py)
INSTALLED_DATA_DIR = "/var/lib/servertrack"
