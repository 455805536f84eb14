"""Shared harness of the Python end-to-end tests: real binaries, real sockets.

Used by every end-to-end test folder (stdlib only). Binaries are found under
$SERVERTRACK_BUILD_DIR (set by `meson test` through py_test_env). Everything
started here binds 127.0.0.1 on an ephemeral port and is ended by pid. Raw-socket
HTTP (exact bytes on the wire) is in tests/lib/raw_client.py.

    free_port()                       -> an unused TCP port on 127.0.0.1
    TestSegment(capacity=1024)        context manager; .name is a fresh segment,
                                      created with shmtool, removed on exit
    Worker(kind, segment, port=None, args=(), env=None)
                                      'ingest' or 'query'; started and healthy on
                                      return; .url .port .pid .proc .stop() .kill()
                                      .stderr_text(); also a context manager
    http(method, url, body=None, headers=None, timeout=5)
                                      -> (status, headers lower-case, body bytes);
                                      never follows redirects
    status_or_error(method, url, body=None)
                                      -> the status, or the connection error as text
    poll(condition, timeout, interval=0.02)
                                      -> condition()'s first truthy value within
                                      timeout s, else its last (falsy) value
    wait_until(condition, timeout=15, what="the condition", interval=0.02)
                                      -> poll()'s value; AssertionError naming what
                                      when it stays falsy
    healthy(urls)                     -> True when every url answers /healthz 200
    FakeClock()                       libfaketime control for workers: .env to pass
                                      to Worker, .set(unix_seconds) moves their clock
    appliance(capacity=1024, ingest_args=(), env=None, worker_args=())
                                      context manager: a fresh segment with one ingest
                                      and one query worker -> (segment, ingest, query);
                                      worker_args go to both
    post_sample(ingest, name, cpu, ram, time=None, headers=None)
                                      -> status of POST /server/<name>; with a
                                      "time" member when time is given
    delete_server(ingest, name, headers=None) -> status of DELETE /server/<name>
    get_server(query, name)           -> (status, parsed JSON of GET /server/<name>)
    window_counts(query, name)        -> ({minute start: samples}, {hour start:
                                      samples}) of the buckets with samples, or
                                      None when GET /server/<name> is not 200
    request_json(method, url, body=None, headers=None)
                                      -> (status, headers, parsed JSON or None); a
                                      body that is not str/bytes is sent as JSON
    post_batch(ingest, entries, headers=None) -> (status, parsed answer of POST /servers)
    list_servers(query, params="")    -> (status, parsed answer of GET /servers?params)
    assert_json_error(test, status, headers, body, expected_status)
                                      the contract's error shape; body raw or parsed
"""

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from http.client import HTTPConnection

BUILD_DIR = os.environ.get("SERVERTRACK_BUILD_DIR", "")
WORKER_BINARIES = {
    "ingest": os.path.join("ingest", "servertrack-ingest"),
    "query": os.path.join("query", "servertrack-query"),
}
FAKETIME_LIBRARY = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
_segment_counter = itertools.count()


def build_path(relative):
    """The path of a built file, e.g. build_path('cli/shmtool')."""
    if not BUILD_DIR:
        raise RuntimeError("SERVERTRACK_BUILD_DIR is not set; run the tests with `meson test`")
    return os.path.join(BUILD_DIR, relative)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shmtool(*args, check=True):
    """Runs shmtool with args; returns the CompletedProcess (text output)."""
    result = subprocess.run([build_path("cli/shmtool"), *args], capture_output=True,
                            text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"shmtool {' '.join(args)} failed ({result.returncode}): "
                           f"{result.stderr.strip()}")
    return result


class TestSegment:
    """A fresh shared-memory segment for one test, removed on exit; `days`: its day
    window (None: shmtool's default, 30)."""

    def __init__(self, capacity=1024, days=None):
        self.capacity = capacity
        self.days = days
        self.name = f"sttest_{os.getpid()}_{next(_segment_counter)}_{os.urandom(3).hex()}"

    def __enter__(self):
        days = () if self.days is None else ("--days", str(self.days))
        shmtool("create", "--segment", self.name, "--capacity", str(self.capacity), *days)
        return self

    def __exit__(self, *exc):
        shmtool("remove", "--segment", self.name, "--force", check=False)
        return False


def http(method, url, body=None, headers=None, timeout=5):
    """One request on a new connection; redirects are returned, not followed."""
    parts = urllib.parse.urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    connection = HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        if isinstance(body, str):
            body = body.encode()
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        payload = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
    finally:
        connection.close()


def status_or_error(method, url, body=None):
    """The HTTP status, or the connection error as text (a refused connection is not an exception)."""
    try:
        return http(method, url, body=body, timeout=5)[0]
    except OSError as error:
        return f"{type(error).__name__}: {error}"


def poll(condition, timeout, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


def wait_until(condition, timeout=15, what="the condition", interval=0.02):
    value = poll(condition, timeout, interval)
    if not value:
        raise AssertionError(f"{what} did not hold within {timeout} s")
    return value


def healthy(urls):
    return all(status_or_error("GET", url + "/healthz") == 200 for url in urls)


class FakeClock:
    """Moves the wall clock of workers started with `.env` (libfaketime).

    Only the C++ workers get the preload; the test process keeps the real clock.
    The offset file is re-read on every time call (FAKETIME_NO_CACHE), so set()
    takes effect for running workers. Monotonic clocks are left alone so timeouts
    inside the workers keep working.
    """

    def __init__(self):
        handle, self.path = tempfile.mkstemp(prefix="servertrack-faketime-")
        os.close(handle)
        self.set(time.time())
        asan = os.environ.get("ASAN_OPTIONS", "")
        self.env = {
            "LD_PRELOAD": FAKETIME_LIBRARY,
            "FAKETIME_TIMESTAMP_FILE": self.path,
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0",
        }

    def set(self, unix_seconds):
        """From now on the workers' clock reads about unix_seconds (and runs on)."""
        offset = int(round(unix_seconds - time.time()))
        with open(self.path, "w", encoding="ascii") as offset_file:
            offset_file.write(f"{offset:+d}s\n")

    def close(self):
        os.unlink(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def kill_and_reap(proc, faketime):
    """SIGKILLs `proc` if it still runs and reaps it. libfaketime removes its
    per-process semaphore and word in /dev/shm only at a normal exit, so for a
    process that ran under it (`faketime`) they are removed here."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    if faketime:
        for leftover in (f"faketime_shm_{proc.pid}", f"sem.faketime_sem_{proc.pid}"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join("/dev/shm", leftover))


class Worker:
    """One real worker process, healthy when the constructor returns."""

    # A port free_port() found may be taken by another test's worker before
    # this one binds it (tests run in parallel): then a worker that was not
    # given a port starts again on another, at most this many times in all.
    PORT_ATTEMPTS = 5

    def __init__(self, kind, segment, port=None, args=(), env=None, start_timeout=15):
        if kind not in WORKER_BINARIES:
            raise ValueError(f"unknown worker kind {kind!r}; use 'ingest' or 'query'")
        self.kind = kind
        segment_name = getattr(segment, "name", segment)
        environment = {**os.environ, **(env or {})}
        self._faketime = FAKETIME_LIBRARY in environment.get("LD_PRELOAD", "")
        for attempt in range(1, (self.PORT_ATTEMPTS if port is None else 1) + 1):
            self.port = port or free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            command = [build_path(WORKER_BINARIES[kind]), "--bind", "127.0.0.1",
                       "--port", str(self.port), "--segment", segment_name, *args]
            self._stderr = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=self._stderr, env=environment)
            self.pid = self.proc.pid
            try:
                self._wait_healthy(start_timeout)
                return
            except BaseException:
                self.kill()
                lost_the_port = self.proc.returncode in (1, 69) and self._port_taken()  # 69: claim refused
                if port is not None or attempt == self.PORT_ATTEMPTS or not lost_the_port:
                    raise
                self._stderr.close()

    def _port_taken(self):
        text = self.stderr_text()
        return "is already served by the workers of segment" in text or "and the port free?" in text

    def _wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} worker exited with {self.proc.returncode}: "
                                   f"{self.stderr_text().strip()}")
            if "listening on http://" in self.stderr_text():
                try:
                    if http("GET", self.url + "/healthz", timeout=2)[0] == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.kind} worker not healthy within {timeout} s: "
                           f"{self.stderr_text().strip()}")

    def stderr_text(self):
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self, timeout=10):
        """SIGTERM, wait, and return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self):
        kill_and_reap(self.proc, self._faketime)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        self._stderr.close()
        return False


@contextlib.contextmanager
def appliance(capacity=1024, ingest_args=(), env=None, worker_args=(), days=None):
    """Yields (segment, ingest, query); everything is stopped and removed after."""
    with TestSegment(capacity, days) as segment, \
            Worker("ingest", segment, args=(*worker_args, *ingest_args), env=env) as ingest, \
            Worker("query", segment, args=worker_args, env=env) as query:
        yield segment, ingest, query


def request_json(method, url, body=None, headers=None):
    """-> (status, headers, parsed JSON body or None for an empty body)."""
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    status, response_headers, payload = http(method, url, body, headers)
    return status, response_headers, json.loads(payload) if payload else None


def post_sample(ingest, name, cpu, ram, time=None, headers=None):
    """POSTs one sample (with "time" when given); returns the status."""
    sample = {"cpu": cpu, "ram": ram} if time is None else {"cpu": cpu, "ram": ram, "time": time}
    return request_json("POST", f"{ingest.url}/server/{name}", sample, headers)[0]


def delete_server(ingest, name, headers=None):
    """DELETE /server/<name>; returns the status."""
    return http("DELETE", f"{ingest.url}/server/{name}", None, headers)[0]


def get_server(query, name):
    """GET /server/<name> -> (status, parsed JSON body)."""
    status, _, document = request_json("GET", f"{query.url}/server/{name}")
    return status, document


def recent_minutes(document, key):
    """The values of `key` ("cpu" or "ram") in the last two minutes of a
    snapshot, empty ones left out: [value] for a sample posted just before the
    GET, also when a minute began in between."""
    return [value for value in document["last_60_minutes"][key][-2:] if value is not None]


def window_counts(query, name):
    """({minute start: samples}, {hour start: samples}) of the buckets of both
    windows that hold samples (unix seconds), or None when GET is not 200."""
    status, _, snapshot = request_json("GET", f"{query.url}/server/{name}?counts=1")
    if status != 200:
        return None
    windows = []
    for key in ("last_60_minutes", "last_24_hours"):
        window = snapshot[key]
        windows.append({window["start"] + i * window["step"]: count
                        for i, count in enumerate(window["count"]) if count})
    return tuple(windows)


def post_batch(ingest, entries, headers=None):
    """POST /servers -> (status, parsed answer)."""
    status, _, answer = request_json("POST", f"{ingest.url}/servers", entries, headers)
    return status, answer


def list_servers(query, params=""):
    """GET /servers?params -> (status, parsed answer)."""
    status, _, answer = request_json("GET", f"{query.url}/servers?{params}")
    return status, answer


def listed_names(query):
    """The names GET /servers lists, sorted."""
    return sorted(server["name"] for server in list_servers(query)[1]["servers"])


def fleet_names(query):
    """The names GET /fleet lists, sorted."""
    return sorted(server["name"] for server in request_json("GET", f"{query.url}/fleet")[2]["servers"])


def assert_json_error(test, status, headers, body, expected_status):
    """The contract's error shape: the status, JSON content type, {"error": text}.
    body is the raw payload (bytes) or the already parsed document."""
    test.assertEqual(status, expected_status, body)
    test.assertEqual(headers.get("content-type"), "application/json")
    document = json.loads(body) if isinstance(body, (bytes, str)) else body
    test.assertEqual(list(document), ["error"])
    test.assertIsInstance(document["error"], str)
    test.assertTrue(document["error"])
