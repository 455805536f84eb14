"""A server with no sample for 24 hours expires: GET 404, listed neither in
/servers nor in /fleet, and its slot is reused by a new name, so a fleet that
replaces all its hosts every day never sees 507 while the live ones fit
(docs/design.md, "Concurrency rules", "Expiry"). The workers' clock is moved
with libfaketime (FakeClock)."""

import time
import unittest

from appliance import FakeClock, appliance, fleet_names, get_server, listed_names, post_sample

CAPACITY = 16


class ExpiryTest(unittest.TestCase):
    def test_a_full_table_of_silent_servers_takes_a_whole_new_fleet(self):
        # A segment without days: its servers live 24 hours (30 days with the default days).
        with FakeClock() as clock, appliance(capacity=CAPACITY, env=clock.env, days=0) as (_, ingest, query):
            old = [f"old-{i}.example.com" for i in range(CAPACITY)]
            for name in old:
                self.assertEqual(post_sample(ingest, name, 1, 2), 204)
            self.assertEqual(post_sample(ingest, "one-too-many", 1, 2), 507)

            clock.set(time.time() + 23 * 3600)  # silent for 23 h: still there
            self.assertEqual(get_server(query, old[0])[0], 200)
            self.assertEqual(len(fleet_names(query)), CAPACITY)
            self.assertEqual(post_sample(ingest, "one-too-many", 1, 2), 507)

            clock.set(time.time() + 25 * 3600)
            self.assertEqual(get_server(query, old[0])[0], 404)
            self.assertEqual(listed_names(query), [])
            self.assertEqual(fleet_names(query), [])
            new = [f"new-{i}.example.com" for i in range(CAPACITY)]
            for name in new:
                self.assertEqual(post_sample(ingest, name, 1, 2), 204, name)
            self.assertEqual(listed_names(query), sorted(new))
            self.assertEqual(fleet_names(query), sorted(new))
            self.assertEqual(post_sample(ingest, old[1], 1, 2), 507)


if __name__ == "__main__":
    unittest.main()
