"""The runtime commands: `run` (the appliance from a build or an install),
`up` (a checkout's install + build + run), `checkpoint` and `grow`.

`run` checks its options, makes sure the segment is there, then hands the
worker command lines to supervise.Supervisor and prints where to go once both
ports answer /healthz.
"""
import argparse
import json
import os
import socket
import subprocess
import urllib.error
import urllib.request

from servertrack import alerts, defaults, devtools
from servertrack.checkpoint import Checkpointer, metrics_path, remove_stale_temporaries
from servertrack.growth import AutoGrow, grow_command
from servertrack.log import log
from servertrack.ports import EXIT_PORT_UNAVAILABLE, held_by_another
from servertrack.programs import CHECKOUT, missing_programs, program
from servertrack.segment import prepare_segment
from servertrack.supervise import Supervisor


def advertised_host(bind):
    """The host other machines reach a worker bound to `bind` at."""
    return socket.getfqdn() if bind in ("0.0.0.0", "::", "") else bind


def url(host, port):
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def access_options(options, kind):
    """The worker options that say who may do what (README: Exposing it safely)."""
    argv = ["--tokens-file", options.tokens_file] if options.tokens_file else []
    if kind == "ingest" and options.ingest_token_file:
        argv += ["--ingest-token-file", options.ingest_token_file]
    return argv + (["--insecure-open"] if options.insecure_open else [])


def describe_access(options):
    """The banner's lines about tokens (never a token)."""
    if options.tokens_file:
        lines = [f"  every route but /healthz needs  Authorization: Bearer <a token of {options.tokens_file}>"
                 " with the route's scope; SIGHUP re-reads it"]
    elif options.ingest_token_file:
        lines = [f"  POSTs and DELETEs need  Authorization: Bearer <a token of {options.ingest_token_file}>;"
                 " GETs need none; SIGHUP re-reads it"]
    else:
        lines = ["  no token is needed for anything (README: Exposing it safely)"]
    if options.insecure_open:
        lines.append(f"  OPEN to other hosts (--insecure-open): anyone who reaches {options.bind} "
                     "reads every server" + ("" if options.ingest_token_file else " and writes them"))
    return "".join(line + "\n" for line in lines)


def unusable_access(options):
    """Why the workers would refuse the token files or the address, or None:
    asked of the ingest worker itself (--check-tokens), before any starts, so
    a typo is one clear error (naming the file and line) rather than a crash loop.
    With no token file and a loopback address there is nothing to check."""
    if not (options.tokens_file or options.ingest_token_file or options.insecure_open
            or options.bind not in ("127.0.0.1", "::1", "localhost")):
        return None
    check = subprocess.run([program(options.build_dir, "ingest"), "--check-tokens", "--bind", options.bind,
                            *access_options(options, "ingest")],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True, timeout=30)
    return check.stderr.strip() or f"the token options were refused (status {check.returncode})" \
        if check.returncode != 0 else None


def worker_commands(options):
    """[(name, argv)] for every worker process the options ask for."""
    host = advertised_host(options.bind)
    ports = {"ingest": options.ingest_port, "query": options.query_port}
    siblings = {"ingest": "query", "query": "ingest"}
    counts = {"ingest": options.ingest_workers, "query": options.query_workers}
    alert_worker_options = alerts.worker_options(options)
    commands = []
    for kind in ("ingest", "query"):
        argv = [program(options.build_dir, kind), "--bind", options.bind,
                "--port", str(ports[kind]), "--segment", options.segment,
                "--sibling-url", url(host, ports[siblings[kind]])]
        argv += access_options(options, kind)
        if kind == "query" and options.peers:
            argv += ["--peers", options.peers]
        if options.checkpoint_interval:
            # The supervisor's checkpoint counters, in every worker's /metrics.
            argv += ["--metrics-textfile", metrics_path(options.data_dir, options.segment)]
        argv += alert_worker_options[kind]
        commands += [(f"{kind}#{n}", argv + ["--worker-id", str(n)]) for n in range(1, counts[kind] + 1)]
    return commands + alerts.alert_commands(options, url(host, options.query_port))


def healthy(host, port, segment):
    """True when the worker answering at host:port is one of this appliance's:
    another appliance's on the same port must not pass for it."""
    try:
        with urllib.request.urlopen(f"{url(host, port)}/healthz", timeout=0.5) as response:
            return response.status == 200 and json.load(response).get("segment") == segment
    except (urllib.error.URLError, OSError, ValueError):
        return False


def describe_checkpoints(options):
    if options.checkpoint_interval == 0:
        return (f"checkpoints are OFF (--checkpoint-interval 0): a reboot loses the data "
                f"(data dir {options.data_dir})")
    kinds = ("every one full" if options.full_checkpoint_every == 1
             else f"a full one every {options.full_checkpoint_every}, deltas between")
    return (f"checkpoints are on: every {options.checkpoint_interval:g} s and at stop ({kinds}), "
            f"into {options.data_dir}")


def announce_when_ready(options):
    """An on_tick callback: prints the URLs once both ports answer /healthz."""
    probe = "127.0.0.1" if options.bind in ("0.0.0.0", "") else "::1" if options.bind == "::" else options.bind
    host = advertised_host(options.bind)
    announced = False

    def tick():
        nonlocal announced
        if announced or not all(healthy(probe, port, options.segment)
                                for port in (options.ingest_port, options.query_port)):
            return
        announced = True
        print(f"ServerTrack is running (segment '{options.segment}'). Ctrl-C stops it.\n"
              f"  POST samples to  {url(host, options.ingest_port)}/server/<name>   "
              "body {\"cpu\": 12.5, \"ram\": 40}\n"
              f"  GET windows from {url(host, options.query_port)}/server/<name>\n"
              f"  browse           {url(host, options.query_port)}/\n"
              + describe_access(options)
              + f"  data             {describe_checkpoints(options)}", flush=True)
    return tick


def fatal_exit(options):
    """The supervisor's judge of a worker's exit: the sentence that stops the
    appliance, or None to restart the worker. A worker whose port is not its
    appliance's (held for another segment, or its claim stuck) would fail the
    same way every time."""
    def judge(returncode):
        if returncode != EXIT_PORT_UNAVAILABLE:
            return None
        held = held_by_another(options.ingest_port, options.segment) or held_by_another(options.query_port,
                                                                                         options.segment)
        return held or "a worker could not claim its port (its line above says why)"
    return judge


def default_data_dir():
    """<checkout>/data in a checkout; installed: systemd's StateDirectory=, else /var/lib/servertrack."""
    if CHECKOUT:
        return os.path.join(CHECKOUT, "data")
    return os.environ.get("STATE_DIRECTORY", defaults.INSTALLED_DATA_DIR).split(":")[0]


def unusable_data_dir(path, segment):
    """Why the data dir cannot hold checkpoints, or None; creates it if absent."""
    try:
        os.makedirs(path, mode=0o750, exist_ok=True)
        remove_stale_temporaries(path, segment)
    except OSError as error:
        return f"--data-dir: cannot use {path}: {error.strerror}"
    return None if os.access(path, os.W_OK | os.X_OK) else f"--data-dir: {path} is not writable"


def cmd_run(options):
    missing = missing_programs(options.build_dir)
    if missing:
        log("not built: " + ", ".join(missing) + "\n  `./servertrack up` installs, builds and runs; "
            "or pass --build-dir with the build that has them")
        return 2
    problem = (unusable_access(options)
               or alerts.unusable_alert_options(options)
               or held_by_another(options.ingest_port, options.segment)
               or held_by_another(options.query_port, options.segment)
               or unusable_data_dir(options.data_dir, options.segment))
    if not problem:
        problem = prepare_segment(options.build_dir, options.segment, options.capacity, options.days,
                                  options.data_dir)
    if problem:
        log(problem)
        return 2
    log(describe_checkpoints(options))
    announce = announce_when_ready(options)
    checkpointer = None
    if options.checkpoint_interval > 0:
        checkpointer = Checkpointer(options.build_dir, options.segment, options.data_dir,
                                    options.checkpoint_interval, full_every=options.full_checkpoint_every)
    auto_grow = AutoGrow(options.build_dir, options.segment, options.auto_grow_at) if options.auto_grow else None

    def tick():
        announce()
        if checkpointer:
            checkpointer.tick()
        if auto_grow:
            auto_grow.tick()

    status = Supervisor(worker_commands(options)).run(on_tick=tick, fatal_exit=fatal_exit(options))
    if auto_grow:
        auto_grow.stop()
    if checkpointer:
        checkpointer.final()
    log("stopped")
    return status


def cmd_checkpoint(options):
    """One checkpoint of the segment now, into the data dir, beside a running
    appliance's own (the Debian package's prerm runs it before an upgrade)."""
    if not os.path.exists(os.path.join("/dev/shm", options.segment)):
        log(f"no segment '{options.segment}': nothing to checkpoint")
        return 0
    problem = missing_programs(options.build_dir) or unusable_data_dir(options.data_dir, options.segment)
    if problem:
        log(problem if isinstance(problem, str) else "not built: " + ", ".join(problem))
        return 2
    checkpointer = Checkpointer(options.build_dir, options.segment, options.data_dir, 0, metrics=False,
                                full_every=options.full_checkpoint_every)
    return 0 if checkpointer.final(when="on request") else 1


def cmd_grow(options):
    """Grows the running appliance's segment (or one no appliance serves)."""
    missing = missing_programs(options.build_dir)
    if missing:
        log("not built: " + ", ".join(missing))
        return 2
    return subprocess.run(grow_command(options.build_dir, options.segment, options.capacity),
                          stdin=subprocess.DEVNULL).returncode


def cmd_up(options):
    devtools.install_deps()
    devtools.build(options.build_dir)
    return cmd_run(options)


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def days(text):
    value = int(text)
    if not 0 <= value <= 366:
        raise argparse.ArgumentTypeError(f"must be 0 to 366 days, not {value}")
    return value


def seconds(text):
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds, 0 or more, not {text}")
    return value


def percent(text):
    value = float(text)
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be a percentage from 1 to 100, not {text}")
    return value


def port(text):
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1..65535, not {value}")
    return value


def add_run_options(parser, default_build):
    parser.add_argument("--bind", default=defaults.BIND,
                        help="address both workers listen on (default: %(default)s)")
    parser.add_argument("--query-port", type=port, default=defaults.QUERY_PORT,
                        help="the query workers' port (default: %(default)s)")
    parser.add_argument("--ingest-port", type=port, default=defaults.INGEST_PORT,
                        help="the ingest workers' port (default: %(default)s)")
    parser.add_argument("--ingest-workers", type=positive, default=1,
                        help="ingest processes sharing the ingest port (SO_REUSEPORT; default: %(default)s)")
    parser.add_argument("--query-workers", type=positive, default=1,
                        help="query processes sharing the query port (SO_REUSEPORT; default: %(default)s)")
    parser.add_argument("--segment", default=defaults.SEGMENT,
                        help="shared-memory segment name (default: %(default)s)")
    parser.add_argument("--capacity", type=positive,
                        help="server slots; default: those of the segment or checkpoint found, else "
                             f"{defaults.CAPACITY} (sized for 100,000 servers)")
    parser.add_argument("--days", type=days,
                        help="UTC days of a new segment's day window, 0 to 366 (0: only the last 60 minutes "
                             f"and 24 hours); default: those of the segment or checkpoint found, else {defaults.DAYS}")
    parser.add_argument("--data-dir", type=os.path.abspath, default=default_data_dir(),
                        help="where checkpoints are written and restored from (default: %(default)s)")
    parser.add_argument("--checkpoint-interval", type=seconds, default=defaults.CHECKPOINT_INTERVAL,
                        metavar="SECONDS", help="seconds between checkpoints (default %(default)s); "
                                                "0 disables them")
    parser.add_argument("--full-checkpoint-every", type=positive, default=defaults.FULL_CHECKPOINT_EVERY,
                        metavar="N", help="every Nth checkpoint is a full one, the others deltas of the "
                                          "servers changed since the one before (default %(default)s; "
                                          "1: every one full)")
    parser.add_argument("--build-dir", default=default_build,
                        help="build holding ingest/servertrack-ingest, query/servertrack-query, cli/shmtool"
                             + (" (default: %(default)s)" if default_build else " (default: the installed programs)"))
    parser.add_argument("--tokens-file", metavar="FILE", type=os.path.abspath,
                        help="every route but /healthz needs a token of this file with the route's scope "
                             "(read, write, delete, metrics) and name prefix; SIGHUP re-reads it "
                             "(README: Exposing it safely; default: none)")
    parser.add_argument("--ingest-token-file", metavar="FILE", type=os.path.abspath,
                        help="POSTs and DELETEs need one of the tokens of this file, one a line; "
                             "SIGHUP re-reads it (default: none)")
    parser.add_argument("--insecure-open", action="store_true",
                        help="serve a non-loopback --bind without --tokens-file: anyone who reaches it "
                             "reads every server")
    parser.add_argument("--auto-grow", action="store_true",
                        help="grow the segment to twice its capacity, while serving, once it is "
                             "--auto-grow-at percent full (README: Growing without stopping)")
    parser.add_argument("--auto-grow-at", type=percent, default=90, metavar="PERCENT",
                        help="the fill that triggers --auto-grow (default: %(default)s)")
    parser.add_argument("--peers", metavar="NAME=HOST:PORT,...",
                        help="every node of a sharded fleet, this one included, with its query port, as "
                             "the balancer's --node lines name them: /fleet and /servers then list all "
                             "of them (README: More than one host; default: this node only)")
    alerts.add_options(parser)


def add_runtime_commands(sub, default_build):
    """`run`, and `up` when running from a checkout (it builds)."""
    if default_build:
        p = sub.add_parser("up", help="install, build, create the segment, run the workers")
        add_run_options(p, default_build)
        p.set_defaults(func=cmd_up)
    p = sub.add_parser("run", help="run the workers from an existing build or the install")
    add_run_options(p, default_build)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("checkpoint", help="write one checkpoint of the segment into the data dir now; "
                                          "takes the options of run (those that do not apply are ignored)")
    add_run_options(p, default_build)
    p.set_defaults(func=cmd_checkpoint)
    p = sub.add_parser("grow", help="give the segment more slots while the appliance serves (shmtool grow)")
    p.add_argument("--capacity", type=positive, required=True, help="server slots of the grown segment")
    p.add_argument("--segment", default=defaults.SEGMENT, help="segment name (default: %(default)s)")
    p.add_argument("--build-dir", default=default_build,
                   help="build holding cli/shmtool" + (" (default: %(default)s)" if default_build
                                                        else " (default: the installed programs)"))
    p.set_defaults(func=cmd_grow)
