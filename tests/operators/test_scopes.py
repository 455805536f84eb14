"""--tokens-file: every route x every scope x name prefix x missing, malformed,
wrong and good tokens, against real workers, on the fast path and on
cpp-httplib's path; listings show only the token's names; refusals do not
tell whether a name exists; refusals and DELETEs are logged with the token's
label, never the token; "Expect: 100-continue" gets its 100 only once the
token is accepted; a non-loopback --bind needs --tokens-file or
--insecure-open."""

import json
import os
import re
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
from http.client import HTTPConnection

from appliance import TestSegment, Worker, appliance, build_path, free_port

SAMPLE = {"cpu": 10, "ram": 20}


def new_token():
    return os.urandom(18).hex()


TOKENS = {  # label -> (token, scopes, prefix)
    "admin": (new_token(), "read,write,delete,metrics", ""),
    "agent-web-01": (new_token(), "write", "web-01"),
    "team-db": (new_token(), "read", "db-"),
    "cleaner": (new_token(), "delete", ""),
    "scraper": (new_token(), "metrics", ""),
    "viewer": (new_token(), "read", ""),
}
ADMIN = {"Authorization": f"Bearer {TOKENS['admin'][0]}"}
EXISTING = ("web-01", "web-02", "db-1")
MISSING = ("web-0x", "db-9")
# (worker, method, path with {name} or None, scope or None for open)
ROUTES = [
    ("ingest", "POST", "/server/{name}", "write"),
    ("ingest", "POST", "/servers", "write"),
    ("ingest", "DELETE", "/server/{name}", "delete"),
    ("ingest", "GET", "/metrics", "metrics"),
    ("ingest", "GET", "/healthz", None),
    ("query", "GET", "/server/{name}", "read"),
    ("query", "GET", "/servers", "read"),
    ("query", "GET", "/fleet", "read"),
    ("query", "GET", "/", None),  # the dashboard's page; its data needs read
    ("query", "GET", "/metrics", "metrics"),
    ("query", "GET", "/healthz", None),
]
# What each kind of credentials sends: [(header name, value)].
BAD_CREDENTIALS = {
    "none": [],
    "malformed": [("Authorization", f"Basic {TOKENS['admin'][0]}")],
    "two headers": [("Authorization", f"Bearer {TOKENS['admin'][0]}")] * 2,
    "wrong": [("Authorization", f"Bearer {new_token()}")],
    "a good one cut short": [("Authorization", f"Bearer {TOKENS['admin'][0][:-1]}")],
}


def send(url, method, path, headers, body=None, general=False):
    """-> (status, headers lower-case, body bytes). `headers` is a list of
    pairs (repeats allowed). general: a header value with '%' sends the
    request cpp-httplib's way (the fast path declines it)."""
    parts = urllib.parse.urlsplit(url)
    connection = HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        payload = json.dumps(body).encode() if body is not None else None
        for name, value in headers:
            connection.putheader(name, value)
        if general:
            connection.putheader("X-Path", "general%20path")
        if payload is not None:
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", str(len(payload)))
        connection.endheaders(payload)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


class Scopes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.TemporaryDirectory()
        cls.tokens_file = os.path.join(cls.folder.name, "tokens")
        with open(cls.tokens_file, "w") as f:
            f.write("# label  token  scopes  [prefix]\n")
            for label, (token, scopes, prefix) in TOKENS.items():
                f.write(f"{label}\t{token}  {scopes} {prefix}   # {label}\n")
        os.chmod(cls.tokens_file, 0o600)

    @classmethod
    def tearDownClass(cls):
        cls.folder.cleanup()

    def setUp(self):
        self.appliance = appliance(worker_args=("--tokens-file", self.tokens_file))
        _, self.ingest, self.query = self.appliance.__enter__()
        self.addCleanup(self.appliance.__exit__, None, None, None)
        self.worker = {"ingest": self.ingest, "query": self.query}
        for name in EXISTING:
            self.restore(name, exists=True)

    def restore(self, name, exists):
        """Makes `name` exist (or not) again after a request that changed it."""
        if exists:
            status = send(self.ingest.url, "POST", f"/server/{name}", ADMIN.items(), SAMPLE)[0]
            self.assertEqual(status, 204)
        else:
            self.assertIn(send(self.ingest.url, "DELETE", f"/server/{name}", ADMIN.items())[0], (204, 404))

    def expected(self, method, route, scope, token_scopes, prefix, name):
        """The status a good token gets."""
        if scope not in token_scopes.split(","):
            return 403
        if name is not None and not name.startswith(prefix):
            return 403
        if route == "/server/{name}" and method in ("GET", "DELETE"):
            return 200 if (method == "GET" and name in EXISTING) else 204 if name in EXISTING else 404
        return {"POST": 204 if route != "/servers" else 200}.get(method, 200)

    def request(self, worker, method, route, name, headers, general):
        path = route.replace("{name}", name) if name else route
        body = SAMPLE if route == "/server/{name}" and method == "POST" else \
            {name or "web-01": SAMPLE} if route == "/servers" and method == "POST" else None
        return send(self.worker[worker].url, method, path, headers, body, general)

    def names_of(self, route, method):
        if "{name}" in route or (route == "/servers" and method == "POST"):
            return EXISTING + MISSING
        return (None,)

    def check_refusal(self, status, headers, body, expected, context):
        self.assertEqual(status, expected, context)
        self.assertEqual(headers.get("content-type"), "application/json", context)
        error = json.loads(body)["error"]
        self.assertIsInstance(error, str)
        for token, _, _ in TOKENS.values():
            self.assertNotIn(token, error)
        challenge = "Bearer" if expected == 401 else 'Bearer error="insufficient_scope"'
        self.assertEqual(headers.get("www-authenticate"), challenge, context)
        return error

    def test_every_route_scope_prefix_and_token(self):
        for general in (False, True):
            refusals = {}  # (route, credentials, existing?) -> error text, per name pair
            for worker, method, route, scope in ROUTES:
                for name in self.names_of(route, method):
                    for what, headers in BAD_CREDENTIALS.items():
                        context = f"{method} {route} {name} with {what} token, general={general}"
                        status, response_headers, body = self.request(worker, method, route, name,
                                                                      headers, general)
                        if scope is None:
                            self.assertEqual(status, 200, context)
                            continue
                        refusals[(route, method, what, name)] = self.check_refusal(
                            status, response_headers, body, 401, context)
                    for label, (token, token_scopes, prefix) in TOKENS.items():
                        for scheme in ("Bearer", "bearer") if label == "admin" else ("Bearer",):
                            context = f"{method} {route} {name} with {label} ({scheme}), general={general}"
                            headers = [("Authorization", f"{scheme} {token}")]
                            status, response_headers, body = self.request(worker, method, route, name,
                                                                          headers, general)
                            want = 200 if scope is None else \
                                self.expected(method, route, scope, token_scopes, prefix, name)
                            if want in (401, 403):
                                refusals[(route, method, label, name)] = self.check_refusal(
                                    status, response_headers, body, want, context)
                            else:
                                self.assertEqual(status, want, context + f": {body[:200]!r}")
                                if method != "GET" and name is not None:
                                    self.restore(name, exists=name in EXISTING)
            # A refusal reads the same for a name that exists and one that does not.
            for (route, method, who, name), error in refusals.items():
                for twin_existing, twin_missing in (("web-02", "web-0x"), ("db-1", "db-9")):
                    if name == twin_existing and (route, method, who, twin_missing) in refusals:
                        self.assertEqual(error, refusals[(route, method, who, twin_missing)],
                                         f"{method} {route} {who}")
        fast = self.metric(self.ingest, "servertrack_http_fast_path_requests_total")
        self.assertGreater(fast, 0, "POSTs with good tokens were served on the fast path")

    def metric(self, worker, name):
        body = send(worker.url, "GET", "/metrics", ADMIN.items())[2].decode()
        return sum(float(line.split()[-1]) for line in body.splitlines() if line.startswith(name + " "))

    def listed(self, path, token_label):
        token = TOKENS[token_label][0]
        status, _, body = send(self.query.url, "GET", path, [("Authorization", f"Bearer {token}")])
        self.assertEqual(status, 200, body)
        return sorted(server["name"] for server in json.loads(body)["servers"])

    def test_listings_show_only_the_names_of_the_tokens_prefix(self):
        for path in ("/servers", "/fleet"):
            with self.subTest(path=path):
                self.assertEqual(self.listed(path, "team-db"), ["db-1"])
                self.assertEqual(self.listed(path + "?prefix=d", "team-db"), ["db-1"])
                self.assertEqual(self.listed(path + "?prefix=db-1", "team-db"), ["db-1"])
                self.assertEqual(self.listed(path + "?prefix=web", "team-db"), [])
                self.assertEqual(self.listed(path, "viewer"), sorted(EXISTING))
                self.assertEqual(self.listed(path + "?prefix=web", "viewer"), ["web-01", "web-02"])
        fleet = json.loads(send(self.query.url, "GET", "/fleet",
                                [("Authorization", f"Bearer {TOKENS['team-db'][0]}")])[2])
        self.assertEqual(fleet["total"], 1, "the total counts only the token's names")

    def test_the_prometheus_surfaces_show_only_the_names_of_the_tokens_prefix(self):
        def names(path, token_label):
            token = TOKENS[token_label][0]
            status, _, body = send(self.query.url, "GET", path, [("Authorization", f"Bearer {token}")])
            self.assertEqual(status, 200, body)
            if path.startswith("/export/"):
                return sorted(set(re.findall(r'server="([^"]+)"', body.decode())))
            data = json.loads(body)["data"]
            if isinstance(data, dict):  # an instant query's vector
                return sorted({sample["metric"]["server"] for sample in data["result"]})
            return sorted({series["server"] for series in data} if data and isinstance(data[0], dict) else data)

        # The scrape shows the last complete minute: with setUp's live sample and one
        # stated a minute ago, it has one whichever minute the GET falls in.
        for name in EXISTING:
            sample = dict(SAMPLE, time=int(time.time()) - 60)
            self.assertEqual(send(self.ingest.url, "POST", f"/server/{name}", ADMIN.items(), sample)[0], 204)
        selector = urllib.parse.quote('servertrack_cpu_percent{server=~".+"}')
        for path in ("/export/prometheus", f"/api/v1/query?query={selector}", f"/api/v1/series?match[]={selector}",
                     "/api/v1/label/server/values"):
            with self.subTest(path=path):
                self.assertEqual(names(path, "team-db"), ["db-1"])
                self.assertEqual(names(path, "viewer"), sorted(EXISTING))

    def test_the_issues_example(self):
        write = [("Authorization", f"Bearer {TOKENS['agent-web-01'][0]}")]
        self.assertEqual(send(self.ingest.url, "POST", "/server/web-01", write, SAMPLE)[0], 204)
        self.assertEqual(send(self.ingest.url, "POST", "/server/web-02", write, SAMPLE)[0], 403)
        self.assertEqual(send(self.ingest.url, "POST", "/servers", write, {"web-01": SAMPLE, "web-02": SAMPLE})[0],
                         403, "a batch with one name outside the prefix is refused whole")
        self.assertEqual(send(self.ingest.url, "DELETE", "/server/web-01", write)[0], 403)
        self.assertEqual(send(self.query.url, "GET", "/server/web-01", write)[0], 403)

    def test_refusals_and_deletes_are_logged_with_the_label_never_the_token(self):
        write = [("Authorization", f"Bearer {TOKENS['agent-web-01'][0]}")]
        clean = [("Authorization", f"Bearer {TOKENS['cleaner'][0]}")]
        send(self.ingest.url, "POST", "/server/web-02", write, SAMPLE)
        send(self.ingest.url, "DELETE", "/server/web-02", [])
        send(self.ingest.url, "DELETE", "/server/web-02", clean)
        send(self.query.url, "GET", "/server/db-1", [("Authorization", "Bearer " + new_token())])
        ingest_log, query_log = self.ingest.stderr_text(), self.query.stderr_text()
        self.assertIn('refused POST "/server/<name>" name "web-02": 403, token "agent-web-01"', ingest_log)
        self.assertIn('refused DELETE "/server/<name>" name "web-02": 401, token none or unknown', ingest_log)
        self.assertIn('DELETE /server/<name> name "web-02", token "cleaner": ok', ingest_log)
        self.assertIn('refused GET "/server/<name>" name "db-1": 401, token none or unknown', query_log)
        for token, _, _ in TOKENS.values():
            self.assertNotIn(token, ingest_log + query_log)

    def exchange_head(self, headers, body_length=20):
        """Sends a POST head with Expect: 100-continue; -> what comes back first."""
        sock = socket.create_connection(("127.0.0.1", self.ingest.port), timeout=5)
        with sock:
            sock.sendall(b"POST /server/web-01 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers)
                         + f"Content-Length: {body_length}\r\nExpect: 100-continue\r\n\r\n".encode())
            first = sock.recv(4096)
            if first.startswith(b"HTTP/1.1 100"):
                sock.sendall(json.dumps({"cpu": 1, "ram": 2}).ljust(body_length).encode())
                first += sock.recv(4096)
            return first

    def test_100_continue_only_after_the_token_is_accepted(self):
        good = self.exchange_head([("Authorization", f"Bearer {TOKENS['agent-web-01'][0]}")])
        self.assertTrue(good.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204"), good)
        for headers, status in (([], b"401"), ([("Authorization", "Bearer " + new_token())], b"401"),
                                ([("Authorization", f"Bearer {TOKENS['viewer'][0]}")], b"403")):
            with self.subTest(headers=headers):
                answer = self.exchange_head(headers)
                self.assertTrue(answer.startswith(b"HTTP/1.1 " + status), answer)
                self.assertNotIn(b"100 Continue", answer)
                self.assertIn(b"Connection: close", answer)


class PeersWithTokens(unittest.TestCase):
    """A query worker given --peers asks them with the client's token: the
    merged /fleet and /servers list the token's names of every node."""

    def test_merged_listings_use_the_clients_token(self):
        with tempfile.TemporaryDirectory() as folder:
            tokens_file = os.path.join(folder, "tokens")
            with open(tokens_file, "w") as f:
                for label, (token, scopes, prefix) in TOKENS.items():
                    f.write(f"{label} {token} {scopes} {prefix}\n")
            access = ("--tokens-file", tokens_file)
            ports = {"a": free_port(), "b": free_port()}
            peers = ",".join(f"{node}=127.0.0.1:{port}" for node, port in ports.items())
            with TestSegment() as seg_a, TestSegment() as seg_b, \
                    Worker("ingest", seg_a, args=access) as ingest_a, Worker("ingest", seg_b, args=access) as ingest_b, \
                    Worker("query", seg_a, port=ports["a"], args=(*access, "--peers", peers)) as query_a, \
                    Worker("query", seg_b, port=ports["b"], args=(*access, "--peers", peers)):
                for ingest, names in ((ingest_a, ("db-1", "web-01")), (ingest_b, ("db-2", "web-02"))):
                    for name in names:
                        self.assertEqual(send(ingest.url, "POST", f"/server/{name}", ADMIN.items(), SAMPLE)[0], 204)
                reader = [("Authorization", f"Bearer {TOKENS['team-db'][0]}")]
                for path in ("/fleet", "/servers"):
                    with self.subTest(path=path):
                        status, _, body = send(query_a.url, "GET", path, reader)
                        answer = json.loads(body)
                        self.assertEqual(status, 200, answer)
                        self.assertEqual(answer["unreachable"], [], answer)
                        self.assertEqual(sorted(s["name"] for s in answer["servers"]), ["db-1", "db-2"])
                        self.assertEqual(send(query_a.url, "GET", path, [])[0], 401)
                        status, _, body = send(query_a.url, "GET", path + "?prefix=web", reader)
                        self.assertEqual((status, json.loads(body)["servers"]), (200, []))
                viewer = [("Authorization", f"Bearer {TOKENS['viewer'][0]}")]
                answer = json.loads(send(query_a.url, "GET", "/fleet", viewer)[2])
                self.assertEqual(sorted(s["name"] for s in answer["servers"]), ["db-1", "db-2", "web-01", "web-02"])


class Exposure(unittest.TestCase):
    def run_worker(self, *args):
        return subprocess.run([build_path("ingest/servertrack-ingest"), "--port", "0",
                               "--segment", "sttest_never_attached", *args],
                              capture_output=True, text=True, timeout=10)

    def test_a_non_loopback_bind_needs_a_tokens_file_or_insecure_open(self):
        for bind in ("0.0.0.0", "::", "192.0.2.1"):
            with self.subTest(bind=bind):
                refused = self.run_worker("--bind", bind)
                self.assertEqual(refused.returncode, 2, refused.stderr)
                self.assertIn("--insecure-open", refused.stderr)
                self.assertIn("--tokens-file", refused.stderr)
                # Past the check, the worker goes on to attach the (absent) segment: exit 1.
                self.assertEqual(self.run_worker("--bind", bind, "--insecure-open").returncode, 1)
        for bind in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
            with self.subTest(bind=bind):
                self.assertEqual(self.run_worker("--bind", bind).returncode, 1)

    def test_a_bad_tokens_file_stops_the_worker_naming_the_line_not_the_token(self):
        with tempfile.NamedTemporaryFile("w", prefix="servertrack-tokens-") as tokens:
            secret = new_token()
            tokens.write(f"# ok\nadmin {secret} read,writ\n")
            tokens.flush()
            result = self.run_worker("--tokens-file", tokens.name)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn(f"{tokens.name} line 2: unknown scope 'writ'", result.stderr)
            self.assertNotIn(secret, result.stderr)


if __name__ == "__main__":
    unittest.main()
