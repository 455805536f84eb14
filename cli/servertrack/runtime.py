"""The runtime commands: `run` (the appliance from a build or an install) and
`up` (a checkout's install + build + run).

`run` checks its options, makes sure the segment is there, then hands the
worker command lines to supervise.Supervisor and prints where to go once both
ports answer /healthz.
"""
import argparse
import os
import socket
import urllib.error
import urllib.request

from servertrack import defaults, devtools
from servertrack.checkpoint import Checkpointer, metrics_path, remove_stale_temporaries
from servertrack.log import log
from servertrack.programs import CHECKOUT, missing_programs, program
from servertrack.segment import prepare_segment
from servertrack.supervise import Supervisor


def advertised_host(bind):
    """The host other machines reach a worker bound to `bind` at."""
    return socket.getfqdn() if bind in ("0.0.0.0", "::", "") else bind


def url(host, port):
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def worker_commands(options):
    """[(name, argv)] for every worker process the options ask for."""
    host = advertised_host(options.bind)
    ports = {"ingest": options.ingest_port, "query": options.query_port}
    siblings = {"ingest": "query", "query": "ingest"}
    counts = {"ingest": options.ingest_workers, "query": options.query_workers}
    commands = []
    for kind in ("ingest", "query"):
        argv = [program(options.build_dir, kind), "--bind", options.bind,
                "--port", str(ports[kind]), "--segment", options.segment,
                "--sibling-url", url(host, ports[siblings[kind]])]
        if kind == "ingest" and options.ingest_token_file:
            argv += ["--ingest-token-file", options.ingest_token_file]
        if kind == "query" and options.peers:
            argv += ["--peers", options.peers]
        if options.checkpoint_interval:
            # The supervisor's checkpoint counters, in every worker's /metrics.
            argv += ["--metrics-textfile", metrics_path(options.data_dir, options.segment)]
        commands += [(f"{kind}#{n}", argv + ["--worker-id", str(n)]) for n in range(1, counts[kind] + 1)]
    return commands


def healthy(host, port):
    try:
        with urllib.request.urlopen(f"{url(host, port)}/healthz", timeout=0.5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def describe_checkpoints(options):
    if options.checkpoint_interval == 0:
        return (f"checkpoints are OFF (--checkpoint-interval 0): a reboot loses the data "
                f"(data dir {options.data_dir})")
    return (f"checkpoints are on: every {options.checkpoint_interval:g} s and at stop, "
            f"into {options.data_dir}")


def announce_when_ready(options):
    """An on_tick callback: prints the URLs once both ports answer /healthz."""
    probe = "127.0.0.1" if options.bind in ("0.0.0.0", "") else "::1" if options.bind == "::" else options.bind
    host = advertised_host(options.bind)
    announced = False

    def tick():
        nonlocal announced
        if announced or not (healthy(probe, options.ingest_port) and healthy(probe, options.query_port)):
            return
        announced = True
        print(f"ServerTrack is running (segment '{options.segment}'). Ctrl-C stops it.\n"
              f"  POST samples to  {url(host, options.ingest_port)}/server/<name>   "
              "body {\"cpu\": 12.5, \"ram\": 40}\n"
              f"  GET windows from {url(host, options.query_port)}/server/<name>\n"
              f"  browse           {url(host, options.query_port)}/\n"
              + (f"  POSTs need       Authorization: Bearer <the first line of {options.ingest_token_file}>\n"
                 if options.ingest_token_file else "")
              + f"  data             {describe_checkpoints(options)}", flush=True)
    return tick


def unreadable_token_file(path):
    """Why the ingest workers could not read their token from `path`, or None.
    Checked before any worker starts, so a typo is one clear error rather than
    a crash loop."""
    if not path:
        return None
    try:
        with open(path) as f:
            token = f.readline().strip()
    except OSError as error:
        return f"--ingest-token-file: cannot read {path}: {error.strerror}"
    return None if token else f"--ingest-token-file: {path} has no token on its first line"


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
    problem = unreadable_token_file(options.ingest_token_file) or unusable_data_dir(options.data_dir, options.segment)
    unloadable = []
    if not problem:
        problem, unloadable = prepare_segment(options.build_dir, options.segment, options.capacity, options.days,
                                              options.data_dir)
    if problem:
        log(problem)
        return 2
    log(describe_checkpoints(options))
    announce = announce_when_ready(options)
    checkpointer = None
    if options.checkpoint_interval > 0:
        checkpointer = Checkpointer(options.build_dir, options.segment, options.data_dir,
                                    options.checkpoint_interval, unloadable)

    def tick():
        announce()
        if checkpointer:
            checkpointer.tick()

    status = Supervisor(worker_commands(options)).run(on_tick=tick)
    if checkpointer:
        checkpointer.final()
    log("stopped")
    return status


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
    parser.add_argument("--build-dir", default=default_build,
                        help="build holding ingest/servertrack-ingest, query/servertrack-query, cli/shmtool"
                             + (" (default: %(default)s)" if default_build else " (default: the installed programs)"))
    parser.add_argument("--ingest-token-file", metavar="FILE", type=os.path.abspath,
                        help="require 'Authorization: Bearer TOKEN' on every POST; TOKEN is the file's "
                             "first line (README: Ingest token; default: none, POSTs need no token)")
    parser.add_argument("--peers", metavar="NAME=HOST:PORT,...",
                        help="every node of a sharded fleet, this one included, with its query port, as "
                             "the balancer's --node lines name them: /fleet and /servers then list all "
                             "of them (README: More than one host; default: this node only)")


def add_runtime_commands(sub, default_build):
    """`run`, and `up` when running from a checkout (it builds)."""
    if default_build:
        p = sub.add_parser("up", help="install, build, create the segment, run the workers")
        add_run_options(p, default_build)
        p.set_defaults(func=cmd_up)
    p = sub.add_parser("run", help="run the workers from an existing build or the install")
    add_run_options(p, default_build)
    p.set_defaults(func=cmd_run)
