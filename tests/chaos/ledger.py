"""The chaos run's history: every sample the fleet sent, what it was told, and
when the appliance could not be reached.

Written by the client threads and the agents' recording proxy (any thread:
one lock), read by the checker after the run. Costs a dict entry per sample.

A sample is one stated second of one server (every sample here carries cpu and
ram and a "time", so the retry rule counts it at most once). Its outcome:
  acked     a 204, or "recorded" in a 200 answer to an array or batch; `acked_at`
            is the wall time of the first such answer
  in doubt  sent at least once without an answer (a timeout, a reset): it may
            have been recorded, and was never acknowledged
  refused   every attempt was answered without recording it (e.g. 507 of a new
            name when the table is full); never counted
Unavailability: a client's streak of failed attempts (no answer, 5xx, 401) from
its first failure to its next success, charged to the fault injected last before
the streak began ("none" before the first).
"""

import collections
import threading
import time

ACKED, IN_DOUBT, REFUSED = "acked", "in doubt", "refused"


class Sample:
    __slots__ = ("name", "second", "acked_at", "unanswered", "refused")

    def __init__(self, name, second):
        self.name, self.second = name, second
        self.acked_at = None
        self.unanswered = False
        self.refused = False

    @property
    def outcome(self):
        if self.acked_at is not None:
            return ACKED
        return IN_DOUBT if self.unanswered else REFUSED


class Ledger:
    def __init__(self):
        self._lock = threading.Lock()
        self.samples = {}                       # (name, second) -> Sample
        self.fault_log = []                     # (wall time, kind, detail), in order
        self.unavailable = collections.defaultdict(float)  # fault kind -> longest streak, s
        self.requests = collections.Counter()   # status or error kind -> attempts

    def _sample(self, name, second):
        key = (name, second)
        sample = self.samples.get(key)
        if sample is None:
            sample = self.samples[key] = Sample(name, second)
        return sample

    def acked(self, name, second):
        with self._lock:
            sample = self._sample(name, second)
            if sample.acked_at is None:
                sample.acked_at = time.time()

    def unanswered(self, name, second):
        with self._lock:
            self._sample(name, second).unanswered = True

    def refused(self, name, second):
        with self._lock:
            self._sample(name, second).refused = True

    def count_request(self, what):
        with self._lock:
            self.requests[what] += 1

    def fault(self, kind, detail=""):
        with self._lock:
            self.fault_log.append((time.time(), kind, detail))

    def fault_in_force(self, at):
        """The kind of the last fault injected at or before wall time `at`."""
        with self._lock:
            kinds = [kind for when, kind, _ in self.fault_log if when <= at]
        return kinds[-1] if kinds else "none"

    def streak_ended(self, began, ended):
        kind = self.fault_in_force(began)
        with self._lock:
            self.unavailable[kind] = max(self.unavailable[kind], ended - began)

    def names(self):
        with self._lock:
            return sorted({name for name, _ in self.samples})

    def of(self, name):
        with self._lock:
            return [s for (n, _), s in self.samples.items() if n == name]


class Streak:
    """One client's current run of failed attempts, reported to the ledger when it ends."""

    def __init__(self, ledger):
        self.ledger = ledger
        self.began = None

    def failed(self):
        if self.began is None:
            self.began = time.time()

    def succeeded(self):
        if self.began is not None:
            self.ledger.streak_ended(self.began, time.time())
            self.began = None
