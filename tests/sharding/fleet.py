"""Harness of the sharding tests: appliances and HAProxy on loopback.

Used by tests/sharding/*.py and tests/bench/sharding/run.py (stdlib only, on
top of tests/lib/appliance.py). Everything binds 127.0.0.1 and is ended by pid.

    Appliance(token)            a fresh segment with one ingest and one query
                                worker requiring the token; .segment .ingest
                                .query .address ('127.0.0.1:INGEST:QUERY')
                                .names() (shmtool list) .stop_workers()
                                .start_workers() (same ports); a context manager
    Balancer(nodes, copy=False, check_interval_ms=200)
                                deploy/haproxy/generate.py run as an operator
                                would, for nodes = [(name, [appliance, ...])],
                                then HAProxy started as this process's child;
                                .url (.copy_url with copy) .config; a context
                                manager
"""

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile

from appliance import Worker, appliance, free_port, http, shmtool, wait_until

SOURCE_DIR = os.environ.get("SERVERTRACK_SOURCE_DIR", "")
GENERATOR = os.path.join(SOURCE_DIR, "deploy", "haproxy", "generate.py")


class Appliance:
    """appliance() of tests/lib/appliance.py with an ingest token, stoppable and
    restartable on its own ports."""

    def __init__(self, token, capacity=1024):
        self.token = token
        self._capacity = capacity
        self._stack = contextlib.ExitStack()
        self.segment = self.ingest = self.query = None
        self.query_args = ()

    def __enter__(self):
        self.segment, self.ingest, self.query = self._stack.enter_context(
            appliance(self._capacity, ingest_args=("--ingest-token", self.token)))
        return self

    @property
    def address(self):
        return f"127.0.0.1:{self.ingest.port}:{self.query.port}"

    def names(self):
        """The server names in this appliance's segment, as `shmtool list` sees them."""
        listed = shmtool("list", "--segment", self.segment.name, "--json").stdout
        return {entry["name"] for entry in json.loads(listed)}

    def stop_workers(self):
        self.ingest.stop()
        self.query.stop()

    def start_workers(self):
        """Workers again, on the ports of the stopped ones (the balancer knows those)."""
        self.ingest = self._stack.enter_context(
            Worker("ingest", self.segment, port=self.ingest.port, args=("--ingest-token", self.token)))
        self.query = self._stack.enter_context(
            Worker("query", self.segment, port=self.query.port, args=self.query_args))

    def give_peers(self, nodes):
        """Its query worker again, on its port, answering /fleet and /servers for all `nodes`."""
        self.query.stop()
        self.query_args = ("--peers", peers_option(nodes))
        self.query = self._stack.enter_context(
            Worker("query", self.segment, port=self.query.port, args=self.query_args))

    def __exit__(self, *exc):
        self._stack.close()
        return False


def peers_option(nodes):
    """The value of --peers for nodes = [(name, appliance)]: each node's query port."""
    return ",".join(f"{name}=127.0.0.1:{node.query.port}" for name, node in nodes)


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class Balancer:
    def __init__(self, nodes, copy=False, check_interval_ms=200):
        self.dir = tempfile.mkdtemp(prefix="servertrack-haproxy-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [GENERATOR, "--bind", f"127.0.0.1:{self.port}", "--socket-dir", self.dir,
                   "--check-interval-ms", str(check_interval_ms)]
        if os.geteuid() == 0 and _user_exists("haproxy"):
            # As deployed: HAProxy drops to its own user after binding.
            os.chmod(self.dir, 0o755)
            command += ["--user", "haproxy"]
        if copy:
            self.copy_port = free_port()
            self.copy_url = f"http://127.0.0.1:{self.copy_port}"
            command += ["--copy-bind", f"127.0.0.1:{self.copy_port}"]
        for name, members in nodes:
            command += ["--node", f"{name}=" + "+".join(member.address for member in members)]
        self.config = subprocess.run(command, check=True, capture_output=True, text=True,
                                     timeout=30).stdout
        self.config_path = os.path.join(self.dir, "haproxy.cfg")
        with open(self.config_path, "w", encoding="utf-8") as out:
            out.write(self.config)
        self.process = None

    def __enter__(self):
        # -dW: a warning is an error, so the generated file stays clean.
        subprocess.run(["haproxy", "-dW", "-c", "-f", self.config_path], check=True,
                       capture_output=True, timeout=30)
        self._log = open(os.path.join(self.dir, "haproxy.log"), "w+b")
        self.process = subprocess.Popen(["haproxy", "-db", "-dW", "-f", self.config_path],
                                        stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        try:
            wait_until(self._ready, 10, "HAProxy answers /healthz")
        except BaseException:
            self.__exit__()
            raise
        return self

    def _ready(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"haproxy exited with {self.process.returncode}: {self.log_text()}")
        try:
            return http("GET", self.url + "/healthz", timeout=2)[0] == 200
        except OSError:
            return False

    def log_text(self):
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def wait_until_down(self, *servers, timeout=5):
        """Waits until the health checks have marked each "backend/server" down
        (HAProxy logs it). Before that, a request to a stopped worker meets a
        refused connection and HAProxy's retry, not the fast 503."""
        wait_until(lambda: all(f"{server} is DOWN" in self.log_text() for server in servers), timeout,
                   f"HAProxy marks {', '.join(servers)} down")

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None:
            self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False
