"""One source for the defaults (docs/design.md, "Defaults"): the supervisor's
options, both workers' and shmtool's --help all show the values of
common/defaults.ini (the bind address too), the file the supervisor reads and
meson compiles in; the supervisor's stop grace is the file's."""
import argparse
import re
import subprocess
import unittest

from appliance import build_path
from servertrack import defaults
from servertrack.runtime import add_run_options


def help_defaults(*command):
    """{option: default} from a CLI11 --help ("--port INT:INT in [0 - 65535]=8889")."""
    text = subprocess.run([build_path(command[0]), *command[1:], "--help"], capture_output=True,
                          text=True, timeout=30, check=True).stdout
    return dict(re.findall(r"^\s+(--[\w-]+)\s\S.*?=(\S+)", text, re.MULTILINE))


class DefaultsTest(unittest.TestCase):
    def setUp(self):
        self.defaults = defaults.read_defaults()
        self.assertEqual(sorted(self.defaults), ["bind", "capacity", "days", "ingest_port", "query_port", "segment",
                                                 "stop_grace_ms"])

    def test_the_supervisor_runs_with_the_defaults_of_the_file(self):
        parser = argparse.ArgumentParser()
        add_run_options(parser, "build")
        options = parser.parse_args([])
        self.assertEqual((options.segment, options.query_port, options.ingest_port),
                         (self.defaults["segment"], self.defaults["query_port"], self.defaults["ingest_port"]))
        # --capacity adopts the segment's or checkpoint's; a new segment gets the file's.
        self.assertIsNone(options.capacity)
        self.assertEqual(defaults.CAPACITY, self.defaults["capacity"])
        self.assertIsNone(options.days)
        self.assertEqual(defaults.DAYS, self.defaults["days"])

    def test_run_help_shows_the_defaults(self):
        parser = argparse.ArgumentParser()
        add_run_options(parser, "build")
        text = " ".join(parser.format_help().split())
        for option, value in (("--bind", self.defaults["bind"]), ("--query-port", self.defaults["query_port"]),
                              ("--ingest-port", self.defaults["ingest_port"]), ("--ingest-workers", 1),
                              ("--segment", self.defaults["segment"]), ("--build-dir", "build")):
            self.assertRegex(text, rf"{option} \S+ [^(]*\(([^)]*; )?default: {value}\)", option)

    def test_the_workers_and_shmtool_default_to_the_same_values(self):
        ingest = help_defaults("ingest/servertrack-ingest")
        query = help_defaults("query/servertrack-query")
        create = help_defaults("cli/shmtool", "create")
        self.assertEqual(ingest["--port"], str(self.defaults["ingest_port"]))
        self.assertEqual(query["--port"], str(self.defaults["query_port"]))
        self.assertEqual(create["--capacity"], str(self.defaults["capacity"]))
        self.assertEqual(create["--days"], str(self.defaults["days"]))
        for program in (ingest, query, create):
            self.assertEqual(program["--segment"], self.defaults["segment"])
        for worker in (ingest, query):
            self.assertEqual(worker["--bind"], self.defaults["bind"])

    def test_the_supervisor_waits_for_a_stopping_worker_as_long_as_the_file_says(self):
        self.assertEqual(defaults.STOP_GRACE, self.defaults["stop_grace_ms"] / 1000)


if __name__ == "__main__":
    unittest.main()
