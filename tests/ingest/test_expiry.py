"""A server with no sample for 24 hours expires: GET 404, not listed, and its
slot is reused by a new name, so a fleet that replaces all its hosts every day
never sees 507 while the live ones fit. The workers' clock is moved with
libfaketime (FakeClock)."""

import json
import time
import unittest

from appliance import FakeClock, http
from ingest_common import appliance, request_json

CAPACITY = 16
SAMPLE = json.dumps({"cpu": 1, "ram": 2})


class ExpiryTest(unittest.TestCase):
    def test_a_full_table_of_silent_servers_takes_a_whole_new_fleet(self):
        with FakeClock() as clock, appliance(capacity=CAPACITY, env=clock.env) as (_, ingest, query):
            old = [f"old-{i}.example.com" for i in range(CAPACITY)]
            for name in old:
                self.assertEqual(http("POST", f"{ingest.url}/server/{name}", SAMPLE)[0], 204)
            self.assertEqual(http("POST", f"{ingest.url}/server/one-too-many", SAMPLE)[0], 507)

            clock.set(time.time() + 23 * 3600)  # silent for 23 h: still there
            self.assertEqual(http("GET", f"{query.url}/server/{old[0]}")[0], 200)
            self.assertEqual(http("POST", f"{ingest.url}/server/one-too-many", SAMPLE)[0], 507)

            clock.set(time.time() + 25 * 3600)
            self.assertEqual(http("GET", f"{query.url}/server/{old[0]}")[0], 404)
            self.assertEqual(request_json("GET", f"{query.url}/servers")[1]["servers"], [])
            new = [f"new-{i}" for i in range(CAPACITY)]
            for name in new:
                self.assertEqual(http("POST", f"{ingest.url}/server/{name}", SAMPLE)[0], 204, name)
            listed = [s["name"] for s in request_json("GET", f"{query.url}/servers")[1]["servers"]]
            self.assertEqual(sorted(listed), sorted(new))
            self.assertEqual(http("POST", f"{ingest.url}/server/{old[1]}", SAMPLE)[0], 507)


if __name__ == "__main__":
    unittest.main()
