"""`servertrack run --ingest-token-file FILE` / `--tokens-file FILE`: every
worker it starts requires the tokens; an unreadable, empty or wrong file stops
the supervisor before any worker starts, with a message naming the file (and
line); SIGHUP makes every worker re-read the files, none restarts; a
non-loopback --bind without --tokens-file needs --insecure-open."""
import os
import signal
import subprocess
import sys
import tempfile
import unittest

from appliance import TestSegment, http, poll
from supervised import BUILD_DIR, SCRIPT, Supervised

SAMPLE = '{"cpu": 1, "ram": 2}'


class IngestToken(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        self.token_file = os.path.join(self.folder.name, "token")

    def write_token(self, text):
        with open(self.token_file, "w") as f:
            f.write(text)
        os.chmod(self.token_file, 0o600)

    def test_both_ingest_workers_require_the_token_and_queries_do_not(self):
        self.write_token("s3cret-token\n")
        with TestSegment() as segment:
            with Supervised(segment.name, segment.capacity, ingest_workers=2,
                            extra_args=("--ingest-token-file", self.token_file)) as run:
                run.wait_ready()
                post = f"{run.ingest_url}/server/web_1"
                # Several connections, so both processes on the shared port answer some.
                for _ in range(8):
                    status, headers, _ = http("POST", post, SAMPLE)
                    self.assertEqual((status, headers.get("www-authenticate")), (401, "Bearer"))
                    wrong = {"Authorization": "Bearer s3cret-tokeX"}
                    self.assertEqual(http("POST", post, SAMPLE, headers=wrong)[0], 401)
                    right = {"Authorization": "Bearer s3cret-token"}
                    self.assertEqual(http("POST", post, SAMPLE, headers=right)[0], 204)
                self.assertEqual(http("GET", f"{run.query_url}/server/web_1")[0], 200)
                self.assertNotIn("s3cret", run.log())
                self.assertIn(f"POSTs and DELETEs need  Authorization: Bearer <a token of {self.token_file}>",
                              run.log(), "the banner says that POSTs need the token")

    def test_an_unusable_token_file_stops_the_supervisor_before_any_worker(self):
        cases = {"a missing file": (None, "cannot read"), "no token": ("\n# later\n", "holds no token")}
        for what, (content, phrase) in cases.items():
            with self.subTest(what=what), TestSegment() as segment:
                if content is not None:
                    self.write_token(content)
                elif os.path.exists(self.token_file):
                    os.unlink(self.token_file)
                result = subprocess.run(
                    [sys.executable, SCRIPT, "run", "--segment", segment.name, "--capacity", str(segment.capacity),
                     "--build-dir", BUILD_DIR, "--ingest-token-file", self.token_file],
                    capture_output=True, text=True, timeout=30)
                self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
                output = result.stdout + result.stderr
                self.assertIn("--ingest-token-file: ", output)
                self.assertIn(phrase, output)
                self.assertIn(self.token_file, output)
                self.assertNotIn("started, pid", output)


    def test_sighup_makes_every_worker_reload_the_tokens_file(self):
        old, new = os.urandom(16).hex(), os.urandom(16).hex()
        self.write_token(f"old {old} write,read\n")
        with TestSegment() as segment:
            with Supervised(segment.name, segment.capacity, ingest_workers=2, query_workers=2,
                            extra_args=("--tokens-file", self.token_file)) as run:
                run.wait_ready()
                self.assertIn(f"every route but /healthz needs  Authorization: Bearer <a token of {self.token_file}>",
                              run.log())
                pids = run.worker_pids()
                post, get = f"{run.ingest_url}/server/web_1", f"{run.query_url}/server/web_1"

                def statuses(token):
                    auth = {"Authorization": f"Bearer {token}"}
                    # Several connections, so every process on the shared ports answers some.
                    return {(http("POST", post, SAMPLE, headers=auth)[0], http("GET", get, headers=auth)[0])
                            for _ in range(12)}
                self.assertEqual(statuses(old), {(204, 200)})
                self.assertEqual(statuses(new), {(401, 401)})
                self.write_token(f"new {new} write,read\n")
                run.signal(signal.SIGHUP)
                self.assertTrue(run.wait_for_line(lambda line: "SIGHUP received; 4 workers re-read" in line, 10),
                                run.log())
                self.assertTrue(poll(lambda: run.log().count("SIGHUP: tokens reloaded") == 4, 10), run.log())
                self.assertEqual(statuses(new), {(204, 200)})
                self.assertEqual(statuses(old), {(401, 401)})
                self.assertIsNone(run.proc.poll(), "the supervisor runs on")
                self.assertEqual(run.worker_pids(), pids, "no worker restarted")
                self.assertNotIn(old, run.log())
                self.assertNotIn(new, run.log())

    def test_insecure_open_is_said_in_the_banner_and_passed_to_the_workers(self):
        with TestSegment() as segment:
            with Supervised(segment.name, segment.capacity, extra_args=("--insecure-open",)) as run:
                run.wait_ready()
                self.assertIn("OPEN to other hosts (--insecure-open): anyone who reaches 127.0.0.1 reads every "
                              "server and writes them", run.log())
                self.assertTrue(poll(lambda: run.log().count("OPEN to other hosts (--insecure-open)") >= 3, 10),
                                "both workers say so too: " + run.log())

    def test_a_wrong_tokens_file_or_an_open_bind_stops_the_supervisor_before_any_worker(self):
        secret = os.urandom(16).hex()
        self.write_token(f"reader {secret} read,wirte\n")
        cases = {"a wrong scope": (["--tokens-file", self.token_file], f"{self.token_file} line 1: unknown scope"),
                 "a non-loopback bind": (["--bind", "0.0.0.0"], "--insecure-open")}
        for what, (args, phrase) in cases.items():
            with self.subTest(what=what), TestSegment() as segment:
                result = subprocess.run(
                    [sys.executable, SCRIPT, "run", "--segment", segment.name, "--capacity", str(segment.capacity),
                     "--build-dir", BUILD_DIR, *args], capture_output=True, text=True, timeout=30)
                output = result.stdout + result.stderr
                self.assertEqual(result.returncode, 2, output)
                self.assertIn(phrase, output)
                self.assertNotIn(secret, output)
                self.assertNotIn("started, pid", output)


if __name__ == "__main__":
    unittest.main()
