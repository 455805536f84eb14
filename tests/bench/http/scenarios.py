"""The benchmark's scenarios: which wrk loads run against a target at once.

Called by run.py. A target is anything with post_url, get_url and pids (an
nginx_ceiling.NginxCeiling or a workers.Workers). measure() runs one scenario
once and returns the figures of its reported load plus what the whole run did
to the server (never-served connections over all loads, server CPU).
"""

import dataclasses

import wrk

POPULATED = 10000


@dataclasses.dataclass(frozen=True)
class Scenario:
    label: str
    script: str               # of the reported load: random_names.lua or paced_post.lua
    method: str               # POST or GET: which URL the reported load uses
    connections: int
    headers: tuple = ()
    background_post: int = 0  # connections of a POST load running alongside, 0: none

    def loads(self, target, names):
        url = target.post_url if self.method == "POST" else target.get_url
        loads = [wrk.Load(url, self.script, (self.method, names), self.connections, self.headers)]
        if self.background_post:
            loads.append(wrk.Load(target.post_url, "random_names.lua", ("POST", names), self.background_post))
        return loads


POST_64 = Scenario("POST, 64 keep-alive connections", "random_names.lua", "POST", 64)
GET_64 = Scenario("GET, 64 connections", "random_names.lua", "GET", 64)

MAIN = [
    POST_64,
    Scenario("POST, 512 busy connections", "random_names.lua", "POST", 512),
    Scenario("POST, 1,000 connections at ~1 req/s each", "paced_post.lua", "POST", 1000),
    Scenario("POST, new connection per request (64)", "random_names.lua", "POST", 64, ("Connection: close",)),
    GET_64,
    Scenario("GET (64) while POST (64) runs", "random_names.lua", "GET", 64, background_post=64),
]

SCALE = [POST_64, GET_64]


def measure(scenario, target, names, duration_s, client_core):
    outcome = wrk.run(scenario.loads(target, names), duration_s, client_core, target.pids)
    figures = dict(outcome.results[0])
    figures["never_served"] = outcome.never_served
    figures["seen"] = outcome.seen
    figures["server_cpu"] = outcome.server_cpu
    figures["background_rps"] = outcome.results[1]["rps"] if len(outcome.results) > 1 else None
    return figures
