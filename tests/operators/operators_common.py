"""Helpers shared by tests/operators: JSON requests against real workers.

Builds on tests/lib/appliance.py; an appliance is a fresh segment with one
ingest and one query worker (extra ingest arguments allowed)."""

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
    """-> (status, headers, parsed JSON body or None for an empty body)."""
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    status, response_headers, payload = http(method, url, body, headers)
    return status, response_headers, json.loads(payload) if payload else None


def post_batch(ingest, entries, headers=None):
    """POST /servers -> (status, parsed answer)."""
    status, _, answer = request_json("POST", f"{ingest.url}/servers", entries, headers)
    return status, answer


def list_servers(query, params=""):
    """GET /servers?params -> (status, parsed answer)."""
    status, _, answer = request_json("GET", f"{query.url}/servers?{params}")
    return status, answer


def assert_json_error(test, status, headers, document, expected_status):
    """The contract's error shape: the status, JSON content type, {"error": text}."""
    test.assertEqual(status, expected_status, document)
    test.assertEqual(headers.get("content-type"), "application/json")
    test.assertEqual(list(document), ["error"])
    test.assertTrue(document["error"])
