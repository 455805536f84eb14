"""The fleet view (the landing page) in headless Chromium, driven by real clicks:
2,000 seeded servers of known loads plus one silent for 10 minutes, and servers
seeded only by "time" backfill: a hot one whose latest minute is the one before
NOW, three stopped 6 to 40 minutes before NOW, and host names. The first row is
the hottest server (the backfilled one), clicking a column header sorts by it,
the silent servers are marked, typing a host name prefix filters, clicking a row
opens that server's view and its link leads back; the real alert process's
firing alert (HOT above 90 % for 5 minutes) is listed above the fleet and its
row marked. The
fleet screenshot lands in $SERVERTRACK_BUILD_DIR/tests/dashboard/fleet-view.png
(docs/fleet-view.png in the README is a copy of it).

Expected names are computed from the seeding (seeded_appliance.py), not read back
from the API the page uses.
"""
import math
import os
import unittest

from chromium_session import BrowserPage
from headless_chromium import chromium_path
from seeded_appliance import NOW, SeededAppliance, backfill, server_names

SERVER_COUNT = 2000
SILENT = "quiet_1"
HOT = "hot-backfilled.example.com"  # 99.5 % for the 58 minutes before NOW's: hotter than any seeded at NOW
STOPPED = {"stopped-1.example.com": 6, "stopped-2.example.com": 20, "stopped-3.example.com": 40}  # minutes
HOSTS = ["db-2.east.example.com", "db-2.west.example.com", "db-20.example.com"]
BACKFILLED = [HOT, *STOPPED, *HOSTS]
ALERT_RULES = "[cpu-high]\nseverity = critical\nprefix = hot\nwhen = cpu above 90 for 5 minutes\n"
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
            # Backfill: the ingest worker's clock at NOW, every sample stating its time.
            post(NOW, {HOT: backfill(range(1, 59), lambda ago: 99.5, lambda ago: 40),
                       **{name: backfill(range(stopped + 30, stopped - 1, -1), lambda ago: 50, lambda ago: 50)
                          for name, stopped in STOPPED.items()},
                       **{name: backfill(range(10, -1, -1), lambda ago: 20, lambda ago: 20) for name in HOSTS}})

        cls.api = SeededAppliance(SERVER_COUNT, history, alert_rules=ALERT_RULES)
        cls.all_names = names + [SILENT] + BACKFILLED

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

    def rows(self, page, attribute="name"):
        return page.evaluate(f"[...document.querySelectorAll('#fleet-rows tr[data-name]')].map(r => r.dataset.{attribute})")

    def test_the_backfilled_hot_server_is_first_and_the_page_is_full(self):
        page = self.open_fleet()
        self.assertEqual(page.evaluate(FIRST_ROW), HOT)
        # Then the hottest seeded at NOW (server i has cpu i % 100; ties sort by name).
        hottest_at_now = min(name for i, name in enumerate(server_names(SERVER_COUNT)) if i % 100 == 99)
        self.assertEqual(self.rows(page)[1], hottest_at_now)
        self.assertEqual(len(self.rows(page)), 50)
        self.assertIn(f"{len(self.all_names):,} servers", page.evaluate("document.querySelector('#fleet-count').textContent"))
        page.screenshot(os.path.join(self.artifacts, "fleet-view.png"))

    def test_firing_alerts_are_listed_first_and_their_servers_marked(self):
        page = self.open_fleet()
        listed = page.wait_for("[...document.querySelectorAll('#alerts li')]"
                               ".map(li => li.dataset.alertServer + ' ' + li.dataset.alertRule).join()")
        self.assertEqual(listed, f"{HOT} cpu-high")
        self.assertFalse(page.evaluate("document.querySelector('#alerts-card').hidden"))
        marked = page.evaluate("[...document.querySelectorAll('#fleet-rows tr[data-alert=\"1\"]')].map(r => r.dataset.name)")
        self.assertEqual(marked, [HOT])
        self.assertEqual(page.evaluate("document.querySelector('#fleet-rows tr[data-alert=\"1\"] td.name .badge')"
                                       ".textContent"), "alert")

    def test_clicking_a_column_sorts_by_it(self):
        page = self.open_fleet()
        self.assertEqual(self.sort_by(page, "name", "asc"), min(self.all_names))
        self.assertEqual(self.sort_by(page, "name", "desc"), max(self.all_names))
        # The newest hour's peak: HOT's 99.5 in the hour before NOW's; servers seeded at
        # NOW have one sample in NOW's hour, i % 100 (ties by name).
        self.assertEqual(self.sort_by(page, "cpu_peak", "desc"), HOT)
        coolest = min(name for i, name in enumerate(server_names(SERVER_COUNT)) if i % 100 == 0)
        self.assertEqual(self.sort_by(page, "cpu_peak", "asc"), coolest)

    def test_silent_servers_are_marked_by_their_samples_times(self):
        page = self.open_fleet()
        self.sort_by(page, "last_sample", "desc")
        self.assertEqual(self.sort_by(page, "last_sample", "asc"), "stopped-3.example.com")
        # Longest silent first: 40, 20, 10 (the fake clock's) and 6 minutes; then none is silent.
        expected = ["stopped-3.example.com", "stopped-2.example.com", SILENT, "stopped-1.example.com"]
        self.assertEqual(self.rows(page)[:4], expected)
        self.assertEqual(self.rows(page, "silent")[:5], ["1", "1", "1", "1", "0"])
        badges = page.evaluate("[...document.querySelectorAll('#fleet-rows tr[data-silent=\"1\"] .badge')]"
                               ".map(b => b.textContent)")
        self.assertEqual(badges, ["silent"] * 4)
        ages = page.evaluate("[...document.querySelectorAll('#fleet-rows tr[data-name] td.age')].slice(0, 2)"
                             ".map(td => td.firstChild.textContent)")
        self.assertEqual(ages, ["41 min ago", "21 min ago"])  # 40 and 20 minutes before NOW's minute; NOW is :30

    def test_the_filter_takes_host_names(self):
        page = self.open_fleet()
        page.type_into("#fleet-prefix", "db-2.")
        page.wait_for("document.querySelector('#fleet-table').dataset.fleetState === 'ok'"
                      " && document.querySelectorAll('#fleet-rows tr[data-name]').length === 2")
        self.assertEqual(sorted(self.rows(page)), ["db-2.east.example.com", "db-2.west.example.com"])
        self.assertTrue(page.evaluate("document.querySelector('#fleet-message').hidden"))
        self.assertIn("2 servers starting with “db-2.”", page.evaluate("document.querySelector('#fleet-count').textContent"))
        # A prefix no name may start with is refused in the server's own words (shm/name.h's rule).
        page.type_into("#fleet-prefix", "-")
        message = page.wait_for("(() => { const m = document.querySelector('#fleet-message');"
                                " return !m.hidden && m.textContent; })()")
        self.assertIn("prefix must be the start of a server name: 1 to 253 characters", message)

    def test_clicking_a_row_opens_that_server_and_the_link_leads_back(self):
        page = self.open_fleet()
        page.click(f"#fleet-rows tr[data-name='{HOT}'] td.spark")
        page.wait_for("document.body.dataset.view === 'server' && document.body.dataset.state === 'ok'")
        self.assertEqual(page.evaluate("location.hash"), f"#server={HOT}")
        self.assertEqual(page.evaluate("document.querySelectorAll('circle[data-series=cpu-minute]').length"), 58)
        page.click("#server-view a.back")
        page.wait_for(f"document.body.dataset.view === 'fleet' && {FIRST_ROW} === '{HOT}'")


if __name__ == "__main__":
    unittest.main()
