"""CI's chaos run (tests/chaos/meson.build): 1 minute of faults with the fixed
seed 32, then 1 minute with a random seed (printed first), each through
run.py's whole check. A failing run prints its seed and schedule; rerun it with
`./servertrack chaos --minutes 1 --seed S`."""

import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run  # noqa: E402

FIXED_SEED = 32


def main():
    statuses = [run.main(["--minutes", "1", "--seed", str(seed)])
                for seed in (FIXED_SEED, secrets.randbelow(2**31))]
    return max(statuses)


if __name__ == "__main__":
    sys.exit(main())
