"""The soak (README, "Benchmarks"): the conformance suite N times in a row against one runner (`--repeat N`: each
round a fresh client run with fresh tokens), the runner's RSS and open file descriptors read from /proc twice a
second; printed per round, as they stood when the round's last verdict came. Asserts nothing.

    /usr/bin/python3 bench/soak.py [--rounds 10] [--client chromium] [--report DIR] [PYTEST-ARGS...]

The runner keeps every token's transcript and verdict for as long as it serves (GET /_h/verdict and
/_h/transcript answer for any of them), so its RSS grows with the rounds by what they recorded; the figure to read
beside it is the growth per round, which a leak would make grow, and the descriptors, which must come back to
the same count.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def find_runner(pid: int) -> int | None:
    """The `runner serve` among the descendants of pid."""
    todo = [pid]
    while todo:
        p = todo.pop()
        for c in children(p):
            try:
                argv = (Path("/proc") / str(c) / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if len(argv) > 1 and argv[0].endswith(b"runner") and argv[1] == b"serve":
                return c
            todo.append(c)
    return None


def sample(pid: int) -> tuple[int, int] | None:
    """(VmRSS in KiB, open descriptors) of pid, or None once it has gone."""
    try:
        rss = next(int(l.split()[1]) for l in (Path("/proc") / str(pid) / "status").read_text().splitlines()
                   if l.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration):
        return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--client", default="chromium")
    ap.add_argument("--report", default="reports/soak")
    args, rest = ap.parse_known_args(argv)
    cmd = ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/conformance", "--client",
           args.client, "--repeat", str(args.rounds), "--report", args.report,
           "--expectations", "expectations/browsers.json", *rest]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    samples: list[tuple[float, int, int]] = []
    runner = None
    while proc.poll() is None:
        runner = runner or find_runner(proc.pid)
        s = sample(runner) if runner else None
        if s:
            samples.append((time.time(), *s))
        time.sleep(0.5)
    events = [json.loads(l) for l in (ROOT / args.report / "events.jsonl").read_text().splitlines() if l.strip()]
    verdicts = [e for e in events if e.get("event") == "verdict"]
    first = min((e["time"] for e in events if e.get("event") == "case-start"), default=None)
    rows = [("before", 0, *next(((r, f) for t, r, f in reversed(samples)
                                                               if first and t <= first), samples[0][1:]))]
    for n in range(1, args.rounds + 1):
        mine = [e for e in verdicts if e.get("repeat") == n]
        if not mine:
            continue
        end = max(e["time"] for e in mine)
        at = next(((r, f) for t, r, f in samples if t >= end), samples[-1][1:])
        rows.append((f"round {n}", len(mine), *at))
    print(f"{'':<9} {'verdicts':>8} {'RSS MiB':>8} {'growth MiB':>10} {'fds':>5}")
    prev = None
    for name, nv, rss, fds in rows:
        growth = "" if prev is None else f"{(rss - prev) / 1024:.1f}"
        print(f"{name:<9} {nv:>8} {rss / 1024:>8.1f} {growth:>10} {fds:>5}")
        prev = rss
    statuses: dict[str, int] = {}
    for e in verdicts:
        statuses[e["status"]] = statuses.get(e["status"], 0) + 1
    print("statuses:", ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())), f"(pytest rc {proc.returncode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
