"""GET /fleet against real workers: the hottest server first, the latest
minute's means and 60-minute series, the newest hour's peaks and sorting by
them, paging with the cursor, silent servers
(the ingest worker's clock moved back with libfaketime, and servers seeded only
by "time" backfill, as an agent's spool or an import does), and 400 sentences."""

import time
import unittest
import urllib.parse

from appliance import FakeClock, appliance, assert_json_error, http, post_batch, request_json


def fleet(query, **params):
    """GET /fleet?params -> (status, headers, parsed answer)."""
    return request_json("GET", f"{query.url}/fleet?{urllib.parse.urlencode(params)}")


class FleetTest(unittest.TestCase):
    def setUp(self):
        self.clock = FakeClock()
        self.addCleanup(self.clock.close)

    def test_rows_hottest_first_with_their_last_hour(self):
        with appliance(env=self.clock.env) as (_, ingest, query):
            self.assertEqual(post_batch(ingest, {"web_1": {"cpu": 20, "ram": 70},
                                                 "web_2": {"cpu": 90.5, "ram": 10},
                                                 "db_1": {"cpu": 55, "ram": 30}})[0], 200)
            status, headers, answer = fleet(query)
            self.assertEqual(status, 200, answer)
            self.assertEqual(headers["content-type"], "application/json")
            self.assertEqual([row["name"] for row in answer["servers"]], ["web_2", "db_1", "web_1"])
            self.assertEqual((answer["sort"], answer["order"], answer["total"]), ("cpu", "desc", 3))
            self.assertIsNone(answer["next_cursor"])
            top = answer["servers"][0]
            self.assertEqual((top["cpu"], top["ram"]), (90.5, 10))
            self.assertLessEqual(abs(top["last_sample"] - time.time()), 5)
            minutes = top["last_60_minutes"]
            self.assertEqual((minutes["step"], len(minutes["cpu"]), len(minutes["ram"])), (60, 60, 60))
            self.assertEqual((minutes["cpu"][-1], minutes["ram"][-1]), (90.5, 10))
            self.assertEqual(minutes["cpu"][:-1], [None] * 59)
            by_name = fleet(query, sort="name")[2]
            self.assertEqual([row["name"] for row in by_name["servers"]], ["db_1", "web_1", "web_2"])
            metrics = http("GET", query.url + "/metrics")[2].decode()
            self.assertIn('servertrack_http_requests_total{route="/fleet",status="200"} 2', metrics)

    def test_cursor_walks_every_server_once(self):
        with appliance(env=self.clock.env) as (_, ingest, query):
            entries = {f"srv_{i:03}": {"cpu": i % 7, "ram": 50} for i in range(250)}
            self.assertEqual(post_batch(ingest, entries)[0], 200)
            seen, cursor, pages = [], None, 0
            while pages < 10:
                params = {"limit": 40, **({"cursor": cursor} if cursor else {})}
                status, _, answer = fleet(query, **params)
                self.assertEqual(status, 200, answer)
                self.assertEqual(answer["total"], 250)
                seen += [(row["cpu"], row["name"]) for row in answer["servers"]]
                pages += 1
                cursor = answer["next_cursor"]
                if cursor is None:
                    break
            self.assertEqual(pages, 7)
            self.assertEqual(len(set(seen)), 250)
            self.assertEqual(seen, sorted(seen, key=lambda row: (-row[0], row[1])))

    def test_stale_keeps_the_silent_servers(self):
        now = time.time()
        with appliance(env=self.clock.env) as (_, ingest, query):
            self.clock.set(now - 600)
            self.assertEqual(post_batch(ingest, {"quiet_1": {"cpu": 1, "ram": 1}})[0], 200)
            self.clock.set(now)
            self.assertEqual(post_batch(ingest, {"busy_1": {"cpu": 2, "ram": 2}})[0], 200)
            status, _, answer = fleet(query, stale=300)
            self.assertEqual(status, 200, answer)
            self.assertEqual([row["name"] for row in answer["servers"]], ["quiet_1"])
            self.assertEqual(answer["total"], 1)
            self.assertEqual(fleet(query, stale=0)[2]["total"], 2)
            self.assertEqual(fleet(query, prefix="busy")[2]["total"], 1)

    def test_sort_by_the_peak_of_the_newest_hour(self):
        with appliance(env=self.clock.env) as (_, ingest, query):
            at = (int(time.time()) // 3600 + 2) * 3600 + 1800  # mid-hour, on the workers' clock
            self.clock.set(at)
            spool = [{"cpu": 97, "ram": 30, "time": at - 600}, {"cpu": 12, "ram": 31, "time": at - 5}]
            status, answer = post_batch(ingest, {"spiky": spool, "steady": {"cpu": 40, "ram": 40},
                                                 "ram_only": {"ram": 88}})
            self.assertEqual((status, answer["rejected"]), (200, []))
            by_cpu = fleet(query)[2]["servers"]
            self.assertEqual([row["name"] for row in by_cpu], ["steady", "spiky", "ram_only"])
            status, _, answer = fleet(query, sort="cpu_peak", limit=1)
            self.assertEqual(status, 200, answer)
            self.assertEqual(answer["sort"], "cpu_peak")
            self.assertEqual(answer["servers"][0]["name"], "spiky")
            self.assertTrue(answer["next_cursor"].startswith("cpu_peak.desc."))
            rest = fleet(query, sort="cpu_peak", cursor=answer["next_cursor"])[2]["servers"]
            self.assertEqual([row["name"] for row in rest], ["steady", "ram_only"])
            self.assertEqual({row["name"]: (row["cpu"], row["cpu_peak"], row["ram_peak"]) for row in by_cpu},
                             {"spiky": (12, 97, 31), "steady": (40, 40, 40), "ram_only": (None, None, 88)})
            by_ram_peak = fleet(query, sort="ram_peak")[2]["servers"]
            self.assertEqual([row["name"] for row in by_ram_peak], ["ram_only", "steady", "spiky"])

    def test_backfilled_servers_are_judged_by_their_samples_times(self):
        """No fake clock: every server's history arrives now, stating when it was taken."""
        now = int(time.time())

        def history(first_ago, last_ago, cpu):
            return [{"cpu": cpu(ago), "ram": 30, "time": now - ago * 60} for ago in range(first_ago, last_ago - 1, -1)]

        entries = {
            "hot_1": history(58, 2, lambda ago: 92 + ago % 8),   # 57 minutes at 92-99 %, the last 2 min ago
            "gone_1": history(30, 6, lambda ago: 50),            # stopped 6 minutes ago
            "gone_2": history(50, 40, lambda ago: 50),           # stopped 40 minutes ago
        }
        with appliance() as (_, ingest, query):
            status, answer = post_batch(ingest, entries)
            self.assertEqual((status, answer["rejected"]), (200, []), answer)
            self.assertEqual(post_batch(ingest, {"live_1": {"cpu": 40, "ram": 40}})[0], 200)
            status, _, answer = fleet(query)
            self.assertEqual(status, 200, answer)
            rows = {row["name"]: row for row in answer["servers"]}
            self.assertEqual([row["name"] for row in answer["servers"]], ["hot_1", "gone_1", "gone_2", "live_1"])
            hot = rows["hot_1"]
            self.assertEqual((hot["last_sample"], hot["cpu"], hot["ram"]), (now - 120, 92 + 2 % 8, 30))
            self.assertEqual(hot["latest_minute"], (now - 120) // 60 * 60)
            self.assertEqual((rows["gone_2"]["last_sample"], rows["gone_2"]["cpu"]), (now - 2400, 50))
            self.assertEqual(rows["gone_2"]["latest_minute"], (now - 2400) // 60 * 60)
            self.assertEqual(sum(v is not None for v in hot["last_60_minutes"]["cpu"]), 57)
            stale = fleet(query, stale=300, sort="last_sample", order="asc")[2]
            self.assertEqual([row["name"] for row in stale["servers"]], ["gone_2", "gone_1"])
            self.assertEqual(fleet(query, stale=100)[2]["total"], 3)

    def test_bad_parameters_are_400_with_a_sentence(self):
        with appliance() as (_, _ingest, query):
            for params, text in (("sort=disk", "sort must be"), ("order=up", "order must be"),
                                 ("limit=1001", "limit must be"), ("limit=x", "limit must be"),
                                 ("stale=-1", "stale must be"), ("prefix=-ab", "prefix must be"),
                                 ("cursor=nonsense", "cursor must be"),
                                 ("sort=cpu&sort=ram", "at most once")):
                status, headers, body = http("GET", f"{query.url}/fleet?{params}")
                assert_json_error(self, status, headers, body, 400)
                self.assertIn(text, body.decode(), params)


if __name__ == "__main__":
    unittest.main()
