"""shmtool forget NAME: deletes one server as DELETE /server/<name> does, safely
while the workers run (docs/design.md, "Concurrency rules", "Delete")."""

import unittest

from appliance import appliance, get_server, list_servers, post_sample
from shmtool_test_base import ShmtoolTestCase, run_shmtool


class ForgetTest(ShmtoolTestCase):
    def test_forget_while_workers_run_frees_the_slot(self):
        with appliance(capacity=2) as (segment, ingest, query):
            for name in ("web-01.example.com", "web-02.example.com"):
                self.assertEqual(post_sample(ingest, name, 1, 2), 204)
            self.assertEqual(post_sample(ingest, "web-03.example.com", 1, 2), 507)
            result = run_shmtool("forget", "--segment", segment.name, "web-01.example.com")
            self.assertExit(result, 0)
            self.assertIn("forgot server 'web-01.example.com'", result.stdout)
            self.assertEqual(get_server(query, "web-01.example.com")[0], 404)
            self.assertEqual([s["name"] for s in list_servers(query)[1]["servers"]], ["web-02.example.com"])
            self.assertEqual(post_sample(ingest, "web-03.example.com", 1, 2), 204)
            self.assertExit(run_shmtool("check", "--segment", segment.name), 0)

    def test_an_unknown_or_invalid_name_changes_nothing(self):
        with appliance(capacity=2) as (segment, ingest, query):
            self.assertEqual(post_sample(ingest, "web-01", 1, 2), 204)
            unknown = run_shmtool("forget", "--segment", segment.name, "web-02")
            self.assertExit(unknown, 1)
            self.assertIn("no such server", unknown.stderr)
            invalid = run_shmtool("forget", "--segment", segment.name, "web/01")
            self.assertExit(invalid, 64)
            self.assertIn("the server name must be 1 to 253 characters", invalid.stderr)
            self.assertEqual(get_server(query, "web-01")[0], 200)


if __name__ == "__main__":
    unittest.main()
