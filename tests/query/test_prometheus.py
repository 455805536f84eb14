"""ServerTrack as Prometheus and Grafana see it, tested with the real tools.

One appliance (real workers, their clock pinned by libfaketime to 5 s into a
minute, so "the last complete minute" holds still while the test runs), seeded
by backfill ("time") through POST /servers as an agent's spool is. Then:
- Debian's `prometheus` scrapes GET /export/prometheus every second; its own API
  answers every server's minute means, with ServerTrack's timestamps;
- promtool query instant/range/series/labels pointed at the query port answer
  what the segment holds, to the bucket (minute steps, hour steps);
- the requests Grafana's Prometheus data source sends (grafana_requests.json)
  are replayed byte for byte;
- every query of deploy/grafana's dashboard parses and answers, with the
  variable resolved the way Grafana resolves it;
- the scrape endpoint's prefix, shards and gzip, and the API's error shapes.
"""

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from appliance import FakeClock, Worker, TestSegment, free_port, http, post_batch, get_server

SOURCE_DIR = os.environ.get("SERVERTRACK_SOURCE_DIR", "")
HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = ("web-01", "web-02", "db.prod")
TOOL_TIMEOUT = 20


def decoded(headers, payload):
    return gzip.decompress(payload) if headers.get("content-encoding") == "gzip" else payload


def api(query, path, params=None, method="GET"):
    """-> (status, parsed JSON) of the Prometheus API on the query port."""
    body = urllib.parse.urlencode(params or {}, doseq=True)
    if method == "GET":
        status, headers, payload = http("GET", f"{query.url}{path}?{body}")
    else:
        status, headers, payload = http("POST", f"{query.url}{path}", body,
                                        {"Content-Type": "application/x-www-form-urlencoded"})
    return status, json.loads(decoded(headers, payload))


def promtool(*args):
    result = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    if result.returncode != 0:
        raise AssertionError(f"promtool {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def promtool_series_values(output):
    """promtool query range's output -> {labels text: [(t, value)]}."""
    series, current = {}, None
    for line in output.splitlines():
        if line.endswith(" =>"):
            current = line[:-3]
            series[current] = []
        elif line.strip():
            value, stamp = re.fullmatch(r"(\S+) @\[([0-9.]+)\]", line.strip()).groups()
            series[current].append((int(float(stamp)), float(value)))
    return series


class PrometheusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.clock = FakeClock()
        cls.now = int(time.time()) // 60 * 60 + 5   # the workers' clock: 5 s into a minute
        cls.clock.set(cls.now)
        cls.minute = cls.now - 5                   # the current minute's start
        cls.segment = TestSegment(256).__enter__()
        cls.ingest = Worker("ingest", cls.segment, env=cls.clock.env)
        cls.query = Worker("query", cls.segment, env=cls.clock.env)
        # Ten minutes of two samples a minute, and two samples three hours back.
        cls.hour = cls.now // 3600 * 3600 - 3 * 3600
        # Oldest first, as an agent's spool sends them (a stated time older than
        # the newest counted in its hour reads as a retry).
        batch = {}
        for n, name in enumerate(SERVERS):
            samples = [{"cpu": 70 + n, "ram": 20, "time": cls.hour + 100},
                       {"cpu": 80 + n, "ram": 30, "time": cls.hour + 2000}]
            for m in range(10, 0, -1):
                start = cls.minute - 60 * m
                samples.append({"cpu": 10 * n + m, "ram": 50 + n, "time": start + 7})
                samples.append({"cpu": 10 * n + m + 0.5, "ram": 51 + n, "time": start + 40})
            batch[name] = samples
        status, answer = post_batch(cls.ingest, batch)
        assert status == 200 and answer["recorded"] == 66 and not answer.get("refused"), answer
        # Prometheus applies a new target after its 5 s discovery tick: started
        # here, it scrapes while the other tests run (the scrape test runs late).
        cls.workdir = tempfile.mkdtemp(prefix="servertrack-prometheus-")
        cls.prometheus_port = free_port()
        config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                  "scrape_configs": [{"job_name": "servertrack", "metrics_path": "/export/prometheus",
                                      "static_configs": [{"targets": [f"127.0.0.1:{cls.query.port}"]}]}]}
        with open(os.path.join(cls.workdir, "prometheus.yml"), "w") as config_file:
            json.dump(config, config_file)  # JSON is YAML
        cls.prometheus_log = open(os.path.join(cls.workdir, "log"), "w+")
        cls.prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={cls.workdir}/prometheus.yml",
             f"--storage.tsdb.path={cls.workdir}/data",
             f"--web.listen-address=127.0.0.1:{cls.prometheus_port}", "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=cls.prometheus_log, stderr=cls.prometheus_log)

    @classmethod
    def tearDownClass(cls):
        cls.prometheus.send_signal(signal.SIGTERM)
        try:
            cls.prometheus.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cls.prometheus.kill()
            cls.prometheus.wait()
        cls.prometheus_log.close()
        shutil.rmtree(cls.workdir, ignore_errors=True)
        cls.query.kill()
        cls.ingest.kill()
        cls.segment.__exit__(None, None, None)
        cls.clock.close()

    def minute_means(self, name, key="cpu"):
        """{minute start: mean} of the JSON API's last_60_minutes."""
        status, snapshot = get_server(self.query, name)
        self.assertEqual(status, 200)
        window = snapshot["last_60_minutes"]
        return {window["start"] + 60 * i: v for i, v in enumerate(window[key]) if v is not None}

    def hour_means(self, name, key="cpu"):
        window = get_server(self.query, name)[1]["last_24_hours"]
        return {window["start"] + 3600 * i: v for i, v in enumerate(window[key]) if v is not None}

    def test_scraped_by_a_real_prometheus_it_holds_the_minute_means_at_servertracks_timestamps(self):
        raw, deadline = {}, time.monotonic() + 15
        while time.monotonic() < deadline and len(raw) < 4 * len(SERVERS):
            time.sleep(0.2)
            try:
                status, _, body = http("GET", f"http://127.0.0.1:{self.prometheus_port}/api/v1/query?query="
                                       + urllib.parse.quote('{__name__=~"servertrack_.*"}[10m]'))
            except OSError:
                continue
            if status == 200:
                raw = {(s["metric"]["__name__"], s["metric"]["server"]): s["values"]
                       for s in json.loads(body)["data"]["result"]}
        self.prometheus_log.seek(0)
        self.assertEqual(len(raw), 4 * len(SERVERS), f"Prometheus did not scrape: {self.prometheus_log.read()}")
        for name in SERVERS:
            cpu, ram = self.minute_means(name), self.minute_means(name, "ram")
            for (metric, expected) in (("servertrack_cpu_percent", cpu), ("servertrack_ram_percent", ram)):
                # Every scrape repeated the same point: one sample, the last complete minute.
                self.assertEqual(raw[(metric, name)], [[self.minute - 60, str(expected[self.minute - 60])]],
                                 (metric, name))
            for metric in ("servertrack_cpu_samples", "servertrack_ram_samples"):
                self.assertEqual(raw[(metric, name)], [[self.minute - 60, "2"]])

    def test_promtool_range_prints_the_minute_means_the_json_api_gives(self):
        start, end = self.minute - 600, self.minute - 60
        output = promtool("query", "range", f"--start={start}", f"--end={end}", "--step=1m",
                          self.query.url, 'servertrack_cpu_percent{server="web-01"}')
        series = promtool_series_values(output)
        self.assertEqual(list(series), ['servertrack_cpu_percent{server="web-01"}'])
        means = self.minute_means("web-01")
        self.assertEqual(series['servertrack_cpu_percent{server="web-01"}'],
                         [(t, means[t]) for t in range(start, end + 1, 60)])
        self.assertEqual(means[self.minute - 60], 1.25)
        # Hour steps beyond the last 60 minutes pick the hour buckets.
        output = promtool("query", "range", f"--start={self.hour - 3600}", f"--end={self.hour + 3600}",
                          "--step=1h", self.query.url, 'servertrack_cpu_percent{server="db.prod"}')
        hours = self.hour_means("db.prod")
        self.assertEqual(promtool_series_values(output)['servertrack_cpu_percent{server="db.prod"}'],
                         [(self.hour, hours[self.hour])])
        self.assertEqual(hours[self.hour], 77)

    def test_promtool_instant_series_and_labels(self):
        output = promtool("query", "instant", f"--time={self.minute - 300 + 59}", self.query.url,
                          'avg by (server) (servertrack_ram_percent{server=~"web-.*"})')
        self.assertEqual(sorted(output.splitlines()),
                         [f'{{server="web-01"}} => 50.5 @[{self.minute - 241}]',
                          f'{{server="web-02"}} => 51.5 @[{self.minute - 241}]'])
        self.assertEqual(promtool("query", "instant", self.query.url, "1+1").split(" @")[0], "scalar: 2")
        self.assertEqual(sorted(promtool("query", "series", "--match=servertrack_ram_percent",
                                         self.query.url).splitlines()),
                         [f'{{__name__="servertrack_ram_percent", server="{name}"}}' for name in sorted(SERVERS)])
        self.assertEqual(promtool("query", "labels", self.query.url, "server").split(), sorted(SERVERS))
        self.assertEqual(promtool("query", "labels", self.query.url, "__name__").split(),
                         ["servertrack_cpu_percent", "servertrack_cpu_samples", "servertrack_ram_percent",
                          "servertrack_ram_samples"])

    def grafana_range(self):
        """The last 30 minutes aligned to the 60 s step, as Grafana aligns them."""
        end = self.minute // 60 * 60
        return end - 1800, end

    def test_grafanas_own_requests_are_answered(self):
        with open(os.path.join(HERE, "grafana_requests.json")) as fixture:
            requests = json.load(fixture)["requests"]
        start, end = self.grafana_range()
        server_regex = urllib.parse.quote("(db\\\\.prod|web-01)", safe="")
        for request in requests:
            fill = lambda text: text.format(start=start, end=end, step=60, server_regex=server_regex)
            status, headers, payload = http(request["method"], self.query.url + fill(request["path"]),
                                            fill(request["body"]) or None, request["headers"])
            answer = json.loads(decoded(headers, payload))
            self.assertEqual((status, headers["content-type"]), (200, "application/json"), request["what"])
            if "expect" in request:
                self.assertEqual(answer, request["expect"], request["what"])
            if "expect_data" in request:
                for key, value in request["expect_data"].items():
                    self.assertEqual(answer["data"].get(key), value, request["what"])
            if "expect_matrix_servers" in request:
                self.assertEqual(answer["data"]["resultType"], "matrix")
                result = answer["data"]["result"]
                self.assertEqual([s["metric"].get("server") for s in result], request["expect_matrix_servers"])
                for series in result:
                    if "server" not in series["metric"]:
                        continue
                    means = self.minute_means(series["metric"]["server"])
                    self.assertEqual([[t, str(means[t])] for t in range(start, end + 1, 60) if t in means],
                                     series["values"])

    def test_every_dashboard_query_parses_and_answers(self):
        root = SOURCE_DIR or os.path.join(HERE, "..", "..")
        with open(os.path.join(root, "deploy", "grafana", "dashboards", "servertrack.json")) as f:
            dashboard = json.load(f)
        with open(os.path.join(root, "deploy", "grafana", "provisioning", "datasources",
                               "servertrack.yaml")) as f:
            provisioning = f.read()
        with open(os.path.join(root, "common", "defaults.ini")) as f:
            query_port = re.search(r"^query_port = (\d+)$", f.read(), re.M).group(1)
        self.assertIn(f"url: http://127.0.0.1:{query_port}\n", provisioning)
        self.assertIn("type: prometheus\n", provisioning)
        uid = re.search(r"^\s+uid: (\S+)$", provisioning, re.M).group(1)
        start, end = self.grafana_range()
        # The variable, resolved as Grafana resolves label_values(metric, label).
        (variable,) = dashboard["templating"]["list"]
        self.assertEqual(variable["datasource"]["uid"], uid)
        metric, label = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["query"]["query"]).groups()
        status, answer = api(self.query, f"/api/v1/label/{label}/values",
                             {"match[]": metric, "start": start, "end": end})
        self.assertEqual((status, answer["data"]), (200, sorted(SERVERS)))
        escaped = [re.sub(r"([$^*{}\[\]+?.()|])", r"\\\\\1", value) for value in answer["data"]]
        all_servers = "(" + "|".join(escaped) + ")"
        targets = [t for p in dashboard["panels"] for t in p.get("targets", [])]
        self.assertGreaterEqual(len(targets), 8)
        for target in targets:
            self.assertEqual(target["datasource"]["uid"], uid)
            expr = target["expr"].replace("$server", all_servers)
            status, answer = api(self.query, "/api/v1/query_range",
                                 {"query": expr, "start": start, "end": end, "step": 60}, method="POST")
            self.assertEqual((status, answer["status"]), (200, "success"), (expr, answer))
            if "> 90" not in expr:
                self.assertTrue(answer["data"]["result"], expr)

    def test_the_scrape_endpoint_splits_filters_and_compresses(self):
        def scrape(params="", headers=None):
            status, response_headers, payload = http("GET", f"{self.query.url}/export/prometheus{params}",
                                                     None, headers)
            return status, response_headers, decoded(response_headers, payload).decode()

        status, headers, text = scrape()
        self.assertEqual((status, headers["content-type"]), (200, "text/plain; version=0.0.4; charset=utf-8"))
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                               timeout=TOOL_TIMEOUT)
        self.assertEqual(check.returncode, 0, check.stderr)
        stamp = (self.minute - 60) * 1000
        means = self.minute_means("db.prod")
        self.assertIn(f'servertrack_cpu_percent{{server="db.prod"}} {means[self.minute - 60]:g} {stamp}\n', text)
        self.assertEqual(len(re.findall(r"^servertrack_\w+\{", text, re.M)), 4 * len(SERVERS))
        self.assertEqual(scrape(headers={"Accept-Encoding": "gzip"})[1].get("content-encoding"), "gzip")
        self.assertEqual(sorted(re.findall(r'^servertrack_cpu_samples\{server="([^"]+)"', scrape("?prefix=web-")[2],
                                           re.M)), ["web-01", "web-02"])
        shards = [re.findall(r'^servertrack_cpu_samples\{server="([^"]+)"', scrape(f"?shards=3&shard={i}")[2], re.M)
                  for i in range(3)]
        self.assertEqual(sorted(sum(shards, [])), sorted(SERVERS))
        for bad in ("?shards=3", "?shards=3&shard=3", "?shards=0&shard=0", "?prefix=a%20b", "?prefix=a&prefix=b"):
            status, headers, text = scrape(bad)
            self.assertEqual((status, headers["content-type"]), (400, "application/json"), bad)
            self.assertEqual(list(json.loads(text)), ["error"], bad)

    def test_errors_come_in_prometheus_shapes(self):
        cases = [
            ("/api/v1/query", {"query": "rate(servertrack_cpu_percent[5m])"},
             'invalid parameter "query": 1:1: parse error: the function rate() is not supported'),
            ("/api/v1/query", {"query": "1", "time": "yesterday"},
             'invalid parameter "time": cannot parse "yesterday" to a valid timestamp'),
            ("/api/v1/query_range", {"query": "1", "start": 10, "end": 20},
             'invalid parameter "step": cannot parse "" to a valid duration'),
            ("/api/v1/query_range", {"query": "1", "start": 20, "end": 10, "step": 1},
             "end timestamp must not be before start time"),
            ("/api/v1/query_range", {"query": "1", "start": 0, "end": 11000, "step": 1},
             "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
             "resolution (?step=XX)"),
            ("/api/v1/series", {}, "no match[] parameter provided"),
            ("/api/v1/series", {"match[]": "sum(servertrack_cpu_percent)"},
             'invalid parameter "match[]": "sum(servertrack_cpu_percent)" is not a series selector'),
        ]
        for path, params, message in cases:
            for method in ("GET", "POST"):
                status, answer = api(self.query, path, params, method)
                self.assertEqual((status, answer), (400, {"status": "error", "errorType": "bad_data",
                                                          "error": message}), (method, path, params))


if __name__ == "__main__":
    unittest.main()
