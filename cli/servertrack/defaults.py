"""The appliance's defaults, in one place.

Every default the supervisor gives a worker or shmtool is read from here; the
C++ programs have the same values as their own defaults (shm/segment.h
CreateOptions, the workers' --port), so a plain `shmtool info` finds the
segment the supervisor made.
"""

SEGMENT = "servertrack"
BIND = "127.0.0.1"
QUERY_PORT = 8888
INGEST_PORT = 8889

# 100,000 servers fill 76 % of this table, which keeps open-addressing probe
# chains short. It is also shmtool's default.
CAPACITY = 131072

# The supervisor's own: seconds between checkpoints, and where an installed
# appliance keeps them when systemd gives no StateDirectory= (a checkout keeps
# them in <checkout>/data).
CHECKPOINT_INTERVAL = 60
INSTALLED_DATA_DIR = "/var/lib/servertrack"
