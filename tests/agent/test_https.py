"""servertrack-agent over HTTPS (cpp-httplib with OpenSSL): it checks the
server's certificate (a self-signed one is refused, said at every try as a
configuration error, exit 78 with --once, and the sample spooled),
and with --ca-file trusting that certificate it POSTs the sample with its
token. The server is a small TLS stand-in for the appliance on 127.0.0.1,
since the appliance itself has no TLS (README, "Exposing it safely")."""

import http.server
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import unittest

from agent_common import Agent, FakeProc, read_spool

NAME = "web-01.example.com"
TOKEN = "tok_" + os.urandom(8).hex()


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    """Answers every POST 204 and keeps (path, Authorization, JSON body)."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append((self.path, self.headers["Authorization"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class HttpsTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="servertrack-agent-tls-")
        self.addCleanup(shutil.rmtree, self.work)
        self.cert = os.path.join(self.work, "cert.pem")
        key = os.path.join(self.work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-keyout", key, "-out", self.cert, "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        self.token_file = os.path.join(self.work, "token")
        with open(self.token_file, "w", encoding="ascii") as token:
            token.write(TOKEN + "\n")
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
        self.server.posts = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(self.server.shutdown)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"

    def run_once(self, *args):
        """One --once run from a fake /proc; -> (exit code, log)."""
        with FakeProc() as proc:
            proc.set_stat(user=100, system=100, idle=800)
            proc.set_meminfo(total_kib=1000, available_kib=500)
            with Agent(self.url, os.path.join(self.work, "spool"),
                       ("--name", NAME, "--interval", "1", "--once", "--token-file",
                        self.token_file, "--proc-root", proc.path, *args)) as agent:
                agent.wait_for_log("reporting as")
                proc.set_stat(user=150, system=150, idle=900)
                return agent.wait(), agent.stderr_text()

    def test_an_untrusted_certificate_is_refused_and_the_sample_spooled(self):
        status, log = self.run_once()
        self.assertEqual(status, 78, log)
        self.assertIn("error: the TLS certificate of " + self.url + " is not trusted", log)
        self.assertIn("give --ca-file the CA that signed it", log)
        self.assertEqual(self.server.posts, [])
        self.assertEqual([sample[1:] for sample in read_spool(os.path.join(self.work, "spool", NAME))],
                         [(50.0, 50.0)])

    def test_an_untrusted_certificate_is_said_at_every_try(self):
        with FakeProc() as proc:
            ticks = 1000
            proc.set_stat(user=ticks, system=0, idle=ticks)
            proc.set_meminfo(total_kib=1000, available_kib=500)
            spool = os.path.join(self.work, "spool", NAME)
            with Agent(self.url, os.path.join(self.work, "spool"),
                       ("--name", NAME, "--interval", "1", "--proc-root", proc.path)) as agent:
                agent.wait_for_log("reporting as")
                for tries in range(1, 4):
                    ticks += 100
                    proc.set_stat(user=ticks, system=0, idle=ticks)
                    agent.wait_for_log("is not trusted", count=tries)
                self.assertEqual(agent.stop(), 0)
        self.assertGreaterEqual(len(read_spool(spool)), 3)

    def test_with_ca_file_the_sample_is_posted_with_its_token(self):
        status, log = self.run_once("--ca-file", self.cert)
        self.assertEqual(status, 0, log)
        [(path, authorization, sample)] = self.server.posts
        self.assertEqual((path, authorization), (f"/server/{NAME}", f"Bearer {TOKEN}"))
        self.assertEqual((sample["cpu"], sample["ram"]), (50, 50))
        self.assertIsInstance(sample["time"], int)


if __name__ == "__main__":
    unittest.main()
