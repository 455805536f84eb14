"""servertrack: install, build, test and run the ServerTrack appliance.

  servertrack up       install missing Debian packages, build (release), create the
                       segment if absent, then run the workers in the foreground
  servertrack run      run the workers from an existing build (no install, no build)
  servertrack test     install missing Debian packages, build, run every test
  servertrack deps     install missing Debian packages only (idempotent)
  servertrack build    configure and build (release unless --build-dir says otherwise)

`up`, `test`, `deps` and `build` exist in a checkout only; an installed
servertrack offers `run`, with the installed programs.

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
    options = parser().parse_args(argv)
    return options.func(options)
