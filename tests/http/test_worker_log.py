"""Every line a worker writes carries the supervisor's UTC timestamp format,
the worker's kind and number (--worker-id) and its pid (http/worker_log.h):

    servertrack [2026-11-30 23:59:01.123] ingest#3 pid 4242: listening on http://...

A worker is started, made to log an internal line (SIGTERM: the stop lines),
and every line of its stderr is checked; the timestamps are within the run.
A worker whose segment is absent logs what is wrong and the remedy
(common/segment_advice.h) and exits 1.
"""

import datetime
import re
import unittest

from appliance import TestSegment, Worker

LINE = re.compile(r"^servertrack \[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\] (\w+)#(\d+) pid (\d+): (.+)$")


class WorkerLogTest(unittest.TestCase):
    def check_lines(self, kind, args, expected_number):
        started = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        with TestSegment(capacity=64) as segment:
            worker = Worker(kind, segment, args=args)
            self.assertEqual(worker.stop(), 0)
            text = worker.stderr_text()
        finished = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        lines = text.splitlines()
        messages = []
        for line in lines:
            match = LINE.match(line)
            self.assertIsNotNone(match, f"a line without the log prefix: {line!r}")
            stamp, line_kind, number, pid, message = match.groups()
            when = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")
            self.assertTrue(started - datetime.timedelta(seconds=1) <= when <= finished, line)
            self.assertEqual((line_kind, int(number), int(pid)), (kind, expected_number, worker.pid))
            messages.append(message)
        self.assertTrue(messages[0].startswith("listening on http://127.0.0.1:"), messages)
        self.assertEqual(messages[-1], "stopped", messages)

    def test_ingest_worker_with_its_number(self):
        self.check_lines("ingest", ("--worker-id", "3"), 3)

    def test_query_worker_defaults_to_number_1(self):
        self.check_lines("query", (), 1)

    def test_a_worker_without_its_segment_says_how_to_create_it(self):
        absent = TestSegment()  # named, never created
        for kind in ("ingest", "query"):
            with self.subTest(kind=kind):
                with self.assertRaises(RuntimeError) as raised:
                    Worker(kind, absent)
                message = str(raised.exception)
                self.assertIn("exited with 1", message)
                self.assertIn(f"segment '{absent.name}' does not exist", message)
                self.assertIn(f"create it with `shmtool create --segment {absent.name}`", message)


if __name__ == "__main__":
    unittest.main()
