"""Several appliances behind HAProxy, sharded by server name (README.md, "More
than one host"): deploy/haproxy/generate.py's configuration run by Debian's
HAProxy in front of three (then four) real appliances on loopback, each with its
own ports and segment."""

import contextlib
import json
import os
import tempfile
import time
import unittest

from appliance import get_server, http, shmtool, wait_until
from fleet import Appliance, Balancer

TOKEN = "tok_" + os.urandom(12).hex()
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NAMES = [f"srv_{number}" for number in range(300)]


def sample_of(name):
    """A sample that tells the names apart: cpu is the name's number."""
    return {"cpu": float(name.rsplit("_", 1)[1]), "ram": 50.0}


def post_all(url, names):
    for name in names:
        status = http("POST", f"{url}/server/{name}", json.dumps(sample_of(name)), AUTH)[0]
        if status != 204:
            raise AssertionError(f"POST /server/{name} through the balancer: {status}")


def latest_cpu(balancer, name):
    """(status, the newest cpu value of the last 60 minutes) of a GET through the balancer."""
    status, answer = get_server(balancer, name)
    if status != 200:
        return status, None
    values = [value for value in answer["last_60_minutes"]["cpu"] if value is not None]
    return status, values[-1] if values else None


@contextlib.contextmanager
def appliances(count):
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(Appliance(TOKEN)) for _ in range(count)]


class ShardingTest(unittest.TestCase):
    def owners(self, nodes):
        """{name: index of the appliance whose segment holds it}; fails on a name held twice."""
        owner = {}
        for index, node in enumerate(nodes):
            for name in node.names():
                self.assertNotIn(name, owner, f"{name} is on appliances {owner.get(name)} and {index}")
                owner[name] = index
        return owner

    def test_each_name_lands_on_exactly_one_appliance_and_reads_back(self):
        with appliances(3) as nodes, Balancer(list(zip("abc", ([n] for n in nodes)))) as balancer:
            post_all(balancer.url, NAMES)
            owner = self.owners(nodes)
            self.assertEqual(sorted(owner), sorted(NAMES))
            shares = [list(owner.values()).count(index) for index in range(3)]
            for share in shares:  # about a third each
                self.assertGreater(share, 50, shares)
            for name in reversed(NAMES):  # another order than the POSTs'
                self.assertEqual(latest_cpu(balancer, name), (200, sample_of(name)["cpu"]))
            # Again: the same name reaches the same appliance every time.
            post_all(balancer.url, NAMES[:30])
            self.assertEqual(self.owners(nodes), owner)

    def test_the_token_passes_through_and_is_required(self):
        with appliances(3) as nodes, Balancer(list(zip("abc", ([n] for n in nodes)))) as balancer:
            status, _, body = http("POST", balancer.url + "/server/web_1", json.dumps(sample_of("web_1")))
            self.assertEqual((status, json.loads(body)["error"] != ""), (401, True))
            bad = {"Authorization": "Bearer wrong"}
            self.assertEqual(http("POST", balancer.url + "/server/web_1", '{"cpu": 1, "ram": 1}', bad)[0], 401)
            self.assertEqual(set().union(*(node.names() for node in nodes)), set())

    def test_any_name_in_the_path_reaches_a_worker(self):
        # The balancer hashes the path segment and validates nothing: names
        # of host-name shape reach a worker, which decides whether they are valid.
        with appliances(3) as nodes, Balancer(list(zip("abc", ([n] for n in nodes)))) as balancer:
            for name in ("db-1.example.org", "a" * 253, "x"):
                status, headers, body = http("POST", f"{balancer.url}/server/{name}", '{"cpu": 1, "ram": 1}', AUTH)
                self.assertIn(status, (204, 400), body)
                if status == 400:
                    self.assertIn("name", json.loads(body)["error"])
                status, _, body = http("GET", f"{balancer.url}/server/{name}")
                self.assertIn(status, (200, 400, 404), body)
                self.assertNotIn("node", json.loads(body).get("error", ""))

    def test_requests_that_are_not_per_server(self):
        with appliances(3) as nodes, Balancer(list(zip("abc", ([n] for n in nodes)))) as balancer:
            post_all(balancer.url, NAMES[:60])
            for index, node in enumerate(nodes):
                status, _, body = http("GET", f"{balancer.url}/node/{'abc'[index]}/servers?limit=1000")
                self.assertEqual(status, 200)
                listed = {entry["name"] for entry in json.loads(body)["servers"]}
                self.assertEqual(listed, node.names())
                self.assertEqual(http("GET", f"{balancer.url}/node/{'abc'[index]}/metrics")[0], 200)
            # Without a prefix: the first node that is up (a).
            status, _, body = http("GET", balancer.url + "/servers?limit=1000")
            self.assertEqual({entry["name"] for entry in json.loads(body)["servers"]}, nodes[0].names())
            self.assertEqual(http("GET", balancer.url + "/")[0], 200)
            # A batch cannot be sharded: refused whole, nothing recorded.
            before = [node.names() for node in nodes]
            for path in ("/servers", "/node/a/servers", "/node/a/server/new_one"):
                status, headers, body = http("POST", balancer.url + path, json.dumps({"new_one": sample_of("x_1")}), AUTH)
                self.assertEqual(status, 404, path)
                self.assertIn("/server/<name>", json.loads(body)["error"])
            self.assertEqual([node.names() for node in nodes], before)

    def test_a_stopped_appliance_costs_only_its_own_names_and_they_fail_fast(self):
        with appliances(3) as nodes, Balancer(list(zip("abc", ([n] for n in nodes)))) as balancer:
            post_all(balancer.url, NAMES)
            owner = self.owners(nodes)
            lost = [name for name in NAMES if owner[name] == 1]
            kept = [name for name in NAMES if owner[name] != 1]
            nodes[1].stop_workers()
            balancer.wait_until_down("node_b_ingest/b", "node_b_query/b")
            for name in kept:
                self.assertEqual(latest_cpu(balancer, name), (200, sample_of(name)["cpu"]))
            for name in lost:
                for method, body, headers in (("GET", None, {}), ("POST", json.dumps(sample_of(name)), AUTH)):
                    started = time.monotonic()
                    status, _, answer = http(method, f"{balancer.url}/server/{name}", body, headers)
                    elapsed = time.monotonic() - started
                    self.assertEqual(status, 503)
                    self.assertIn("down", json.loads(answer)["error"])
                    self.assertLess(elapsed, 0.5, f"{method} /server/{name} took {elapsed:.3f} s to fail")
            # The lost shard's names never moved to another appliance.
            for index in (0, 2):
                self.assertEqual(nodes[index].names(), {name for name in kept if owner[name] == index})
            self.assertEqual(http("GET", balancer.url + "/node/b/servers")[0], 503)

    def test_a_fourth_appliance_takes_about_a_quarter_of_the_names(self):
        with appliances(4) as nodes:
            with Balancer(list(zip("abc", ([n] for n in nodes[:3])))) as three:
                post_all(three.url, NAMES)
            before = [node.names() for node in nodes]
            self.assertEqual(before[3], set())
            with Balancer(list(zip("abcd", ([n] for n in nodes)))) as four:
                moved = {name for name in NAMES if latest_cpu(four, name)[0] == 404}
                for name in set(NAMES) - moved:
                    self.assertEqual(latest_cpu(four, name), (200, sample_of(name)["cpu"]))
                post_all(four.url, NAMES)
            after = [node.names() for node in nodes]
        print(f"adding a fourth appliance moved {len(moved)} of {len(NAMES)} names")
        self.assertTrue(0.15 * len(NAMES) < len(moved) < 0.35 * len(NAMES), len(moved))
        # Every moved name went to the new appliance, and only those: the old
        # three received no name they did not hold.
        self.assertEqual(after[3], moved)
        self.assertEqual(after[:3], before[:3])

class ReplicationTest(unittest.TestCase):
    def test_pairs_hold_the_same_names_and_reads_fall_back_to_the_secondary(self):
        with appliances(6) as nodes:
            pairs = [("a", nodes[0:2]), ("b", nodes[2:4]), ("c", nodes[4:6])]
            with Balancer(pairs, copy=True) as balancer:
                for url in (balancer.url, balancer.copy_url):  # the agent posts to both
                    post_all(url, NAMES)
                held = [node.names() for node in nodes]
                for index in range(0, 6, 2):
                    self.assertEqual(held[index], held[index + 1])
                self.assertEqual(sorted(held[0] | held[2] | held[4]), sorted(NAMES))
                self.assertFalse(held[0] & held[2] or held[2] & held[4] or held[0] & held[4])
                lost = sorted(held[2])
                nodes[2].stop_workers()  # b's primary
                balancer.wait_until_down("node_b_ingest/b", "node_b_query/b")
                for name in NAMES:
                    self.assertEqual(latest_cpu(balancer, name), (200, sample_of(name)["cpu"]))
                # Writes through the copy port still reach the secondary.
                self.assertEqual(http("POST", f"{balancer.copy_url}/server/{lost[0]}",
                                      json.dumps({"cpu": 99.0, "ram": 1.0}), AUTH)[0], 204)
                self.assertEqual(latest_cpu(balancer, lost[0])[0], 200)

    def test_a_returning_primary_is_backfilled_from_its_secondary_with_dump_and_restore(self):
        # README.md, "More than one host": the documented procedure, step by step.
        with appliances(2) as (primary, secondary), tempfile.TemporaryDirectory() as scratch:
            with Balancer([("a", [primary, secondary])], copy=True) as balancer:
                for url in (balancer.url, balancer.copy_url):
                    post_all(url, NAMES[:20])
                primary.stop_workers()
                balancer.wait_until_down("node_a_ingest/a", "node_a_query/a")
                for url, expected in ((balancer.url, 503), (balancer.copy_url, 204)):
                    self.assertEqual(http("POST", f"{url}/server/late", json.dumps(sample_of("late_7")),
                                          AUTH)[0], expected)
                dump = os.path.join(scratch, "pair.dump")
                shmtool("dump", "--segment", secondary.segment.name, dump)
                shmtool("restore", "--segment", primary.segment.name, "--force", dump)
                primary.start_workers()
                self.assertEqual(primary.names(), set(NAMES[:20]) | {"late"})
                # Back in service: reads come from the primary again, with the gap filled.
                secondary.stop_workers()
                wait_until(lambda: latest_cpu(balancer, "late") == (200, 7.0), 5,
                           "reads reach the restored primary")
                for name in NAMES[:20]:
                    self.assertEqual(latest_cpu(balancer, name), (200, sample_of(name)["cpu"]))


if __name__ == "__main__":
    unittest.main()
