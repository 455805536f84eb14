"""DELETE /server/<name> on the ingest port (token-protected like POST) and
`shmtool forget NAME`: the server is gone (GET 404, not in /servers), its slot
serves a new name; an unknown name is 404; the query port answers 405."""

import json
import unittest

from appliance import http, shmtool
from ingest_common import appliance, request_json

SAMPLE = json.dumps({"cpu": 1, "ram": 2})


def listed(query):
    return [s["name"] for s in request_json("GET", f"{query.url}/servers")[1]["servers"]]


class DeleteTest(unittest.TestCase):
    def test_delete_removes_the_server_and_frees_its_slot(self):
        names = ["web-01.example.com", "web-02", "db_1", "cache.3"]
        with appliance(capacity=4) as (_, ingest, query):
            for name in names:
                self.assertEqual(http("POST", f"{ingest.url}/server/{name}", SAMPLE)[0], 204)
            self.assertEqual(http("POST", f"{ingest.url}/server/newcomer", SAMPLE)[0], 507)
            self.assertEqual(http("DELETE", f"{ingest.url}/server/web-02")[0], 204)
            self.assertEqual(http("GET", f"{query.url}/server/web-02")[0], 404)
            self.assertEqual(sorted(listed(query)), sorted(set(names) - {"web-02"}))
            self.assertEqual(http("POST", f"{ingest.url}/server/newcomer", SAMPLE)[0], 204)
            self.assertEqual(http("GET", f"{query.url}/server/newcomer")[0], 200)
            # Gone means gone: deleting again, or an unknown name, is 404.
            self.assertEqual(http("DELETE", f"{ingest.url}/server/web-02")[0], 404)
            self.assertEqual(http("DELETE", f"{ingest.url}/server/never-seen")[0], 404)
            self.assertEqual(http("DELETE", f"{ingest.url}/server/-bad")[0], 400)
            # A name deleted and posted again starts anew.
            self.assertEqual(http("DELETE", f"{ingest.url}/server/db_1")[0], 204)
            self.assertEqual(http("POST", f"{ingest.url}/server/db_1", SAMPLE)[0], 204)
            counts = request_json("GET", f"{query.url}/server/db_1?counts=1")[1]["last_60_minutes"]["count"]
            self.assertEqual(sum(counts), 1)
            self.assertEqual(http("DELETE", f"{query.url}/server/db_1")[0], 405)

    def test_delete_needs_the_ingest_token(self):
        with appliance(ingest_args=("--ingest-token", "s3cret")) as (_, ingest, query):
            auth = {"Authorization": "Bearer s3cret"}
            self.assertEqual(http("POST", f"{ingest.url}/server/web-01", SAMPLE, auth)[0], 204)
            self.assertEqual(http("DELETE", f"{ingest.url}/server/web-01")[0], 401)
            self.assertEqual(http("GET", f"{query.url}/server/web-01")[0], 200)
            self.assertEqual(http("DELETE", f"{ingest.url}/server/web-01", None, auth)[0], 204)
            self.assertEqual(http("GET", f"{query.url}/server/web-01")[0], 404)

    def test_shmtool_forget_while_workers_run(self):
        with appliance(capacity=2) as (segment, ingest, query):
            for name in ("web-01", "web-02"):
                self.assertEqual(http("POST", f"{ingest.url}/server/{name}", SAMPLE)[0], 204)
            result = shmtool("forget", "--segment", segment.name, "web-01")
            self.assertIn("web-01", result.stdout)
            self.assertEqual(http("GET", f"{query.url}/server/web-01")[0], 404)
            self.assertEqual(http("POST", f"{ingest.url}/server/web-03", SAMPLE)[0], 204)
            unknown = shmtool("forget", "--segment", segment.name, "web-01", check=False)
            self.assertNotEqual(unknown.returncode, 0)
            self.assertIn("no such server", unknown.stderr)


if __name__ == "__main__":
    unittest.main()
