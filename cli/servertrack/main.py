"""servertrack: install, build, test and run the ServerTrack appliance.

  servertrack up       install missing Debian packages, build (release), create the
                       segment if absent, then run the workers in the foreground
  servertrack run      run the workers from an existing build (no install, no build)
  servertrack checkpoint
                       write one checkpoint of the segment into the data dir now
                       (the options of run; the Debian package's upgrade runs it)
  servertrack grow --capacity N
                       give the segment more slots while the appliance serves
  servertrack test     install missing Debian packages, build, run every test
  servertrack deps     install missing Debian packages only (idempotent)
  servertrack build    configure and build (release unless --build-dir says otherwise)
  servertrack bench    install wrk and nginx, build, print the HTTP benchmark table
                       (every further argument goes to tests/bench/http/run.py)
  servertrack chaos    build, then a chaos run: a fleet under faults and a history check
                       (--minutes N --seed S; tests/chaos/README.md)
  servertrack package  build the Debian packages servertrack and servertrack-agent
                       into build-deb/ (dpkg-buildpackage on a copy of the checkout)

`up`, `test`, `bench`, `chaos`, `deps`, `build` and `package` exist in a checkout only; an
installed servertrack offers `run`, `checkpoint` and `grow`, with the installed programs.

`up` and `run` supervise the workers: a worker that exits is restarted with
exponential backoff; Ctrl-C or SIGTERM stops them all and exits 0; if the
supervisor is SIGKILLed, the kernel sends its workers SIGTERM (PR_SET_PDEATHSIG).
"""
import argparse

from servertrack import devtools, runtime
from servertrack.programs import CHECKOUT, default_build_dir


def parser():
    top = argparse.ArgumentParser(prog="servertrack", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)
    runtime.add_runtime_commands(sub, default_build_dir())
    if CHECKOUT:
        devtools.add_dev_commands(sub, default_build_dir())
    return top


def main(argv):
    top = parser()
    options, passed_on = top.parse_known_args(argv)
    if passed_on and not getattr(options, "passes_on", False):
        top.error("unrecognized arguments: " + " ".join(passed_on))
    options.passed_on = passed_on
    return options.func(options)
