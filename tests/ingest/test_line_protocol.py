"""InfluxDB's write API on the ingest port (ingest/line_protocol_routes.h;
README, "Telegraf and collectd"): the issue's curl command, the influx CLI of
Debian's influxdb-client, Telegraf's documented output replayed byte for byte
(tests/ingest/fixtures/), every precision, a 5,000-line gzip batch, per-line
refusals in InfluxDB's error shapes, every form of the token, a token's name
prefix per line, /metrics."""

import base64
import gzip
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from appliance import FakeClock, appliance, get_server, http, request_json, window_counts

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
WRITER = "writer-token-0123456789abcdef"
WEB_WRITER = "web-writer-token-0123456789ab"
READER = "reader-token-0123456789abcdef"
SCRAPER = "scraper-token-0123456789abcde"


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def latest(query, name, metric):
    status, document = get_server(query, name)
    if status != 200:
        return None
    values = [v for v in document["last_60_minutes"][metric] if v is not None]
    return values[-1] if values else None


def metric_value(ingest, line_start, headers=None):
    _, _, body = http("GET", f"{ingest.url}/metrics", headers=headers)
    for line in body.decode().splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return None


class LineProtocolTest(unittest.TestCase):
    def test_the_issues_curl_command(self):
        with appliance() as (_, ingest, query):
            result = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@-",
                 f"http://127.0.0.1:{ingest.port}/write"],
                input=b"cpu,cpu=cpu-total,host=web-01 usage_idle=75\n"
                      b"mem,host=web-01 available_percent=60,used_percent=45\n",
                capture_output=True, timeout=10, check=True)
            self.assertEqual(result.stdout, b"204")
            self.assertEqual(latest(query, "web-01", "cpu"), 25)
            self.assertEqual(latest(query, "web-01", "ram"), 40)

    def test_ping_and_create_database_as_influxdb_answers(self):
        with appliance() as (_, ingest, _query):
            for method in ("GET", "HEAD"):
                status, headers, body = http(method, f"{ingest.url}/ping")
                self.assertEqual((status, body), (204, b""), method)
                self.assertIn("x-influxdb-version", headers)
            # Telegraf's outputs.influxdb before its first write (a form POST).
            status, _, document = request_json(
                "POST", f"{ingest.url}/query", b'q=CREATE+DATABASE+%22telegraf%22',
                {"Content-Type": "application/x-www-form-urlencoded"})
            self.assertEqual((status, document), (200, {"results": [{"statement_id": 0}]}))
            status, _, document = request_json("GET", f"{ingest.url}/query?q=create%20database%20x")
            self.assertEqual((status, document), (200, {"results": [{"statement_id": 0}]}))
            status, _, document = request_json("GET", f"{ingest.url}/query?q=SELECT%20*%20FROM%20cpu")
            self.assertEqual(status, 400)
            self.assertIn("only CREATE DATABASE", document["error"])

    def test_the_influx_cli_inserts(self):
        influx = shutil.which("influx")
        self.assertIsNotNone(influx, "Debian's influxdb-client is needed (cli/servertrack/devtools.py)")
        with appliance() as (_, ingest, query):
            def cli(*args):
                return subprocess.run([influx, "-host", "127.0.0.1", "-port", str(ingest.port), *args],
                                      capture_output=True, text=True, timeout=15)
            done = cli("-database", "telegraf", "-execute",
                       "INSERT cpu,cpu=cpu-total,host=cli-01 usage_idle=70")
            self.assertEqual((done.returncode, done.stdout + done.stderr), (0, ""))
            done = cli("-database", "telegraf", "-precision", "s", "-execute",
                       f"INSERT mem,host=cli-01 available_percent=35 {int(time.time()) - 5}")
            self.assertEqual((done.returncode, done.stdout + done.stderr), (0, ""))
            self.assertEqual(latest(query, "cli-01", "cpu"), 30)
            self.assertEqual(latest(query, "cli-01", "ram"), 65)
            # A line that does not read: the CLI shows InfluxDB's error shape.
            done = cli("-database", "telegraf", "-execute", "INSERT cpu,host=cli-01 usage_idle=abc")
            self.assertIn('ERR: {"error":"partial write: line 1: unable to parse', done.stdout + done.stderr)
            # The CLI pings before anything else.
            self.assertGreaterEqual(
                metric_value(ingest, 'servertrack_http_requests_total{route="/ping",status="204"}'), 3)

    def clock_at(self, at):
        """A clock for workers that reads `at`: Telegraf's documented output is of 2019."""
        clock = FakeClock()
        self.addCleanup(clock.close)
        clock.set(at)
        return clock

    def test_telegrafs_cpu_output_byte_for_byte(self):
        body = fixture("telegraf_cpu.lp")
        clock = self.clock_at(1568760922 + 20)
        with appliance(env=clock.env) as (_, ingest, query):
            status, _, answer = http("POST", f"{ingest.url}/write?db=telegraf", body,
                                     {"Content-Type": "text/plain; charset=utf-8"})
            self.assertEqual((status, answer), (204, b""))
            # Only cpu-total's usage_idle line is a sample: cpu = 100 - 82.3834196941197.
            self.assertAlmostEqual(latest(query, "loaner", "cpu"), 100 - 82.3834196941197, places=9)
            self.assertIsNone(latest(query, "loaner", "ram"))
            minutes, _ = window_counts(query, "loaner")
            self.assertEqual(minutes, {1568760922 // 60 * 60: 1})
            # The 4 cores' 8 lines and cpu-total's time_* line are ignored, and counted.
            self.assertEqual(metric_value(ingest, 'servertrack_foreign_ignored_total{protocol="influx"}'), 9)

    def test_telegrafs_mem_output_byte_for_byte(self):
        body = fixture("telegraf_mem.lp")
        clock = self.clock_at(1574712869 + 20)
        with appliance(env=clock.env) as (_, ingest, query):
            # As documented, without a host tag: refused, as it names no server.
            status, _, document = request_json("POST", f"{ingest.url}/write", body)
            self.assertEqual(status, 400)
            self.assertEqual((document["written"], document["dropped"]), (0, 1))
            self.assertIn("line 1: the line has no host tag", document["error"])
            # As Telegraf's agent sends it, with its host tag (the only tag, so first).
            status, _, answer = http("POST", f"{ingest.url}/write", body.replace(b"mem ", b"mem,host=loaner ", 1))
            self.assertEqual((status, answer), (204, b""))
            # ram = 100 - available_percent, not used_percent (15.95...).
            self.assertAlmostEqual(latest(query, "loaner", "ram"), 100 - 80.41654254645131, places=9)

    def test_every_precision(self):
        now = int(time.time())
        stated = now - 150  # in the minute window
        cases = {"ns": stated * 10**9 + 250_000_000, "n": stated * 10**9, "u": stated * 10**6,
                 "us": stated * 10**6 + 999, "ms": stated * 1000 + 1, "s": stated,
                 "m": stated // 60, "h": now // 3600 - 2, None: stated * 10**9}
        with appliance() as (_, ingest, query):
            for precision, timestamp in cases.items():
                name = f"precision-{precision or 'default'}"
                params = f"?precision={precision}" if precision else ""
                for path in ("/write", "/api/v2/write"):
                    if path == "/api/v2/write" and precision in ("m", "h"):
                        continue
                    status, _, answer = http("POST", f"{ingest.url}{path}{params}",
                                             f"cpu,host={name}{path.count('/')} usage_idle=50 {timestamp}\n")
                    self.assertEqual((status, answer), (204, b""), (precision, path))
                    minutes, hours = window_counts(query, f"{name}{path.count('/')}")
                    if precision == "h":
                        self.assertEqual(hours, {timestamp * 3600: 1})
                    else:
                        seconds = stated // 60 * 60 if precision == "m" else stated
                        self.assertEqual(minutes, {seconds // 60 * 60: 1}, (precision, path))
            status, _, document = request_json("POST", f"{ingest.url}/write?precision=d", "cpu,host=a usage_idle=1\n")
            self.assertEqual(status, 400)
            self.assertIn("precision", document["error"])
            status, _, document = request_json("POST", f"{ingest.url}/api/v2/write?precision=x", "cpu,host=a usage_idle=1\n")
            self.assertEqual((status, document["code"]), (400, "invalid"))

    def test_a_batch_of_5000_lines_gzipped(self):
        now = int(time.time())
        lines = [f"cpu,cpu=cpu-total,host=batch-{h:02d} usage_idle={h} {(now - 110 + s) * 10**9}"
                 for s in range(100) for h in range(50)]
        body = ("\n".join(lines) + "\n").encode()
        self.assertEqual(len(lines), 5000)
        self.assertGreater(len(body), 64 * 1024)
        with appliance() as (_, ingest, query):
            status, _, _ = http("POST", f"{ingest.url}/write", body)
            self.assertEqual(status, 413)  # over 64 KiB on the wire
            compressed = gzip.compress(body)
            self.assertLess(len(compressed), 64 * 1024)
            for path in ("/write", "/api/v2/write?org=o&bucket=b"):
                status, _, answer = http("POST", f"{ingest.url}{path}", compressed, {"Content-Encoding": "gzip"})
                self.assertEqual((status, answer), (204, b""))
            for h in (0, 17, 49):
                minutes, _ = window_counts(query, f"batch-{h:02d}")
                self.assertEqual(sum(minutes.values()), 100)  # sent twice, counted once
                self.assertEqual(latest(query, f"batch-{h:02d}", "cpu"), 100 - h)
            self.assertEqual(metric_value(ingest, "servertrack_samples_recorded_total "), 5000)

    def test_each_line_is_refused_on_its_own(self):
        now = int(time.time())
        body = (f"cpu,cpu=cpu-total,host=ok-1 usage_idle=90 {now}000000000\n"
                "cpu,host=bad usage_idle=abc\n"
                "# a comment\n"
                "mem,host=bad/name available_percent=50\n"
                "cpu,host=ok-2 usage_idle=140\n"
                "disk,host=ok-1 used_percent=12\n"
                f"mem,host=ok-1 used_percent=33 {now + 3600}000000000\n"
                "servertrack,host=ok-2 cpu=7.5,ram=8.5\n"
                "servertrack,host=ok-3 other=1\n")
        with appliance() as (_, ingest, query):
            status, headers, document = request_json("POST", f"{ingest.url}/write", body)
            self.assertEqual(status, 400)
            self.assertEqual(headers["content-type"], "application/json")
            self.assertEqual(document["error"],
                             "partial write: line 2: unable to parse 'cpu,host=bad usage_idle=abc': invalid field "
                             "value (a number, 12i, 12u, true, false or a \"quoted string\") dropped=5")
            self.assertEqual((document["written"], document["dropped"]), (2, 5))
            self.assertEqual(latest(query, "ok-1", "cpu"), 10)
            self.assertIsNone(latest(query, "ok-1", "ram"))  # an hour ahead: refused
            self.assertEqual((latest(query, "ok-2", "cpu"), latest(query, "ok-2", "ram")), (7.5, 8.5))
            self.assertEqual(get_server(query, "bad/name")[0], 400)
            self.assertEqual(metric_value(ingest, 'servertrack_samples_rejected_total{reason="invalid_line"}'), 1)
            self.assertEqual(metric_value(ingest, 'servertrack_samples_rejected_total{reason="invalid_name"}'), 1)
            self.assertEqual(metric_value(ingest, 'servertrack_samples_rejected_total{reason="invalid_value"}'), 2)
            self.assertEqual(metric_value(ingest, 'servertrack_samples_rejected_total{reason="invalid_time"}'), 1)
            self.assertEqual(metric_value(ingest, 'servertrack_foreign_ignored_total{protocol="influx"}'), 1)
            # v2's shape; a body that is all good is 204 again.
            status, _, document = request_json("POST", f"{ingest.url}/api/v2/write?org=o&bucket=b",
                                               "cpu,host=ok-1 usage_idle=-1\n")
            self.assertEqual(status, 400)
            self.assertEqual(document, {"code": "invalid", "written": 0, "dropped": 1,
                                        "message": "partial write: line 1: usage_idle must be a number from 0 "
                                                   "to 100 dropped=1"})


class LineProtocolTokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.TemporaryDirectory()
        cls.tokens_file = os.path.join(cls.folder.name, "tokens")
        with open(cls.tokens_file, "w") as f:
            f.write(f"writer {WRITER} write\nweb {WEB_WRITER} write web-\nreader {READER} read\nscraper {SCRAPER} metrics\n")
        os.chmod(cls.tokens_file, 0o600)

    @classmethod
    def tearDownClass(cls):
        cls.folder.cleanup()

    def test_every_form_of_the_token(self):
        basic = base64.b64encode(f"telegraf:{WRITER}".encode()).decode()
        forms = {
            "bearer": ("/write", {"Authorization": f"Bearer {WRITER}"}),
            "token (v2)": ("/api/v2/write?org=o&bucket=b", {"Authorization": f"Token {WRITER}"}),
            "basic (v1 username/password)": ("/write?db=telegraf", {"Authorization": f"Basic {basic}"}),
            "u/p (v1 query)": (f"/write?db=telegraf&u=telegraf&p={WRITER}", {}),
        }
        with appliance(worker_args=("--tokens-file", self.tokens_file)) as (_, ingest, query):
            for i, (form, (path, headers)) in enumerate(forms.items()):
                status, _, answer = http("POST", f"{ingest.url}{path}", f"cpu,host=token-{i} usage_idle=1\n", headers)
                self.assertEqual((status, answer), (204, b""), form)
                self.assertEqual(get_server(query, f"token-{i}")[0], 401)  # reading needs a token too
            refused = {
                "none": ("/write", {}),
                "unknown": ("/write", {"Authorization": "Token not-a-token-we-know-0000"}),
                "wrong p": ("/write?u=x&p=not-a-token-we-know-0000", {}),
                "read scope": ("/api/v2/write", {"Authorization": f"Token {READER}"}),
            }
            for form, (path, headers) in refused.items():
                status, _, document = request_json("POST", f"{ingest.url}{path}", "cpu,host=x usage_idle=1\n", headers)
                self.assertIn(status, (401, 403), form)
                self.assertIn("error", document)
            # /ping is open, as InfluxDB's is; /query needs the write scope.
            self.assertEqual(http("GET", f"{ingest.url}/ping")[0], 204)
            self.assertEqual(http("POST", f"{ingest.url}/query?q=CREATE+DATABASE+x")[0], 401)

    def test_a_prefix_token_writes_only_its_names_line_by_line(self):
        with appliance(worker_args=("--tokens-file", self.tokens_file)) as (_, ingest, _query):
            status, _, document = request_json(
                "POST", f"{ingest.url}/write",
                "cpu,host=web-1 usage_idle=40\ncpu,host=db-1 usage_idle=40\nmem,host=web-1 used_percent=5\n",
                {"Authorization": f"Token {WEB_WRITER}"})
            self.assertEqual(status, 400)
            self.assertEqual((document["written"], document["dropped"]), (2, 1))
            self.assertIn('line 2: this token may only write samples for servers whose names start with "web-"',
                          document["error"])
            scraper = {"Authorization": f"Bearer {SCRAPER}"}
            self.assertEqual(metric_value(ingest, 'servertrack_samples_rejected_total{reason="forbidden_name"}',
                                          scraper), 1)
            self.assertEqual(metric_value(ingest, "servertrack_samples_recorded_total ", scraper), 2)


if __name__ == "__main__":
    unittest.main()
