"""deploy/haproxy/generate.py on its own: bad arguments get a clear error and no
configuration; a node's place on the ring depends on its name only (README.md,
"More than one host"); every generated file passes `haproxy -c` without warnings."""

import re
import subprocess
import tempfile
import unittest

from fleet import GENERATOR

NODES = ["--node", "a=127.0.0.1:1001:1002", "--node", "b=127.0.0.1:1003:1004", "--node", "c=127.0.0.1:1005:1006"]


def generate(*args):
    return subprocess.run([GENERATOR, "--bind", "127.0.0.1:1000", "--socket-dir", "/tmp", *args],
                          capture_output=True, text=True, timeout=30)


def ring_servers(config):
    """{node: id} of the servers of the (first) hash ring."""
    ring = config.split("backend servertrack_ring\n", 1)[1].split("\n\n", 1)[0]
    return dict(re.findall(r"^    server (\S+) \S+ id (\d+) ", ring, re.MULTILINE))


class GeneratorTest(unittest.TestCase):
    def test_bad_arguments_are_refused_with_a_clear_error(self):
        cases = {
            ("--node", "a=127.0.0.1:8889"): "HOST:INGEST_PORT:QUERY_PORT",
            ("--node", "A b=127.0.0.1:1:2"): "NAME of a-z",
            ("--node", "a=127.0.0.1:70000:2"): "is not HOST:INGEST_PORT:QUERY_PORT",
            ("--node", "a=127.0.0.1:1:2", "--node", "a=127.0.0.1:3:4"): "repeats a name",
            ("--node", "a=127.0.0.1:1:2+127.0.0.1:3:4"): "needs --copy-bind",
            ("--copy-bind", "127.0.0.1:999", "--node", "a=127.0.0.1:1:2"): "needs every --node to be a pair",
            ("--node", "a=h:1:2+h:3:4+h:5:6", "--copy-bind", "h:9"): "one appliance or a pair",
            ("--check-interval-ms", "10", "--node", "a=127.0.0.1:1:2"): "at least 100",
        }
        for args, message in cases.items():
            with self.subTest(args=args):
                result = generate(*args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(message, result.stderr)
                self.assertEqual(result.stdout, "")

    def test_the_ring_depends_on_node_names_not_on_their_order(self):
        forward = generate(*NODES)
        backward = generate("--node", NODES[5], "--node", NODES[3], "--node", NODES[1])
        self.assertEqual((forward.returncode, backward.returncode), (0, 0))
        self.assertEqual(ring_servers(forward.stdout), ring_servers(backward.stdout))
        self.assertEqual(sorted(ring_servers(forward.stdout)), ["a", "b", "c"])
        fewer = generate("--node", NODES[1], "--node", NODES[5])  # b removed: a and c keep their ids
        self.assertEqual(ring_servers(fewer.stdout),
                         {node: ring_servers(forward.stdout)[node] for node in ("a", "c")})

    def test_generated_files_pass_haproxy_check_without_warnings(self):
        pairs = ["--copy-bind", "127.0.0.1:999", "--node", "a=127.0.0.1:1:2+127.0.0.1:3:4",
                 "--node", "b=127.0.0.1:5:6+127.0.0.1:7:8"]
        for args in (NODES, pairs, NODES + ["--user", "root"]):
            with self.subTest(args=args), tempfile.NamedTemporaryFile("w", suffix=".cfg") as config:
                result = generate(*args)
                self.assertEqual(result.returncode, 0, result.stderr)
                config.write(result.stdout)
                config.flush()
                check = subprocess.run(["haproxy", "-dW", "-c", "-f", config.name],
                                       capture_output=True, text=True, timeout=30)
                self.assertEqual(check.returncode, 0, check.stdout + check.stderr)


if __name__ == "__main__":
    unittest.main()
