"""The Debian packages (debian/, README: Installing it as a service), built with
dpkg-buildpackage and installed on this machine as an operator would:
`dpkg -i` makes the user servertrack and /var/lib/servertrack; the installed
`servertrack run`, as that user and with the options of the conffile, serves
POST and GET; an upgrade to a package of a higher version writes a checkpoint
before the old workers stop (debian/servertrack.prerm), and the new version
restores the samples from it; `dpkg -r` keeps the data, `dpkg -P` deletes it
and the segment; lintian finds nothing to say; `man -l` renders each page and
each page names every option of its program's --help.

The packages are built once for all these tests, into <build>/deb-test (a path
that stays the same, so ccache reuses the objects of the last run). The
upgrade's package is the built one with a higher version (dpkg-deb -R, then -b):
what is tested is what the maintainer scripts do across versions, and a second
compile would only take time. PID 1 here is not systemd, so the service is
enabled but not started by the packages; the test runs `servertrack run` itself
as user servertrack, outside systemd.

Needs root (dpkg -i), which CI has: skipped otherwise, and skipped when the
packages are installed on this machine already (they are not the test's to
replace). At the end the packages are purged and the user servertrack is
removed if the test made it. SERVERTRACK_TEST_DEB_DIR=build-deb tests the
packages `./servertrack package` built there instead of building them."""

import glob
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from appliance import BUILD_DIR, free_port, healthy, http, poll
from servertrack.devtools import build_packages, lintian

PACKAGES = ["servertrack", "servertrack-agent"]
STATE_DIR = "/var/lib/servertrack"
CONFFILE = "/etc/servertrack/servertrack.conf"
SEGMENT = f"st-deb-{os.getpid()}"


def recent_samples(now):
    """Two servers, three samples each, in the last hour (backfilled with "time")."""
    return {name: [{"cpu": 10.0 + i + n, "ram": 40.5 + i, "time": now - 600 + 60 * i} for i in range(3)]
            for n, name in enumerate(["deb-web-1", "deb-db-1"])}


def installed(package):
    result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return result.returncode == 0 and "installed" in result.stdout and "not-installed" not in result.stdout


def user_exists(name="servertrack"):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def dpkg(*args):
    return subprocess.run(["dpkg", *args], capture_output=True, text=True,
                          env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def why_not():
    if os.geteuid() != 0:
        return "needs root (dpkg -i); CI runs it as root"
    missing = [tool for tool in ("dpkg-buildpackage", "dh", "lintian", "scdoc", "man") if not shutil.which(tool)]
    if missing:
        return "missing " + ", ".join(missing) + " (./servertrack deps installs them)"
    present = [package for package in PACKAGES if installed(package)]
    if present:
        return "already installed on this machine, not the test's to replace: " + ", ".join(present)
    return None


def higher_version(deb, suffix, output_dir):
    """The .deb rebuilt with `suffix` added to its version (so dpkg sees an upgrade)."""
    tree = tempfile.mkdtemp(prefix="servertrack-deb-")
    try:
        subprocess.run(["dpkg-deb", "-R", deb, tree], check=True)
        control_path = os.path.join(tree, "DEBIAN", "control")
        with open(control_path) as f:
            control = f.read()
        control = re.sub(r"^Version: (.*)$", lambda m: f"Version: {m[1]}{suffix}", control, flags=re.MULTILINE)
        with open(control_path, "w") as f:
            f.write(control)
        package = re.search(r"^Package: (.*)$", control, re.MULTILINE)[1]
        path = os.path.join(output_dir, f"{package}-upgrade.deb")
        subprocess.run(["dpkg-deb", "--root-owner-group", "-b", tree, path], check=True, stdout=subprocess.DEVNULL)
        return path
    finally:
        shutil.rmtree(tree)


class InstalledAppliance:
    """`/usr/bin/servertrack run $SERVERTRACK_OPTIONS` as user servertrack, as
    the unit runs it, outside systemd (setpriv execs: the pid is the supervisor's)."""

    def __init__(self, options):
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SERVERTRACK_"))}
        environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # systemd's
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            ["setpriv", "--reuid=servertrack", "--regid=servertrack", "--init-groups",
             "/usr/bin/servertrack", "run", *options],
            cwd="/", env=environment, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def text(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def healthy_within(self, urls, seconds=30):
        """True once every url answers /healthz; False when the supervisor exits first or seconds pass."""
        poll(lambda: self.proc.poll() is not None or healthy(urls), seconds, interval=0.1)
        return self.proc.poll() is None and healthy(urls)

    def stop(self, sig=signal.SIGTERM):
        """Its exit code; SIGKILL goes to the whole session (supervisor and workers: a power cut)."""
        if self.proc.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)


class DebianPackages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = why_not()
        if reason:
            raise unittest.SkipTest(reason)
        prebuilt = os.environ.get("SERVERTRACK_TEST_DEB_DIR")
        if prebuilt:
            # A developer's shortcut: the packages `./servertrack package` made.
            cls.output_dir = prebuilt
            cls.changes = glob.glob(os.path.join(prebuilt, "servertrack_*.changes"))[0]
            cls.upgrade_dir = tempfile.mkdtemp(prefix="servertrack-upgrade-")
            cls.addClassCleanup(shutil.rmtree, cls.upgrade_dir)
        else:
            cls.output_dir = cls.upgrade_dir = os.path.join(BUILD_DIR, "deb-test")
            for old in glob.glob(os.path.join(cls.output_dir, "*.deb")):
                os.unlink(old)
            started = time.monotonic()
            cls.changes = build_packages(cls.output_dir)
            print(f"dpkg-buildpackage took {time.monotonic() - started:.0f} s", flush=True)
        cls.debs = {package: glob.glob(os.path.join(cls.output_dir, f"{package}_*.deb"))[0] for package in PACKAGES}

    def test_lintian_finds_no_error_and_no_warning(self):
        status, report = lintian(self.changes)
        self.assertEqual(status, 0, report)
        self.assertNotRegex(report, r"(?m)^[EW]: ", report)

    def test_man_pages_render_and_name_every_option(self):
        with tempfile.TemporaryDirectory() as tree:
            for deb in self.debs.values():
                subprocess.run(["dpkg-deb", "-x", deb, tree], check=True)
            helps = {
                "servertrack": [[os.path.join(tree, "usr/bin/servertrack"), "run", "--help"],
                                [os.path.join(tree, "usr/bin/servertrack"), "checkpoint", "--help"]],
                "shmtool": [[os.path.join(tree, "usr/bin/shmtool"), "--help"]]
                + [[os.path.join(tree, "usr/bin/shmtool"), sub, "--help"]
                   for sub in ("create", "remove", "info", "list", "show", "forget", "check", "dump", "restore")],
                "servertrack-agent": [[os.path.join(tree, "usr/bin/servertrack-agent"), "--help"]],
            }
            for program, commands in helps.items():
                with self.subTest(program=program):
                    page = os.path.join(tree, "usr/share/man/man1", program + ".1.gz")
                    rendered = subprocess.run(["man", "--nh", "--nj", "-l", page], capture_output=True, text=True,
                                              env=dict(os.environ, MANWIDTH="80"))
                    self.assertEqual((rendered.returncode, rendered.stderr), (0, ""))
                    # Bold and underline are overstruck characters (X backspace X).
                    text = re.sub(".\b", "", rendered.stdout).replace("\u2010", "-")
                    self.assertIn(program + " - ", text)
                    for command in commands:
                        helped = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                        for option in set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", helped)):
                            self.assertIn(option, text, f"{program}: `{' '.join(command[1:])}` offers {option}")

    def test_install_serve_upgrade_remove_purge(self):
        made_user = not user_exists()
        self.addCleanup(self.leave_machine_clean, made_user)

        self.dpkg_ok("-i", *self.debs.values())
        self.assertTrue(user_exists())
        state = os.stat(STATE_DIR)
        self.assertEqual(pwd.getpwuid(state.st_uid).pw_name, "servertrack")
        conffiles = subprocess.run(["dpkg-query", "-W", "-f=${Conffiles}", "servertrack"],
                                   capture_output=True, text=True).stdout
        self.assertIn(CONFFILE, conffiles)
        self.assertTrue(os.path.islink("/etc/systemd/system/multi-user.target.wants/servertrack.service"))
        self.assertFalse(os.path.lexists("/etc/systemd/system/multi-user.target.wants/servertrack-agent.service"))

        # The operator's options, in the conffile the unit and the prerm read.
        ingest_port, query_port = free_port(), free_port()
        options = f"--segment {SEGMENT} --ingest-port {ingest_port} --query-port {query_port}"
        with open(CONFFILE, "a") as f:
            f.write(f'SERVERTRACK_OPTIONS="{options}"\n')
        ingest, query = f"http://127.0.0.1:{ingest_port}", f"http://127.0.0.1:{query_port}"

        samples_of = recent_samples(int(time.time()))
        first = InstalledAppliance(options.split())
        self.addCleanup(first.log.close)
        try:
            self.assertTrue(first.healthy_within([ingest, query]), first.text())
            for name, samples in samples_of.items():
                for sample in samples:
                    self.assertEqual(http("POST", f"{ingest}/server/{name}", json.dumps(sample))[0], 204)
            recorded = {name: self.minutes(query, name) for name in samples_of}
            for name, samples in samples_of.items():
                self.assertEqual(recorded[name], [s["cpu"] for s in samples])
            workers = re.findall(r" started, pid (\d+)", first.text())
            self.assertEqual(len(workers), 2, first.text())
            for pid in workers:
                self.assertEqual(pwd.getpwuid(os.stat(f"/proc/{pid}").st_uid).pw_name, "servertrack")

            # The upgrade, while it runs: the old prerm checkpoints the segment.
            upgrade = [higher_version(deb, "+upgrade1", self.upgrade_dir) for deb in self.debs.values()]
            upgrading = self.dpkg_ok("-i", "--force-confold", *upgrade)
            self.assertIn(f"checkpoint on request: dumped {len(samples_of)} servers", upgrading.stderr)
        finally:
            # A power cut for the old version: no checkpoint of its own at stop.
            first.stop(signal.SIGKILL)
        self.assertNotIn("checkpoint at stop", first.text())
        self.assertRegex(subprocess.run(["dpkg-query", "-W", "-f=${Version}", "servertrack"],
                                        capture_output=True, text=True).stdout, r"\+upgrade1$")
        # No segment, as after a reboot or a layout change: the new version restores.
        self.assertEqual(subprocess.run(["/usr/bin/shmtool", "remove", "--segment", SEGMENT]).returncode, 0)

        second = InstalledAppliance(options.split())
        self.addCleanup(second.log.close)
        try:
            self.assertTrue(second.healthy_within([ingest, query]), second.text())
            self.assertIn("restored", second.text())
            self.assertEqual({name: self.minutes(query, name) for name in samples_of}, recorded)
        finally:
            self.assertEqual(second.stop(), 0, second.text())
        self.assertIn(f"checkpoint at stop: dumped {len(samples_of)} servers", second.text())

        self.dpkg_ok("-r", *PACKAGES)
        self.assertTrue(glob.glob(os.path.join(STATE_DIR, f"{SEGMENT}-*.snap")))
        self.assertTrue(os.path.exists(f"/dev/shm/{SEGMENT}"))
        self.assertFalse(os.path.exists("/usr/bin/servertrack"))

        self.dpkg_ok("-P", *PACKAGES)
        self.assertFalse(os.path.exists(STATE_DIR))
        self.assertFalse(os.path.exists(f"/dev/shm/{SEGMENT}"))
        self.assertFalse(os.path.exists(CONFFILE))

    def dpkg_ok(self, *args):
        """dpkg's output; it must succeed, and no maintainer script may have
        failed on the way (dpkg falls back to the new prerm when the old fails)."""
        result = dpkg(*args)
        output = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, output)
        self.assertNotRegex(output, r"/var/lib/dpkg/(info|tmp\.ci)/\S+: \d+: ", output)
        return result

    def minutes(self, query, name):
        """The CPU values of a server's last-60-minutes window that hold a sample."""
        status, _, body = http("GET", f"{query}/server/{name}")
        self.assertEqual(status, 200, body)
        return [v for v in json.loads(body)["last_60_minutes"]["cpu"] if v is not None]

    @staticmethod
    def leave_machine_clean(made_user):
        for package in PACKAGES:
            if installed(package) or "config-files" in subprocess.run(
                    ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True).stdout:
                dpkg("-P", package)
        if os.path.exists(f"/dev/shm/{SEGMENT}"):
            os.unlink(f"/dev/shm/{SEGMENT}")
        if made_user and user_exists():
            subprocess.run(["userdel", "servertrack"], check=False)
            subprocess.run(["groupdel", "servertrack"], check=False, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    unittest.main()
