"""Raw-socket HTTP for the tests of the connection layer and hostile clients:
send exactly the bytes a client (or an attacker) would, and see how (and how
fast) the worker answers or drops them. Stdlib only; see tests/lib/appliance.py
for the workers themselves.

    connect(port)                      -> a socket with a timeout
    post(name, body, extra_headers=b"", version=b"HTTP/1.1", declared_length=None)
                                       -> request bytes (name str or raw bytes)
    statuses_in(data)                  -> status codes of the whole responses in data
    await_outcome(sock, bound, want=1) -> Outcome(statuses, closed, seconds)
    read_responses(sock, count, timeout=10)
                                       -> status codes of the next `count` responses;
                                          raises if the worker closes first
    read_until_closed(sock, timeout)   -> everything sent until the worker closes
    send_ignoring_reset(sock, data)    -> False when the worker already closed
    raise_file_limit(needed)           -> the open-file limit now in force, raised
                                          (never lowered) towards `needed`
"""

import resource
import socket
import time
from dataclasses import dataclass, field


@dataclass
class Outcome:
    statuses: list = field(default_factory=list)  # whole responses received, in order
    closed: bool = False     # the worker closed (or reset) the connection
    seconds: float = 0.0     # from the call until the outcome was known
    data: bytes = b""

    @property
    def settled(self):
        return self.closed or bool(self.statuses)


def connect(port, timeout=5):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def post(name, body, extra_headers=b"", version=b"HTTP/1.1", declared_length=None):
    body = body.encode() if isinstance(body, str) else body
    name = name.encode() if isinstance(name, str) else name
    length = len(body) if declared_length is None else declared_length
    return (b"POST /server/" + name + b" " + version + b"\r\nHost: 127.0.0.1\r\n" +
            b"Content-Length: " + str(length).encode() + b"\r\n" + extra_headers + b"\r\n" + body)


def statuses_in(data):
    """Status codes of the complete responses at the start of data (1xx included)."""
    statuses = []
    while True:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep or not head.startswith(b"HTTP/"):
            return statuses
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        length = 0
        for line in lines[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == b"content-length":
                length = int(value)
        if len(rest) < length:
            return statuses
        statuses.append(status)
        data = rest[length:]


def await_outcome(sock, bound, want=1):
    """Reads until `want` whole responses arrived, the worker closed, or `bound`
    seconds passed (then neither closed nor enough statuses: a hang)."""
    started = time.monotonic()
    outcome = Outcome()
    while time.monotonic() - started < bound:
        sock.settimeout(max(0.01, bound - (time.monotonic() - started)))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            outcome.closed = True
            break
        outcome.data += chunk
        if len(statuses_in(outcome.data)) >= want:
            break
    outcome.statuses = statuses_in(outcome.data)
    outcome.seconds = time.monotonic() - started
    return outcome


def read_responses(sock, count, timeout=10):
    """Reads until `count` complete responses arrived; returns their status codes."""
    sock.settimeout(timeout)
    data = b""
    while len(statuses_in(data)) < count:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed after {len(statuses_in(data))} of {count} responses")
        data += chunk
    return statuses_in(data)[:count]


def read_until_closed(sock, timeout):
    """Everything the worker sends until it closes; raises on timeout."""
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def send_ignoring_reset(sock, data):
    """sendall; False when the worker already closed or reset the connection."""
    try:
        sock.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        return False


def raise_file_limit(needed):
    """Raises this process's RLIMIT_NOFILE (workers started later inherit it) to
    at least `needed`, the hard limit too where permitted; never lowers it.
    Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, max(hard, needed)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
