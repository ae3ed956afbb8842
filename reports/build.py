"""Build every report of a run from its event stream.

    /usr/bin/python3 -m reports.build reports/out            # report.json + index.html (+ junit.xml if absent)
    /usr/bin/python3 -m reports.build reports/out --junit    # rewrite junit.xml from the stream too

The pytest plugin calls `build()` at the end of every conformance run (on the xdist controller, after the
workers wrote their lines); by hand it rebuilds a crashed or older run. Reads DIR/events.jsonl (a truncated
last line is skipped; cases without a verdict show as NOTRUN), writes into DIR:
  report.json  the wptreport-shaped report (reports/SCHEMA.md), validated before it is written
  index.html   the offline page (reports/html.py)
  junit.xml    only when absent or asked for (pytest's --junitxml writes it during a run)
Results are judged, and stale expectation entries listed, against the expectations the run started with
(kept in its run-start event), or against --expectations FILE (to see a run through another file).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import html, junit, model, wptreport
from .expectations import EXPECTED, Expectations, ExpectationsError


class BuildError(RuntimeError):
    pass


def build(out_dir, events=None, expectations: Expectations | None = None, case_ids=None,
          write_junit: bool | None = None) -> dict:
    """Write the reports; returns {"run", "report", "paths": {name: Path}, "stale"}.

    `expectations`: judge the results against these (reports.expectations.Expectations) and list their stale
    entries; default: the entries recorded in the stream's run-start, as the run judged them. `case_ids` (the run's whole case
    set, for "no such case") default: the run-start's `case_ids`, else every case the stream mentions.
    `write_junit`: None = only if DIR/junit.xml does not exist."""
    out = Path(out_dir)
    src = Path(events) if events else out / "events.jsonl"
    if not src.exists():
        raise BuildError(f"{src}: no event stream (run a conformance run with --report {out}, or pass --events)")
    run = model.load(src)
    if expectations is not None:
        model.apply_expectations(run, expectations)
    elif run.info.get("expectations_data") is not None:
        try:
            expectations = Expectations.from_json(run.info["expectations_data"],
                                                  run.info.get("expectations") or "run-start")
            expectations.path = run.info.get("expectations")
        except ExpectationsError:
            expectations = None
    if case_ids is None:
        case_ids = run.info.get("case_ids") or sorted(run.cases)
    stale = []
    if expectations is not None:
        results = [{"client": r.client, "test": r.case, "status": r.status, "statuses": r.statuses}
                   for r in run.results]
        stale = expectations.stale(results, case_ids, list(run.clients))
    report = wptreport.build(run, stale)
    errs = wptreport.validate(report)
    if errs:
        raise BuildError("report.json does not match reports/SCHEMA.md:\n  " + "\n  ".join(errs[:20]))
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    paths["report.json"] = _write(out / "report.json", json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    paths["index.html"] = html.write(run, report, out / "index.html")
    jpath = out / "junit.xml"
    if write_junit or (write_junit is None and not jpath.exists()):
        paths["junit.xml"] = junit.write(run, jpath)
    return {"run": run, "report": report, "paths": paths, "stale": stale}


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def describe(result: dict, unexpected: bool = True) -> str:
    """The lines a run ends with: counts per client, unexpected results (pytest lists them itself at the end
    of a run: `unexpected=False` there), flaky cases, stale entries, files."""
    run, report = result["run"], result["report"]
    lines = []
    for c, s in report["summary"].items():
        counts = ", ".join(f"{s[k]} {k}" for k in ("PASS", "FAIL", "NON-STRICT", "TIMEOUT", "ERROR", "CRASH",
                                                   "NOTRUN", "N/A") if s.get(k))
        extra = "".join(f", {s[k]} {k.replace('_', ' ')}" for k in ("unexpected", "flaky") if s.get(k))
        lines.append(f"{c} {run.clients.get(c) or ''}: {s.get('total', 0)} results: {counts}{extra}")
    for r in run.results if unexpected else ():
        if r.outcome != EXPECTED:
            lines.append(f"  unexpected {r.status} (expected {r.expected}): {r.client} {r.case}")
    for r in run.results:
        if r.flaky:
            lines.append(f"  flaky: {r.client} {r.case}: {' '.join(r.statuses)}")
    for s in result["stale"]:
        lines.append(f"  stale expectation: {s['client']} {s['case']} (expects {s['expected']}): {s['why']} — "
                     f"{s['detail']}")
    if not run.complete:
        lines.append("  the stream has no run-end: the run stopped early; results without a verdict are NOTRUN")
    for name, p in result["paths"].items():
        lines.append(f"  {p} ({p.stat().st_size:,} bytes)")
    return "\n".join(lines)


def describe_baseline(path, new: Expectations, old: Expectations | None, clients) -> str:
    """What --update-expectations wrote: per client of the run, its entries by status; what it kept."""
    from collections import Counter
    lines = [f"expectations baseline written: {path} ({len(new.entries)} entries)"]
    for c in clients:
        mine = [e for e in new.entries if e.client == c]
        counts = Counter(e.status for e in mine)
        what = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none: every result passed"
        lines.append(f"  {c}: {len(mine)} entr{'y' if len(mine) == 1 else 'ies'} ({what})")
    kept = [e for e in new.entries if e.client not in clients]
    if kept:
        lines.append(f"  kept as they were: {len(kept)} entries of other clients and '*'")
    if old is None:
        lines.append("  (a new file: review it, then commit it beside your library)")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m reports.build", description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", default="reports/out", help="the report folder (default reports/out)")
    ap.add_argument("--events", help="the event stream (default DIR/events.jsonl)")
    ap.add_argument("--expectations", help="judge the results against this file and list its stale entries "
                                           "(default: the run's own expectations)")
    ap.add_argument("--junit", action="store_true", help="(re)write junit.xml from the stream even if it exists")
    a = ap.parse_args(argv)
    try:
        exp = Expectations.load(a.expectations) if a.expectations else None
        result = build(a.dir, a.events, exp, write_junit=True if a.junit else None)
    except (BuildError, ExpectationsError) as e:
        print(f"reports.build: {e}", file=sys.stderr)
        return 2
    print(describe(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
