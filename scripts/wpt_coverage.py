#!/usr/bin/python3
"""Builds cases/wpt/COVERAGE.md: which web-platform-tests behaviours the cases check, and what the cases check
that WPT cannot.

    scripts/wpt_coverage.py            write cases/wpt/COVERAGE.md
    scripts/wpt_coverage.py --check    exit 1 (with a diff) when the committed map is not what the cases give

Inputs: cases/wpt/topics.json (the topics, their WPT files, why some cannot run here) and the expanded case
set, `runner list --json cases` ($RUNNER, else build/runner). Each case names the WPT files it checks with its
`wpt` line (cases/FORMAT.md section 2). A topic is *covered* when every one of its files that can run here is
named by some case, *partly* when some are, *not covered* when none is; a topic marked `not_here` is listed
with the reason. Nothing here is written by hand, so the map cannot drift from the cases.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
from collections import OrderedDict, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ROOT / "cases" / "wpt" / "topics.json"
OUT = ROOT / "cases" / "wpt" / "COVERAGE.md"
FOLDERS = ["xhr/", "eventsource/", "websockets/", "cors/", "fetch/api/cors/"]
STATUSES = ["covered", "partly", "not covered", "not here"]


class MapError(Exception):
    """The topic list or the case set is not usable."""


# ---- inputs ---------------------------------------------------------------------------------------------------

def load_topics(path: Path = TOPICS) -> list[dict]:
    """The topic list, checked: unique ids, known folders, every file in its topic's folder and in one topic."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    topics, ids, files = doc.get("topics"), set(), {}
    if not isinstance(topics, list) or not topics:
        raise MapError(f"{path}: no topics")
    for t in topics:
        tid = t.get("id")
        if not tid or tid in ids:
            raise MapError(f"{path}: topic id {tid!r} missing or repeated")
        ids.add(tid)
        if t.get("folder") not in FOLDERS:
            raise MapError(f"{path}: topic {tid}: folder {t.get('folder')!r} is not one of {FOLDERS}")
        if not t.get("title") or not t.get("files"):
            raise MapError(f"{path}: topic {tid} needs a title and files")
        for f in t["files"]:
            owner = max((d for d in FOLDERS if f.startswith(d)), key=len, default=None)
            if owner != t["folder"]:
                raise MapError(f"{path}: topic {tid}: {f} is not under {t['folder']}")
            if f in files:
                raise MapError(f"{path}: {f} is in topics {files[f]} and {tid}")
            files[f] = tid
        for f in t.get("files_not_here", {}):
            if f not in t["files"]:
                raise MapError(f"{path}: topic {tid}: files_not_here names {f}, not one of its files")
    return topics


def runner_path() -> str:
    return os.environ.get("RUNNER") or str(ROOT / "build" / "runner")


def load_cases(runner: str | None = None) -> list[dict]:
    """The expanded case set, as `runner list --json cases` prints it (run from the repository root)."""
    proc = subprocess.run([runner or runner_path(), "list", "--json", "cases"], cwd=ROOT, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise MapError(f"runner list failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


# ---- the model ------------------------------------------------------------------------------------------------

def base_id(case: dict) -> str:
    """The id a case file gives: a matrix cell's id without its cell label."""
    return case["id"].rsplit("/", 1)[0] if case.get("cell") else case["id"]


def family(case: dict) -> str:
    return case["id"].split("/", 1)[0]


def grouped(cases: list[dict]) -> str:
    """Case ids collapsed by case file: `xhr/a`, `cors/m` ×160 (cells), in first-seen order."""
    counts: OrderedDict[str, tuple[int, bool]] = OrderedDict()
    for c in cases:
        b = base_id(c)
        n, cell = counts.get(b, (0, False))
        counts[b] = (n + 1, cell or bool(c.get("cell")))
    return ", ".join(f"`{b}` ×{n}" if cell else f"`{b}`" for b, (n, cell) in counts.items()) or "—"


def topic_status(t: dict, named: dict[str, list]) -> tuple[str, list[str]]:
    """(status, the runnable files no case names)."""
    if t.get("not_here"):
        return "not here", []
    runnable = [f for f in t["files"] if f not in t.get("files_not_here", {})]
    missing = [f for f in runnable if not named.get(f)]
    if not missing:
        return "covered", []
    return ("partly" if len(missing) < len(runnable) else "not covered"), missing


# What the cases check that a WPT page cannot see, or that WPT in these folders does not try: each row a
# predicate over one expanded case.

def _exps(case, kind):
    return [e for e in case.get("expect", []) if e.get("kind") == kind]


def _sel_method(e):
    return (e.get("sel") or {}).get("method")


def _steps(case):
    for r in case.get("server", []):
        yield from r.get("steps", [])


def _faulty_step(s) -> bool:
    op = s.get("op")
    if op in ("reset", "send", "trickle", "shutdown"):
        return True
    if op == "ws-send" and any(k in s for k in ("rsv", "opcode", "oversize", "masked")):
        return True
    if op == "ws-close" and (s.get("form") == "raw" or s.get("oversize")):
        return True
    return op == "ws-accept" and bool(s.get("faults"))


REVERSE = [
    ("Request counts on the wire",
     "the server counts every request of the case: a request that went out once, none before send(), no retry, "
     "no request after a failure",
     lambda c: bool(_exps(c, "request-count") or _exps(c, "requests"))),
    ("Preflight counts",
     "how many OPTIONS requests went out (0 or 1), and that a failed preflight kept the actual request from "
     "leaving",
     lambda c: any(e.get("method") == "OPTIONS" for e in _exps(c, "request-count")) or any(
         (s or {}).get("method") == "OPTIONS" for e in _exps(c, "requests") for s in e.get("list", []))),
    ("Request bytes on the wire",
     "request bodies by length and SHA-256 or text, request-targets byte for byte",
     lambda c: bool(_exps(c, "request-body") or _exps(c, "request-query"))),
    ("Request headers as sent",
     "header values as the client put them on the wire (Origin, Accept, Authorization, Cookie, "
     "Access-Control-Request-*...), and headers proved absent",
     lambda c: bool(_exps(c, "request-header"))),
    ("Last-Event-ID on the wire",
     "the header an EventSource reconnection carries (or leaves out), read from the request itself",
     lambda c: any((e.get("name") or "").lower() == "last-event-id" for e in _exps(c, "request-header"))),
    ("WebSocket close frames from the client",
     "the code and reason of the Close frame the client sent, read from the frame, and who closed first",
     lambda c: any(any(k == "first" or k.startswith("client.") for k in e.get("props", {}))
                   for e in _exps(c, "ws-close"))),
    ("Who closed the connection, and how",
     "the TCP connection closed by the client or the server, with FIN or RST",
     lambda c: bool(_exps(c, "closed"))),
    ("Timing measured by the server",
     "intervals between a request's head, its reply's last byte and its connection's close, on the server's "
     "clock (reconnection delays, timeouts counted from send())",
     lambda c: bool(_exps(c, "interval"))),
    ("Timing measured by the client",
     "the time between two events on the client's clock",
     lambda c: bool(_exps(c, "within"))),
    ("Faults only a scripted server produces",
     "TCP resets, raw bytes (malformed heads, bad chunks, bytes after the end), trickled writes, half-closes, "
     "malformed WebSocket frames and handshakes",
     lambda c: any(_faulty_step(s) for s in _steps(c))),
]


# ---- the document ---------------------------------------------------------------------------------------------

def build(topics: list[dict], cases: list[dict]) -> str:
    named: dict[str, list] = defaultdict(list)
    for c in cases:
        for f in c.get("wpt", []):
            named[f].append(c)
    status = {t["id"]: topic_status(t, named) for t in topics}
    out: list[str] = []
    w = out.append
    w("# Coverage of web-platform-tests by the cases")
    w("")
    w("Generated by `scripts/wpt_coverage.py` from `cases/wpt/topics.json` and the `wpt` lines of the cases "
      f"(`runner list --json cases`: {len(cases)} cases). Do not edit: run the script; "
      "`tests/self/test_wpt_map.py` fails while this file is stale.")
    w("")
    w("A topic is one behaviour WPT checks, with the WPT test files that check it. It is **covered** when every "
      "one of its files that can run here is named by a case's `wpt` line, **partly** when some are, "
      "**not covered** when none is; **not here** topics cannot be checked by this harness, for the reason given.")
    w("")
    w("## Summary")
    w("")
    w("| WPT folder | topics | covered | partly | not covered | not here | files named / runnable |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    tot = defaultdict(int)
    for folder in FOLDERS:
        ts = [t for t in topics if t["folder"] == folder]
        row = {s: sum(1 for t in ts if status[t["id"]][0] == s) for s in STATUSES}
        runnable = [f for t in ts if not t.get("not_here") for f in t["files"] if f not in t.get("files_not_here", {})]
        nf = sum(1 for f in runnable if named.get(f))
        for k, v in row.items():
            tot[k] += v
        tot["topics"] += len(ts)
        tot["named"] += nf
        tot["runnable"] += len(runnable)
        w(f"| {folder} | {len(ts)} | " + " | ".join(str(row[s]) for s in STATUSES) + f" | {nf} / {len(runnable)} |")
    w(f"| **total** | {tot['topics']} | " + " | ".join(str(tot[s]) for s in STATUSES) +
      f" | {tot['named']} / {tot['runnable']} |")
    w("")
    w("## Per family of cases")
    w("")
    w("| family | cases | cases naming WPT files | WPT topics they check |")
    w("| --- | ---: | ---: | --- |")
    by_topic = {f: t["id"] for t in topics for f in t["files"]}
    fams: OrderedDict[str, list] = OrderedDict()
    for c in cases:
        fams.setdefault(family(c), []).append(c)
    for fam, cs in fams.items():
        withwpt = [c for c in cs if c.get("wpt")]
        tids = sorted({by_topic[f] for c in withwpt for f in c["wpt"]}, key=_topic_order(topics))
        w(f"| {fam} | {len(cs)} | {len(withwpt)} | {', '.join(tids) or '—'} |")
    for folder in FOLDERS:
        w("")
        w(f"## {folder}")
        w("")
        w("| id | topic | status | cases | files no case names yet | note |")
        w("| --- | --- | --- | --- | --- | --- |")
        for t in (t for t in topics if t["folder"] == folder):
            st, missing = status[t["id"]]
            cs = _unique(c for f in t["files"] for c in named.get(f, []))
            note = t.get("not_here") or "; ".join(
                f"`{f.removeprefix(folder)}`: {why}" for f, why in t.get("files_not_here", {}).items())
            w(f"| {t['id']} | {_cell(t['title'])} | {st} | {grouped(cs)} | "
              f"{'<br>'.join('`' + f.removeprefix(folder) + '`' for f in missing) or '—'} | {_cell(note)} |")
    w("")
    w("## What this suite checks that WPT cannot")
    w("")
    w("A WPT page sees what the API under test reports; the harness's server also records the wire (every "
      "request with its headers and body digest, every byte run sent, connection opens and closes with who "
      "closed and how, WebSocket frames both ways) with timestamps, and scripts faults a WPT server cannot "
      "produce easily. Each row counts the cases whose expectations rest on that record.")
    w("")
    w("| what | how | cases | case files |")
    w("| --- | --- | ---: | --- |")
    for title, how, pred in REVERSE:
        cs = [c for c in cases if pred(c)]
        w(f"| {title} | {how} | {len(cs)} | {grouped(cs)} |")
    w("")
    return "\n".join(out)


def _unique(cases):
    seen, out = set(), []
    for c in cases:
        if c["id"] not in seen:
            seen.add(c["id"])
            out.append(c)
    return out


def _topic_order(topics):
    order = {t["id"]: i for i, t in enumerate(topics)}
    return lambda tid: order[tid]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# ---- main -----------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed map instead of writing it")
    ap.add_argument("--runner", help="the runner binary (default $RUNNER, else build/runner)")
    args = ap.parse_args(argv)
    try:
        text = build(load_topics(), load_cases(args.runner))
    except MapError as e:
        print(f"wpt_coverage: {e}", file=sys.stderr)
        return 2
    if args.check:
        old = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if old == text:
            return 0
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                                   "cases/wpt/COVERAGE.md (committed)", "from the cases"))
        print("\ncases/wpt/COVERAGE.md is stale: run scripts/wpt_coverage.py", file=sys.stderr)
        return 1
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
