#!/usr/bin/env python3
"""ServerTrack HTTP benchmark: one command, one table.

    python3 tests/bench/http/run.py [--quick] [--threads N] [--ingest-processes K]
    ./servertrack bench [--quick] ...     (the same)

Installs what it needs when missing (Debian's wrk and nginx-light, with
apt-get as root; otherwise it says which command to run), builds a release in <source>/build-bench, measures the nginx ceiling (Debian's
nginx, one worker, `return 204` / a static 2 KB JSON file) with every wrk
setting, then the appliance (fresh segments, ingest + query workers) with the
same settings, and prints one table of medians. wrk runs on one core, the
servers on another (taskset). Every load is a time-bounded wrk run; every
process is started here and stopped by its pid; segments are removed at the end.
"""

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

import nginx_ceiling
import processes
import scenarios
import workers

SOURCE_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
PAUSE_S = 1.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s loads, 1 repetition")
    parser.add_argument("--duration", type=int, help="seconds per load (default 10, --quick 3)")
    parser.add_argument("--repetitions", type=int, help="runs per scenario, medians reported (default 3)")
    parser.add_argument("--build-dir", default=os.path.join(SOURCE_ROOT, "build-bench"))
    parser.add_argument("--no-build", action="store_true", help="use the build dir as it is")
    # The servers get one core, as nginx gets one worker: one event loop each.
    parser.add_argument("--threads", type=int, default=1, help="--threads (event loops) of each ingest worker")
    parser.add_argument("--query-threads", type=int, default=1, help="--threads of the query worker")
    parser.add_argument("--ingest-processes", type=int, default=1, help="ingest workers on one port")
    parser.add_argument("--scale", default="1000,100000,1000000", help="server counts of the scale rows")
    parser.add_argument("--only", default="", help="run only scenarios whose label contains this text")
    args = parser.parse_args()
    args.duration = args.duration or (3 if args.quick else 10)
    args.repetitions = args.repetitions or (1 if args.quick else 3)
    args.scale = [int(count) for count in args.scale.split(",") if count]
    return args


# The benchmark's own tools: {program: the Debian package that has it}.
TOOLS = {"wrk": "wrk", "nginx": "nginx-light", "taskset": "util-linux", "ss": "iproute2"}


def install_tools():
    """apt-get installs the packages of missing tools (as root); exits with the
    command to run when it cannot."""
    missing = sorted({package for program, package in TOOLS.items()
                      if shutil.which(program) is None and not os.path.exists(f"/usr/sbin/{program}")})
    if not missing:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() != 0:
        sys.exit(f"the benchmark needs {', '.join(missing)}: run `sudo {' '.join(command)}`")
    progress(f"installing {' '.join(missing)}")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(command, env=environment).returncode != 0:
        subprocess.run(["apt-get", "update"], env=environment, check=True)
        subprocess.run(command, env=environment, check=True)


def build(build_dir):
    os.makedirs(build_dir, exist_ok=True)
    with open(os.path.join(build_dir, "bench-build.log"), "w") as log:
        if not os.path.exists(os.path.join(build_dir, "build.ninja")):
            subprocess.run(["meson", "setup", build_dir, "--buildtype=release", "--wrap-mode=nofallback"],
                           cwd=SOURCE_ROOT, stdout=log, stderr=subprocess.STDOUT, check=True)
        subprocess.run(["meson", "compile", "-C", build_dir], cwd=SOURCE_ROOT, stdout=log,
                       stderr=subprocess.STDOUT, check=True)


def cores():
    """(client core, server core), or (None, None) on a single-core machine."""
    available = sorted(os.sched_getaffinity(0))
    return (available[0], available[1]) if len(available) >= 2 else (None, None)


def summarize(runs):
    """Medians of rates and latencies; the worst repetition for failures."""
    def median(key):
        return statistics.median(run[key] for run in runs)
    background = [run["background_rps"] for run in runs if run["background_rps"] is not None]
    return {
        "rps": median("rps"), "p50": median("p50_us") / 1000, "p99": median("p99_us") / 1000,
        "max": median("max_us") / 1000, "cpu": median("server_cpu"),
        "errors": max(run["connect"] + run["read"] + run["write"] + run["status"] for run in runs),
        "timeouts": max(run["timeout"] for run in runs),
        "never_served": max(run["never_served"] for run in runs),
        "background_rps": statistics.median(background) if background else None,
    }


def measure_all(selected, target, names, args, client_core):
    """{scenario: summary} after args.repetitions rounds over the selected scenarios."""
    runs = {scenario: [] for scenario in selected}
    for _ in range(args.repetitions):
        for scenario in selected:
            runs[scenario].append(scenarios.measure(scenario, target, names, args.duration, client_core))
            time.sleep(PAUSE_S)
    return {scenario: summarize(found) for scenario, found in runs.items()}


def progress(text):
    print(f"[{datetime.datetime.now():%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def row(label, figures, ceiling, note=""):
    ratio = f"{figures['rps'] / ceiling['rps']:.2f}" if ceiling else "-"
    return (f"| {label} | {figures['rps']:,.0f} | {figures['p50']:.2f} | {figures['p99']:.2f} | "
            f"{figures['max']:.1f} | {figures['errors']}/{figures['timeouts']} | {figures['never_served']} | "
            f"{figures['cpu'] * 100:.0f}% | {ceiling['rps'] if ceiling else 0:,.0f} | {ratio} | {note} |")


def header(args, client_core, server_core):
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor())
    pinning = (f"wrk pinned to core {client_core}, servers to core {server_core} (taskset)"
               if client_core is not None else "no pinning (one core)")
    if processes.PRIORITY:
        pinning += ", both at nice -20"
    return [
        f"ServerTrack HTTP benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}: {model}, {os.cpu_count()} cores, "
        f"Linux {platform.release()}; {pinning}.",
        f"wrk 4.1, 1 thread, --timeout 2s, {args.duration} s per load, median of {args.repetitions} runs "
        f"(errors, timeouts and never-served: worst run). Workers: {args.ingest_processes} ingest process(es), "
        f"--threads {args.threads or 'default'}, query --threads {args.query_threads or 'default'}.",
        "| scenario | req/s | p50 ms | p99 ms | max ms | errors/timeouts | never served | server CPU | "
        "nginx req/s | ratio | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]


def measure_main(chosen, ceilings, args, client_core, server_core, lines):
    with workers.Workers(args.build_dir, scenarios.POPULATED * 2, server_core, args.ingest_processes,
                         args.threads, args.query_threads) as appliance:
        progress(f"appliance: filling {scenarios.POPULATED:,} names")
        appliance.fill(scenarios.POPULATED, client_core)
        progress("appliance: main scenarios")
        for scenario, figures in measure_all(chosen, appliance, scenarios.POPULATED, args, client_core).items():
            note = f"POST alongside: {figures['background_rps']:,.0f} req/s" if figures["background_rps"] else ""
            lines.append(row(scenario.label, figures, ceilings[scenario], note))


def measure_scale(chosen, ceilings, args, client_core, server_core, lines):
    """One fresh appliance per server count, sized as README advises (90% full)."""
    base = {}
    for names in args.scale:
        capacity = names * 10 // 9
        with workers.Workers(args.build_dir, capacity, server_core, args.ingest_processes, args.threads,
                             args.query_threads) as appliance:
            progress(f"scale: filling {names:,} names")
            fill_s = appliance.fill(names, client_core)
            size, resident = appliance.segment_bytes()
            for scenario, figures in measure_all(chosen, appliance, names, args, client_core).items():
                base.setdefault(scenario, figures["rps"])
                note = (f"segment {size / 2**20:,.0f} MiB ({capacity:,} slots), resident {resident / 2**20:,.0f} MiB; "
                        f"fill {fill_s:.0f} s; {figures['rps'] / base[scenario]:.2f}x the {args.scale[0]:,} figure")
                lines.append(row(f"scale {names:,} servers: {scenario.label}", figures, ceilings[scenario], note))


def main():
    args = parse_args()
    client_core, server_core = cores()
    install_tools()
    if not args.no_build:
        progress(f"building a release in {args.build_dir}")
        build(args.build_dir)
    main_scenarios = [s for s in scenarios.MAIN if args.only in s.label]
    scale_scenarios = [s for s in scenarios.SCALE if args.only in s.label]
    loads_before = open("/proc/loadavg").read().split()[:3]

    progress("nginx ceiling")
    with nginx_ceiling.NginxCeiling(server_core) as nginx:
        ceilings = measure_all(list(dict.fromkeys(main_scenarios + scale_scenarios)), nginx, scenarios.POPULATED,
                               args, client_core)

    lines = header(args, client_core, server_core)
    if main_scenarios:
        measure_main(main_scenarios, ceilings, args, client_core, server_core, lines)
    if scale_scenarios:
        measure_scale(scale_scenarios, ceilings, args, client_core, server_core, lines)

    loads_after = open("/proc/loadavg").read().split()[:3]
    lines.append(f"Load average before {' '.join(loads_before)}, after {' '.join(loads_after)}. "
                 f"Scale rows' ratios use the nginx figure of the same wrk settings above. Command: "
                 f"python3 tests/bench/http/run.py {' '.join(sys.argv[1:])}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
