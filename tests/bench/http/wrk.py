"""Runs one or more wrk loads at once and collects what they and the server did.

Called by scenarios.py. Each load is one `wrk -t1` process pinned to the client
core, with a script from this folder whose done() prints a WRK_RESULT JSON
line. While the loads run, served.ConnectionWatch counts never-served
connections and the server's CPU time is read from /proc before and after.
Every load stops by itself after duration_s (wrk -d).
"""

import dataclasses
import json
import os
import subprocess
import time
import urllib.parse

import processes
import served

HERE = os.path.dirname(os.path.abspath(__file__))
WRK_TIMEOUT_S = 2


@dataclasses.dataclass
class Load:
    url: str            # e.g. http://127.0.0.1:8889
    script: str         # random_names.lua, paced_post.lua, fill.lua
    args: tuple         # script arguments
    connections: int
    headers: tuple = ()  # extra request headers, e.g. ("Connection: close",)


@dataclasses.dataclass
class Outcome:
    results: list       # one WRK_RESULT dict per load, plus "rps"
    seen: int           # distinct connections observed
    never_served: int
    server_cpu: float   # share of one core the server used during the run


def command_for(load, duration_s):
    command = ["wrk", "-t1", f"-c{load.connections}", f"-d{duration_s}s", f"--timeout={WRK_TIMEOUT_S}s",
               "-s", os.path.join(HERE, load.script)]
    for header in load.headers:
        command += ["-H", header]
    return command + [load.url, "--"] + [str(arg) for arg in load.args]


def parse_result(output):
    for line in output.splitlines():
        if line.startswith("WRK_RESULT "):
            result = json.loads(line[len("WRK_RESULT "):])
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            return result
    raise RuntimeError("wrk printed no WRK_RESULT line:\n" + output)


def run(loads, duration_s, client_core, server_pids):
    ports = sorted({urllib.parse.urlsplit(load.url).port for load in loads})
    cpu_before = processes.cpu_seconds(server_pids)
    started = time.monotonic()
    with served.ConnectionWatch(ports, client_core) as watch:
        runs = [processes.spawn(command_for(load, duration_s), client_core, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
                for load in loads]
        try:
            outputs = [wrk.communicate(timeout=duration_s + 30)[0] for wrk in runs]
        finally:
            for wrk in runs:
                processes.stop(wrk, grace_s=0)
    elapsed = time.monotonic() - started
    cpu = (processes.cpu_seconds(server_pids) - cpu_before) / elapsed
    return Outcome([parse_result(output) for output in outputs], watch.seen, watch.never_served, cpu)
