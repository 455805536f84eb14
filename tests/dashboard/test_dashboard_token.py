"""The dashboard in headless Chromium against workers with a --tokens-file:
without a token it asks for one (no empty table); a read token entered once is
kept in the tab's sessionStorage and sent with every request, through reloads;
a read token limited to db- lists only db- servers; a server outside its
prefix shows a 403 message; a wrong token is said to be refused."""
import json
import os
import tempfile
import unittest

from appliance import appliance, http
from chromium_session import BrowserPage
from headless_chromium import chromium_path

ADMIN = os.urandom(18).hex()
DB_READER = os.urandom(18).hex()
FLEET_STATE = "document.querySelector('#fleet-table')?.dataset.fleetState"
ROW_NAMES = "[...document.querySelectorAll('#fleet-rows tr[data-name]')].map(r => r.dataset.name).join(',')"


class DashboardTokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not chromium_path():
            raise RuntimeError("chromium not found on PATH: install the Debian package `chromium`")
        cls.folder = tempfile.TemporaryDirectory()
        tokens = os.path.join(cls.folder.name, "tokens")
        with open(tokens, "w", encoding="ascii") as f:
            f.write(f"ops {ADMIN} read,write\ndb-team {DB_READER} read db-\n")
        cls.context = appliance(worker_args=("--tokens-file", tokens))
        _, cls.ingest, cls.query = cls.context.__enter__()
        for name in ("web-01", "web-02", "db-1", "db-2"):
            status = http("POST", f"{cls.ingest.url}/server/{name}", json.dumps({"cpu": 5, "ram": 6}),
                          {"Authorization": f"Bearer {ADMIN}"})[0]
            assert status == 204, status

    @classmethod
    def tearDownClass(cls):
        cls.context.__exit__(None, None, None)
        cls.folder.cleanup()

    def open(self, path="/"):
        page = BrowserPage(self.query.url + path)
        self.addCleanup(page.close)
        return page

    def enter_token(self, page, token):
        page.evaluate(f"document.getElementById('access-token').value = {json.dumps(token)}")
        page.click("#access-form button")

    def test_without_a_token_the_page_asks_for_one_instead_of_an_empty_table(self):
        page = self.open()
        page.wait_for("document.body?.dataset.access === 'needs-token'")
        self.assertFalse(page.evaluate("document.getElementById('access').hidden"))
        self.assertIn("read token", page.evaluate("document.getElementById('access-text').textContent"))
        page.wait_for(f"{FLEET_STATE} === 'error'")
        self.assertIn("401", page.evaluate("document.getElementById('fleet-message').textContent"))
        self.assertEqual(page.evaluate(ROW_NAMES), "")

    def test_a_read_token_is_asked_once_kept_for_the_tab_and_limits_the_fleet(self):
        page = self.open()
        page.wait_for("document.body?.dataset.access === 'needs-token'")
        self.enter_token(page, DB_READER)
        page.wait_for(f"{FLEET_STATE} === 'ok'")
        self.assertEqual(page.evaluate(ROW_NAMES), "db-1,db-2")
        self.assertEqual(page.evaluate("sessionStorage.getItem('servertrack.token')"), DB_READER)
        self.assertTrue(page.evaluate("document.getElementById('access').hidden"))
        # A reload in the same tab sends the kept token: nothing is asked again.
        page.evaluate("window.beforeReload = true; location.hash = '#server=db-1'; location.reload()")
        page.wait_for("!window.beforeReload && document.body?.dataset.state === 'ok'")
        self.assertIsNone(page.evaluate("document.body.dataset.access"))
        self.assertTrue(page.evaluate("document.getElementById('access').hidden"))
        # A server outside the token's prefix: the 403 is said, not an empty chart.
        page.evaluate("location.hash = '#server=web-01'")
        page.wait_for("document.body.dataset.access === 'forbidden'")
        self.assertIn("403", page.evaluate("document.getElementById('access-text').textContent"))
        self.assertFalse(page.evaluate("document.getElementById('access').hidden"))

    def test_a_wrong_token_is_said_to_be_refused(self):
        page = self.open()
        page.wait_for("document.body?.dataset.access === 'needs-token'")
        self.enter_token(page, "not-" + DB_READER)
        page.wait_for("document.getElementById('access-text').textContent.includes('was refused')")
        self.assertEqual(page.evaluate("document.body.dataset.access"), "needs-token")
        self.assertEqual(page.evaluate(ROW_NAMES), "")


if __name__ == "__main__":
    unittest.main()
