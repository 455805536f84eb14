"""Where the programs the supervisor runs are: a build directory of a checkout,
or the tree `meson install` made.

In a checkout this package is <checkout>/cli/servertrack and the programs are
in a build directory (<checkout>/build by default; meson puts each in the
folder of its part). In an install, meson writes installed.py next to this
file with the directories it installed into, relative to this package, so a
tree installed with --destdir or moved still finds its own workers.
"""
import os

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

try:
    from servertrack import installed
except ImportError:
    installed = None

# The checkout this package runs from, or None when it runs from an install.
CHECKOUT = None if installed else os.path.dirname(os.path.dirname(PACKAGE_DIR))

BUILD_LAYOUT = {
    "ingest": os.path.join("ingest", "servertrack-ingest"),
    "query": os.path.join("query", "servertrack-query"),
    "alert": os.path.join("alert", "servertrack-alert"),
    "shmtool": os.path.join("cli", "shmtool"),
}


def default_build_dir():
    """<checkout>/build, or None in an install (the installed programs are used)."""
    return os.path.join(CHECKOUT, "build") if CHECKOUT else None


def installed_dir(relative):
    """A directory meson installed into, from its path relative to this package."""
    return os.path.normpath(os.path.join(PACKAGE_DIR, relative))


def program(build_dir, part):
    """The path of 'ingest', 'query', 'alert' or 'shmtool': from build_dir, else from the install."""
    if build_dir:
        return os.path.join(build_dir, BUILD_LAYOUT[part])
    if installed is None:
        raise RuntimeError("no --build-dir and not an installed tree")
    if part == "shmtool":
        return os.path.join(installed_dir(installed.BIN_DIR), "shmtool")
    return os.path.join(installed_dir(installed.WORKER_DIR), f"servertrack-{part}")


def missing_programs(build_dir):
    return [path for path in (program(build_dir, part) for part in BUILD_LAYOUT)
            if not os.access(path, os.X_OK)]
