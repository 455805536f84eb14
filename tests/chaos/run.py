#!/usr/bin/env python3
"""A chaos run: a real appliance (`servertrack run`: supervisor, two ingest
workers, a query worker, checkpoints every 4 s, an ingest token), a simulated
fleet (plain clients: clients.py; real servertrack-agents: agents.py), faults
from the seed (faults.py), then the history checker (checker.py). Prints the
figures; exits 0 when nothing acknowledged was lost outside the README's loss
windows, nothing was doubled, no server shows what it never sent and every
process answers within RECOVERY_BOUND s of the last fault; else 1, with the
seed and the fault schedule (the same seed runs the same schedule).

    python3 tests/chaos/run.py --minutes N [--seed S]     (or ./servertrack chaos)

Needs SERVERTRACK_BUILD_DIR and SERVERTRACK_SOURCE_DIR (`./servertrack chaos`
and meson set them). Everything binds 127.0.0.1, is ended by pid, and its
segments, data dirs and spools are removed at the end.
"""

import argparse
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
SOURCE = os.path.dirname(TESTS)
# The harnesses this one imports (tests/supervisor/supervised.py may move with
# the supervisor's tests: both places are looked in).
for folder in ("lib", "agent", "sharding", "supervisor", os.path.join("cli", "servertrack")):
    sys.path.insert(0, os.path.join(TESTS, folder))
sys.path.insert(0, os.path.join(SOURCE, "cli"))
sys.path.insert(0, HERE)
os.environ.setdefault("SERVERTRACK_SOURCE_DIR", SOURCE)

from agents import AgentFleet, RecordingProxy  # noqa: E402
from appliance import poll  # noqa: E402
from checker import check, listed_names  # noqa: E402
from clients import Credentials, Fleet, Stranger  # noqa: E402
from fleet import Balancer  # noqa: E402
from faults import KINDS, Injector, describe, schedule  # noqa: E402
from ledger import ACKED, IN_DOUBT, REFUSED, Ledger  # noqa: E402
from node import Node  # noqa: E402

AGENTS = 3
CAPACITY = 24          # the fleet's 17 names, a probe, and 6 slots for full_table's new names
RECOVERY_BOUND = 30    # s after the last fault for every process to answer
DRAIN_BOUND = 90       # s for the clients' retries and the agents' spools to be acknowledged


class Tokens:
    """The appliance's ingest token file (one token a line) and the agents' token file."""

    def __init__(self, rng):
        self.rng = rng
        self.dir = tempfile.mkdtemp(prefix="servertrack-chaos-tokens-")
        self.ingest_file = os.path.join(self.dir, "ingest-tokens")
        self.agent_file = os.path.join(self.dir, "agent.token")
        first = self.next_token()
        self.write([first])
        self.give_agents(first)
        self.first = first

    def next_token(self):
        return "%032x" % self.rng.getrandbits(128)

    def write(self, tokens):
        temporary = self.ingest_file + ".new"
        with open(temporary, "w", encoding="ascii") as out:
            out.write("".join(token + "\n" for token in tokens))
        os.rename(temporary, self.ingest_file)

    def give_agents(self, token):
        with open(self.agent_file, "w", encoding="ascii") as out:
            out.write(token + "\n")

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def feed_agents(agents, stop):
    while not stop.is_set():
        agents.feed_all()
        stop.wait(0.5)


def figures(seed, minutes, nodes, ledger, injector, verdict, recovery, problems):
    outcomes = [sample.outcome for sample in ledger.samples.values()]
    load = os.getloadavg()
    deployment = "1 appliance" if len(nodes) == 1 else f"{len(nodes)} appliances behind HAProxy"
    lines = [f"chaos run: seed {seed}, {deployment}, {minutes:g} min of faults, "
             f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end",
             f"  samples sent                               {len(outcomes)}",
             f"  acknowledged                               {outcomes.count(ACKED)}",
             f"  in doubt (sent, never answered or acked)   {outcomes.count(IN_DOUBT)}",
             f"  refused (507 of a new name)                {outcomes.count(REFUSED)}",
             f"  acknowledged samples found                 {verdict.counted}",
             f"  acknowledged inside power-cut windows      {verdict.at_risk} (lost of those: "
             f"{verdict.at_risk_lost}, allowed)",
             f"  lost outside the windows                   {verdict.lost_samples}",
             f"  doubled or never sent                      {verdict.doubled_samples}",
             "  every process answering after the faults   "
             + (f"{recovery:.1f} s" if recovery is not None else f"NOT within {RECOVERY_BOUND} s"),
             "  fault                injected  longest unavailability seen by a client (s)"]
    for kind in ("none",) + KINDS:
        count = injector.done.count(kind)
        if count or ledger.unavailable.get(kind):
            lines.append(f"  {kind:<20} {count:>8}  {ledger.unavailable.get(kind, 0.0):.1f}")
    lines.append("  requests: " + ", ".join(f"{k}: {v}" for k, v in sorted(ledger.requests.items(), key=str)))
    lines += [f"  PROBLEM: {problem}" for problem in problems]
    return "\n".join(lines)


def run(minutes, seed, node_count=1):
    rng = random.Random(seed)
    faults = schedule(seed, minutes * 60, nodes=node_count, agents=AGENTS, balancer=node_count > 1)
    ledger = Ledger()
    tokens = Tokens(rng)
    credentials = Credentials(tokens.first)
    nodes, balancer, proxy, agents, fleet = [], None, None, None, None
    stop_feeding = threading.Event()
    problems = []
    try:
        for name in "abc"[:node_count]:
            nodes.append(Node(name, CAPACITY, tokens.ingest_file))
            nodes[-1].answers(RECOVERY_BOUND, credentials.token)  # its probe takes its slot before full_table
        if node_count > 1:
            balancer = Balancer([(node.name, [node]) for node in nodes]).__enter__()
        ingest_url = balancer.url if balancer else nodes[0].ingest_url
        query_url = balancer.url if balancer else nodes[0].query_url
        if not poll(lambda: all(node.checkpoints() >= 2 for node in nodes), 60):
            raise RuntimeError("no checkpoint within 60 s:\n" + "\n".join(node.log() for node in nodes))
        proxy = RecordingProxy(ingest_url, ledger)
        agents = AgentFleet(proxy.url, ledger, AGENTS, tokens.agent_file, random.Random(rng.random()))
        threading.Thread(target=feed_agents, args=(agents, stop_feeding), daemon=True).start()
        agents.start()
        fleet = Fleet(ingest_url, ledger, credentials, random.Random(rng.random()), batch=balancer is None)
        fleet.start()
        injector = Injector(nodes, agents, credentials, Stranger(ingest_url, ledger, credentials),
                            ledger, tokens, balancer)
        injector.run(faults)
        ledger.fault("none", "the faults are over")

        recoveries = [node.answers(RECOVERY_BOUND, credentials.token) for node in nodes]
        if balancer:
            began = time.monotonic()
            recoveries.append(time.monotonic() - began if poll(balancer._ready, RECOVERY_BOUND) else None)
        recovery = None if None in recoveries else max(recoveries)
        if recovery is None:
            problems.append(f"a process did not answer within {RECOVERY_BOUND} s of the last fault: {recoveries}")
        if not agents.running():
            problems.append("an agent exited: " + " | ".join(a.stderr_text()[-300:] for a in agents.agents))
        fleet.stop_producing()
        if not poll(lambda: not fleet.pending(), DRAIN_BOUND, interval=0.2):
            problems.append(f"the clients still had unacknowledged samples after {DRAIN_BOUND} s")
        if not poll(lambda: agents.spooled() == 0, DRAIN_BOUND, interval=0.2):
            problems.append(f"the agents' spools still held {agents.spooled()} samples after {DRAIN_BOUND} s")
        problems += [f"a client stopped: {error}" for error in fleet.errors()]
        stop_feeding.set()
        for agent in agents.agents:
            agent.stop()
        fleet.stop()
        owner = {name: node.name for node in nodes for name in listed_names(node.query_url)}
        verdict = check(ledger, lambda name: query_url,
                        lambda name: [(s, c) for node, s, c in injector.loss_windows if node == owner.get(name)],
                        [node.query_url for node in nodes])
        print(figures(seed, minutes, nodes, ledger, injector, verdict, recovery, problems), flush=True)
        failed = problems or not verdict.ok
        if failed:
            for line in (verdict.lost + verdict.doubled + verdict.phantoms)[:40]:
                print("  " + line)
            print(f"FAILED: seed {seed}; the same schedule again: ./servertrack chaos --minutes {minutes:g} "
                  f"--seed {seed} --nodes {node_count}\nfault schedule:\n{describe(faults)}\n"
                  f"loss windows: {injector.loss_windows}", flush=True)
            for node in nodes:
                print(f"appliance {node.name}'s log (end):\n" + "\n".join(node.log().splitlines()[-40:]))
            if balancer:
                print("HAProxy's log (end):\n" + "\n".join(balancer.log_text().splitlines()[-20:]), flush=True)
        return 1 if failed else 0
    except Exception:
        # The harness itself failed (e.g. a node stopped answering): say what it did, and how to repeat it.
        print(f"FAILED: seed {seed}; the same schedule again: ./servertrack chaos --minutes {minutes:g} "
              f"--seed {seed} --nodes {node_count}", flush=True)
        for node in nodes:
            print(f"appliance {node.name}'s log (end):\n" + "\n".join(node.log().splitlines()[-60:]), flush=True)
        raise
    finally:
        stop_feeding.set()
        if fleet:
            fleet.stop()
        if agents:
            agents.close()
        if proxy:
            proxy.close()
        if balancer:
            balancer.__exit__()
        for node in nodes:
            node.close()
        tokens.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3, help="minutes of faults (default %(default)s)")
    parser.add_argument("--seed", type=int, default=None, help="the schedule's seed (default: a random one, printed)")
    parser.add_argument("--nodes", type=int, choices=(1, 2, 3), default=1,
                        help="1: one appliance alone; 2 or 3: appliances behind the README's HAProxy recipe")
    options = parser.parse_args(argv)
    seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
    print(f"chaos: seed {seed}, {options.minutes:g} minutes of faults, {options.nodes} node(s)", flush=True)
    return run(options.minutes, seed, options.nodes)


if __name__ == "__main__":
    sys.exit(main())
