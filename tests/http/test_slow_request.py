"""A slow request does not stall the other connections of its event loop
(docs/design.md, "The connection layer": slow requests).

One ingest worker with one event loop (--threads 1). The slot of server
"wedged" gets a planted lock word naming a live process that is not a writer
(a sleeping child of this test), so every POST to it waits in record() for the
lock's patience and is answered 503. While WEDGED_CLIENTS clients keep posting
to it, a well-behaved client posts to other servers on the same worker, one
request at a time on new connections: each must be answered 204 within
OTHER_BOUND_S, far less than the one-second wait of the wedged requests.
Every loop here is bounded in count and time.
"""

import os
import subprocess
import sys
import threading
import time
import unittest

from appliance import TestSegment, Worker, http

sys.path.insert(0, os.path.join(os.environ.get("SERVERTRACK_SOURCE_DIR", ""), "tests", "cli"))
import segment_bytes as layout  # noqa: E402  (tests/cli's raw segment reader)
from segment_bytes import SegmentBytes  # noqa: E402

SAMPLE = '{"cpu": 1, "ram": 2}'
WEDGED_CLIENTS = 4
RUN_SECONDS = 4
OTHER_REQUESTS = 200
# A wedged request waits about a second; a loop that waited with it would show
# that here. The bound leaves room for a busy shared machine.
OTHER_BOUND_S = 0.4


class SlowRequestTest(unittest.TestCase):
    def test_wedged_slot_does_not_stall_other_servers_on_the_same_loop(self):
        holder = subprocess.Popen(["sleep", str(RUN_SECONDS + 30)])
        try:
            with TestSegment(capacity=64) as segment, \
                    Worker("ingest", segment, args=("--threads", "1")) as ingest:
                for name in ("wedged", "other"):
                    self.assertEqual(http("POST", f"{ingest.url}/server/{name}", SAMPLE)[0], 204)
                with SegmentBytes(segment.name) as raw:
                    raw.put(raw.slot_offset(raw.slots()["wedged"]) + layout.LOCK_OWNER, "<Q",
                            layout.lock_word(holder.pid))

                wedged_statuses, stop = [], threading.Event()

                def post_wedged():
                    while not stop.is_set():
                        wedged_statuses.append(http("POST", f"{ingest.url}/server/wedged", SAMPLE,
                                                    timeout=10)[0])

                clients = [threading.Thread(target=post_wedged) for _ in range(WEDGED_CLIENTS)]
                for client in clients:
                    client.start()
                time.sleep(0.2)  # the wedged requests are in flight
                latencies, statuses = [], set()
                deadline = time.monotonic() + RUN_SECONDS
                while time.monotonic() < deadline and len(latencies) < OTHER_REQUESTS:
                    started = time.monotonic()
                    statuses.add(http("POST", f"{ingest.url}/server/other", SAMPLE, timeout=10)[0])
                    latencies.append(time.monotonic() - started)
                stop.set()
                for client in clients:
                    client.join(timeout=15)

                latencies.sort()
                print(f"other server: {len(latencies)} POSTs, median {latencies[len(latencies) // 2] * 1000:.1f} ms, "
                      f"max {latencies[-1] * 1000:.1f} ms; wedged server: {len(wedged_statuses)} answers "
                      f"{sorted(set(wedged_statuses))}", file=sys.stderr)
                self.assertEqual(statuses, {204})
                self.assertTrue(wedged_statuses and set(wedged_statuses) == {503},
                                f"the planted lock did not make the wedged server busy: {wedged_statuses}")
                self.assertLess(latencies[-1], OTHER_BOUND_S,
                                "a request to another server waited behind the wedged ones")
        finally:
            holder.kill()
            holder.wait()


if __name__ == "__main__":
    unittest.main()
