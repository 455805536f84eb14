"""Overload: a saturated worker refuses new work quickly with
503 and Retry-After instead of queueing it without bound, and recovers.

BURST_CONNECTIONS connections, opened first, each send PIPELINED complete
requests at once to an ingest worker with one event loop (a client sending one
request at a time is served at once: the loop only falls behind when requests
arrive faster than it serves them). The worker is stopped (SIGSTOP) while a burst
is sent and continued after it, as a worker that fell behind (a pause, a slow
disk) meets everything that arrived meanwhile at once; on a fast idle machine a
worker that runs meanwhile would keep up. At most BURSTS bursts until the worker
reports overload. Every connection must be answered (204 or 503)
within ANSWER_BOUND seconds; every 503 carries Retry-After and the JSON error
body and comes within REFUSAL_BOUND seconds. The worker's peak resident memory
is printed (its stated bound is in http/event_loop.h).
"""

import os
import selectors
import signal
import sys
import time
import unittest

from appliance import TestSegment, Worker, http
from raw_client import connect, post, raise_file_limit, statuses_in

BURST_CONNECTIONS = 4000
# More than the loop serves of one connection in a row (http/event_loop.h,
# kPipelinedPerTurn), so connections wait for a further turn.
PIPELINED = 20
BURSTS = 10
ANSWER_BOUND = 30
REFUSAL_BOUND = 5
SAMPLE = '{"cpu": 3, "ram": 4}'


def headers_of(response_head):
    lines = response_head.split(b"\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines)}


def peak_memory_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def burst(worker_pid, port, request):
    """`request` on each of BURST_CONNECTIONS fresh connections, sent back to
    back while the worker is stopped; returns [(status, headers, body, seconds
    after its send)] and the number of connections with no whole first answer
    within ANSWER_BOUND."""
    os.kill(worker_pid, signal.SIGSTOP)
    try:
        sockets = [connect(port, timeout=10) for _ in range(BURST_CONNECTIONS)]
        sent_at, received = {}, {}
        for sock in sockets:
            sent_at[sock] = time.monotonic()
            sock.sendall(request)
            received[sock] = b""
    finally:
        os.kill(worker_pid, signal.SIGCONT)
    selector = selectors.DefaultSelector()
    try:
        answers = []
        for sock in sockets:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + ANSWER_BOUND
        while selector.get_map() and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=1):
                sock = key.fileobj
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                received[sock] += chunk
                whole = statuses_in(received[sock])
                if whole or not chunk:
                    selector.unregister(sock)
                    head, _, body = received[sock].partition(b"\r\n\r\n")
                    status = whole[0] if whole else None  # None: closed without an answer
                    answers.append((status, headers_of(head), body, time.monotonic() - sent_at[sock]))
        return answers, len(selector.get_map())
    finally:
        selector.close()
        for sock in sockets:
            sock.close()


class OverloadTest(unittest.TestCase):
    def test_saturated_worker_refuses_with_503_and_retry_after(self):
        raise_file_limit(BURST_CONNECTIONS + 256)
        with TestSegment(capacity=64) as segment, Worker("ingest", segment, args=("--threads", "1")) as ingest:
            refused = []
            for attempt in range(BURSTS):
                answers, unanswered = burst(ingest.pid, ingest.port, post("overload", SAMPLE) * PIPELINED)
                statuses = sorted({a[0] for a in answers}, key=str)
                print(f"burst {attempt + 1}: {len(answers)} answered ({statuses}), {unanswered} unanswered "
                      f"in {ANSWER_BOUND} s; slowest answer {max(a[3] for a in answers):.2f} s; worker peak "
                      f"RSS {peak_memory_kib(ingest.pid) / 1024:.0f} MiB", file=sys.stderr)
                self.assertEqual(unanswered, 0, "requests queued without an answer")
                self.assertLessEqual({a[0] for a in answers}, {204, 503}, "dropped or failed requests")
                refused = [a for a in answers if a[0] == 503]
                if refused:
                    break
            self.assertTrue(refused, f"{BURSTS} bursts of {BURST_CONNECTIONS} requests never drew a 503: "
                                     "the worker queued them all")
            for _, headers, body, seconds in refused:
                self.assertTrue(headers.get(b"retry-after", b"").isdigit(), f"503 without Retry-After: {headers}")
                self.assertIn(b'"error"', body)
                self.assertLess(seconds, REFUSAL_BOUND, "a 503 that took long to come is not a quick refusal")
            self.assertEqual(http("POST", f"{ingest.url}/server/after_overload", SAMPLE)[0], 204,
                             "the worker did not recover after the burst")


if __name__ == "__main__":
    unittest.main()
