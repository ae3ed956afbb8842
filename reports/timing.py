"""Where a run's time went, per client: wall time, the cases' own time, and the harness's overhead per case.

    /usr/bin/python3 -m reports.timing reports/out

Wall time runs from a client's first start to its last verdict (both phases). A case's own time is its
program's duration as the client measured it: from its program's start to the end of its last step or its
last event, scripted waits included (the settle time after the last step counts only as far as an event came in
it); for a case without observations, how long pytest waited for its verdict.
The harness's overhead per case is (wall − Σ own time) / cases: starting the case (the `next` call, a fresh
iframe, loading the interpreter), the rest of its settle time, posting and judging its result. It is exact for
a run with `--concurrency 1`; with more, cases overlap and the figure is a lower bound (it may go negative).
"""
from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from .events import read_events
from .model import case_duration_ms


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    args = ap.parse_args(argv)
    start, end, n, own = {}, {}, defaultdict(int), defaultdict(float)
    for e in read_events(Path(args.report) / "events.jsonl"):
        c = e.get("client")
        if e.get("event") == "client-start":
            start.setdefault(c, e["time"])
        elif e.get("event") == "verdict":
            end[c] = max(end.get(c, 0), e["time"])
            n[c] += 1
            own[c] += case_duration_ms(e) / 1000  # the program's time, not how long pytest waited for it
    print(f"{'client':<28} {'cases':>6} {'wall s':>8} {'cases own s':>12} {'overhead ms/case':>17}")
    for c in start:
        wall = end.get(c, start[c]) - start[c]
        over = (wall - own[c]) * 1000 / n[c] if n[c] else 0
        print(f"{c:<28} {n[c]:>6} {wall:>8.1f} {own[c]:>12.1f} {over:>17.1f}")


if __name__ == "__main__":
    main()
