"""collectd's write_http (Format "JSON") on POST /collectd (ingest/collectd_route.h;
README, "Telegraf and collectd"): a real collectd from Debian, configured from
deploy/collectd/servertrack.conf with Interval 1, fills its host's minutes with
exactly the values it logged (its write_log plugin); its memory figure agrees
with /proc/meminfo; and hand-made value lists: the mapping, refusals one by
one, other plugins ignored and counted."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from appliance import appliance, http, request_json

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPE = os.path.join(HERE, "..", "..", "deploy", "collectd", "servertrack.conf")
RECIPE_URL = "http://127.0.0.1:8889/collectd"


def server_minutes(query, name):
    """{minute start: (cpu mean, cpu count, ram mean, ram count)} of the minutes with samples."""
    status, _, document = request_json("GET", f"{query.url}/server/{name}?counts=1")
    if status != 200:
        return {}
    window = document["last_60_minutes"]
    minutes = {}
    for i, count in enumerate(window["count"]):
        if count:
            minutes[window["start"] + 60 * i] = (window["cpu"][i], window["cpu_count"][i],
                                                 window["ram"][i], window["ram_count"][i])
    return minutes


def logged_value_lists(log_path):
    """The value lists collectd's write_log logged (one JSON array per message)."""
    lists = []
    with open(log_path, encoding="utf-8") as log:
        for line in log:
            if line.startswith("[{"):
                lists.extend(json.loads(line))
    return lists


def proc_used_percent():
    """collectd's memory "used" from /proc/meminfo: total - free - buffers - cached - slab."""
    fields = {}
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            key, value = line.split(":")
            fields[key] = int(value.split()[0])
    used = (fields["MemTotal"] - fields["MemFree"] - fields["Buffers"] - fields["Cached"]
            - fields["SReclaimable"] - fields["SUnreclaim"])
    return 100.0 * used / fields["MemTotal"]


class CollectdTest(unittest.TestCase):
    def test_a_real_collectd_fills_its_hosts_minutes(self):
        collectd = shutil.which("collectd") or "/usr/sbin/collectd"
        self.assertTrue(os.path.exists(collectd), "Debian's collectd-core is needed (cli/servertrack/devtools.py)")
        with open(RECIPE, encoding="utf-8") as f:
            recipe = f.read()
        self.assertIn(RECIPE_URL, recipe)
        host = f"collectd-{os.getpid()}"
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        log_path = os.path.join(folder.name, "collectd.log")
        with appliance() as (_, ingest, query):
            config = os.path.join(folder.name, "collectd.conf")
            with open(config, "w", encoding="utf-8") as f:
                f.write(f'Hostname "{host}"\nFQDNLookup false\nBaseDir "{folder.name}"\n'
                        f'PIDFile "{folder.name}/collectd.pid"\nPluginDir "/usr/lib/collectd"\n'
                        'TypesDB "/usr/share/collectd/types.db"\nInterval 1\n'
                        f'LoadPlugin logfile\n<Plugin logfile>\n  LogLevel info\n  File "{log_path}"\n</Plugin>\n'
                        'LoadPlugin write_log\n<Plugin write_log>\n  Format JSON\n</Plugin>\n')
                f.write(recipe.replace(RECIPE_URL, f"{ingest.url}/collectd"))
            process = subprocess.Popen([collectd, "-f", "-C", config], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE)
            try:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    minutes = server_minutes(query, host)
                    if sum(cpu_count for _, cpu_count, _, _ in minutes.values()) >= 3:
                        break
                    time.sleep(0.25)
            finally:
                process.send_signal(signal.SIGTERM)  # collectd flushes write_http on the way out
                _, errors = process.communicate(timeout=15)
            self.assertEqual(process.returncode, 0, errors)
            minutes = server_minutes(query, host)
            lists = logged_value_lists(log_path)
        idle = [(v["time"], v["values"][0]) for v in lists
                if v["plugin"] == "cpu" and v["type"] == "percent" and v["type_instance"] == "idle"]
        used = [(v["time"], v["values"][0]) for v in lists
                if v["plugin"] == "memory" and v["type"] == "percent" and v["type_instance"] == "used"]
        self.assertGreaterEqual(len(idle), 3, "collectd logged cpu values every second")
        expected = {}
        for metric, values, to_sample in (("cpu", idle, lambda v: 100 - v), ("ram", used, lambda v: v)):
            for when, value in values:
                expected.setdefault((int(round(when * 1000)) // 60000 * 60, metric), []).append(to_sample(value))
        self.assertEqual(sorted(minutes), sorted({minute for minute, _ in expected}))
        for minute, (cpu, cpu_count, ram, ram_count) in minutes.items():
            cpus, rams = expected.get((minute, "cpu"), []), expected.get((minute, "ram"), [])
            self.assertEqual((cpu_count, ram_count), (len(cpus), len(rams)), minute)
            if cpus:
                self.assertAlmostEqual(cpu, sum(cpus) / len(cpus), places=6)
            if rams:
                self.assertAlmostEqual(ram, sum(rams) / len(rams), places=6)
        # What collectd measured is what /proc says, within what a loaded machine moves in seconds.
        self.assertLess(abs(used[-1][1] - proc_used_percent()), 5)

    def test_value_lists_are_mapped_refused_and_ignored_one_by_one(self):
        now = time.time()

        def value_list(plugin, type_instance, value, host="cd-1", when=now - 30, type_="percent", instance=""):
            return {"values": [value], "dstypes": ["gauge"], "dsnames": ["value"], "time": when, "interval": 10,
                    "host": host, "plugin": plugin, "plugin_instance": instance, "type": type_,
                    "type_instance": type_instance}

        body = [value_list("cpu", "idle", 92.5), value_list("memory", "used", 41.25),
                value_list("memory", "free", 30), value_list("cpu", "idle", 50, instance="0"),
                value_list("load", "", 1.5, type_="load"), value_list("cpu", "idle", None),
                value_list("cpu", "idle", 120), value_list("memory", "used", 10, host="bad/host"),
                value_list("cpu", "active", 7, host="cd-2"), value_list("memory", "used", 5, when=now + 3600)]
        with appliance() as (_, ingest, query):
            status, _, document = request_json("POST", f"{ingest.url}/collectd", body)
            self.assertEqual(status, 400)
            self.assertEqual((document["written"], document["dropped"]), (3, 3))
            self.assertTrue(document["error"].startswith(
                "partial write: value list 6: a percent value must be a number from 0 to 100"), document["error"])
            minutes = server_minutes(query, "cd-1")
            self.assertEqual(list(minutes.values()), [(7.5, 1, 41.25, 1)])
            self.assertEqual(list(server_minutes(query, "cd-2").values()), [(7, 1, None, 0)])
            _, _, metrics = http("GET", f"{ingest.url}/metrics")
            self.assertIn(b'servertrack_foreign_ignored_total{protocol="collectd"} 4\n', metrics)
            # All good: 204. Not collectd's JSON: 400, nothing recorded.
            self.assertEqual(http("POST", f"{ingest.url}/collectd", json.dumps(body[:2]))[0], 204)
            for bad in ('{"values": [1]}', "[1, 2", "cpu,host=a usage_idle=1"):
                status, _, document = request_json("POST", f"{ingest.url}/collectd", bad)
                self.assertEqual(status, 400, bad)
                self.assertIn("collectd", document["error"])


if __name__ == "__main__":
    unittest.main()
