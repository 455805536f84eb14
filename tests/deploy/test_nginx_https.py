"""deploy/nginx/servertrack.conf, the one HTTPS origin (README.md, "Exposing it
safely"): rendered into a temp dir with test ports and a certificate made here
with openssl, run by Debian's nginx as this test's own process in front of real
workers with a --tokens-file, and spoken to over TLS with `curl --cacert`, as
an operator would: the Authorization header reaches the workers, their 401
and 403 (with WWW-Authenticate) reach the client."""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from appliance import appliance, free_port, http

SOURCE_DIR = os.environ.get("SERVERTRACK_SOURCE_DIR", "")
RECIPE = os.path.join(SOURCE_DIR, "deploy", "nginx", "servertrack.conf")
TOKEN = "tok_" + os.urandom(12).hex()          # write and delete, every name
READ = "read_" + os.urandom(12).hex()          # read, names starting with web_
OPS = "ops_" + os.urandom(12).hex()            # every scope
TOKENS_FILE = f"""# label token scopes [prefix]
writer {TOKEN} write,delete
web-team {READ} read web_
ops {OPS} read,write,delete,metrics
"""
SAMPLE = json.dumps({"cpu": 12.5, "ram": 40.25})

# The recipe's own values and what the test puts in their place; each must
# occur exactly once, so a recipe that changes shape fails here loudly.
MAIN_CONFIG = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/servertrack.conf;
}}
"""


def render_recipe(directory, https_port, ingest_port, query_port):
    with open(RECIPE, encoding="utf-8") as recipe:
        text = recipe.read()
    replacements = {
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "127.0.0.1:8889;": f"127.0.0.1:{ingest_port};",
        "127.0.0.1:8888;": f"127.0.0.1:{query_port};",
        "/etc/ssl/certs/servertrack.pem": os.path.join(directory, "cert.pem"),
        "/etc/ssl/private/servertrack.key": os.path.join(directory, "key.pem"),
    }
    for original, replacement in replacements.items():
        if text.count(original) != 1:
            raise AssertionError(f"{RECIPE} should contain {original!r} exactly once")
        text = text.replace(original, replacement)
    with open(os.path.join(directory, "servertrack.conf"), "w", encoding="utf-8") as out:
        out.write(text)
    with open(os.path.join(directory, "nginx.conf"), "w", encoding="utf-8") as out:
        out.write(MAIN_CONFIG.format(dir=directory))


def make_certificate(directory):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", os.path.join(directory, "key.pem"),
                    "-out", os.path.join(directory, "cert.pem")],
                   check=True, capture_output=True, timeout=30)


def established_local_ports(remote_port):
    """Local ports of this host's established IPv4 connections to remote_port (/proc/net/tcp)."""
    ports = set()
    with open("/proc/net/tcp", encoding="ascii") as table:
        next(table)
        for line in table:
            fields = line.split()
            if int(fields[2].split(":")[1], 16) == remote_port and fields[3] == "01":
                ports.add(int(fields[1].split(":")[1], 16))
    return ports


class NginxHttpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="servertrack-nginx-")
        os.chmod(cls.dir, 0o755)  # nginx's worker process may run as nobody
        cls.stack = contextlib.ExitStack()
        tokens_file = os.path.join(cls.dir, "tokens")
        with open(tokens_file, "w", encoding="ascii") as tokens:
            tokens.write(TOKENS_FILE)
        _, cls.ingest, cls.query = cls.stack.enter_context(appliance(worker_args=("--tokens-file", tokens_file)))
        cls.port = free_port()
        make_certificate(cls.dir)
        render_recipe(cls.dir, cls.port, cls.ingest.port, cls.query.port)
        cls.nginx = subprocess.Popen(
            ["nginx", "-p", cls.dir, "-c", os.path.join(cls.dir, "nginx.conf"),
             "-e", os.path.join(cls.dir, "error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.base = f"https://127.0.0.1:{cls.port}"
        deadline = time.monotonic() + 10
        while cls.curl("GET", "/healthz")[0] != 200:
            if cls.nginx.poll() is not None or time.monotonic() > deadline:
                log = open(os.path.join(cls.dir, "error.log"), encoding="utf-8").read()
                cls.tearDownClass()
                raise RuntimeError(f"nginx did not serve the recipe: {log}")
            time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        if cls.nginx.poll() is None:
            cls.nginx.send_signal(signal.SIGQUIT)  # graceful stop
            try:
                cls.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                cls.nginx.kill()
                cls.nginx.wait()
        cls.stack.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def curl(cls, method, path, body=None, headers=(), extra=()):
        """(status, body) of one request through nginx, verified against the test's CA."""
        command = ["curl", "-sS", "--cacert", os.path.join(cls.dir, "cert.pem"),
                   "-X", method, "-o", "-", "-w", "\n%{http_code}", "--max-time", "10", *extra]
        if method == "HEAD":
            command[command.index("-X"):command.index("-X") + 2] = ["--head"]
        for header in headers:
            command += ["-H", header]
        if body is not None:
            command += ["--data-binary", "@-"]
        result = subprocess.run(command + [cls.base + path], input=(body or "").encode(),
                                capture_output=True, timeout=20)
        if result.returncode != 0:
            return 0, result.stderr.decode(errors="replace")
        text, _, status = result.stdout.decode(errors="replace").rpartition("\n")
        return int(status), text

    def route_count(self, worker):
        """How many /server/<name> requests the worker has answered (its /metrics)."""
        metrics = http("GET", worker.url + "/metrics", headers={"Authorization": f"Bearer {OPS}"})[2].decode()
        return sum(int(count) for count in re.findall(
            r'^servertrack_http_requests_total\{route="/server/<name>",status="\d+"\} (\d+)$',
            metrics, re.MULTILINE))

    def test_post_with_the_token_then_get_through_one_https_origin(self):
        status, _ = self.curl("POST", "/server/web_1", SAMPLE, [f"Authorization: Bearer {TOKEN}"])
        self.assertEqual(status, 204)
        status, answer = self.curl("GET", "/server/web_1", headers=[f"Authorization: bearer {READ}"])
        self.assertEqual(status, 200, answer)
        self.assertEqual(json.loads(answer)["last_60_minutes"]["cpu"][-1], 12.5)
        self.assertEqual(self.curl("HEAD", "/server/web_1", headers=[f"Authorization: Bearer {READ}"])[0], 200)
        status, answer = self.curl("GET", "/fleet", headers=[f"Authorization: Bearer {READ}"])
        self.assertEqual(status, 200, answer)
        self.assertTrue(all(s["name"].startswith("web_") for s in json.loads(answer)["servers"]), answer)

    def test_post_without_the_token_is_refused(self):
        self.assertEqual(self.curl("POST", "/server/no_token", SAMPLE)[0], 401)
        self.assertEqual(self.curl("POST", "/server/no_token", SAMPLE,
                                   ["Authorization: Bearer wrong"])[0], 401)
        self.assertEqual(self.curl("GET", "/server/no_token", headers=[f"Authorization: Bearer {OPS}"])[0], 404)

    def test_refusals_and_their_challenge_reach_the_client(self):
        cases = (("GET", "/server/web_1", [], 401, "Bearer"),
                 ("GET", "/fleet", ["Authorization: Bearer wrong"], 401, "Bearer"),
                 ("GET", "/server/db_1", [f"Authorization: Bearer {READ}"], 403, 'Bearer error="insufficient_scope"'),
                 ("POST", "/server/web_2", [f"Authorization: Bearer {READ}"], 403, 'Bearer error="insufficient_scope"'),
                 ("GET", "/metrics", [f"Authorization: Bearer {TOKEN}"], 403, 'Bearer error="insufficient_scope"'))
        for method, path, headers, status, challenge in cases:
            with self.subTest(method=method, path=path, headers=headers):
                got, answer = self.curl(method, path, SAMPLE if method == "POST" else None, headers, extra=["-i"])
                self.assertEqual(got, status, answer)
                self.assertIn(f"\r\nWWW-Authenticate: {challenge}\r\n", answer)
                self.assertIn('{"error": "', answer)

    def test_the_method_picks_the_worker(self):
        # DELETE belongs to the ingest worker whatever it answers today; no
        # redirect is ever seen through the proxy.
        for method, worker in (("DELETE", self.ingest), ("GET", self.query), ("HEAD", self.query)):
            with self.subTest(method=method):
                before = (self.route_count(self.ingest), self.route_count(self.query))
                status, _ = self.curl(method, "/server/someone", headers=[f"Authorization: Bearer {OPS}"])
                self.assertNotIn(status, (0, 307, 502, 504))
                after = (self.route_count(self.ingest), self.route_count(self.query))
                expected = (before[0] + (worker is self.ingest), before[1] + (worker is self.query))
                self.assertEqual(after, expected)

    def test_limits_are_refused_at_the_proxy(self):
        # nginx's own error pages, not the workers' JSON: the request never
        # reached a worker.
        token = [f"Authorization: Bearer {TOKEN}"]
        body = '{"cpu": 1, "ram": 2' + " " * (64 * 1024) + "}"
        status, answer = self.curl("POST", "/server/big", body, token)
        self.assertEqual((status, "<center>nginx/" in answer), (413, True), answer)
        status, answer = self.curl("GET", "/server/big", headers=[f"Authorization: Bearer {OPS}",
                                                                  "X-Pad: " + "a" * 17 * 1024])
        self.assertEqual((status, "<center>nginx/" in answer), (400, True), answer)

    def test_upstream_connections_are_kept_alive(self):
        # Ten POSTs one after the other all travel on one connection nginx keeps
        # open to the ingest worker.
        token = [f"Authorization: Bearer {TOKEN}"]
        seen = []
        for number in range(10):
            self.assertEqual(self.curl("POST", f"/server/kept_{number}", SAMPLE, token)[0], 204)
            seen.append(established_local_ports(self.ingest.port))
        self.assertEqual(len(seen[0]), 1, seen)
        self.assertEqual(seen, [seen[0]] * 10)


if __name__ == "__main__":
    unittest.main()
