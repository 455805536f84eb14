"""The developer commands of a checkout: `deps`, `build`, `test`, `bench`, `chaos`, `package`.

They install Debian packages, configure and build with meson, and run the
test suite; the appliance itself (runtime.py) needs none of this, and an
installed tree does not offer these commands. A new developer command is a
function cmd_NAME(options) plus its parser in add_dev_commands().
"""
import json
import os
import shutil
import subprocess
import sys

from servertrack.log import log
from servertrack.programs import CHECKOUT

# What `package` adds to the build's packages: dpkg-buildpackage with debhelper,
# and lintian to check what it made (debian/control lists the build's own).
DEB_PACKAGES = ["debhelper", "dpkg-dev", "lintian"]

# Exactly what the build and the test suite need (Debian 12 package names).
PACKAGES = [
    "meson", "ninja-build", "g++", "pkg-config",
    "libboost-dev", "libcpp-httplib-dev", "libsimdjson-dev", "libfmt-dev",
    "libgtest-dev", "libcli11-dev", "libbenchmark-dev",
    "libre2-dev",  # the PromQL subset's label regexes, as Prometheus matches them
    "zlib1g-dev",  # the agent's spool records carry a crc32
    "libssl-dev",  # SHA-256 of tokens, to find a presented one among thousands (http/access_policy.h)
    "python3", "faketime", "curl",
    # tests: the dashboard in headless Chromium, /metrics through a real parser
    "chromium", "fonts-dejavu-core", "python3-prometheus-client",
    # tests: `systemd-analyze verify` on the unit in deploy/systemd
    "systemd",
    # tests: the deploy/ recipes run by the real proxies, with a test certificate
    "nginx", "haproxy", "openssl",
    # the man pages (man/*.scd), and `man -l` in their test
    "scdoc", "man-db",
    # tests: the Debian packages built, installed, upgraded and purged (tests/deploy)
    *DEB_PACKAGES,
    # tests: a real Prometheus scraping ServerTrack, promtool querying its API
    "prometheus",
    # tests: alerts delivered to a real Alertmanager, listed through its API (tests/alert)
    "prometheus-alertmanager",
    # tests: other agents feeding the ingest port, a real collectd (write_http JSON)
    # and the influx v1 CLI (line protocol) (tests/ingest/test_collectd.py, test_line_protocol.py)
    # (libyajl2: the JSON library of collectd's write_http, only recommended by collectd-core)
    "collectd-core", "libyajl2", "influxdb-client",
]

# What `test --fuzz` adds: clang with libFuzzer and the sanitizer runtimes.
FUZZ_PACKAGES = ["clang", "libclang-rt-14-dev"]


def missing_packages(packages):
    missing = []
    for name in packages:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if result.returncode != 0 or "install ok installed" not in result.stdout:
            missing.append(name)
    return missing


def install_deps(packages=PACKAGES):
    """apt-get install what is missing; nothing at all when everything is there."""
    missing = missing_packages(packages)
    if not missing:
        return
    log("installing " + " ".join(missing))
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                   check=True, env=env)


def build(build_dir, buildtype="release", sanitize=None):
    """Configure (once) and build with Debian's packages only."""
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        args = ["meson", "setup", build_dir, CHECKOUT, f"--buildtype={buildtype}",
                "--wrap-mode=nofallback", "-Dwerror=true"]
        if sanitize:
            args += [f"-Db_sanitize={sanitize}", "-Db_lundef=false"]
        subprocess.run(args, check=True)
    subprocess.run(["meson", "compile", "-C", build_dir], check=True)


def run_tests(build_dir):
    """Runs the meson suite; returns (passed, failed, skipped) read from its JSON log."""
    subprocess.run(["meson", "test", "-C", build_dir, "--print-errorlogs",
                    "--num-processes", "2"], check=False)
    return count_results(os.path.join(build_dir, "meson-logs", "testlog.json"))


def count_results(log_path):
    passed = failed = skipped = 0
    if not os.path.exists(log_path):
        return 0, 1, 0
    with open(log_path) as f:
        for line in f:
            result = json.loads(line).get("result")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
    return passed, failed, skipped


def run_fuzzers(seconds):
    """Runs every libFuzzer target for `seconds`; returns (passed, failed, 0) by target."""
    result = subprocess.run(["bash", os.path.join(CHECKOUT, "tests", "fuzz", "run.sh"), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    print(result.stdout, end="", flush=True)
    summary = result.stdout.split("== summary", 1)[-1].splitlines()[1:]
    passed = sum(1 for line in summary if line.split()[1:2] == ["ok"])
    failed = len(summary) - passed
    if result.returncode != 0 and failed == 0:
        failed = 1  # the runner failed before it could fuzz (e.g. the build)
    return passed, failed, 0


def cmd_test(options):
    install_deps()
    totals = [0, 0, 0]
    passes = [(options.build_dir, "release", None)]
    if options.sanitize:
        passes.append((options.build_dir + "-asan", "debugoptimized", "address,undefined"))
    for build_dir, buildtype, sanitize in passes:
        log(f"building {build_dir} ({buildtype}{', sanitize=' + sanitize if sanitize else ''})")
        build(build_dir, buildtype, sanitize)
        counts = run_tests(build_dir)
        totals = [a + b for a, b in zip(totals, counts)]
    if options.fuzz:
        install_deps(FUZZ_PACKAGES)
        counts = run_fuzzers(options.fuzz)
        totals = [a + b for a, b in zip(totals, counts)]
    passed, failed, skipped = totals
    line = f"{passed} passed, {failed} failed"
    print(line + (f", {skipped} skipped" if skipped else ""), flush=True)
    return 0 if failed == 0 and passed > 0 else 1


def cmd_bench(options):
    """The HTTP benchmark: tests/bench/http/run.py, given every argument after
    `bench`, installs wrk and nginx-light, builds, and prints the table."""
    install_deps()
    script = os.path.join(CHECKOUT, "tests", "bench", "http", "run.py")
    return subprocess.run([sys.executable, script, *options.passed_on]).returncode


def cmd_chaos(options):
    """The chaos run: builds (release), then tests/chaos/run.py with every argument
    after `chaos` (--minutes N, --seed S); its exit status."""
    install_deps()
    build(options.build_dir)
    script = os.path.join(CHECKOUT, "tests", "chaos", "run.py")
    env = dict(os.environ, SERVERTRACK_BUILD_DIR=os.path.abspath(options.build_dir), SERVERTRACK_SOURCE_DIR=CHECKOUT)
    return subprocess.run([sys.executable, script, *options.passed_on], env=env).returncode


def copy_checkout(destination):
    """The checkout's files as git sees them (tracked and new, not ignored: no
    build directories), or every file but build*/ and data/ outside git."""
    shutil.rmtree(destination, ignore_errors=True)
    listed = subprocess.run(["git", "-C", CHECKOUT, "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if listed.returncode != 0:
        ignored = shutil.ignore_patterns("build*", "data", ".git", "__pycache__")
        shutil.copytree(CHECKOUT, destination, ignore=lambda d, names: ignored(d, names) if d == CHECKOUT
                        else shutil.ignore_patterns("__pycache__")(d, names))
        return
    for relative in filter(None, listed.stdout.decode().split("\0")):
        source = os.path.join(CHECKOUT, relative)
        if os.path.isfile(source):
            os.makedirs(os.path.dirname(os.path.join(destination, relative)), exist_ok=True)
            shutil.copy2(source, os.path.join(destination, relative))


def build_packages(output_dir, jobs=2):
    """dpkg-buildpackage on a copy of the checkout in <output_dir>/servertrack;
    the .debs, .buildinfo and .changes land in output_dir. The copy's path
    stays the same from one build to the next, so ccache (which meson uses when
    present) reuses the objects of the last build. Returns the .changes path."""
    source = os.path.join(output_dir, "servertrack")
    os.makedirs(output_dir, exist_ok=True)
    copy_checkout(source)
    subprocess.run(["nice", "dpkg-buildpackage", "--build=binary", "--no-sign", f"-j{jobs}"],
                   cwd=source, check=True, env=dict(os.environ, DEB_BUILD_OPTIONS="nocheck noddebs"))
    version = subprocess.run(["dpkg-parsechangelog", "-S", "Version"], cwd=source, check=True,
                             stdout=subprocess.PIPE, text=True).stdout.strip()
    arch = subprocess.run(["dpkg-architecture", "-qDEB_HOST_ARCH"], check=True,
                          stdout=subprocess.PIPE, text=True).stdout.strip()
    return os.path.join(output_dir, f"servertrack_{version}_{arch}.changes")


def lintian(changes):
    """lintian on what a build made: (exit code, its report). Exit 0 when it
    found no error and no warning (debian/*.lintian-overrides say why a tag is
    overridden)."""
    result = subprocess.run(["lintian", "--fail-on", "error,warning", "--info", changes],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return result.returncode, result.stdout


def cmd_package(options):
    install_deps()
    changes = build_packages(options.output_dir)
    status, report = lintian(changes)
    print(report, end="", flush=True)
    debs = sorted(name for name in os.listdir(options.output_dir) if name.endswith(".deb"))
    log(f"built in {options.output_dir}: " + " ".join(debs) + ("" if status == 0 else "; lintian complains"))
    return status


def cmd_deps(_options):
    install_deps()
    return 0


def cmd_build(options):
    install_deps()
    build(options.build_dir)
    return 0


def add_dev_commands(sub, default_build):
    """The developer subcommands, on the parser's subparsers `sub`."""
    p = sub.add_parser("test", help="install, build and run the whole test suite")
    p.add_argument("--build-dir", default=default_build)
    p.add_argument("--fuzz", type=int, metavar="SECONDS", default=0,
                   help="also run each libFuzzer target for SECONDS (clang; CI uses 60)")
    p.add_argument("--sanitize", action="store_true",
                   help="also run the suite in a second build under ASan and UBSan")
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("bench", help="install wrk and nginx, build, print the HTTP benchmark table",
                       description="Arguments go to tests/bench/http/run.py, e.g. --quick.")
    p.set_defaults(func=cmd_bench, passes_on=True)

    p = sub.add_parser("chaos", help="build, then a chaos run with its history check (tests/chaos/README.md)",
                       description="Arguments go to tests/chaos/run.py: --minutes N, --seed S.")
    p.add_argument("--build-dir", default=default_build)
    p.set_defaults(func=cmd_chaos, passes_on=True)

    p = sub.add_parser("package", help="build the Debian packages servertrack and servertrack-agent, "
                                       "check them with lintian")
    p.add_argument("--output-dir", default=os.path.join(CHECKOUT, "build-deb"),
                   help="where the .debs go (default: %(default)s)")
    p.set_defaults(func=cmd_package)

    p = sub.add_parser("deps", help="install missing Debian packages")
    p.set_defaults(func=cmd_deps)

    p = sub.add_parser("build", help="install and build (release)")
    p.add_argument("--build-dir", default=default_build)
    p.set_defaults(func=cmd_build)
