"""deploy/telegraf/'s outputs.influxdb (v1) and outputs.influxdb_v2 recipes, kept
as promises without Telegraf (not in Debian): each recipe file is read as TOML
and Telegraf's requests for it are made as its output sends them (v1: CREATE
DATABASE, then POST /write?db=; v2: POST /api/v2/write?org=&bucket= with
"Authorization: Token"), its namepass/fieldinclude applied to Telegraf's
documented cpu and mem output (tests/ingest/fixtures/), gzip as configured, the
token where the recipe says to put it."""

import base64
import gzip
import os
import time
import tomllib
import unittest
import urllib.parse

from appliance import appliance, get_server, http, request_json

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPES = os.path.join(HERE, "..", "..", "deploy", "telegraf")
TOKEN = "telegraf-token-0123456789abcdef"


def telegraf_lines(now_ns):
    """Telegraf's documented cpu and mem output, stamped `now_ns`, with the host
    tag its agent adds (the mem example is documented without it)."""
    lines = []
    for name in ("telegraf_cpu.lp", "telegraf_mem.lp"):
        with open(os.path.join(HERE, "fixtures", name), encoding="ascii") as f:
            for line in f.read().splitlines():
                head, fields, _ = line.split(" ")
                if "host=" not in head:
                    head += ",host=loaner"
                lines.append((head, fields, now_ns))
    return lines


def filtered(lines, output):
    """What Telegraf's namepass and fieldinclude leave: metrics without fields are dropped."""
    out = []
    for head, fields, stamp in lines:
        if head.split(",")[0] not in output.get("namepass", [head.split(",")[0]]):
            continue
        kept = [f for f in fields.split(",") if f.split("=")[0] in output.get("fieldinclude", [f.split("=")[0]])]
        if kept:
            out.append(f"{head} {','.join(kept)} {stamp}")
    return ("\n".join(out) + "\n").encode()


def recipe(name, token):
    """The recipe's output table, with the token filled in as an operator does."""
    with open(os.path.join(RECIPES, name), encoding="utf-8") as f:
        text = f.read()
    text = text.replace("# username", "username").replace("# password", "password")
    text = text.replace("${SERVERTRACK_TOKEN}", token)
    outputs = tomllib.loads(text)["outputs"]
    (kind, [output]), = outputs.items()
    return kind, output


class TelegrafRecipesTest(unittest.TestCase):
    def send(self, ingest, kind, output, body):
        base = output["urls"][0]
        self.assertEqual(base, "http://127.0.0.1:8889")  # the ingest port's default
        base = ingest.url
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if output.get("content_encoding", "identity") == "gzip":
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self.assertLess(len(body), 64 * 1024)
        if kind == "influxdb":
            credentials = f"{output['username']}:{output['password']}".encode()
            auth = {"Authorization": "Basic " + base64.b64encode(credentials).decode()}
            form = urllib.parse.urlencode({"q": f'CREATE DATABASE "{output["database"]}"'})
            status, _, document = request_json("POST", f"{base}/query", form.encode(),
                                               {"Content-Type": "application/x-www-form-urlencoded", **auth})
            self.assertEqual((status, document), (200, {"results": [{"statement_id": 0}]}))
            path = "/write?" + urllib.parse.urlencode({"db": output["database"]})
        else:
            auth = {"Authorization": f"Token {output['token']}"}
            path = "/api/v2/write?" + urllib.parse.urlencode({"bucket": output["bucket"],
                                                              "org": output["organization"]})
        return http("POST", f"{base}{path}", body, {**headers, **auth})

    def test_each_recipe_feeds_cpu_and_ram(self):
        for name in ("servertrack-influxdb-v1.conf", "servertrack-influxdb-v2.conf"):
            with self.subTest(name), appliance(ingest_args=("--ingest-token", TOKEN)) as (_, ingest, query):
                kind, output = recipe(name, TOKEN)
                body = filtered(telegraf_lines(int(time.time() - 30) * 10**9), output)
                status, _, answer = self.send(ingest, kind, output, body)
                self.assertEqual((status, answer), (204, b""))
                _, document = get_server(query, "loaner")
                minute = document["last_60_minutes"]
                self.assertAlmostEqual([v for v in minute["cpu"] if v is not None][-1], 100 - 82.3834196941197, places=9)
                self.assertAlmostEqual([v for v in minute["ram"] if v is not None][-1], 100 - 80.41654254645131, places=9)
                # The 4 cores' usage lines passed the filters and were ignored; no other line was sent.
                _, _, metrics = http("GET", f"{ingest.url}/metrics")
                self.assertIn(b'servertrack_foreign_ignored_total{protocol="influx"} 4\n', metrics)
                # Without the token, Telegraf's request is refused.
                self.assertEqual(http("POST", f"{ingest.url}/write", body)[0], 401)


if __name__ == "__main__":
    unittest.main()
