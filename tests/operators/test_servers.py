"""GET /servers: every known server once, sorted by name, with its last sample
time; ?prefix= filters; ?limit= and ?after= page; bad parameters get 400."""

import time
import unittest

from appliance import appliance, assert_json_error, list_servers, post_batch, request_json

NAMES = [f"{kind}_{i}" for kind in ("web", "db", "cache") for i in range(40)]


class ServersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.context = appliance()
        cls.segment, cls.ingest, cls.query = cls.context.__enter__()
        cls.before = int(time.time())
        status, answer = post_batch(cls.ingest, {name: {"cpu": 1, "ram": 2} for name in NAMES})
        assert status == 200 and answer["recorded"] == len(NAMES), answer
        cls.after = int(time.time())

    @classmethod
    def tearDownClass(cls):
        cls.context.__exit__(None, None, None)

    def pages(self, params):
        """Follows next_after to the end; returns every listed entry."""
        listed, after = [], ""
        for _ in range(len(NAMES) + 1):
            status, answer = list_servers(self.query, f"{params}&after={after}")
            self.assertEqual(status, 200, answer)
            listed += answer["servers"]
            if answer["next_after"] is None:
                return listed
            after = answer["next_after"]
            self.assertEqual(after, answer["servers"][-1]["name"])
        self.fail("paging did not end")

    def test_default_page_is_the_first_100_sorted(self):
        status, answer = list_servers(self.query)
        self.assertEqual(status, 200)
        self.assertEqual([s["name"] for s in answer["servers"]], sorted(NAMES)[:100])
        self.assertEqual(answer["next_after"], sorted(NAMES)[99])
        for entry in answer["servers"]:
            self.assertEqual(set(entry), {"name", "last_sample"})
            self.assertTrue(self.before <= entry["last_sample"] <= self.after, entry)

    def test_paging_lists_every_server_once_in_order(self):
        listed = self.pages("limit=7")
        self.assertEqual([s["name"] for s in listed], sorted(NAMES))

    def test_prefix_filters(self):
        listed = self.pages("prefix=db_1&limit=3")
        self.assertEqual([s["name"] for s in listed], sorted(n for n in NAMES if n.startswith("db_1")))
        status, answer = list_servers(self.query, "prefix=nothing_like_this")
        self.assertEqual((status, answer), (200, {"servers": [], "next_after": None}))

    def test_last_page_has_no_next(self):
        status, answer = list_servers(self.query, f"limit=1000")
        self.assertEqual(status, 200)
        self.assertEqual(len(answer["servers"]), len(NAMES))
        self.assertIsNone(answer["next_after"])

    def test_last_sample_moves_with_a_new_sample(self):
        status, _ = post_batch(self.ingest, {"web_3": {"cpu": 5, "ram": 5}})
        self.assertEqual(status, 200)
        _, answer = list_servers(self.query, "prefix=web_3&limit=1")
        self.assertEqual(answer["servers"][0]["name"], "web_3")
        self.assertGreaterEqual(answer["servers"][0]["last_sample"], self.before)

    def test_bad_parameters_are_400(self):
        for params in ("limit=0", "limit=1001", "limit=ten", "limit=", "limit=-1", "limit=5x",
                       "prefix=web-1", "prefix=" + "a" * 65, "after=a%2Fb", "limit=5&limit=6",
                       "prefix=%C3%A9"):
            with self.subTest(params=params):
                assert_json_error(self, *request_json("GET", f"{self.query.url}/servers?{params}"), 400)


if __name__ == "__main__":
    unittest.main()
