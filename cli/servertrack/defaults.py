"""The appliance's defaults.

The ones the C++ programs share (segment, capacity, ports) come from
common/defaults.ini, from which meson generates the programs' common/defaults.h
(docs/design.md, "Defaults"), so a plain `shmtool info` finds the segment the
supervisor made. `meson install` puts a copy of the file next to this module.
"""
import os


def read_defaults():
    """{segment, capacity, query_port, ingest_port} of common/defaults.ini:
    "key = value" lines, # comments."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "defaults.ini")
    if not os.path.exists(path):
        path = os.path.join(here, "..", "..", "common", "defaults.ini")
    values = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                key, value = (part.strip() for part in line.split("=", 1))
                values[key] = value if key == "segment" else int(value)
    return values


_SHARED = read_defaults()
SEGMENT = _SHARED["segment"]
QUERY_PORT = _SHARED["query_port"]
INGEST_PORT = _SHARED["ingest_port"]
CAPACITY = _SHARED["capacity"]
BIND = "127.0.0.1"

# The supervisor's own: seconds between checkpoints, and where an installed
# appliance keeps them when systemd gives no StateDirectory= (a checkout keeps
# them in <checkout>/data).
CHECKPOINT_INTERVAL = 60
INSTALLED_DATA_DIR = "/var/lib/servertrack"
