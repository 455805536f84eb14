#!/usr/bin/env python3
"""Other servers' ingest throughput while clients retry one wedged server.

Starts one ingest worker (127.0.0.1, a fresh segment), then measures for
--seconds each the POSTs of one client to other servers: (a) alone; (b) while
--retriers clients (default 4, the worker's handler threads) POST to a healthy
server without pause (the clients share one Python process, so this is the
baseline); (c) while they retry POST /server/wedged, its slot's lock word
naming a live process that never writes. --holder says how the word names it:
  recycled  the id of the live process with another start time, as a dead
            writer's word reads once the kernel recycled its id (layout 2
            stores the bare pid, so both choices plant that there)
  live      the live process exactly (layouts 3 and 4 only): a truly wedged slot
Prints the medians of --rounds rounds and the ratio (c)/(b). Bounded in time (rounds
x 2 x seconds) and count. Docs: docs/design.md, "Concurrency rules", Takeover.

  tests/bench/reliability/wedged_slot.py --build build [--holder live]
"""

import argparse
import http.client
import json
import mmap
import os
import statistics
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))

LIMIT = 200_000  # requests per client per phase, whatever the speed


def post_loop(port, names, stop, counts, index):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"cpu": 1, "ram": 2})
    done = 0
    while not stop.is_set() and done < LIMIT:
        connection.request("POST", f"/server/{names[done % len(names)]}", body)
        response = connection.getresponse()
        response.read()
        if response.status in (204, 503):
            done += 1
        if response.getheader("connection", "").lower() == "close":
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    counts[index] = done
    connection.close()


def measure(port, seconds, retriers, target):
    stop = threading.Event()
    counts = [0] * (1 + retriers)
    clients = [threading.Thread(target=post_loop, args=(port, [f"other_{i}" for i in range(100)], stop, counts, 0))]
    clients += [threading.Thread(target=post_loop, args=(port, [target], stop, counts, i))
                for i in range(1, 1 + retriers)]
    for client in clients:
        client.start()
    time.sleep(seconds)
    stop.set()
    for client in clients:
        client.join(timeout=30)
    return counts[0] / seconds, sum(counts[1:]) / seconds


def start_ticks(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[19])


def plant(segment, holder_pid, holder):
    with open(f"/dev/shm/{segment}", "r+b") as f, mmap.mmap(f.fileno(), 0) as m:
        version = struct.unpack_from("<I", m, 8)[0]
        capacity, = struct.unpack_from("<Q", m, 16)
        slots, = struct.unpack_from("<Q", m, 40)
        size, name_at, lock_at, fmt = {2: (2176, 24, 4, "<I"), 3: (2240, 32, 8, "<Q"), 4: (2496, 40, 8, "<Q"), 5: (5888, 40, 8, "<Q")}[version]
        for i in range(capacity):
            base = slots + i * size
            if bytes(m[base + name_at:base + name_at + 6]) == b"wedged":
                word = holder_pid
                if version >= 3:
                    ticks = start_ticks(holder_pid) & 0xFFFFFFFF
                    word |= (ticks if holder == "live" else ticks ^ 0x5A) << 32
                struct.pack_into(fmt, m, base + lock_at, word)
                return version
    raise RuntimeError("slot 'wedged' not found")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True, help="the meson build directory to take binaries from")
    parser.add_argument("--holder", choices=("recycled", "live"), default="recycled")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--retriers", type=int, default=4)
    args = parser.parse_args()
    os.environ["SERVERTRACK_BUILD_DIR"] = os.path.abspath(args.build)  # read when appliance is imported
    from appliance import TestSegment, Worker, free_port  # pylint: disable=import-outside-toplevel
    holder = subprocess.Popen(["sleep", "600"])
    try:
        with TestSegment(capacity=1024) as segment, Worker("ingest", segment, port=free_port()) as worker:
            connection = http.client.HTTPConnection("127.0.0.1", worker.port, timeout=10)
            for name in ("wedged", "healthy"):
                connection.request("POST", f"/server/{name}", '{"cpu": 1, "ram": 1}')
                connection.getresponse().read()
            connection.close()
            version = plant(segment.name, holder.pid, args.holder)
            alone, beside_healthy, hammered, wedged = [], [], [], []
            for _ in range(args.rounds):
                alone.append(measure(worker.port, args.seconds, 0, "")[0])
                beside_healthy.append(measure(worker.port, args.seconds, args.retriers, "healthy")[0])
                others, retries = measure(worker.port, args.seconds, args.retriers, "wedged")
                hammered.append(others)
                wedged.append(retries)
            print(f"layout {version}, holder {args.holder}, {args.rounds} rounds of {args.seconds:g} s, "
                  f"load average {os.getloadavg()[0]:.1f}")
            baseline = statistics.median(beside_healthy)
            print(f"(a) other servers alone:                          median {statistics.median(alone):9.1f} POST/s")
            print(f"(b) ... while {args.retriers} clients POST to a healthy server: median {baseline:9.1f} POST/s")
            print(f"(c) ... while {args.retriers} clients retry the wedged one:    "
                  f"median {statistics.median(hammered):9.1f} POST/s (c/b {statistics.median(hammered) / baseline:.3f})")
            print(f"answers to the wedged server:     median {statistics.median(wedged):9.1f} /s")
    finally:
        holder.kill()
        holder.wait()


if __name__ == "__main__":
    main()
