"""Root causes: a run's failures grouped by what first went wrong (report.json `findings`, index.html, the
terminal summary; reports/SCHEMA.md §2).

One bug in a library can fail dozens of cases: xmlhttprequest 1.8.0 fires `abort` at every open(), so every
case whose first check is an event order fails at event 1, "expected readystatechange(1), observed abort".
A finding is such a group: per client, the results whose verdict first differs the same way —

  - a verdict naming an exception a step threw where the case allows none (the judge's `thrown`): the same
    step op, exception name and message;
  - else the first failing check of its status (the check the headline comes from): the same first
    difference (harness/MODEL.md §3 `first_diff`: what was expected and observed there, the property that
    differs, the event observed), whatever the case, rule or position;
  - else (a CRASH, a TIMEOUT or ERROR without a failing check) the same status and message.

Values that differ from run to run (tokens, ports, times, counts of milliseconds) are blanked before
comparing, so a finding holds across cases and runs. Findings are sorted by size, largest first.
"""
from __future__ import annotations

import re

from .expectations import EXPECTED, UNEXPECTED_FAIL

FAILING = ("FAIL", "NON-STRICT", "TIMEOUT", "ERROR", "CRASH")
_VOLATILE = [
    (re.compile(r"/c/t\d+-[0-9a-f]+"), "/c/TOKEN"),
    (re.compile(r"\bt\d+-[0-9a-f]{4}\b"), "TOKEN"),
    (re.compile(r"(localhost|127\.0\.0\.1|\[::1\]):\d+"), r"\1:PORT"),
    (re.compile(r"\(t=[0-9.]+ ms\)"), "(t=…)"),
    (re.compile(r"\bat t=[0-9.]+ ms\b"), "at t=…"),
    (re.compile(r"\b\d+(\.\d+)? (ms|s)\b"), r"N \2"),
    (re.compile(r"\bpid \d+\b|\bprocess \d+\b"), "pid N"),
    (re.compile(r":\d+:\d+\)"), ":L:C)"),
]


def normalize(text: str) -> str:
    text = str(text or "")
    for rx, sub in _VOLATILE:
        text = rx.sub(sub, text)
    return text


def first_check(verdict: dict) -> dict | None:
    """The check a verdict's headline comes from (harness/judge/judge.c: the first ERROR check, else the
    first failing MUST check, else the first failing SHOULD check)."""
    checks = verdict.get("checks") or []
    for want in (("ERROR", None), ("FAIL", "must"), ("FAIL", "should")):
        for c in checks:
            if c.get("status") == want[0] and (want[1] is None or c.get("level", "must") == want[1]):
                return c
    return None


def cause(verdict: dict) -> dict:
    """What a failed verdict first got wrong: {key, headline, kind, ...} (this module's docstring)."""
    thrown = verdict.get("thrown")
    if isinstance(thrown, dict) and thrown.get("name"):
        msg = normalize(thrown.get("message") or "")
        head = f"{thrown.get('op') or 'a step'} threw {thrown['name']}" + (f": {msg}" if msg else "")
        return {"key": ("thrown", thrown.get("op"), thrown["name"], msg), "kind": "exception", "headline": head,
                "expected": "no exception", "observed": f"{thrown['name']}" + (f": {msg}" if msg else ""),
                "property": None, "event": "exception"}
    c = first_check(verdict)
    d = (c or {}).get("first_diff")
    if isinstance(d, dict):
        exp, obs = normalize(d.get("expected")), normalize(d.get("observed"))
        prop, event = d.get("property") or None, d.get("event") or None
        head = f"expected {exp}, observed {obs}"
        if prop and d.get("values"):
            head = f"{prop}: {head}" + (f" at {event}" if event else "")
        return {"key": ("diff", exp, obs, prop, event if d.get("values") else None), "kind": c.get("kind") or "",
                "headline": head, "expected": exp, "observed": obs, "property": prop, "event": event}
    status = verdict.get("status") or "ERROR"
    msg = normalize(verdict.get("message") or "")
    return {"key": ("status", status, msg), "kind": status.lower(), "headline": f"{status}: {msg}" if msg else status,
            "expected": None, "observed": None, "property": None, "event": None}


def findings(results) -> list[dict]:
    """The findings of a run's results (reports.model.Result): per client, one per shared cause."""
    groups: dict = {}
    for r in results:
        if r.status not in FAILING:
            continue
        v = r.shown.verdict
        c = cause(v)
        g = groups.setdefault((r.client,) + c["key"], {
            "client": r.client, "kind": c["kind"], "headline": c["headline"], "expected": c["expected"],
            "observed": c["observed"], "property": c["property"], "event": c["event"], "rule": None,
            "spec": None, "statuses": {}, "cases": [], "unexpected": 0, "known": 0})
        if g["rule"] is None:
            chk = first_check(v) or {}
            g["rule"], g["spec"] = chk.get("rule") or v.get("rule"), chk.get("spec") or v.get("spec")
        g["cases"].append(r.case)
        g["statuses"][r.status] = g["statuses"].get(r.status, 0) + 1
        if r.outcome == UNEXPECTED_FAIL:
            g["unexpected"] += 1
        elif r.outcome == EXPECTED:
            g["known"] += 1
    out = sorted(groups.values(), key=lambda g: (-len(g["cases"]), g["client"], g["headline"]))
    for i, g in enumerate(out, 1):
        g["id"] = i
        g["count"] = len(g["cases"])
    return out


def describe(found: list[dict], limit: int = 12, only_unexpected: bool = False) -> list[str]:
    """Terminal lines: per client, how many findings, then the largest (with the cases) first."""
    shown = [f for f in found if f["unexpected"]] if only_unexpected else found
    lines = []
    clients = list(dict.fromkeys(f["client"] for f in shown))
    for client in clients:
        mine = [f for f in shown if f["client"] == client]
        n = sum(f["count"] for f in mine)
        what = "unexpected " if only_unexpected else ""
        lines.append(f"{client}: {len(mine)} {what}finding{'s' if len(mine) != 1 else ''} "
                     f"({n} failing result{'s' if n != 1 else ''}; report.json `findings`, index.html #findings)")
        for f in mine[:limit]:
            cases = ", ".join(f["cases"][:3]) + (f" … (+{f['count'] - 3})" if f["count"] > 3 else "")
            status = "/".join(sorted(f["statuses"]))
            lines.append(f"  {f['count']:>3} × {status}: {f['headline']} — {cases}")
        if len(mine) > limit:
            lines.append(f"  … and {len(mine) - limit} more findings")
    return lines
