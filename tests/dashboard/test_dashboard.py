"""The dashboard page in headless Chromium: it draws one point per bucket with data,
breaks its lines at empty buckets, draws each bucket's peak band from the mean up to
the peak, shows the 30-day window, reports unknown and invalid names, and keeps the
completion list short with 1,000 servers. Screenshots land in
$SERVERTRACK_BUILD_DIR/tests/dashboard/ as test artifacts.

The expected figures are read from the same API the page reads (GET /server/<name>?counts=1&peaks=1,
GET /servers), so the assertions hold for any data source. The source is the real
appliance (seeded_appliance.py: real ingest and query workers, data posted through the API).
"""
import json
import os
import unittest
import urllib.error
import urllib.request
from html.parser import HTMLParser

from appliance import http
from headless_chromium import chromium_path, render_dom, screenshot
from seeded_appliance import NOW, SeededAppliance

SERVER_COUNT = 1000
SERIES = [(window, key, f"{key}-{suffix}")
          for window, suffix in (("last_60_minutes", "minute"), ("last_24_hours", "hour"), ("last_30_days", "day"))
          for key in ("cpu", "ram")]


def start_query_api(server_count):
    """A running query API with `server_count` servers; has .url and .stop()."""
    return SeededAppliance(server_count)


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


class RenderedPage(HTMLParser):
    """The parts of a --dump-dom the tests look at: every element's attributes, the message text."""

    def __init__(self, dom):
        super().__init__()
        self.elements = []
        self.message = ""
        self._in_message = False
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        self._in_message = attrs.get("id") == "message"

    def handle_endtag(self, tag):
        self._in_message = False

    def handle_data(self, data):
        if self._in_message:
            self.message += data

    def state(self):
        return next(attrs["data-state"] for tag, attrs in self.elements if tag == "body")

    def points(self, series):
        return [int(a["data-index"]) for t, a in self.elements if t == "circle" and a.get("data-series") == series]

    def line(self, series):
        return next(a["d"] for t, a in self.elements if t == "path" and a.get("data-series") == series)

    def heights(self, series):
        """{bucket index: (top y, bottom y)} of the peak band's rects of `series`."""
        return {int(a["data-index"]): (float(a["y"]), float(a["y"]) + float(a["height"]))
                for t, a in self.elements if t == "rect" and a.get("data-band") == series}

    def centres(self, series):
        """{bucket index: y} of the points of `series`."""
        return {int(a["data-index"]): float(a["cy"])
                for t, a in self.elements if t == "circle" and a.get("data-series") == series}

    def options(self):
        return [a["data-name"] for t, a in self.elements if t == "li" and a.get("role") == "option"]


def runs_of_two_or_more(values):
    runs, length = 0, 0
    for value in values + [None]:
        if value is None:
            runs += length >= 2
            length = 0
        else:
            length += 1
    return runs


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not chromium_path():
            raise RuntimeError("chromium not found on PATH: install the Debian package `chromium`")
        cls.artifacts = os.path.join(os.environ.get("SERVERTRACK_BUILD_DIR", "."), "tests", "dashboard")
        os.makedirs(cls.artifacts, exist_ok=True)
        cls.api = start_query_api(SERVER_COUNT)

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()

    def render(self, fragment):
        return RenderedPage(render_dom(self.api.url + "/" + fragment))

    def server_view(self, name):
        """The API's answer for `name` (counts and peaks) and the page's view of it."""
        status, data = get_json(self.api.url + f"/server/{name}?counts=1&peaks=1")
        self.assertEqual(status, 200)
        page = self.render("#server=" + name)
        self.assertEqual(page.state(), "ok")
        return data, page

    def test_charts_draw_one_point_per_bucket_with_data_and_break_at_empty_ones(self):
        data, page = self.server_view("web_7")
        for window, key, series in SERIES:
            with self.subTest(series=series):
                values = data[window][key]
                self.assertIn(None, values, "the data must have empty buckets for this test to mean anything")
                expected = [i for i, v in enumerate(values) if v is not None]
                self.assertEqual(page.points(series), expected)
                self.assertEqual(page.line(series).count("M"), runs_of_two_or_more(values))
        screenshot(self.api.url + "/#server=web_7", os.path.join(self.artifacts, "dashboard.png"))

    def test_peak_band_runs_from_each_mean_up_to_its_peak(self):
        data, page = self.server_view("web_7")
        for window, key, series in SERIES:
            with self.subTest(series=series):
                means, peaks = data[window][key], data[window][key + "_max"]
                bands, centres = page.heights(series), page.centres(series)
                self.assertEqual(sorted(bands), [i for i, v in enumerate(peaks) if v is not None])
                self.assertTrue(any(peak > mean + 5 for mean, peak in zip(means, peaks) if mean is not None),
                                "the data must have a peak above its mean for this test to mean anything")
                # Pixels per percent, from the points of the lowest and highest means.
                low = min(centres, key=lambda i: means[i])
                high = max(centres, key=lambda i: means[i])
                scale = (centres[low] - centres[high]) / (means[high] - means[low])
                for i, (top, bottom) in bands.items():
                    self.assertAlmostEqual(bottom, centres[i], delta=0.2, msg=f"bucket {i}: the band ends at the mean")
                    self.assertAlmostEqual(top, centres[i] - (peaks[i] - means[i]) * scale, delta=0.3,
                                           msg=f"bucket {i}: the band reaches the peak {peaks[i]}")

    def test_unknown_server_is_reported_and_nothing_drawn(self):
        status, _ = get_json(self.api.url + "/server/nobody_here?counts=1")
        self.assertEqual(status, 404)
        page = self.render("#server=nobody_here")
        self.assertEqual(page.state(), "not-found")
        self.assertIn("nobody_here", page.message)
        self.assertEqual([page.points(series) for _, _, series in SERIES], [[]] * len(SERIES))

    def test_invalid_name_is_refused_with_the_servers_own_rule(self):
        status, refusal = get_json(self.api.url + "/server/-web-7?counts=1")
        self.assertEqual(status, 400)
        page = self.render("#server=-web-7")
        self.assertEqual(page.state(), "error")
        self.assertIn(refusal["error"], page.message)  # the rule as the server states it, not a stale copy
        self.assertEqual([page.points(series) for _, _, series in SERIES], [[]] * len(SERIES))

    def test_a_deleted_server_is_not_said_never_to_have_sent_a_sample(self):
        self.api.post(NOW, {"deleted-1.example.com": {"cpu": 5, "ram": 5}})
        status, _, _ = http("DELETE", self.api.ingest.url + "/server/deleted-1.example.com")
        self.assertEqual(status, 204)
        page = self.render("#server=deleted-1.example.com")
        self.assertEqual(page.state(), "not-found")
        self.assertIn("deleted or expired", page.message)
        self.assertNotIn("has never sent", page.message)

    def test_completion_lists_the_first_50_of_1000_servers(self):
        status, listing = get_json(self.api.url + "/servers?prefix=&limit=50")
        self.assertEqual(status, 200)
        self.assertIsNotNone(listing["next_after"], "the API must hold more than 50 servers for this test")
        page = self.render("#server=")
        self.assertEqual(page.state(), "idle")
        self.assertEqual(page.options(), [s["name"] for s in listing["servers"]])
        screenshot(self.api.url + "/#server=", os.path.join(self.artifacts, "dashboard-1000-servers.png"))


if __name__ == "__main__":
    unittest.main()
