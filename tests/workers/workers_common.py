"""Helpers shared by the workers' end-to-end tests (tests/workers/*.py).

An appliance for one test: a fresh segment with one ingest and one query worker,
plus the two calls every test makes. Builds on tests/lib/appliance.py.
"""

import contextlib
import json

from appliance import TestSegment, Worker, http


@contextlib.contextmanager
def appliance(capacity=1024, env=None):
    """Yields (segment, ingest, query); everything is stopped and removed after."""
    with TestSegment(capacity) as segment, \
            Worker("ingest", segment, env=env) as ingest, \
            Worker("query", segment, env=env) as query:
        yield segment, ingest, query


def post_sample(ingest, name, cpu, ram):
    """POSTs one sample; returns the status."""
    return http("POST", f"{ingest.url}/server/{name}", json.dumps({"cpu": cpu, "ram": ram}))[0]


def get_server(query, name):
    """GET /server/<name> -> (status, parsed JSON body)."""
    status, _, body = http("GET", f"{query.url}/server/{name}")
    return status, json.loads(body)


def assert_json_error(test, status, headers, body, expected_status):
    """The contract's error shape: the status, JSON content type, {"error": text}."""
    test.assertEqual(status, expected_status, body)
    test.assertEqual(headers.get("content-type"), "application/json")
    document = json.loads(body)
    test.assertEqual(list(document), ["error"])
    test.assertIsInstance(document["error"], str)
    test.assertTrue(document["error"])
