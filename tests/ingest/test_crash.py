"""SIGKILL one worker: the other kind keeps answering, and every acknowledged
sample survives into a new worker."""

import threading
import time
import unittest

from appliance import Worker, appliance, get_server, http, post_sample, recent_minutes

MAX_POSTS = 600


class CrashTest(unittest.TestCase):
    def test_sigkill_ingest_under_load_loses_nothing_acknowledged(self):
        with appliance() as (segment, ingest, query):
            acknowledged = []

            def post_until_refused():
                for i in range(MAX_POSTS):
                    try:
                        if post_sample(ingest, f"k{i}", i, i + 0.5) != 204:
                            return
                    except OSError:
                        return
                    acknowledged.append(i)

            poster = threading.Thread(target=post_until_refused)
            poster.start()
            deadline = time.monotonic() + 10
            while len(acknowledged) < 50 and time.monotonic() < deadline:
                time.sleep(0.01)
            ingest.kill()
            poster.join(timeout=30)
            self.assertFalse(poster.is_alive())
            self.assertGreaterEqual(len(acknowledged), 50)

            def check_all_acknowledged():
                for i in acknowledged:
                    status, document = get_server(query, f"k{i}")
                    self.assertEqual(status, 200, i)
                    self.assertEqual(recent_minutes(document, "cpu"), [i])
                    self.assertEqual(recent_minutes(document, "ram"), [i + 0.5])

            check_all_acknowledged()  # the query worker keeps answering
            with Worker("ingest", segment) as new_ingest:
                self.assertEqual(post_sample(new_ingest, "after", 1, 1), 204)
                check_all_acknowledged()
                self.assertEqual(get_server(query, "after")[0], 200)

    def test_sigkill_query_and_posts_keep_being_accepted(self):
        with appliance() as (segment, ingest, query):
            query.kill()
            for i in range(20):
                self.assertEqual(post_sample(ingest, f"q{i}", i, i), 204)
            self.assertEqual(http("GET", f"{ingest.url}/healthz")[0], 200)
            with Worker("query", segment) as new_query:
                for i in range(20):
                    self.assertEqual(recent_minutes(get_server(new_query, f"q{i}")[1], "cpu"), [i])


if __name__ == "__main__":
    unittest.main()
