"""The history checker: what the appliance shows, read only through the public
API as an operator would (GET /server/<name>?counts=1, GET /servers), against
the Ledger of what the fleet was told.

For every server and every bucket of its three windows (60 minutes, 24 hours,
the days) that the answer covers, with the samples of the ledger stated in it:
  safe     acknowledged outside every loss window of the server's node
  at risk  acknowledged inside one (a power cut: from where the newest complete
           checkpoint's dump may have begun to the cut; README: "at most the
           samples of the last checkpoint interval")
  doubt    sent, never answered, never acknowledged (may or may not count)
the bucket's count of each metric must lie in [safe, safe + at risk + doubt]:
below is a lost sample, above a doubled one, and a bucket that counts samples
when the ledger has none in it is a minute (hour, day) the server never sent.
A name listed by GET /servers that nobody sent, or whose every sample was
refused (507), is a server that was never sent either.

    check(ledger, query_url_of, windows_of) -> Verdict
        query_url_of(name): the query base URL that serves the name
        windows_of(name): [(start, cut)] loss windows of the name's node
    Verdict: .lost .doubled .phantoms (lists of one line each) .at_risk_lost
             .ok .counted (acknowledged samples found)
"""

from http.client import HTTPException
import json
import time

from appliance import http
from ledger import ACKED, IN_DOUBT

WINDOWS = ("last_60_minutes", "last_24_hours", "last_30_days")
METRIC_COUNTS = ("cpu_count", "ram_count")
# A probe of Node.answers() (no "time": not a sample of the fleet).
PROBE_PREFIX = "probe-"


class Verdict:
    def __init__(self):
        self.lost, self.doubled, self.phantoms = [], [], []
        self.lost_samples = self.doubled_samples = 0
        self.at_risk = 0       # acknowledged inside a loss window
        self.at_risk_lost = 0  # of those, missing (allowed)
        self.counted = 0       # acknowledged samples found (in the day window)

    @property
    def ok(self):
        return not (self.lost or self.doubled or self.phantoms)


def get_json(url, bound=30):
    """(status, document) of a GET, retried on a connection error for `bound` s."""
    deadline = time.monotonic() + bound
    while True:
        try:
            status, _, body = http("GET", url, timeout=5)
            return status, json.loads(body) if body else None
        except (OSError, HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def listed_names(query_url):
    names, after = [], ""
    while True:
        status, page = get_json(f"{query_url}/servers?limit=1000" + (f"&after={after}" if after else ""))
        assert status == 200, (status, page)
        names += [server["name"] for server in page["servers"]]
        after = page.get("next_after")
        if not after:
            return names


def classify(sample, windows):
    if sample.outcome == ACKED:
        return "at risk" if any(start <= sample.acked_at <= cut for start, cut in windows) else "safe"
    return "doubt" if sample.outcome == IN_DOUBT else None


def check_server(verdict, name, samples, document, windows):
    for key in WINDOWS:
        window = document.get(key) if document else None
        if window is None:
            continue
        start, step = window["start"], window["step"]
        buckets = len(window["count"])
        expected = [{"safe": 0, "at risk": 0, "doubt": 0} for _ in range(buckets)]
        for sample in samples:
            index = (sample.second - start) // step
            kind = classify(sample, windows)
            if kind and 0 <= index < buckets:
                expected[index][kind] += 1
        for index, bucket in enumerate(expected):
            low, high = bucket["safe"], bucket["safe"] + bucket["at risk"] + bucket["doubt"]
            where = f"{name} {key} bucket {start + index * step}"
            observed = [window[metric][index] for metric in METRIC_COUNTS]
            for metric, count in zip(METRIC_COUNTS, observed):
                if count < low:
                    verdict.lost.append(f"{where}: {metric} {count}, acknowledged {low} outside loss windows")
                    verdict.lost_samples += low - count
                elif count > high:
                    (verdict.phantoms if high == 0 else verdict.doubled).append(
                        f"{where}: {metric} {count}, at most {high} sent")
                    verdict.doubled_samples += count - high
            if key == "last_30_days":  # holds every sample of the run: the totals
                acknowledged = bucket["safe"] + bucket["at risk"]
                verdict.counted += min(observed[0], acknowledged)
                verdict.at_risk_lost += max(0, min(bucket["at risk"], acknowledged - observed[0]))


def check(ledger, query_url_of, windows_of, all_query_urls):
    verdict = Verdict()
    names = ledger.names()
    for name in names:
        samples = ledger.of(name)
        windows = windows_of(name)
        verdict.at_risk += sum(classify(s, windows) == "at risk" for s in samples)
        status, document = get_json(f"{query_url_of(name)}/server/{name}?counts=1")
        if status == 404:
            document = None
        elif status != 200:
            verdict.lost.append(f"{name}: GET answered {status}: {document}")
            continue
        if document is not None and not any(s.outcome in (ACKED, IN_DOUBT) for s in samples):
            verdict.phantoms.append(f"{name}: every sample was refused, yet GET answers 200")
        check_server(verdict, name, samples, document, windows)
    sent = set(names)
    for query_url in all_query_urls:
        for name in listed_names(query_url):
            if name not in sent and not name.startswith(PROBE_PREFIX):
                verdict.phantoms.append(f"{name}: listed by {query_url}/servers, never sent")
    return verdict
