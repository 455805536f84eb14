"""SIGHUP re-reads --tokens-file and --ingest-token-file without a restart: a
removed token is refused at once, an added one accepted, a connection open
across the reload (with a request half sent) completes and stays open; a file
that no longer reads keeps the tokens in force."""

import json
import os
import signal
import socket
import tempfile
import time
import unittest

from appliance import appliance, http

SAMPLE = json.dumps({"cpu": 1, "ram": 2})


def token():
    return os.urandom(18).hex()


def post_bytes(name, secret, body=SAMPLE):
    return (f"POST /server/{name} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()


def read_status(sock):
    """The status of the next response on a keep-alive connection (body read)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"the worker closed the connection after {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        rest += sock.recv(4096)
    return int(head.split(b" ")[1])


class TokenReload(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)

    def write(self, path, text):
        with open(path + ".new", "w") as f:
            f.write(text)
        os.replace(path + ".new", path)

    def reload(self, workers, expect):
        marks = [w.stderr_text().count("SIGHUP: tokens") for w in workers]
        for worker in workers:
            os.kill(worker.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        for worker, mark in zip(workers, marks):
            while worker.stderr_text().count("SIGHUP: tokens") == mark:
                self.assertLess(time.monotonic(), deadline, "no reload logged")
                time.sleep(0.01)
            self.assertIn(expect, worker.stderr_text().rsplit("SIGHUP: tokens", 1)[1])

    def status(self, worker, method, path, secret, body=None):
        return http(method, worker.url + path, body, {"Authorization": f"Bearer {secret}"})[0]

    def test_tokens_file_reload(self):
        old, keep, new = token(), token(), token()
        path = os.path.join(self.folder.name, "tokens")
        self.write(path, f"old {old} write,read\nkeep {keep} write,read\n")
        with appliance(worker_args=("--tokens-file", path)) as (_, ingest, query):
            pids = (ingest.pid, query.pid)
            self.assertEqual(self.status(ingest, "POST", "/server/a", old, SAMPLE), 204)
            self.assertEqual(self.status(ingest, "POST", "/server/a", new, SAMPLE), 401)
            in_flight = socket.create_connection(("127.0.0.1", ingest.port), timeout=5)
            with in_flight:
                request = post_bytes("a", keep)
                in_flight.sendall(request[:-5])  # the head and most of the body
                self.write(path, f"keep {keep} write,read\nnew {new} write,read\n")
                self.reload((ingest, query), "reloaded: 2 tokens in force")
                self.assertEqual(self.status(ingest, "POST", "/server/a", old, SAMPLE), 401)
                self.assertEqual(self.status(query, "GET", "/server/a", old), 401)
                self.assertEqual(self.status(ingest, "POST", "/server/a", new, SAMPLE), 204)
                self.assertEqual(self.status(query, "GET", "/server/a", new), 200)
                in_flight.sendall(request[-5:])
                self.assertEqual(read_status(in_flight), 204, "the request in flight completes")
                in_flight.sendall(post_bytes("a", old))
                self.assertEqual(read_status(in_flight), 401, "the open connection uses the new tokens")
                in_flight.sendall(post_bytes("a", new))
                self.assertEqual(read_status(in_flight), 204, "and stays open")

                self.write(path, f"keep {keep} write,raed\n")
                self.reload((ingest, query), "reload refused, the tokens in force stay")
                self.assertEqual(self.status(ingest, "POST", "/server/a", new, SAMPLE), 204)
                self.assertEqual((ingest.pid, query.pid), pids)
                self.assertIsNone(ingest.proc.poll())
                for secret in (old, keep, new):
                    self.assertNotIn(secret, ingest.stderr_text() + query.stderr_text())

    def test_ingest_token_file_reload(self):
        old, new = token(), token()
        path = os.path.join(self.folder.name, "ingest-tokens")
        self.write(path, f"{old}\n")
        with appliance(ingest_args=("--ingest-token-file", path)) as (_, ingest, _query):
            self.assertEqual(self.status(ingest, "POST", "/server/a", new, SAMPLE), 401)
            self.write(path, f"{old}\n{new}\n")
            self.reload((ingest,), "reloaded: 2 tokens in force")
            self.assertEqual(self.status(ingest, "POST", "/server/a", old, SAMPLE), 204)
            self.assertEqual(self.status(ingest, "POST", "/server/a", new, SAMPLE), 204)
            self.write(path, f"{new}\n")
            self.reload((ingest,), "reloaded: 1 token in force")
            self.assertEqual(self.status(ingest, "POST", "/server/a", old, SAMPLE), 401)
            self.assertEqual(self.status(ingest, "DELETE", "/server/a", new), 204)


if __name__ == "__main__":
    unittest.main()
