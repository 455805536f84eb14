"""The history checker can fail: a real appliance given exactly what a ledger
says passes; one sample fewer is a lost sample, one more a doubled one (a sample
without "time" posted on top), a bucket of a minute never sent a phantom, a name
nobody sent a phantom server; a sample acknowledged inside a loss window may be
missing, one outside may not; a sample in doubt may be counted or not."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from appliance import appliance, post_sample  # noqa: E402
from checker import check  # noqa: E402
from ledger import Ledger  # noqa: E402


class CheckerTest(unittest.TestCase):
    def setUp(self):
        self.stack = appliance(capacity=16)
        _, self.ingest, self.query = self.stack.__enter__()
        self.addCleanup(self.stack.__exit__, None, None, None)
        self.ledger = Ledger()
        self.now = int(time.time()) // 60 * 60 - 120  # two whole minutes ago: a settled minute

    def post(self, name, second, acked=True):
        self.assertEqual(post_sample(self.ingest, name, 10, 20, time=second), 204)
        if acked:
            self.ledger.acked(name, second)

    def verdict(self, windows=()):
        return check(self.ledger, lambda name: self.query.url, lambda name: list(windows), [self.query.url])

    def test_exactly_what_was_acknowledged_passes(self):
        for offset in range(3):
            self.post("web-1", self.now + offset)
        self.post("web-1", self.now - 5 * 3600)  # backfill: its hour and day
        self.post("web-1", self.now - 3 * 86400)  # its day
        verdict = self.verdict()
        self.assertTrue(verdict.ok, verdict.__dict__)
        self.assertEqual(verdict.counted, 5)

    def test_a_missing_acknowledged_sample_is_lost_unless_inside_a_loss_window(self):
        self.post("web-1", self.now)
        self.ledger.acked("web-1", self.now + 1)  # acknowledged, never recorded
        verdict = self.verdict()
        self.assertFalse(verdict.ok)
        self.assertEqual(verdict.lost_samples, 3 * 2)  # its minute, hour and day, both metrics
        acked_at = self.ledger.samples[("web-1", self.now + 1)].acked_at
        inside = self.verdict([(acked_at, acked_at)])
        self.assertTrue(inside.ok, inside.__dict__)
        self.assertEqual((inside.at_risk, inside.at_risk_lost), (1, 1))

    def test_a_count_above_what_was_sent_is_doubled(self):
        self.post("web-1", self.now)
        before = int(time.time())
        self.assertEqual(post_sample(self.ingest, "web-1", 10, 20), 204)  # no time: counted at arrival
        for second in {before, int(time.time())}:  # ... as a sample in doubt of that second may be
            self.ledger.unanswered("web-1", second)
        self.assertTrue(self.verdict().ok)
        self.post("web-1", self.now + 7, acked=False)
        verdict = self.verdict()
        self.assertEqual(verdict.doubled_samples, 3 * 2)
        self.assertEqual(len(verdict.doubled), 3 * 2)

    def test_a_minute_or_a_server_never_sent_is_a_phantom(self):
        self.post("web-1", self.now)
        self.post("web-1", self.now - 600, acked=False)
        self.post("stranger", self.now, acked=False)
        verdict = self.verdict()
        self.assertIn("web-1 last_60_minutes bucket", verdict.phantoms[0])
        self.assertTrue(any(line.startswith("stranger: listed") for line in verdict.phantoms), verdict.phantoms)


if __name__ == "__main__":
    unittest.main()
