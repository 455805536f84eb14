"""--ingest-token / --ingest-token-file: POSTs need "Authorization: Bearer
<token>" (401 with WWW-Authenticate otherwise; the scheme in any case); the
file may hold several tokens, one a line, each accepted; GETs are unaffected;
the token never appears in an answer or in the log."""

import json
import os
import subprocess
import tempfile
import unittest

from appliance import appliance, assert_json_error, build_path, http, list_servers, request_json

TOKEN = "tok_" + os.urandom(12).hex()
OTHER_TOKEN = "tok_" + os.urandom(12).hex()
SAMPLE = json.dumps({"cpu": 1, "ram": 2})


class TokenTest(unittest.TestCase):
    def check_token_required(self, ingest, query, token=TOKEN):
        good = {"Authorization": f"Bearer {token}"}
        refused = [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"},
                   {"Authorization": f"Bearer {TOKEN[:-1]}"}, {"Authorization": TOKEN},
                   {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer "}]
        for path, body in (("/server/host", SAMPLE), ("/servers", json.dumps({"host": json.loads(SAMPLE)}))):
            for headers in refused:
                with self.subTest(path=path, headers=headers):
                    status, response_headers, document = request_json("POST", ingest.url + path, body, headers)
                    assert_json_error(self, status, response_headers, document, 401)
                    self.assertEqual(response_headers.get("www-authenticate"), "Bearer")
                    self.assertNotIn(TOKEN, json.dumps(document))
        self.assertEqual(list_servers(query), (200, {"servers": [], "next_after": None}))
        self.assertEqual(http("POST", ingest.url + "/server/host", SAMPLE, good)[0], 204)
        for scheme in ("bearer", "BEARER", "bEaReR"):
            with self.subTest(scheme=scheme):
                lowercase = {"Authorization": f"{scheme} {token}"}
                self.assertEqual(http("POST", ingest.url + "/server/host", SAMPLE, lowercase)[0], 204)
        status, answer = request_json("POST", ingest.url + "/servers", {"other": {"cpu": 1, "ram": 2}}, good)[::2]
        self.assertEqual((status, answer["recorded"]), (200, 1))
        # GETs need no token, on either worker.
        self.assertEqual(http("GET", query.url + "/server/host")[0], 200)
        self.assertEqual(http("GET", ingest.url + "/metrics")[0], 200)
        self.assertEqual(http("GET", ingest.url + "/healthz")[0], 200)
        self.assertNotIn(TOKEN, ingest.stderr_text())

    def test_missing_malformed_and_wrong_tokens_get_different_messages(self):
        with appliance(ingest_args=("--ingest-token", TOKEN)) as (_, ingest, _query):
            def error(headers):
                return request_json("POST", ingest.url + "/server/host", SAMPLE, headers)[2]["error"]
            self.assertIn("needs a token", error({}))
            self.assertIn("exactly one header", error({"Authorization": f"Basic {TOKEN}"}))
            self.assertIn("not one this appliance accepts", error({"Authorization": "Bearer wrong"}))

    def test_token_on_the_command_line(self):
        with appliance(ingest_args=("--ingest-token", TOKEN)) as (_, ingest, query):
            self.check_token_required(ingest, query)

    def test_token_from_a_file(self):
        with tempfile.NamedTemporaryFile("w", prefix="servertrack-token-") as token_file:
            token_file.write(TOKEN + "\n")
            token_file.flush()
            with appliance(ingest_args=("--ingest-token-file", token_file.name)) as (_, ingest, query):
                self.check_token_required(ingest, query)

    def test_several_tokens_in_the_file_are_each_accepted(self):
        with tempfile.NamedTemporaryFile("w", prefix="servertrack-token-") as token_file:
            token_file.write(f"# rotating: the old one goes once every agent has the new one\n"
                             f"{TOKEN}\n\n  {OTHER_TOKEN}  \n")
            token_file.flush()
            with appliance(ingest_args=("--ingest-token-file", token_file.name)) as (_, ingest, query):
                self.check_token_required(ingest, query, OTHER_TOKEN)
                for token in (TOKEN, OTHER_TOKEN):
                    self.assertEqual(http("POST", ingest.url + "/server/host", SAMPLE,
                                          {"Authorization": f"Bearer {token}"})[0], 204)
                self.assertNotIn(OTHER_TOKEN, ingest.stderr_text())

    def test_without_a_token_posts_need_no_header(self):
        with appliance() as (_, ingest, _query):
            self.assertEqual(http("POST", ingest.url + "/server/host", SAMPLE)[0], 204)

    def test_unusable_token_options_exit_non_zero_without_printing_the_token(self):
        with tempfile.NamedTemporaryFile("w", prefix="servertrack-token-") as empty:
            for args in (["--ingest-token-file", empty.name],
                         ["--ingest-token-file", "/nonexistent/token"],
                         ["--ingest-token", TOKEN, "--ingest-token-file", empty.name]):
                with self.subTest(args=args):
                    result = subprocess.run([build_path("ingest/servertrack-ingest"), "--port", "0",
                                             "--segment", "sttest_never_attached", *args],
                                            capture_output=True, text=True, timeout=10)
                    self.assertNotIn(result.returncode, (0, None), result.stderr)
                    self.assertIn("ingest-token", result.stderr)
                    self.assertNotIn(TOKEN, result.stderr + result.stdout)


if __name__ == "__main__":
    unittest.main()
