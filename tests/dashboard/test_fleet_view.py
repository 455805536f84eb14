"""The fleet view (the landing page) in headless Chromium, driven by real clicks:
2,000 seeded servers of known loads plus one silent for 10 minutes. The first row
is the hottest server, clicking a column header sorts by it, the silent server is
marked, clicking a row opens that server's view and its link leads back. The
fleet screenshot lands in $SERVERTRACK_BUILD_DIR/tests/dashboard/fleet-view.png
(docs/fleet-view.png in the README is a copy of it).

Expected names are computed from the seeding (seeded_appliance.py), not read back
from the API the page uses.
"""
import json
import math
import os
import unittest

from chromium_session import BrowserPage
from headless_chromium import chromium_path
from seeded_appliance import NOW, SeededAppliance, server_names

SERVER_COUNT = 2000
SILENT = "quiet_1"
FIRST_ROW = "document.querySelector('#fleet-rows tr[data-name]')?.dataset.name"


class FleetViewTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not chromium_path():
            raise RuntimeError("chromium not found on PATH: install the Debian package `chromium`")
        cls.artifacts = os.path.join(os.environ.get("SERVERTRACK_BUILD_DIR", "."), "tests", "dashboard")
        os.makedirs(cls.artifacts, exist_ok=True)
        names = server_names(SERVER_COUNT)

        def history(post):
            # 30 earlier minutes for the sparklines; they leave the current minute alone.
            for minutes_ago in range(30, 0, -1):
                for first in range(0, SERVER_COUNT, 1000):
                    post(NOW - minutes_ago * 60, {
                        name: {"cpu": round((i % 100) * (0.55 + 0.45 * math.sin(minutes_ago / 4 + i)), 1),
                               "ram": round((i * 7) % 100 * (0.8 + 0.2 * math.cos(minutes_ago / 6)), 1)}
                        for i, name in enumerate(names) if first <= i < first + 1000})
            post(NOW - 600, {SILENT: {"cpu": 1, "ram": 2}})

        cls.api = SeededAppliance(SERVER_COUNT, history)
        # The seeding posts server i with cpu i % 100 at NOW; ties sort by name.
        cls.hottest = min(name for i, name in enumerate(names) if i % 100 == 99)
        cls.first_by_name = min(names + [SILENT])

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def open_fleet(self):
        page = BrowserPage(self.api.url + "/")
        self.addCleanup(page.close)
        page.wait_for("document.querySelector('#fleet-table')?.dataset.fleetState === 'ok'")
        self.assertEqual(page.evaluate("document.body.dataset.view"), "fleet")
        return page

    def sort_by(self, page, column, order):
        page.click(f"#fleet-table th[data-sort={column}]")
        return page.wait_for(
            f"(() => {{ const t = document.querySelector('#fleet-table');"
            f" return t.dataset.sort === '{column}' && t.dataset.order === '{order}'"
            f" && t.dataset.fleetState === 'ok' && {FIRST_ROW}; }})()")

    def test_hottest_server_is_first_and_the_page_is_full(self):
        page = self.open_fleet()
        self.assertEqual(page.evaluate(FIRST_ROW), self.hottest)
        self.assertEqual(page.evaluate("document.querySelectorAll('#fleet-rows tr[data-name]').length"), 50)
        self.assertIn("2,001 servers", page.evaluate("document.querySelector('#fleet-count').textContent"))
        page.screenshot(os.path.join(self.artifacts, "fleet-view.png"))

    def test_clicking_a_column_sorts_by_it(self):
        page = self.open_fleet()
        self.assertEqual(self.sort_by(page, "name", "asc"), self.first_by_name)
        self.assertEqual(self.sort_by(page, "name", "desc"), max(server_names(SERVER_COUNT) + [SILENT]))
        # Every server's newest hour holds its one sample at NOW (the history is in the hour before).
        self.assertEqual(self.sort_by(page, "cpu_peak", "desc"), self.hottest)
        coolest = min(name for i, name in enumerate(server_names(SERVER_COUNT)) if i % 100 == 0)
        self.assertEqual(self.sort_by(page, "cpu_peak", "asc"), coolest)

    def test_silent_server_is_marked(self):
        page = self.open_fleet()
        self.sort_by(page, "last_sample", "desc")
        self.assertEqual(self.sort_by(page, "last_sample", "asc"), SILENT)
        row = json.loads(page.evaluate(
            "JSON.stringify((() => { const r = document.querySelector('#fleet-rows tr[data-name]');"
            " return [r.dataset.silent, r.querySelector('.badge')?.textContent,"
            " document.querySelectorAll('#fleet-rows tr[data-silent=\"1\"]').length]; })())"))
        self.assertEqual(row, ["1", "silent", 1])

    def test_clicking_a_row_opens_that_server_and_the_link_leads_back(self):
        page = self.open_fleet()
        page.click(f"#fleet-rows tr[data-name={self.hottest}] td.spark")
        page.wait_for("document.body.dataset.view === 'server' && document.body.dataset.state === 'ok'")
        self.assertEqual(page.evaluate("location.hash"), f"#server={self.hottest}")
        self.assertEqual(page.evaluate("document.querySelectorAll('circle[data-series=cpu-minute]').length"), 31)
        page.click("#server-view a.back")
        page.wait_for(f"document.body.dataset.view === 'fleet' && {FIRST_ROW} === '{self.hottest}'")


if __name__ == "__main__":
    unittest.main()
