"""The plain clients of the simulated fleet: threads that POST as the README
tells a client that must not lose samples (README, The API: "Delivery is at
least once"; Backfill: "Resending is safe, in any order").

Every sample states its "time" (whole seconds), so a retry is counted once.
A client retries a sample that got no answer (a timeout, a reset, a refused
connection), a 503 (after its Retry-After), a 507 of a name it already has, a 401
(with the fleet's current token: a rotation) and any other 5xx, until it is
acknowledged or the run's drain ends. Results go to the Ledger. Started and
stopped by run.py (one thread each, in the harness process).

    Credentials(token)       the token the fleet uses now; .rotate(new)
    Fleet(url, ledger, credentials, rng, batch=True)
                             .start() .stop_producing() .stop() .pending()
    Stranger(url, ledger, credentials)
                             .fill(count): `count` brand-new names, one sample
                             each, no retry: 204 acked, 507 refused
"""

from http.client import HTTPException
import json
import random
import threading
import time

from appliance import http
from ledger import Streak

TIMEOUT = 3


class Credentials:
    def __init__(self, token):
        self._token = token

    @property
    def token(self):
        return self._token

    def rotate(self, token):
        self._token = token

    def headers(self):
        return {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"}


def sample_body(rng, second):
    return {"cpu": round(rng.uniform(0, 100), 2), "ram": round(rng.uniform(0, 100), 2), "time": second}


def attempt(ledger, url, body, credentials):
    """One POST: (status, parsed answer) or (None, error kind) when no answer came;
    ("refused", ...) when the connection was refused (nothing was sent)."""
    try:
        status, _, payload = http("POST", url, json.dumps(body), credentials.headers(), timeout=TIMEOUT)
    except ConnectionRefusedError:
        ledger.count_request("connection refused")
        return "refused", None
    except (OSError, HTTPException) as error:
        ledger.count_request(type(error).__name__)
        return None, None
    ledger.count_request(status)
    try:
        return status, json.loads(payload) if payload else None
    except ValueError:
        return status, None


class Client(threading.Thread):
    """One client thread. Subclasses make the next request: next_request() ->
    (path, body, [(name, second)]) or None to rest a while."""

    RETRYABLE_ITEM = ("slot_busy", "table_full")

    def __init__(self, url, ledger, credentials, rng):
        super().__init__(daemon=True)
        self.url, self.ledger, self.credentials, self.rng = url, ledger, credentials, rng
        self.producing = True
        self.stopped = False
        self.streak = Streak(ledger)
        self.busy = False
        self.error = None

    def run(self):
        try:
            self.send_until_stopped()
        except Exception as error:  # a 400 or a refused item: the run fails, saying why
            self.error = f"{type(error).__name__}: {error}"
            self.busy = False

    def send_until_stopped(self):
        while not self.stopped:
            request = self.next_request() if self.producing else None
            if request is None:
                time.sleep(0.2)
                continue
            self.busy = True
            self.deliver(*request)
            self.busy = False
            time.sleep(self.rng.uniform(0.1, 0.5))

    def deliver(self, path, body, samples):
        """Sends until every sample is acknowledged (an array or batch: the
        refused items are sent again alone) or the client is stopped."""
        while samples and not self.stopped:
            status, answer = attempt(self.ledger, self.url + path, body, self.credentials)
            if status is None:
                for name, second in samples:
                    self.ledger.unanswered(name, second)
            if status == 204:
                for name, second in samples:
                    self.ledger.acked(name, second)
                self.streak.succeeded()
                return
            if status == 200 and answer is not None:
                self.streak.succeeded()
                refused = self.refused_items(body, samples, answer)
                for sample in samples:
                    if sample not in refused:
                        self.ledger.acked(*sample)
                path, body, samples = self.resend(path, body, samples, refused)
                if samples:
                    time.sleep(1)
                continue
            if status == 400:
                raise AssertionError(f"{path} {body} refused as invalid: {answer}")
            if status == 507:
                self.streak.succeeded()  # answered, only full
                time.sleep(1)
                continue
            self.streak.failed()  # no answer, 401, 503, another 5xx
            time.sleep(1 if status in (503, 507) else self.rng.uniform(0.1, 0.4))

    @staticmethod
    def refused_items(body, samples, answer):
        """The (name, second) of the items of an array or batch answer refused
        for later (slot_busy, table_full); any other reason is a harness error."""
        refused = set()
        for item in answer.get("rejected", []):
            if item.get("reason") not in Client.RETRYABLE_ITEM:
                raise AssertionError(f"an item was refused: {item}")
            if "index" in item:
                refused.add(samples[item["index"]])
            else:
                refused.update(sample for sample in samples if sample[0] == item["name"])
        return refused

    @staticmethod
    def resend(path, body, samples, refused):
        keep = [i for i, sample in enumerate(samples) if sample in refused]
        if isinstance(body, list):
            return path, [body[i] for i in keep], [samples[i] for i in keep]
        names = {samples[i][0] for i in keep}
        return path, {name: entry for name, entry in body.items() if name in names}, [samples[i] for i in keep]


class LiveClient(Client):
    """Single samples of a few names, each stated at the current second."""

    def __init__(self, names, *args):
        super().__init__(*args)
        self.names = names
        self.last = {name: 0 for name in names}

    def next_request(self):
        name = self.rng.choice(self.names)
        second = int(time.time())
        if second <= self.last[name]:
            return None
        self.last[name] = second
        return f"/server/{name}", sample_body(self.rng, second), [(name, second)]


class ArrayClient(LiveClient):
    """Arrays of one name's recent seconds (a spool of its own), in any order."""

    def next_request(self):
        name = self.rng.choice(self.names)
        now = int(time.time())
        seconds = [s for s in range(max(self.last[name] + 1, now - 5), now + 1)]
        if not seconds:
            return None
        self.last[name] = now
        self.rng.shuffle(seconds)
        return f"/server/{name}", [sample_body(self.rng, s) for s in seconds], [(name, s) for s in seconds]


class BatchClient(LiveClient):
    """POST /servers: one sample of each of its names at the current second."""

    def next_request(self):
        second = int(time.time())
        if any(second <= last for last in self.last.values()):
            return None
        for name in self.names:
            self.last[name] = second
        return "/servers", {name: sample_body(self.rng, second) for name in self.names}, \
            [(name, second) for name in self.names]


class BackfillClient(Client):
    """Arrays of past samples, in random order: within the 24-hour window one a
    minute (minutes 2 h to 20 h ago), within the day window one an hour (hours 2
    to 20 days ago), as the retry rule counts them; each distinct once."""

    def __init__(self, names, *args):
        super().__init__(*args)
        self.names = names
        self.used = {name: set() for name in names}

    def next_request(self):
        name = self.rng.choice(self.names)
        now = int(time.time())
        seconds = []
        for _ in range(self.rng.randint(1, 20)):
            if self.rng.random() < 0.7:
                minute = (now - self.rng.randint(2 * 3600, 20 * 3600)) // 60 * 60
                if minute not in self.used[name]:
                    self.used[name].add(minute)
                    seconds.append(minute + self.rng.randrange(60))
            else:
                hour = (now - self.rng.randint(2 * 86400, 20 * 86400)) // 3600 * 3600
                if hour not in self.used[name]:
                    self.used[name].add(hour)
                    seconds.append(hour + self.rng.randrange(3600))
        if not seconds:
            return None
        return f"/server/{name}", [sample_body(self.rng, s) for s in seconds], [(name, s) for s in seconds]


class Fleet:
    """The plain clients: live single samples, arrays, backfill and (when the
    URL takes it: not through the balancer) batches."""

    def __init__(self, url, ledger, credentials, rng, batch=True):
        make = lambda cls, names: cls(names, url, ledger, credentials, random.Random(rng.random()))
        self.clients = [make(LiveClient, [f"live-{i}-{j}" for j in range(2)]) for i in range(3)]
        self.clients.append(make(ArrayClient, ["array-0", "array-1"]))
        self.clients.append(make(BackfillClient, ["backfill-0", "backfill-1"]))
        if batch:
            self.clients.append(make(BatchClient, [f"batch-{j}" for j in range(4)]))

    def start(self):
        for client in self.clients:
            client.start()

    def stop_producing(self):
        for client in self.clients:
            client.producing = False

    def pending(self):
        return any(client.busy for client in self.clients)

    def errors(self):
        return [client.error for client in self.clients if client.error]

    def stop(self):
        for client in self.clients:
            client.stopped = True
        for client in self.clients:
            client.join(timeout=10)


class Stranger:
    """New names while the table may be full: one sample each, not retried."""

    def __init__(self, url, ledger, credentials):
        self.url, self.ledger, self.credentials = url, ledger, credentials
        self.next = 0

    def fill(self, count):
        """-> how many of `count` new names were answered 507."""
        full = 0
        for _ in range(count):
            name, second = f"extra-{self.next}", int(time.time())
            self.next += 1
            status, _ = attempt(self.ledger, f"{self.url}/server/{name}",
                                {"cpu": 1, "ram": 1, "time": second}, self.credentials)
            if status == 204:
                self.ledger.acked(name, second)
            elif status is None:
                self.ledger.unanswered(name, second)
            else:
                self.ledger.refused(name, second)
                full += status == 507
        return full
