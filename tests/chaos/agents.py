"""The real servertrack-agents of the simulated fleet, and how the ledger learns
what each was told.

Each agent (tests/agent/agent_common.py: Agent, FakeProc) reads a fake /proc,
samples every second and posts to a RecordingProxy on loopback, which passes
every request to the appliance (or the balancer) and its answer back, byte for
byte in status and body, and writes to the Ledger what the agent was told: a
204 acknowledges the sample, a 200 to an array acknowledges the items not in
"rejected"; a request the appliance did not answer is closed without an answer
(the agent keeps its samples in the spool, as for any lost answer) and its
samples are noted as unanswered. The agent's own log and spool are not needed:
the proxy sees every answer the agent gets. At the end of a run the agents are
stopped once their spools are empty (every sample acknowledged); a sample still
spooled then is reported in doubt by the ledger.

    RecordingProxy(upstream, ledger)   .url .close(); a thread serving it
    AgentFleet(proxy_url, ledger, count, token_file, rng)
        .start() .kill(i) .stop(i) .cont(i) .restart(i) .spooled() .close()
"""

import http.client
import http.server
import json
import os
import shutil
import signal
import tempfile
import threading

from agent_common import Agent, FakeProc, spool_size
from appliance import http as http_request

INTERVAL = 1


class RecordingProxy:
    def __init__(self, upstream, ledger):
        self.upstream, self.ledger = upstream, ledger
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.forward(self, body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def forward(self, handler, body):
        name = handler.path.rsplit("/", 1)[-1]
        document = json.loads(body)
        items = document if isinstance(document, list) else [document]
        samples = [(name, int(item["time"])) for item in items]
        headers = {key: handler.headers[key] for key in ("Authorization", "Content-Type") if key in handler.headers}
        try:
            status, answer_headers, payload = http_request("POST", self.upstream + handler.path, body, headers,
                                                           timeout=8)
        except (OSError, http.client.HTTPException):
            for sample in samples:
                self.ledger.unanswered(*sample)
            handler.close_connection = True  # no answer: the agent keeps its samples
            return
        if status == 204:
            for sample in samples:
                self.ledger.acked(*sample)
        elif status == 200 and isinstance(document, list):
            rejected = {item["index"] for item in json.loads(payload).get("rejected", [])}
            for index, sample in enumerate(samples):
                if index not in rejected:
                    self.ledger.acked(*sample)
        try:
            handler.send_response(status)
            for key in ("content-type", "retry-after", "www-authenticate"):
                if key in answer_headers:
                    handler.send_header(key, answer_headers[key])
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The agent was killed or gave up meanwhile: the appliance's answer
            # stands (the ledger has it); the agent resends what its spool kept.
            handler.close_connection = True

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class AgentFleet:
    def __init__(self, proxy_url, ledger, count, token_file, rng):
        self.proxy_url, self.ledger, self.token_file, self.rng = proxy_url, ledger, token_file, rng
        self.names = [f"agent-{i}.example.com" for i in range(count)]
        self.spool_dirs = [tempfile.mkdtemp(prefix="servertrack-chaos-spool-") for _ in self.names]
        self.procs = [FakeProc() for _ in self.names]
        self.ticks = [0] * count
        self.agents = [None] * count
        self.stopped = [False] * count
        self.feeding = threading.Lock()  # the feeding thread and a (re)start write the same files

    def _feed(self, index):
        """New /proc figures for agent `index` (its counters move on)."""
        with self.feeding:
            self._write_proc(index)

    def _write_proc(self, index):
        self.ticks[index] += 1
        t = self.ticks[index]
        self.procs[index].set_stat(user=1000 + 37 * t, system=500 + 11 * t, idle=9000 + 50 * t)
        self.procs[index].set_meminfo(total_kib=8_000_000, available_kib=self.rng.randint(1_000_000, 7_000_000))

    def start(self, index=None):
        for i in ([index] if index is not None else range(len(self.names))):
            self._feed(i)
            self.agents[i] = Agent(self.proxy_url, self.spool_dirs[i],
                                   ("--name", self.names[i], "--interval", str(INTERVAL),
                                    "--proc-root", self.procs[i].path, "--token-file", self.token_file))
            self.stopped[i] = False

    def feed_all(self):
        for i in range(len(self.names)):
            self._feed(i)

    def kill(self, index):
        self.agents[index].kill()

    def stop(self, index):
        self.agents[index].proc.send_signal(signal.SIGSTOP)
        self.stopped[index] = True

    def cont(self, index):
        self.agents[index].proc.send_signal(signal.SIGCONT)
        self.stopped[index] = False

    def restart(self, index):
        """As systemd does after an exit (or a new token): the agent again, on its spool."""
        self.agents[index].kill()
        self.agents[index].__exit__()
        self.start(index)

    def restart_all(self):
        for i in range(len(self.names)):
            self.restart(i)

    def spooled(self):
        """Samples still waiting in the agents' spools."""
        return sum(spool_size(os.path.join(d, name)) for d, name in zip(self.spool_dirs, self.names))

    def running(self):
        return all(agent.proc.poll() is None for agent in self.agents)

    def close(self):
        for agent in self.agents:
            if agent is not None:
                agent.__exit__()
        for proc in self.procs:
            proc.__exit__()
        for directory in self.spool_dirs:
            shutil.rmtree(directory, ignore_errors=True)
