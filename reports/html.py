"""index.html: one offline page (inline CSS and JS, nothing fetched) for the people who gate releases.

Top to bottom: the run's facts and verdict banner; the matrix of families × clients with pass counts; per
family, the web-platform-tests topics its cases exercised (reports/wpt_topics.py);
stale expectations and flaky cases, if any; then every case × client, filterable by family, client, status
and free text. Each case opens onto, per client: the verdict and its message, the judge's checks with the
first failing one marked, a timeline of the client's steps and events beside the server's transcript (on one
axis when the clocks can be aligned: reports/timeline.py says how, and the page repeats it), and the final
state. Everything is rendered here with Jinja2 (templates/index.html.j2); the page's script only filters,
opens, links and unpacks the case bodies (below).

The case bodies are most of a report's bytes (33.6 of 34.9 MB for three engines × 1,268 cases) and are very
repetitive HTML, so they are shipped gzip-compressed: in parts of PART_SIZE cases, each part a JSON object
(case id -> body HTML) gzipped and base64-encoded, the parts a JSON list in one
`<script type="application/json" id="case-bodies">`. Opening a case decodes its part in the browser
(DecompressionStream, no network: a page opened from file:// may not fetch(), and side files would leave a
copied index.html without its details). read_bodies() is the same decoding in Python.
"""
from __future__ import annotations

import base64
import gzip
import json
import re
import time
from collections import Counter
from pathlib import Path

import jinja2
import markupsafe

from . import timeline, wpt_topics
from .expectations import EXPECTED, STATUSES, UNEXPECTED_FAIL
from .model import Result, Run, case_duration_ms

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATUS_ORDER = wpt_topics.ORDER


class _Loader(jinja2.FileSystemLoader):
    """Templates without their indentation: it would be a fifth of a big report's bytes."""

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        return re.sub(r"^[ \t]+", "", source, flags=re.M), filename, uptodate


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=_Loader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["ms"] = _fmt_ms
    env.filters["slug"] = _slug
    env.filters["clock"] = _clock
    env.filters["script_json"] = script_json
    return env


def render(run: Run, report: dict) -> str:
    env = environment()
    v = view(run, report)
    body = env.get_template("case_body.html.j2")
    # Each case's body is rendered here but shipped compressed (module docstring) and inserted when the case is
    # opened: a full run's bodies as live HTML take seconds to parse and 300k DOM nodes.
    bodies = {k["id"]: body.render(k=k, clients=v["clients"]) for k in v["cases"]}
    v["body_parts"] = pack_bodies(bodies, [k["id"] for k in v["cases"]])
    for i, k in enumerate(v["cases"]):
        k["part"] = i // PART_SIZE
    return env.get_template("index.html.j2").render(**v)


PART_SIZE = 16   # cases per compressed part: opening a case inflates ~0.5 MB at most; parts of 16 compress
                 # within 10% of one stream of every body (3 engines: 2.1 MB as base64, against 1.9 MB)


def pack_bodies(bodies: dict, order: list) -> list:
    """The case bodies as the page ships them: part n holds the cases order[n*PART_SIZE:(n+1)*PART_SIZE] as a
    JSON object (case id -> HTML), gzipped (mtime 0: the same run gives the same bytes), base64-encoded."""
    parts = []
    for i in range(0, len(order), PART_SIZE):
        chunk = {cid: bodies[cid] for cid in order[i:i + PART_SIZE]}
        raw = json.dumps(chunk, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        parts.append(base64.b64encode(gzip.compress(raw, 9, mtime=0)).decode("ascii"))
    return parts


def read_bodies(page: str) -> dict:
    """Every case's body HTML (case id -> HTML) from an index.html's text, decoded as its script does."""
    tag = '<script type="application/json" id="case-bodies">'
    blob = page.split(tag, 1)[1].split("</script>", 1)[0]
    out: dict = {}
    for part in json.loads(blob):
        out.update(json.loads(gzip.decompress(base64.b64decode(part)).decode("utf-8")))
    return out


def write(run: Run, report: dict, path) -> Path:
    path = Path(path)
    path.write_text(render(run, report), encoding="utf-8")
    return path


# ---- the view model --------------------------------------------------------------------------------------

def view(run: Run, report: dict) -> dict:
    clients = [{"name": c, "version": v} for c, v in run.clients.items()]
    by_case: dict = {}
    for r in run.results:
        by_case.setdefault(r.case, {})[r.client] = r
    order = sorted(by_case, key=lambda c: (c.split("/")[0], c))
    cases = [_case(cid, by_case[cid], run) for cid in order]
    families = _matrix(run, [c["name"] for c in clients])
    present = [s for s in STATUS_ORDER if any(r.status == s for r in run.results)]
    unexpected = [r for r in run.results if r.outcome != EXPECTED]
    info = report["run_info"]
    span = (run.time_end - run.time_start) if run.time_start and run.time_end else None
    return {
        "title": "Conformance report",
        "info": info,
        "clients": clients,
        "families": families,
        "wpt": wpt_topics.exercised(run, wpt_topics.load_topics()),
        "cases": cases,
        "statuses": present,
        "all_statuses": STATUS_ORDER,
        "summary": report["summary"],
        "n_results": len(run.results),
        "unexpected_fail": sum(1 for r in unexpected if r.outcome == UNEXPECTED_FAIL),
        "unexpected_pass": sum(1 for r in unexpected if r.outcome != UNEXPECTED_FAIL),
        "unexpected": [{"client": r.client, "case": r.case, "status": r.status, "expected": r.expected,
                        "outcome": r.outcome} for r in unexpected],
        "flaky": [{"client": r.client, "case": r.case, "statuses": r.statuses} for r in run.results if r.flaky],
        "stale": report.get("stale_expectations", []),
        "findings": report.get("findings", []),
        "time_start": run.time_start,
        "span": span,
        "complete": run.complete,
        "generated": time.strftime("%Y-%m-%d %H:%M:%S"),
        "events_path": run.events_path,
    }


def _matrix(run: Run, clients: list) -> list:
    fams: dict = {}
    for r in run.results:
        cell = fams.setdefault(r.family, {}).setdefault(r.client, {"counts": {}, "total": 0, "pass": 0,
                                                                     "unexpected": 0})
        cell["counts"][r.status] = cell["counts"].get(r.status, 0) + 1
        cell["total"] += 1
        cell["pass"] += r.status in ("PASS", "NON-STRICT")
        cell["unexpected"] += r.outcome != EXPECTED
    out = []
    for fam in sorted(fams):
        cells = []
        for c in clients:
            cell = fams[fam].get(c)
            if cell:
                cell = dict(cell, bar=[(s, cell["counts"][s], 100.0 * cell["counts"][s] / cell["total"])
                                       for s in STATUS_ORDER if cell["counts"].get(s)])
            cells.append({"client": c, "cell": cell})
        out.append({"name": fam, "cells": cells})
    return out


def _case(cid: str, per_client: dict, run: Run) -> dict:
    meta = run.cases.get(cid, {})
    any_r = next(iter(per_client.values()))
    v0 = any_r.shown.verdict
    title = meta.get("title") or v0.get("title") or ""
    spec = meta.get("spec") or ([v0["spec"]] if v0.get("spec") else [])
    runs = {c: _client_run(r, meta) for c, r in per_client.items()}
    check_clients = [c for c in run.clients if c in runs and runs[c]["checks"]]
    text = " ".join([cid, title] + [r.shown.verdict.get("message") or "" for r in per_client.values()]).lower()
    return {
        "id": cid, "title": title, "family": cid.split("/")[0], "spec": spec, "tags": meta.get("tags") or
        v0.get("tags") or [], "source": meta.get("source"), "cell": meta.get("cell"), "runs": runs,
        "text": text,
        "st": " ".join(f"{c}={r.status}" for c, r in per_client.items()),
        "unx": " ".join(c for c, r in per_client.items() if r.outcome != EXPECTED),
        "open_first": next((c for c, r in per_client.items() if r.status not in ("PASS", "N/A")), None),
        "check_clients": check_clients, "check_rows": _check_rows(runs, check_clients),
    }


MEASURED = ("within", "interval", "count")   # kinds whose observed value says something even when it passed


def _check_rows(runs: dict, clients: list) -> list:
    """One row per check of the case, a cell per client: the rule and expectation are written once (they are
    the case's), each client's cell holds its status, and where it failed, what it observed and the first
    difference. Checks are matched across clients by (line, kind, rule, occurrence)."""
    rows: dict = {}
    order = []
    for c in clients:
        r = runs[c]
        seen = Counter()
        for i, ch in enumerate(r["checks"]):
            base = (ch.get("line"), ch.get("kind"), ch.get("rule"))
            seen[base] += 1
            key = base + (seen[base],)
            if key not in rows:
                rows[key] = {"line": ch.get("line"), "kind": ch.get("kind"), "rule": ch.get("rule") or "",
                             "spec": ch.get("spec"), "level": ch.get("level", "must"),
                             "expected": ch.get("expected", ""), "cells": {}, "bad": False}
                order.append(key)
            row = rows[key]
            status = ch.get("status", "ERROR")
            show_obs = status != "PASS" or ch.get("kind") in MEASURED
            row["cells"][c] = {
                "status": status, "first": i == r["first_bad"],
                "observed": ch.get("observed", "") if show_obs else "",
                "detail": ch.get("detail", "") if status != "PASS" else "",
                "expected": ch.get("expected", "") if ch.get("expected", "") != row["expected"] else ""}
            row["bad"] = row["bad"] or status != "PASS"
    return [rows[k] for k in order]


def _client_run(r: Result, meta: dict) -> dict:
    shown = r.shown
    v = shown.verdict
    tl = timeline.build(v, meta.get("objects")) if v.get("observations") or v.get("transcript") else None
    checks = v.get("checks") or []
    diff = tl["diff"] if tl else None
    first_bad = next((i for i, c in enumerate(checks) if c.get("status") in ("FAIL", "ERROR")), None)
    obs = v.get("observations") or {}
    return {
        "client": r.client, "status": r.status, "outcome": r.outcome, "expected": r.expected,
        "known_intermittent": r.known_intermittent,
        "expectation": {"reason": (r.expectation or {}).get("reason") or "", "link": (r.expectation or {}).get("link") or ""},
        "message": v.get("message") or "", "duration": case_duration_ms(v),
        "version": v.get("version") or "", "token": v.get("token") or "", "repeat": shown.repeat,
        "statuses": r.statuses, "flaky": r.flaky,
        "reps": [{"repeat": x.repeat, "status": x.status, "outcome": x.outcome,
                  "message": x.verdict.get("message") or "", "token": x.verdict.get("token") or ""}
                 for x in r.reps] if len(r.reps) > 1 else [],
        "checks": checks, "first_bad": first_bad, "diff": diff, "timeline": tl,
        "final": obs.get("final") or {}, "ua": (obs.get("client") or {}).get("ua", ""),
        "digest": v.get("transcript_digest") or "",
        "dropped": (v.get("transcript") or {}).get("dropped", 0),
    }


# ---- filters ----------------------------------------------------------------------------------------------

def _fmt_ms(x) -> str:
    if x is None:
        return ""
    x = float(x)
    if abs(x) >= 10000:
        return f"{x / 1000:.1f} s"
    return f"{x:.1f} ms"


def _slug(s: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(s)).lower()


def _clock(t) -> str:
    if not t:
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def script_json(x) -> markupsafe.Markup:
    """JSON for the inside of a <script type="application/json">: only what could end or confuse the element
    is escaped (every `</` gets a backslash before its slash, `<!--` becomes a \\u003c escape), not every < > & as Jinja's tojson does
    (that would inflate HTML strings by a third)."""
    text = json.dumps(x, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("</", "<\\/").replace("<!--", "\\u003c!--")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return markupsafe.Markup(text)


__all__ = ["render", "write", "view", "read_bodies", "STATUSES"]
