"""Which web-platform-tests topics a run exercised, per family: index.html's "WPT topics exercised" table.

A case names the WPT files whose behaviour it checks with its `wpt` line (cases/FORMAT.md §2); the run carries
them in its case metadata (worker-start `cases[].wpt`, reports/SCHEMA.md). cases/wpt/topics.json groups WPT's
files into topics (one behaviour each). A family exercised a topic when a case of that family that this run
judged names one of the topic's files; the row counts those cases and their results (case × client) by status.
cases/wpt/COVERAGE.md is the map of the whole case set; this is what one run, on its clients, said about it.
"""
from __future__ import annotations

import json
from pathlib import Path

from .model import Run

TOPICS = Path(__file__).resolve().parents[1] / "cases" / "wpt" / "topics.json"
PASSING = ("PASS", "NON-STRICT")
ORDER = ("PASS", "NON-STRICT", "FAIL", "TIMEOUT", "ERROR", "CRASH", "NOTRUN", "N/A")   # the order index.html shows statuses in


def load_topics(path: Path | None = None) -> dict:
    """WPT file -> {id, title, folder}, from the topic list; {} when there is no list (a report built from a
    stream outside a checkout)."""
    try:
        doc = json.loads(Path(path or TOPICS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for t in doc.get("topics") or []:
        for f in t.get("files") or []:
            out[f] = {"id": t.get("id", ""), "title": t.get("title", ""), "folder": t.get("folder", "")}
    return out


def exercised(run: Run, file_topic: dict) -> dict:
    """{"families": [{name, topics: [{id, title, folder, cases, results, pass, counts: [(status, n)]}]}],
    "unknown": [WPT files the run's cases name that the topic list lacks]}; families and topics sorted."""
    fams: dict = {}
    unknown = set()
    cases_seen: dict = {}
    for r in run.results:
        files = (run.cases.get(r.case) or {}).get("wpt") or []
        tids = set()
        for f in files:
            t = file_topic.get(f)
            if t is None:
                unknown.add(f)
            else:
                tids.add(t["id"])
                fams.setdefault(r.family, {}).setdefault(t["id"], dict(t, cases=set(), counts={}))
        for tid in tids:
            row = fams[r.family][tid]
            row["cases"].add(r.case)
            row["counts"][r.status] = row["counts"].get(r.status, 0) + 1
            cases_seen[r.case] = True
    families = []
    for name in sorted(fams):
        topics = []
        for tid in sorted(fams[name]):
            row = fams[name][tid]
            counts = row["counts"]
            topics.append({"id": tid, "title": row["title"], "folder": row["folder"], "cases": len(row["cases"]),
                           "results": sum(counts.values()), "pass": sum(counts.get(s, 0) for s in PASSING),
                           "counts": sorted(counts.items(), key=lambda kv: _order(kv[0]))})
        families.append({"name": name, "topics": topics})
    return {"families": families, "unknown": sorted(unknown), "n_topics": sum(len(f["topics"]) for f in families),
            "n_cases": len(cases_seen)}


def _order(status: str) -> int:
    return ORDER.index(status) if status in ORDER else len(ORDER)
