"""The well-behaved client of the hostile-client tests, run as its own process
so the attacker's Python work does not add to its latencies.

    python3 steady_client.py INGEST_URL QUERY_URL NAME MAX_SECONDS

Every PACE_SECONDS it POSTs a sample for NAME on a fresh connection (as a
monitored host does once a minute) and reads NAME back from the query worker.
It stops when its stdin closes or after MAX_SECONDS, whichever comes first, and
prints one JSON line: {"requests": n, "errors": [...], "p99_ms": x, "max_ms": y}.
"""

import json
import select
import sys
import time

from appliance import http

PACE_SECONDS = 0.02
REQUEST_TIMEOUT = 5


def one_round(ingest_url, query_url, name, latencies, errors):
    for method, url, body, expected in (
            ("POST", f"{ingest_url}/server/{name}", '{"cpu": 12.5, "ram": 40}', 204),
            ("GET", f"{query_url}/server/{name}", None, 200)):
        started = time.monotonic()
        try:
            status = http(method, url, body, timeout=REQUEST_TIMEOUT)[0]
        except OSError as error:
            errors.append(f"{method} {url}: {error!r}")
            continue
        latencies.append(time.monotonic() - started)
        if status != expected:
            errors.append(f"{method} {url}: status {status}, expected {expected}")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main():
    ingest_url, query_url, name, max_seconds = sys.argv[1:5]
    deadline = time.monotonic() + float(max_seconds)
    latencies, errors = [], []
    while time.monotonic() < deadline:
        one_round(ingest_url, query_url, name, latencies, errors)
        if select.select([sys.stdin], [], [], PACE_SECONDS)[0] and not sys.stdin.read(1):
            break  # stdin closed: the attack is over
    print(json.dumps({"requests": len(latencies), "errors": errors[:20],
                      "p99_ms": 1000 * percentile(latencies, 0.99),
                      "max_ms": 1000 * max(latencies, default=0.0)}))


if __name__ == "__main__":
    main()
