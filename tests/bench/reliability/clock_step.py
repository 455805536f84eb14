#!/usr/bin/env python3
"""Acknowledged samples missing after a clock step, through real workers.

One ingest and one query worker under libfaketime (tests/lib/appliance.py
FakeClock): 30 minutes of samples, one every 10 s, with the clock 3 h ahead,
then the clock corrected and 90 more minutes. Prints how many of the samples
acknowledged (204) in the last 60 minutes are missing from their minute and
their hour (GET ?counts=1), and how many samples written by the wrong clock the
windows show once the true time reaches them. Bounded: 720 POSTs, 2 GETs.
Docs: docs/design.md, "Time and buckets", Clock policy.

  tests/bench/reliability/clock_step.py --build build
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))

DAY = 86400


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True, help="the meson build directory to take binaries from")
    args = parser.parse_args()
    os.environ["SERVERTRACK_BUILD_DIR"] = os.path.abspath(args.build)  # read when appliance is imported
    from appliance import FakeClock, TestSegment, Worker, http  # pylint: disable=import-outside-toplevel
    start = (int(time.time()) // DAY + 30) * DAY + 10 * 3600 + 5  # a future 10:00:05
    body = json.dumps({"cpu": 1, "ram": 2})
    with FakeClock() as clock, TestSegment(capacity=64) as segment, \
            Worker("ingest", segment, env=clock.env) as ingest, Worker("query", segment, env=clock.env) as query:
        acknowledged = {"ahead": 0, "corrected": 0}
        for phase, first, steps in (("ahead", start + 3 * 3600, 180), ("corrected", start + 1800, 540)):
            for step in range(steps):
                clock.set(first + 10 * step)
                acknowledged[phase] += http("POST", f"{ingest.url}/server/host", body)[0] == 204
        document = json.loads(http("GET", f"{query.url}/server/host?counts=1")[2])
        in_minutes = sum(document["last_60_minutes"]["count"])
        in_hours = sum(document["last_24_hours"]["count"][-2:])
        clock.set(start + 3 * 3600 + 1785)
        later = json.loads(http("GET", f"{query.url}/server/host?counts=1")[2])
        shown_from_wrong_clock = sum(later["last_60_minutes"]["count"])
    corrected = acknowledged["corrected"]
    print(f"acknowledged: {acknowledged['ahead']} with the clock 3 h ahead, {corrected} after the correction")
    print(f"of the 360 acknowledged in the last 60 minutes: {360 - in_minutes} missing from their minute")
    print(f"of the {corrected} acknowledged after the correction: {corrected - in_hours} missing from their hour")
    print(f"3 h later the minute window shows {shown_from_wrong_clock} samples written by the wrong clock")


if __name__ == "__main__":
    main()
