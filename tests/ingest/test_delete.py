"""DELETE /server/<name> on the ingest port (token-protected like POST): the
server is gone (GET 404, not in /servers nor /fleet), its slot serves a new
name; an unknown name is 404, in the words of GET's 404 (one sentence:
http/status_answers.h); the query port answers 405. A record racing a
delete from real processes: tests/shm/test_forget.cc."""

import json
import unittest

from appliance import (appliance, delete_server, fleet_names, get_server, http, listed_names, post_sample,
                       window_counts)


class DeleteTest(unittest.TestCase):
    def test_delete_removes_the_server_and_frees_its_slot(self):
        names = ["web-01.example.com", "web-02", "db_1", "cache.3"]
        with appliance(capacity=4) as (_, ingest, query):
            for name in names:
                self.assertEqual(post_sample(ingest, name, 1, 2), 204)
            self.assertEqual(post_sample(ingest, "newcomer", 1, 2), 507)
            self.assertEqual(delete_server(ingest, "web-02"), 204)
            self.assertEqual(get_server(query, "web-02")[0], 404)
            self.assertEqual(listed_names(query), sorted(set(names) - {"web-02"}))
            self.assertEqual(fleet_names(query), sorted(set(names) - {"web-02"}))
            self.assertEqual(post_sample(ingest, "newcomer", 1, 2), 204)
            self.assertEqual(get_server(query, "newcomer")[0], 200)
            # Gone means gone: deleting again, or an unknown name, is 404.
            self.assertEqual(delete_server(ingest, "web-02"), 404)
            self.assertEqual(delete_server(ingest, "never-seen.example.com"), 404)
            self.assertEqual(delete_server(ingest, "-bad"), 400)
            # A name deleted and posted again starts anew.
            self.assertEqual(delete_server(ingest, "db_1"), 204)
            self.assertEqual(post_sample(ingest, "db_1", 1, 2), 204)
            self.assertEqual(sum(window_counts(query, "db_1")[0].values()), 1)
            self.assertEqual(http("DELETE", f"{query.url}/server/db_1")[0], 405)

    def test_delete_needs_the_ingest_token(self):
        with appliance(ingest_args=("--ingest-token", "s3cret")) as (_, ingest, query):
            auth = {"Authorization": "Bearer s3cret"}
            self.assertEqual(post_sample(ingest, "web-01.example.com", 1, 2, headers=auth), 204)
            self.assertEqual(delete_server(ingest, "web-01.example.com"), 401)
            self.assertEqual(get_server(query, "web-01.example.com")[0], 200)
            self.assertEqual(delete_server(ingest, "web-01.example.com", auth), 204)
            self.assertEqual(get_server(query, "web-01.example.com")[0], 404)

    def test_unknown_name_reads_the_same_on_delete_and_get(self):
        for days in (0, 30):
            with self.subTest(days=days), appliance(days=days) as (_, ingest, query):
                _, _, deleted = http("DELETE", f"{ingest.url}/server/never-seen.example.com")
                _, _, got = http("GET", f"{query.url}/server/never-seen.example.com")
                self.assertEqual(json.loads(deleted), json.loads(got))
                self.assertIn('"never-seen.example.com"', json.loads(got)["error"])

    def test_deletes_are_counted_under_their_route(self):
        with appliance() as (_, ingest, _):
            self.assertEqual(post_sample(ingest, "web-01", 1, 2), 204)
            self.assertEqual(delete_server(ingest, "web-01"), 204)
            self.assertEqual(delete_server(ingest, "web-01"), 404)
            metrics = http("GET", f"{ingest.url}/metrics")[2].decode()
            self.assertIn('servertrack_http_requests_total{route="/server/<name>",status="204"} 2', metrics)
            self.assertIn('servertrack_http_requests_total{route="/server/<name>",status="404"} 1', metrics)


if __name__ == "__main__":
    unittest.main()
