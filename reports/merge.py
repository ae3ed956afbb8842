"""Merge the report folders of runs made on different machines (a CI matrix: one engine per job) into one.

    /usr/bin/python3 -m reports.merge OUT DIR...

Each DIR is a report folder (or the file itself): its `events.jsonl` when it has one, else its `report.json`.
OUT receives one `events.jsonl` (the merged stream: `reports.build OUT` rebuilds from it, and it can be merged
again), `report.json`, `junit.xml` and `index.html`, built as a single run's are (reports/build.py).

What a merge keeps and decides:
- Every input must carry the schema version this harness reads (events.jsonl `schema`, report.json
  `schema_version`): a folder written by another version is refused, naming each folder and its version, and
  nothing is written.
- Clients keep their own versions, expectations outcomes (each verdict was classified where it ran) and
  platforms (run-start's `platforms`: client -> the platform of the machine that ran it).
- The same case on the same client in two folders (a job run twice, or shards that overlap) is kept as
  repetitions, numbered on in folder order, so differing statuses show as flaky, as `--repeat` would.
- A report.json has no observations or transcripts: its results come back with their status, message and
  checks, but without timelines. Prefer the events.jsonl.
- The merged run is complete when every input is; stale expectations are listed only when every input ran
  with the same expectations.
"""
from __future__ import annotations

import argparse
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import build as reports_build
from .events import SCHEMA, read_events
from .wptreport import SCHEMA_VERSION


class MergeError(RuntimeError):
    pass


@dataclass
class Input:
    label: str            # as named on the command line
    src: Path             # the file read
    kind: str             # "events.jsonl" or "report.json"
    version: object       # its schema version as written (events `schema`, report.json `schema_version`)
    events: list

    @property
    def readable(self) -> bool:
        return self.version == (SCHEMA if self.kind == "events.jsonl" else SCHEMA_VERSION)


def load_input(path) -> Input:
    """One input: a folder gives its events.jsonl, else its report.json; a file is read as its name says."""
    p = Path(path)
    if p.is_dir():
        src = p / "events.jsonl" if (p / "events.jsonl").exists() else p / "report.json"
    else:
        src = p
    if not src.exists():
        raise MergeError(f"{path}: no events.jsonl or report.json there")
    if src.name.endswith(".jsonl"):
        events = read_events(src)
        versions = {e.get("schema") for e in events}
        if not events:
            raise MergeError(f"{src}: an empty event stream")
        if len(versions) > 1:
            raise MergeError(f"{src}: lines of several schema versions ({_versions(versions)}) in one stream")
        return Input(str(path), src, "events.jsonl", versions.pop(), events)
    try:
        doc = json.loads(src.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise MergeError(f"{src}: not a JSON report: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise MergeError(f"{src}: not a report.json (no results)")
    inp = Input(str(path), src, "report.json", doc.get("schema_version"), [])
    if inp.readable:
        inp.events = events_from_report(doc)
    return inp


def _versions(vs) -> str:
    return ", ".join(sorted(str(v) for v in vs))


def events_from_report(doc: dict) -> list[dict]:
    """A report.json turned back into the stream's events (run-start, worker-start, client-start, verdict,
    run-end), as far as it holds them: statuses, messages, checks; no observations or transcripts."""
    info, t0 = doc.get("run_info", {}), (doc.get("time_start") or 0) / 1000
    t1 = (doc.get("time_end") or doc.get("time_start") or 0) / 1000
    clients = list(info.get("clients") or [])
    ev = [{"event": "run-start", "time": t0, "schema": SCHEMA, "run": uuid.uuid4().hex, "clients": clients,
           "platform": info.get("platform", ""), "harness": info.get("harness_version", "unknown"),
           "time_scale": info.get("time_scale", 1.0), "repeat": info.get("repeat", 1),
           "expectations": info.get("expectations"), "expectations_data": None,
           "strict_expectations": info.get("strict_expectations", False), "python": info.get("python", ""),
           "pytest": info.get("pytest", ""), "case_ids": sorted({r["test"] for r in doc["results"]})}]
    plan, metas = [], {}
    for r in doc["results"]:
        for rep in range(1, len(r.get("statuses") or [r["status"]]) + 1):
            plan.append({"client": r["client"], "case": r["test"], "repeat": rep, "expected": r["expected"],
                         "known_intermittent": r.get("known_intermittent", []), "expectation": None})
        metas.setdefault(r["test"], {"id": r["test"], "title": r.get("title", ""),
                                     "spec": [r["spec"]] if r.get("spec") else [], "tags": r.get("tags", []),
                                     "source": r.get("source")})
    ev.append({"event": "worker-start", "time": t0, "schema": SCHEMA, "worker": "main", "plan": plan,
               "cases": list(metas.values())})
    for c in clients:
        ev.append({"event": "client-start", "time": t0, "schema": SCHEMA, "client": c,
                   "version": (info.get("versions") or {}).get(c, "")})
    for r in doc["results"]:
        statuses = r.get("statuses") or [r["status"]]
        for rep, status in enumerate(statuses, 1):
            shown = status == r["status"] and rep == statuses.index(r["status"]) + 1
            ev.append(_verdict_from_result(r, rep, status, shown, t1, len(statuses)))
    if info.get("complete"):
        ev.append({"event": "run-end", "time": t1, "schema": SCHEMA})
    return ev


def _verdict_from_result(r: dict, rep: int, status: str, shown: bool, t: float, nreps: int) -> dict:
    checks = []
    for s in r.get("subtests") or [] if shown else []:
        name = s.get("name", "")
        rule = name.split(": ", 1)[1] if name.startswith("line ") and ": " in name else name
        checks.append({"kind": s.get("kind", ""), "line": s.get("line"), "level": s.get("level", "must"),
                       "spec": s.get("spec"), "status": s["status"], "rule": rule.rsplit(" #", 1)[0],
                       "detail": s.get("message") or ""})
    exp = None
    if r.get("expectation_reason") or r.get("expectation_link"):
        exp = {"client": r["client"], "pattern": r["test"], "reason": r.get("expectation_reason") or "",
               "link": r.get("expectation_link") or ""}
    return {"event": "verdict", "time": t, "schema": SCHEMA, "case": r["test"], "client": r["client"],
            "version": r.get("version", ""), "repeat": rep, "status": status, "expected": r["expected"],
            "known_intermittent": r.get("known_intermittent", []), "expectation": exp,
            "outcome": r.get("outcome") if shown else None,
            "message": (r.get("message") or "") if shown else f"repetition {rep} of {nreps} (from report.json)",
            "rule": r.get("rule") if shown else None, "spec": r.get("spec"), "title": r.get("title", ""),
            "tags": r.get("tags", []), "duration": r.get("duration", 0) / 1000 / nreps,
            "token": r.get("token") if shown else None, "checks": checks, "observations": None,
            "transcript": None, "transcript_digest": r.get("transcript_digest") if shown else None}


def merge_events(inputs: list[tuple[str, list[dict]]]) -> list[dict]:
    """One stream from several runs' streams: one run-start (clients in input order, per-client platforms),
    every worker's plan and every verdict, repetitions of a (client, case) seen in several inputs numbered
    on, and a run-end when every input has one."""
    starts = [next((e for e in evs if e.get("event") == "run-start"), {}) for _, evs in inputs]
    clients, platforms, case_ids, harness = [], {}, set(), []
    for (label, evs), rs in zip(inputs, starts):
        for c in rs.get("clients") or sorted({e.get("client") for e in evs if e.get("event") == "verdict"}):
            if c not in clients:
                clients.append(c)
            platforms.setdefault(c, rs.get("platform", ""))
        case_ids |= set(rs.get("case_ids") or [])
        if rs.get("harness") and rs["harness"] not in harness:
            harness.append(rs["harness"])
    exp_data = [json.dumps(rs.get("expectations_data"), sort_keys=True) for rs in starts]
    same_exp = len(set(exp_data)) == 1
    first = starts[0]
    times = [rs["time"] for rs in starts if isinstance(rs.get("time"), (int, float))]
    out = [{"event": "run-start", "time": min(times) if times else 0, "schema": SCHEMA, "run": uuid.uuid4().hex,
            "clients": clients, "platform": "; ".join(sorted(set(platforms.values()))), "platforms": platforms,
            "harness": ", ".join(harness) or "unknown", "time_scale": first.get("time_scale", 1.0),
            "repeat": 1, "expectations": first.get("expectations") if same_exp else None,
            "expectations_data": first.get("expectations_data") if same_exp else None,
            "strict_expectations": bool(first.get("strict_expectations")), "python": first.get("python", ""),
            "pytest": first.get("pytest", ""), "case_ids": sorted(case_ids),
            "merged_from": [label for label, _ in inputs]}]
    offset: dict = {}   # (client, case) -> repetitions taken by earlier inputs
    most = 1
    ends = []
    for label, evs in inputs:
        seen: dict = {}

        def rep_of(client, case, rep):
            seen[(client, case)] = max(seen.get((client, case), 0), rep)
            return rep + offset.get((client, case), 0)

        for e in evs:
            kind = e.get("event")
            if kind in ("run-start", "run-end"):
                if kind == "run-end":
                    ends.append(e)
                continue
            e = dict(e)
            if kind == "worker-start":
                e["worker"] = f"{label}:{e.get('worker', 'main')}"
                e["plan"] = [dict(p, repeat=rep_of(p["client"], p["case"], p.get("repeat", 1)))
                             for p in e.get("plan", [])]
            elif kind == "worker-end":
                e["worker"] = f"{label}:{e.get('worker', 'main')}"
            elif kind in ("case-start", "verdict"):
                e["repeat"] = rep_of(e.get("client"), e.get("case"), e.get("repeat", 1))
                most = max(most, e["repeat"])
            out.append(e)
        for k, n in seen.items():
            offset[k] = offset.get(k, 0) + n
    out[0]["repeat"] = most
    if len(ends) == len(inputs):
        out.append({"event": "run-end", "time": max(e.get("time", 0) for e in ends), "schema": SCHEMA,
                    "exitstatus": max(int(e.get("exitstatus") or 0) for e in ends)})
    return out


def merge(out_dir, paths: list) -> dict:
    """Merge the inputs into out_dir; returns what reports.build.build returns. MergeError when an input is
    missing or unreadable, or the inputs' schema versions differ from each other or from this harness's."""
    if not paths:
        raise MergeError("nothing to merge: name one or more report folders")
    loaded = [load_input(p) for p in paths]
    versions = {i.version for i in loaded}
    if len(versions) > 1 or not all(i.readable for i in loaded):
        lines = "\n  ".join(f"{i.src}: {i.kind} schema {i.version}" for i in loaded)
        why = "mixed schema versions" if len(versions) > 1 else "a schema version this harness does not read"
        raise MergeError(f"{why} (it reads events.jsonl schema {SCHEMA}, report.json schema_version "
                         f"{SCHEMA_VERSION}): merge reports written by one harness version; nothing written\n  {lines}")
    out = Path(out_dir)
    if any(Path(p).resolve() == out.resolve() for p in paths):
        raise MergeError(f"{out_dir}: the output folder is one of the inputs")
    events = merge_events([(i.label, i.events) for i in loaded])
    out.mkdir(parents=True, exist_ok=True)
    stream = out / "events.jsonl"
    tmp = stream.with_name("events.jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n")
    tmp.replace(stream)
    for stale in ("report.json", "index.html"):
        (out / stale).unlink(missing_ok=True)
    return reports_build.build(out, write_junit=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m reports.merge", description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="the merged report folder (created)")
    ap.add_argument("inputs", nargs="+", metavar="DIR", help="report folders (events.jsonl or report.json)")
    a = ap.parse_args(argv)
    try:
        result = merge(a.out, a.inputs)
    except (MergeError, reports_build.BuildError) as e:
        print(f"reports.merge: {e}", file=sys.stderr)
        return 2
    print(reports_build.describe(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
