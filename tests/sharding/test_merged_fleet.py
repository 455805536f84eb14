"""The sharded fleet as one (README.md, "More than one host"): three real
appliances, each query worker given --peers naming all three, behind the
HAProxy configuration of deploy/haproxy/generate.py. Through the balancer,
/fleet and /servers list every node's servers sorted and paged as one; a
stopped node is named in the JSON and on the landing page (headless Chromium)
while the others stay listed; /node/<node>/ shows that node alone, page
included. A peer that accepts and never answers costs the merged answer
about its read timeout, and the worker's other requests go on meanwhile.

Expected rows are computed from what was posted and from each appliance's own
segment (shmtool list), not read back from the merged answer."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

from appliance import WORKER_BINARIES, TestSegment, Worker, build_path, free_port, http
from fleet import Appliance, Balancer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dashboard"))
from chromium_session import BrowserPage  # noqa: E402
from headless_chromium import chromium_path  # noqa: E402

TOKEN = "tok_" + os.urandom(12).hex()
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NAMES = [f"srv_{number}" for number in range(60)]
NODES = "abc"


def cpu_of(name):
    """Many ties across nodes: 12 values for 60 names."""
    return float(int(name.rsplit("_", 1)[1]) % 12 * 5)


def get(url):
    status, _, body = http("GET", url)
    return status, json.loads(body) if body else None


def walk(url, limit, key, param):
    """Every row of a listing, page after page; the number of pages."""
    rows, cursor, pages = [], None, 0
    while True:
        separator = "&" if "?" in url else "?"
        page_url = f"{url}{separator}limit={limit}" + (f"&{param}={urllib.parse.quote(cursor)}" if cursor else "")
        status, page = get(page_url)
        if status != 200:
            raise AssertionError(f"GET {page_url}: {status} {page}")
        rows += page["servers"]
        pages += 1
        cursor = page[key]
        if cursor is None or pages > 100:
            return rows, pages


class MergedFleetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        try:
            cls.nodes = [cls.stack.enter_context(Appliance(TOKEN)) for _ in NODES]
            named = list(zip(NODES, cls.nodes))
            for node in cls.nodes:
                node.give_peers(named)
            cls.balancer = cls.stack.enter_context(Balancer([(name, [node]) for name, node in named]))
            for name in NAMES:
                status = http("POST", f"{cls.balancer.url}/server/{name}",
                              json.dumps({"cpu": cpu_of(name), "ram": 50.0}), AUTH)[0]
                if status != 204:
                    raise AssertionError(f"POST /server/{name} through the balancer: {status}")
            cls.owner = {name: node_name for node_name, node in named for name in node.names()}
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def expected_by_cpu(self, nodes=NODES):
        """(node, name) hottest first, ties by name, then by node."""
        names = [name for name in NAMES if self.owner[name] in nodes]
        return [(self.owner[name], name) for name in sorted(names, key=lambda name: (-cpu_of(name), name))]

    def test_fleet_lists_every_node_sorted_and_paged_as_one(self):
        self.assertEqual(sorted(self.owner), sorted(NAMES))
        self.assertEqual(len(set(self.owner.values())), 3, "every node holds some of the names")
        status, whole = get(self.balancer.url + "/fleet?limit=1000")
        self.assertEqual(status, 200)
        self.assertEqual((whole["nodes"], whole["unreachable"], whole["total"]), (list(NODES), [], len(NAMES)))
        self.assertEqual([(row["node"], row["name"]) for row in whole["servers"]], self.expected_by_cpu())
        self.assertEqual([row["cpu"] for row in whole["servers"][:3]], [55, 55, 55])
        rows, pages = walk(self.balancer.url + "/fleet", 7, "next_cursor", "cursor")
        self.assertEqual([(row["node"], row["name"]) for row in rows], self.expected_by_cpu())
        self.assertEqual(pages, 9)  # 60 rows, 7 a page
        rows, _ = walk(self.balancer.url + "/fleet?sort=name&order=desc", 11, "next_cursor", "cursor")
        self.assertEqual([row["name"] for row in rows], sorted(NAMES, reverse=True))

    def test_servers_list_every_node_by_name_and_paged(self):
        rows, pages = walk(self.balancer.url + "/servers", 9, "next_after", "after")
        self.assertEqual([(row["name"], row["node"]) for row in rows],
                         [(name, self.owner[name]) for name in sorted(NAMES)])
        self.assertEqual(pages, 7)

    def test_a_node_path_shows_that_node_alone(self):
        for node in NODES:
            status, page = get(f"{self.balancer.url}/node/{node}/fleet?limit=1000")
            self.assertEqual(status, 200)
            self.assertNotIn("nodes", list(page))  # its own view, not a merged one
            self.assertEqual([row["name"] for row in page["servers"]],
                             [name for _, name in self.expected_by_cpu(node)])
            status, listing = get(f"{self.balancer.url}/node/{node}/servers?limit=1000")
            self.assertEqual([row["name"] for row in listing["servers"]],
                             sorted(name for name in NAMES if self.owner[name] == node))
        # A client cannot ask the merged route for one node's view: the balancer drops the header.
        status, _, body = http("GET", self.balancer.url + "/fleet?limit=1000", None, {"X-ServerTrack-Scope": "node"})
        self.assertEqual(len(json.loads(body)["servers"]), len(NAMES))
        status, headers, _ = http("GET", self.balancer.url + "/node/b")
        self.assertEqual((status, headers.get("location")), (301, "/node/b/"))

    @unittest.skipUnless(chromium_path(), "needs Debian's chromium")
    def test_the_node_page_shows_that_nodes_fleet(self):
        page = BrowserPage(self.balancer.url + "/node/b/")
        self.addCleanup(page.close)
        page.wait_for("document.querySelector('#fleet-table')?.dataset.fleetState === 'ok'")
        shown = page.evaluate("[...document.querySelectorAll('#fleet-rows tr[data-name]')].map(r => r.dataset.name)")
        self.assertEqual(shown, [name for _, name in self.expected_by_cpu("b")][:len(shown)])
        self.assertEqual(len(shown), len(self.expected_by_cpu("b")))  # fewer than a page
        self.assertTrue(page.evaluate("document.querySelector('#fleet-unreachable').hidden"))

    def test_zz_a_stopped_node_is_named_and_the_others_still_listed(self):
        # Named zz_: runs last, since it stops node b (and starts it again after).
        self.nodes[1].stop_workers()
        self.addCleanup(self.nodes[1].start_workers)
        self.balancer.wait_until_down("node_b_query/b")
        status, whole = get(self.balancer.url + "/fleet?limit=1000")
        self.assertEqual(status, 200)
        self.assertEqual(whole["unreachable"], ["b"])
        self.assertIn("b", whole["node_errors"])
        self.assertEqual([(row["node"], row["name"]) for row in whole["servers"]], self.expected_by_cpu("ac"))
        self.assertEqual(whole["total"], len(self.expected_by_cpu("ac")))
        rows, _ = walk(self.balancer.url + "/fleet", 8, "next_cursor", "cursor")
        self.assertEqual([(row["node"], row["name"]) for row in rows], self.expected_by_cpu("ac"))
        status, listing = get(self.balancer.url + "/servers?limit=1000")
        self.assertEqual(listing["unreachable"], ["b"])
        if not chromium_path():
            return
        page = BrowserPage(self.balancer.url + "/")
        self.addCleanup(page.close)
        page.wait_for("document.querySelector('#fleet-table')?.dataset.fleetState === 'ok'")
        notice = page.evaluate("document.querySelector('#fleet-unreachable').hidden ? '' : "
                               "document.querySelector('#fleet-unreachable').textContent")
        self.assertIn("Node b does not answer", notice)
        self.assertIn("on 2 of 3 nodes", page.evaluate("document.querySelector('#fleet-count').textContent"))
        first = page.evaluate("document.querySelector('#fleet-rows tr[data-name]').dataset.name")
        self.assertEqual(first, self.expected_by_cpu("ac")[0][1])


class PeerBoundsTest(unittest.TestCase):
    def test_a_silent_peer_is_named_within_its_timeout_and_blocks_nothing_else(self):
        silent = socket.socket()
        self.addCleanup(silent.close)
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # connections complete in the backlog; nothing is ever read or answered
        port = free_port()
        peers = f"own=127.0.0.1:{port},quiet=127.0.0.1:{silent.getsockname()[1]}"
        with TestSegment(64) as segment, \
                Worker("query", segment, port=port, args=("--peers", peers, "--threads", "1")) as query:
            answer = {}

            def merged():
                started = time.monotonic()
                answer["status"], _, answer["body"] = http("GET", query.url + "/fleet", timeout=10)
                answer["done"] = time.monotonic()
                answer["seconds"] = answer["done"] - started

            thread = threading.Thread(target=merged)
            thread.start()
            time.sleep(0.3)
            self.assertEqual(http("GET", query.url + "/healthz", timeout=5)[0], 200)
            healthz_done = time.monotonic()
            thread.join(15)
            page = json.loads(answer["body"])
            self.assertEqual((answer["status"], page["nodes"], page["unreachable"]), (200, ["own", "quiet"], ["quiet"]))
            self.assertIn("quiet", page["node_errors"])
            self.assertLess(answer["seconds"], 4.5, "1 s to connect and 2 s per read, at most")
            self.assertGreater(answer["seconds"], 1.5, "it waited for the read timeout")
            self.assertLess(healthz_done, answer["done"], "the loop was handed to a spare thread meanwhile")

    def test_a_wrong_peers_option_is_refused_at_start(self):
        with TestSegment(64) as segment:
            for bad in ("a=host", "a=h:1,a=h:2", "A=h:1", "a=h:99999"):
                done = subprocess.run([build_path(WORKER_BINARIES["query"]), "--port", "0", "--segment",
                                       segment.name, "--peers", bad],
                                      capture_output=True, text=True, timeout=10)
                self.assertEqual(done.returncode, 2, bad)
                self.assertIn("--peers", done.stderr + done.stdout, bad)


if __name__ == "__main__":
    unittest.main()
