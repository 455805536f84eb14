"""The faults of a chaos run: a schedule drawn from the seed, and its injection.

schedule(seed, seconds, nodes, agents) is a pure function of its arguments: the
same seed gives the same faults, in the same order, with the same parameters
(which node, worker or agent; how long a process stays stopped or down). They
run one after another from a single thread (inject()), each starting no earlier
than its `at` (seconds after the fault phase began) and once the previous one
is over, so a slow machine stretches the run but never changes what is done.

Kinds, and what each does:
  kill_ingest / kill_query    SIGKILL of one worker; the supervisor restarts it
  stop_ingest / stop_query    SIGSTOP of one worker for `hold` s, then SIGCONT
  kill_supervisor             SIGKILL of the supervisor (its workers follow,
                              PR_SET_PDEATHSIG); a new one `hold` s later, as
                              systemd's Restart= would
  stop_supervisor             SIGSTOP of the supervisor for `hold` s
  kill_agent / stop_agent     SIGKILL (restarted `hold` s later) or SIGSTOP of one agent
  power_cut                   SIGKILL of everything on the node, the segment
                              removed (a reboot), the appliance started again
                              `hold` s later from its data dir
  token_rotation              README's rotation: the new token added, SIGHUP,
                              the clients and agents switched (the agents
                              restarted), `hold` s later the old one removed, SIGHUP
  full_table                  `count` new names posted once each: some fill
                              the last slots (204), the rest get 507
  failing_checkpoint          the data dir unusable for `hold` s: checkpoints fail
  haproxy_reload              (behind the balancer) a new HAProxy takes over, the
                              old one finishes its connections (-sf)
"""

import os
import random
import signal
import time

KINDS = ("kill_ingest", "kill_query", "stop_ingest", "stop_query", "kill_supervisor", "stop_supervisor",
         "kill_agent", "stop_agent", "power_cut", "token_rotation", "full_table", "failing_checkpoint",
         "haproxy_reload")


def schedule(seed, seconds, nodes, agents, balancer=False):
    """[(at, kind, params)] for a fault phase of `seconds`; haproxy_reload only with a balancer."""
    rng = random.Random(seed)
    kinds = KINDS if balancer else KINDS[:-1]
    faults, at = [], rng.uniform(1, 3)
    while at < seconds:
        kind = rng.choice(kinds)
        params = {"node": rng.randrange(nodes)}
        if kind in ("kill_ingest", "stop_ingest"):
            params["worker"] = f"ingest#{rng.randint(1, 2)}"
        elif kind in ("kill_query", "stop_query"):
            params["worker"] = "query#1"
        if kind in ("kill_agent", "stop_agent"):
            params["agent"] = rng.randrange(agents)
        if kind == "full_table":
            params["count"] = rng.randint(2, 6)
        elif kind == "failing_checkpoint":
            params["hold"] = round(rng.uniform(3, 8), 1)
        elif kind not in ("kill_ingest", "kill_query", "haproxy_reload"):
            params["hold"] = round(rng.uniform(0.5, 4), 1)
        faults.append((round(at, 1), kind, params))
        at += params.get("hold", 0) + rng.uniform(2, 6)
    return faults


def describe(faults):
    return "\n".join(f"  {at:7.1f} s  {kind:<18} " + " ".join(f"{k}={v}" for k, v in params.items())
                     for at, kind, params in faults)


class Injector:
    """Does the faults to a deployment: `nodes` (node.Node), the `balancer`
    (tests/sharding/fleet.py, or None), `agents`
    (agents.AgentFleet), the fleet's `credentials`, the `stranger` client, the
    agents' `token_file`. Records each in the ledger and the power cuts' loss
    windows in `.loss_windows` [(node, start, cut)]."""

    def __init__(self, nodes, agents, credentials, stranger, ledger, tokens, balancer=None):
        self.nodes, self.agents, self.credentials, self.balancer = nodes, agents, credentials, balancer
        self.stranger, self.ledger, self.tokens = stranger, ledger, tokens
        self.loss_windows = []
        self.done = []

    def run(self, faults, stopped=lambda: False):
        began = time.monotonic()
        for at, kind, params in faults:
            while time.monotonic() - began < at:
                if stopped():
                    return
                time.sleep(0.05)
            self.ledger.fault(kind, str(params))
            getattr(self, kind)(self.nodes[params["node"]], **{k: v for k, v in params.items() if k != "node"})
            self.done.append(kind)

    def kill_ingest(self, node, worker):
        node.signal_worker(worker, signal.SIGKILL)

    kill_query = kill_ingest

    def stop_ingest(self, node, worker, hold):
        pid = node.signal_worker(worker, signal.SIGSTOP)
        time.sleep(hold)
        os.kill(pid, signal.SIGCONT)

    stop_query = stop_ingest

    def kill_supervisor(self, node, hold):
        node.kill_supervisor()
        time.sleep(hold)
        node.restart()

    def stop_supervisor(self, node, hold):
        node.signal_supervisor(signal.SIGSTOP)
        time.sleep(hold)
        node.signal_supervisor(signal.SIGCONT)

    def kill_agent(self, node, agent, hold):
        self.agents.kill(agent)
        time.sleep(hold)
        self.agents.restart(agent)

    def stop_agent(self, node, agent, hold):
        self.agents.stop(agent)
        time.sleep(hold)
        self.agents.cont(agent)

    def power_cut(self, node, hold):
        start, cut = node.power_cut()
        self.loss_windows.append((node.name, start, cut))
        time.sleep(hold)
        node.restart()

    def token_rotation(self, node, hold):
        old = self.credentials.token
        new = self.tokens.next_token()
        self.tokens.write([old, new])
        self.reload()
        self.credentials.rotate(new)
        self.tokens.give_agents(new)
        self.agents.restart_all()
        time.sleep(hold)
        self.tokens.write([new])
        self.reload()

    def reload(self):
        for node in self.nodes:
            node.signal_supervisor(signal.SIGHUP)
        time.sleep(0.5)  # the workers re-read the file (a request before that may meet the old set)

    def full_table(self, node, count):
        self.stranger.fill(count)

    def haproxy_reload(self, node):
        self.balancer.reload()

    def failing_checkpoint(self, node, hold):
        node.break_data_dir()
        time.sleep(hold)
        node.mend_data_dir()
