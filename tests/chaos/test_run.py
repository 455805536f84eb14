"""CI's chaos run (tests/chaos/meson.build): 1 minute of faults on one appliance
with the fixed seed 239 (10 of the 12 kinds of one appliance, a power cut and a
token rotation among them), then 1 minute on two appliances behind the HAProxy
recipe with a random seed (printed first), each through run.py's whole check.
A failing run prints its seed and schedule and the command that repeats it."""

import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run  # noqa: E402

FIXED_SEED = 239


def main():
    statuses = [run.main(["--minutes", "1", "--seed", str(FIXED_SEED), "--nodes", "1"]),
                run.main(["--minutes", "1", "--seed", str(secrets.randbelow(2**31)), "--nodes", "2"])]
    return max(statuses)


if __name__ == "__main__":
    sys.exit(main())
