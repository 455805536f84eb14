"""The HTTP ceiling: Debian's nginx in a private temp dir, pinned to a core.

Called by run.py as a context manager. Writes nginx.conf (from
nginx.conf.template) and a 2 KB static.json into a fresh temp dir, starts
`nginx -p DIR -c DIR/nginx.conf -e DIR/error.log` (foreground, one worker
process), waits until it answers, and stops it by its pid on exit. The temp dir
is removed afterwards.
"""

import json
import os
import shutil
import tempfile

import processes
from workers import appliance

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC_BYTES = 2048


def static_answer():
    """A query answer's shape (60 minute and 24 hour buckets), padded to 2 KB."""
    def window(start, step, count):
        return {"start": start, "step": step,
                "cpu": [round(10 + i * 0.37, 2) for i in range(count)],
                "ram": [round(40 + i * 0.21, 2) for i in range(count)]}
    text = json.dumps({"last_60_minutes": window(1795894560, 60, 60),
                       "last_24_hours": window(1795813200, 3600, 24)}, separators=(",", ":"))
    return text + " " * (STATIC_BYTES - len(text) - 1) + "\n"


class NginxCeiling:
    def __init__(self, core):
        self._core = core
        self.dir = None
        self.process = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    post_url = url
    get_url = url

    @property
    def pids(self):
        return [self.process.pid]

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="servertrack-bench-nginx-")
        os.chmod(self.dir, 0o755)  # the worker process runs as nobody
        self.port = appliance.free_port()
        with open(os.path.join(HERE, "nginx.conf.template")) as template:
            config = template.read().replace("@DIR@", self.dir).replace("@PORT@", str(self.port))
        with open(os.path.join(self.dir, "nginx.conf"), "w") as out:
            out.write(config)
        with open(os.path.join(self.dir, "static.json"), "w") as out:
            out.write(static_answer())
        self.process = processes.start(
            ["nginx", "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf"),
             "-e", os.path.join(self.dir, "error.log")],
            self._core, os.path.join(self.dir, "stdout.log"))
        try:
            processes.wait_until_ready(self.url + "/server/srv0", self.process)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.process is not None:
            processes.stop(self.process)
        shutil.rmtree(self.dir, ignore_errors=True)
