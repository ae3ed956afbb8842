"""WebSocket echo benchmark: `runner serve` (bench/ws_echo.case) beside Node's `ws` (bench/ws_echo_node.js).

    /usr/bin/python3 bench/ws_bench.py [--rounds 5] [--seconds 5] [--conns 32] [--windows 1,16] [--size 16]

The load client is bench/ws_load.c (C, one epoll loop: a Node client saturates before Node's server does, as
measured on this machine). Both servers run at once, pinned to CPU 0, the client to CPU 1; rounds alternate between the
servers (noise hits both alike) and the figures are medians with their spread. For each window (messages in
flight per connection: 1 is ping-pong, latency-bound; 16 keeps the servers busy) it prints one JSON line
{"measure", "window", "runner", "node", "runner_median", "node_median", "ratio", "target", and each server's
median CPU microseconds per message — steadier than msgs/s on a busy machine —, their ratio, the part of it
spent in the kernel, and "cpu_ratio_floor": the runner's kernel part over Node's whole, the lowest CPU ratio the
runner could reach at the system calls it makes per message} and asserts nothing.
The target (issue 3): the runner at least 2× Node's msgs/s.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.harness import group  # noqa: E402

CLIENT = ROOT / "build" / "bench" / "ws_load"
RUNNER = Path(os.environ.get("RUNNER", ROOT / "build" / "runner"))


def build_client():
    """The load client, built by the Makefile's one rule for bench/*.c (build/bench/<name>, when older)."""
    subprocess.run(["make", "-s", "--no-print-directory", "build/bench/ws_load"], cwd=ROOT, check=True)


def pinned(cpu: int, argv: list[str]) -> list[str]:
    return (["taskset", "-c", str(cpu)] if os.cpu_count() and os.cpu_count() > 1 else []) + argv


def start_runner():
    p = group.spawn(pinned(0, [str(RUNNER), "serve", "--cases", str(ROOT / "bench" / "ws_echo.case")]),
                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    ready = json.loads(p.stdout.readline())
    req = urllib.request.Request(ready["origins"]["A"] + "/_h/program?case=ws/bench/echo",
                                 headers={"X-Harness-Secret": ready["secret"]})  # README, "Security"
    with urllib.request.urlopen(req, timeout=10) as r:
        token = json.load(r)["token"]
    return p, ready["ports"]["A"], f"/c/{token}/echo"


def start_node():
    p = group.spawn(pinned(0, ["node", str(ROOT / "bench" / "ws_echo_node.js"), "0"]), stdout=subprocess.PIPE,
                      stderr=subprocess.DEVNULL, text=True)
    return p, json.loads(p.stdout.readline())["port"], "/"


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def load(pid: int, port: int, path: str, args, window: int) -> tuple[float, float, float]:
    """One run: (msgs/s, the server's CPU microseconds per message over the whole run, warm-up included, and of
    them those spent in the kernel)."""
    u0, s0 = cpu_seconds(pid)
    out = subprocess.run(pinned(1, [str(CLIENT), "localhost", str(port), path, "-c", str(args.conns), "-w",
                                    str(window), "-s", str(args.size), "-d", str(args.seconds), "-W", "1"]),
                         capture_output=True, text=True, timeout=args.seconds + 60)
    if out.returncode != 0:
        sys.exit(f"ws_load failed: {out.stderr.strip()}")
    r = json.loads(out.stdout)
    total = max(r["msgs_per_s"] * (r["seconds"] + 1), 1)  # the warm-up second ran at about the same rate
    u1, s1 = cpu_seconds(pid)
    return r["msgs_per_s"], round((u1 - u0 + s1 - s0) * 1e6 / total, 2), round((s1 - s0) * 1e6 / total, 2)


def spread(xs):
    return {"min": min(xs), "max": max(xs), "stdev": round(statistics.pstdev(xs))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--windows", default="1,16")
    args = ap.parse_args()
    build_client()
    procs = []
    try:
        rp, rport, rpath = start_runner()
        procs.append(rp)
        np_, nport, npath = start_node()
        procs.append(np_)
        for window in [int(w) for w in args.windows.split(",")]:
            ours, theirs, ocpu, tcpu, osys, tsys = [], [], [], [], [], []
            for _ in range(args.rounds):
                rate, cpu, sys_ = load(rp.pid, rport, rpath, args, window)
                ours.append(rate)
                ocpu.append(cpu)
                osys.append(sys_)
                rate, cpu, sys_ = load(np_.pid, nport, npath, args, window)
                theirs.append(rate)
                tcpu.append(cpu)
                tsys.append(sys_)
            mo, mt = statistics.median(ours), statistics.median(theirs)
            # The kernel's share (the sockets' system calls: one receive and one send per message when one is in
            # flight) is the part of the runner's CPU that no user-space work removes at the same system calls
            # per message: runner_sys / node_cpu is the lowest CPU ratio the runner could reach with them.
            print(json.dumps({"measure": "ws_echo_msgs_per_s", "conns": args.conns, "window": window,
                              "size": args.size, "seconds": args.seconds, "runner": ours, "node": theirs,
                              "runner_median": mo, "node_median": mt, "runner_spread": spread(ours),
                              "node_spread": spread(theirs), "ratio": round(mo / mt, 2), "target": ">= 2.0",
                              "runner_cpu_us_per_msg": statistics.median(ocpu),
                              "node_cpu_us_per_msg": statistics.median(tcpu),
                              "cpu_ratio": round(statistics.median(ocpu) / statistics.median(tcpu), 3),
                              "runner_sys_us_per_msg": statistics.median(osys),
                              "node_sys_us_per_msg": statistics.median(tsys),
                              "cpu_ratio_floor": round(statistics.median(osys) / statistics.median(tcpu), 3)}),
                  flush=True)
    finally:
        for p in procs:
            group.end(p, grace=10)


if __name__ == "__main__":
    main()
