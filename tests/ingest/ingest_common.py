"""Helpers of the tests/ingest end-to-end tests: an appliance (segment, ingest
and query worker) and JSON requests against it."""

import contextlib
import json

from appliance import TestSegment, Worker, http


@contextlib.contextmanager
def appliance(capacity=1024, ingest_args=(), env=None):
    """Yields (segment, ingest, query); everything is stopped and removed after."""
    with TestSegment(capacity) as segment, \
            Worker("ingest", segment, args=ingest_args, env=env) as ingest, \
            Worker("query", segment, env=env) as query:
        yield segment, ingest, query


def request_json(method, url, body=None, headers=None):
    """-> (status, parsed JSON body or None for an empty body)."""
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    status, _, payload = http(method, url, body, headers)
    return status, json.loads(payload) if payload else None


def minute_counts(query, name):
    """{minute start (unix seconds): count} of the server's last 60 minutes, and
    {hour start: count} of its last 24 hours; None when GET is not 200."""
    status, snapshot = request_json("GET", f"{query.url}/server/{name}?counts=1")
    if status != 200:
        return None
    windows = []
    for key, step in (("last_60_minutes", 60), ("last_24_hours", 3600)):
        window = snapshot[key]
        windows.append({window["start"] + i * step: count
                        for i, count in enumerate(window["count"]) if count})
    return tuple(windows)
