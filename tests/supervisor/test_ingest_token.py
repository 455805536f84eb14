"""`servertrack run --ingest-token-file FILE`: every ingest worker it starts
requires the token on POSTs; an unreadable or empty file stops the supervisor
before any worker starts, with a message naming the file."""
import os
import subprocess
import sys
import tempfile
import unittest

from appliance import TestSegment, http
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
                self.assertIn(f"POSTs need       Authorization: Bearer <the first line of {self.token_file}>",
                              run.log(), "the banner says that POSTs need the token")

    def test_an_unusable_token_file_stops_the_supervisor_before_any_worker(self):
        cases = {"a missing file": (None, "cannot read"), "an empty first line": ("\nlater\n", "has no token")}
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


if __name__ == "__main__":
    unittest.main()
