"""The windows move with the clock: workers run under libfaketime and the test
steps their clock across minute and hour boundaries, past 60 minutes and past
24 hours. Values land in the right position and expire on time."""

import json
import os
import time
import unittest

from appliance import FakeClock, appliance, get_server, http, post_sample

DAY = 86400
# A UTC midnight in the future, so the segment only ever sees the fake clock.
BASE = (int(time.time()) // DAY + 30) * DAY


class ClockTest(unittest.TestCase):
    def setUp(self):
        self.clock = FakeClock()
        self.addCleanup(self.clock.close)

    def at(self, offset_seconds):
        """Moves the workers' clock to BASE + offset_seconds."""
        self.clock.set(BASE + offset_seconds)

    def windows(self, query):
        status, document = get_server(query, "host")
        self.assertEqual(status, 200)
        return document["last_60_minutes"], document["last_24_hours"]

    def test_killed_fake_clock_workers_leave_nothing_in_dev_shm(self):
        with appliance(env=self.clock.env) as (_, ingest, query):
            pids = (ingest.pid, query.pid)
            self.assertEqual(post_sample(ingest, "host", 1, 1), 204)
        left = [name for name in os.listdir("/dev/shm")
                if any(name in (f"faketime_shm_{pid}", f"sem.faketime_sem_{pid}") for pid in pids)]
        self.assertEqual(left, [])

    def test_windows_follow_the_clock(self):
        self.at(5)
        with appliance(env=self.clock.env) as (_, ingest, query):
            for cpu in (1, 2, 3):
                self.assertEqual(post_sample(ingest, "host", cpu, 100 - cpu), 204)
            minutes, hours = self.windows(query)
            self.assertEqual(minutes["start"], BASE - 59 * 60)
            self.assertEqual(hours["start"], BASE - 23 * 3600)
            self.assertEqual(minutes["cpu"][-1], 2)
            self.assertEqual(minutes["ram"][-1], 98)
            self.assertEqual(minutes["cpu"][:-1], [None] * 59)
            self.assertEqual(hours["cpu"][-1], 2)

            # Across a minute boundary: a new bucket, the old one moves left.
            self.at(65)
            self.assertEqual(post_sample(ingest, "host", 10, 10), 204)
            minutes, hours = self.windows(query)
            self.assertEqual(minutes["start"], BASE + 60 - 59 * 60)
            self.assertEqual(minutes["cpu"][-2:], [2, 10])
            # The hour's mean is over all samples, not over the minutes' means.
            self.assertEqual(hours["cpu"][-1], (1 + 2 + 3 + 10) / 4)

            # Last minute of the hour, then across the hour boundary.
            self.at(3600 - 10)
            self.assertEqual(post_sample(ingest, "host", 20, 20), 204)
            self.at(3600 + 5)
            self.assertEqual(post_sample(ingest, "host", 30, 30), 204)
            minutes, hours = self.windows(query)
            self.assertEqual(minutes["start"], BASE + 60)
            self.assertEqual(minutes["cpu"][0], 10)        # minute BASE+60, oldest kept
            self.assertEqual(minutes["cpu"][-2:], [20, 30])
            self.assertNotIn(2, minutes["cpu"])            # minute BASE expired after 60 min
            self.assertEqual(hours["start"], BASE + 3600 - 23 * 3600)
            self.assertEqual(hours["cpu"][-2:], [(1 + 2 + 3 + 10 + 20) / 5, 30])

            # Past 60 minutes without samples: every minute is empty.
            self.at(2 * 3600 + 5)
            minutes, hours = self.windows(query)
            self.assertEqual(minutes["cpu"], [None] * 60)
            self.assertEqual(minutes["ram"], [None] * 60)
            self.assertEqual(hours["cpu"][-3:], [(1 + 2 + 3 + 10 + 20) / 5, 30, None])

            # Hour 0 leaves the 24-hour window after 24 hours, hour 1 an hour later.
            self.at(DAY + 5)
            _, hours = self.windows(query)
            self.assertEqual(hours["start"], BASE + 3600)
            self.assertEqual(hours["cpu"], [30] + [None] * 23)
            # The day window still holds it, until its expiry after 30 days.
            self.at(DAY + 3600 + 5)
            _, document = get_server(query, "host")
            self.assertEqual(document["last_24_hours"]["cpu"], [None] * 24)
            self.assertEqual([v for v in document["last_30_days"]["cpu"] if v is not None],
                             [(1 + 2 + 3 + 10 + 20 + 30) / 6])
            self.at(30 * DAY + 3600 + 5)
            self.assertEqual(get_server(query, "host")[0], 404)

            # The same slot keeps recording after everything expired.
            self.assertEqual(post_sample(ingest, "host", 7, 8), 204)
            minutes, hours = self.windows(query)
            self.assertEqual((minutes["cpu"][-1], hours["ram"][-1]), (7, 8))

    def test_a_clock_three_hours_ahead_then_corrected_loses_no_acknowledged_sample(self):
        # The policy of shm/slot.h: what the wrong clock wrote is cleared by the
        # first write after the correction; every sample after it is counted.
        true_start = 10 * 3600 + 5  # 10:00:05 of the BASE day: no sample near a minute's edge
        with appliance(env=self.clock.env) as (_, ingest, query):
            for step in range(180):  # 30 min, one sample every 10 s, the clock 3 h ahead
                self.at(true_start + 3 * 3600 + 10 * step)
                self.assertEqual(post_sample(ingest, "host", 50, 50), 204)
            for step in range(540):  # corrected: 90 more minutes, over the ring positions it wrote
                self.at(true_start + 1800 + 10 * step)
                self.assertEqual(post_sample(ingest, "host", 1, 2), 204)

            status, _, body = http("GET", f"{query.url}/server/host?counts=1")
            self.assertEqual(status, 200)
            document = json.loads(body)
            minutes, hours = document["last_60_minutes"], document["last_24_hours"]
            self.assertEqual(minutes["count"], [6] * 60)  # every minute of the window
            self.assertEqual(minutes["cpu"], [1] * 60)
            self.assertEqual(hours["count"][-3:], [0, 180, 360])
            self.assertEqual(hours["cpu"][-2:], [1, 1])
            status, _, body = http("GET", f"{query.url}/servers")
            last_sample = json.loads(body)["servers"][0]["last_sample"]
            # FakeClock sets whole seconds of offset: its clock reads within a second of the time set.
            self.assertTrue(-1 <= last_sample - (BASE + true_start + 1800 + 5390) <= 2, last_sample)

            # When the true time reaches what the wrong clock wrote, none of it shows.
            self.at(true_start + 3 * 3600 + 1785)
            status, _, body = http("GET", f"{query.url}/server/host?counts=1")
            later = json.loads(body)
            self.assertEqual(sum(later["last_60_minutes"]["count"]), 0)
            self.assertEqual(later["last_24_hours"]["count"][-4:], [180, 360, 0, 0])


if __name__ == "__main__":
    unittest.main()
