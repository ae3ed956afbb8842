"""report.json: the run as web-platform-tests' wptreport shapes it, for dashboards and diff scripts.

The format, field by field, is reports/SCHEMA.md; `SCHEMA` below is the same text as code and `validate`
checks a document against it (no jsonschema package on these machines: a small checker instead).

    /usr/bin/python3 -m reports.wptreport reports/out/report.json --client chromium -o chromium.json

writes one client's results as a single-product wptreport (run_info.product = the client, no `client`
field in results), the shape wpt.fyi-style tools take.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys

from . import findings as findings_mod
from .expectations import EXPECTED, STATUSES, UNEXPECTED_FAIL, UNEXPECTED_PASS
from .model import Result, Run, case_duration_ms

SCHEMA_VERSION = 1
CHECK_STATUSES = ("PASS", "FAIL", "ERROR")


# ---- building --------------------------------------------------------------------------------------------

def build(run: Run, stale: list | None = None) -> dict:
    info = run.info
    clients = list(run.clients)
    return {
        "schema_version": SCHEMA_VERSION,
        "run_info": {
            "product": ",".join(clients),
            "clients": clients,
            "versions": {c: run.clients[c] for c in clients},
            "platform": info.get("platform", ""),
            "os": platform.system().lower() if not info.get("platform") else info["platform"].split("-")[0].lower(),
            "harness_version": info.get("harness", "unknown"),
            "time_scale": info.get("time_scale", 1.0),
            "repeat": info.get("repeat", 1),
            "expectations": info.get("expectations"),
            "strict_expectations": bool(info.get("strict_expectations", False)),
            "python": info.get("python", ""),
            "pytest": info.get("pytest", ""),
            "complete": run.complete,
            **{k: info[k] for k in ("platforms", "merged_from") if info.get(k)},
        },
        "time_start": _ms(run.time_start),
        "time_end": _ms(run.time_end),
        "results": [result(r, run) for r in run.results],
        "summary": summary(run),
        "stale_expectations": list(stale or []),
        "findings": findings_mod.findings(run.results),
    }


def result(r: Result, run: Run) -> dict:
    shown = r.shown
    v = shown.verdict
    meta = run.cases.get(r.case, {})
    spec = v.get("spec") or (meta.get("spec") or [None])[0]
    exp = r.expectation or {}
    return {
        "test": r.case,
        "client": r.client,
        "status": r.status,
        "expected": r.expected,
        "known_intermittent": list(r.known_intermittent),
        "message": v.get("message") or None,
        "duration": int(round(sum(case_duration_ms(x.verdict) for x in r.reps))),
        "subtests": subtests(v.get("checks") or []),
        "unexpected": r.outcome != EXPECTED,
        "outcome": r.outcome,
        "statuses": r.statuses,
        "flaky": r.flaky,
        "version": v.get("version") or run.clients.get(r.client, ""),
        "title": v.get("title") or meta.get("title") or "",
        "rule": v.get("rule"),
        "spec": spec,
        "tags": v.get("tags") or meta.get("tags") or [],
        "source": meta.get("source"),
        "token": v.get("token"),
        "transcript_digest": v.get("transcript_digest"),
        "expectation_reason": exp.get("reason") or None,
        "expectation_link": exp.get("link") or None,
    }


def subtests(checks: list) -> list:
    out, seen = [], {}
    for c in checks:
        name = f"line {c.get('line')}: {c.get('rule') or c.get('kind')}"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name += f" #{seen[name]}"
        status = c.get("status") if c.get("status") in CHECK_STATUSES else "ERROR"
        msg = None
        if status != "PASS":
            msg = f"expected {c.get('expected', '')}, observed {c.get('observed', '')}"
            if c.get("detail"):
                msg += f"; {c['detail']}"
        out.append({"name": name, "status": status, "expected": "PASS", "message": msg,
                    "kind": c.get("kind", ""), "line": c.get("line"), "level": c.get("level", "must"),
                    "spec": c.get("spec")})
    return out


def summary(run: Run) -> dict:
    out = {}
    for c in run.clients:
        counts = {s: 0 for s in STATUSES}
        counts.update({"total": 0, "unexpected": 0, "unexpected_fail": 0, "unexpected_pass": 0, "flaky": 0})
        out[c] = counts
    for r in run.results:
        s = out.setdefault(r.client, {})
        s[r.status] = s.get(r.status, 0) + 1
        s["total"] = s.get("total", 0) + 1
        if r.outcome != EXPECTED:
            s["unexpected"] += 1
            s["unexpected_fail" if r.outcome == UNEXPECTED_FAIL else "unexpected_pass"] += 1
        if r.flaky:
            s["flaky"] += 1
    return out


def single_client(report: dict, client: str) -> dict:
    """One client's results as a single-product wptreport."""
    if client not in report["run_info"]["clients"]:
        raise KeyError(f"no client {client!r} in this report (clients: {', '.join(report['run_info']['clients'])})")
    info = dict(report["run_info"], product=client, browser_version=report["run_info"]["versions"].get(client, ""))
    results = [{k: v for k, v in r.items() if k != "client"} for r in report["results"] if r["client"] == client]
    found = [f for f in report.get("findings", []) if f["client"] == client]
    return dict(report, run_info=info, results=results, summary={client: report["summary"].get(client, {})},
                findings=found)


def _ms(t):
    return int(round(t * 1000)) if isinstance(t, (int, float)) else None


# ---- the schema (reports/SCHEMA.md, as code) ---------------------------------------------------------------

class T:
    """Schema nodes: T.obj(required, optional), T.list(item), T.enum(...), T.str, T.int, ... ; `| None` allowed
    through T.nullable(node)."""

    def __init__(self, kind, **kw):
        self.kind = kind
        self.kw = kw

    @staticmethod
    def obj(required: dict, optional: dict | None = None, extra=None):
        return T("obj", required=required, optional=optional or {}, extra=extra)

    @staticmethod
    def list(item):
        return T("list", item=item)

    @staticmethod
    def map(value):
        return T("map", value=value)

    @staticmethod
    def enum(*values):
        return T("enum", values=values)

    @staticmethod
    def nullable(node):
        return T("nullable", node=node)


T.str = T("str")
T.int = T("int")
T.num = T("num")
T.bool = T("bool")
T.any = T("any")

SUBTEST = T.obj(
    {"name": T.str, "status": T.enum(*CHECK_STATUSES), "expected": T.enum(*CHECK_STATUSES),
     "message": T.nullable(T.str)},
    {"kind": T.str, "line": T.nullable(T.int), "level": T.enum("must", "should"), "spec": T.nullable(T.str)})

RESULT = T.obj(
    {"test": T.str, "client": T.str, "status": T.enum(*STATUSES), "expected": T.enum(*STATUSES),
     "known_intermittent": T.list(T.enum(*STATUSES)), "message": T.nullable(T.str), "duration": T.int,
     "subtests": T.list(SUBTEST)},
    {"unexpected": T.bool, "outcome": T.enum(EXPECTED, UNEXPECTED_FAIL, UNEXPECTED_PASS),
     "statuses": T.list(T.enum(*STATUSES)), "flaky": T.bool, "version": T.str, "title": T.str,
     "rule": T.nullable(T.str), "spec": T.nullable(T.str), "tags": T.list(T.str),
     "source": T.nullable(T.obj({"file": T.str, "line": T.int})), "token": T.nullable(T.str),
     "transcript_digest": T.nullable(T.str), "expectation_reason": T.nullable(T.str),
     "expectation_link": T.nullable(T.str)})

STALE = T.obj({"client": T.str, "case": T.str, "expected": T.enum(*STATUSES),
               "why": T.enum("no such case", "now passes"), "detail": T.str},
              {"reason": T.str, "link": T.str})

FINDING = T.obj(
    {"id": T.int, "client": T.str, "headline": T.str, "kind": T.str, "count": T.int, "cases": T.list(T.str),
     "statuses": T.map(T.int), "unexpected": T.int, "known": T.int},
    {"expected": T.nullable(T.str), "observed": T.nullable(T.str), "property": T.nullable(T.str),
     "event": T.nullable(T.str), "rule": T.nullable(T.str), "spec": T.nullable(T.str)})

REPORT = T.obj(
    {"schema_version": T.enum(SCHEMA_VERSION),
     "run_info": T.obj(
         {"product": T.str, "clients": T.list(T.str), "versions": T.map(T.str), "platform": T.str,
          "harness_version": T.str, "time_scale": T.num},
         {"os": T.str, "repeat": T.int, "expectations": T.nullable(T.str), "strict_expectations": T.bool,
          "python": T.str, "pytest": T.str, "complete": T.bool, "browser_version": T.str},
         extra=T.any),
     "time_start": T.nullable(T.int), "time_end": T.nullable(T.int), "results": T.list(RESULT)},
    {"summary": T.map(T.map(T.int)), "stale_expectations": T.list(STALE), "findings": T.list(FINDING)})


def validate(doc, node: T = REPORT, path: str = "$") -> list[str]:
    """Every way `doc` departs from the schema, as 'PATH: what' strings (empty: valid)."""
    k = node.kind
    if k == "any":
        return []
    if k == "nullable":
        return [] if doc is None else validate(doc, node.kw["node"], path)
    if k == "str":
        return [] if isinstance(doc, str) else [f"{path}: expected a string, got {_tn(doc)}"]
    if k == "int":
        return [] if isinstance(doc, int) and not isinstance(doc, bool) else [f"{path}: expected an integer, got {_tn(doc)}"]
    if k == "num":
        ok = isinstance(doc, (int, float)) and not isinstance(doc, bool)
        return [] if ok else [f"{path}: expected a number, got {_tn(doc)}"]
    if k == "bool":
        return [] if isinstance(doc, bool) else [f"{path}: expected true/false, got {_tn(doc)}"]
    if k == "enum":
        vals = node.kw["values"]
        return [] if doc in vals and type(doc) is type(vals[0]) else [f"{path}: {doc!r} is not one of {list(vals)}"]
    if k == "list":
        if not isinstance(doc, list):
            return [f"{path}: expected a list, got {_tn(doc)}"]
        return [e for i, x in enumerate(doc) for e in validate(x, node.kw["item"], f"{path}[{i}]")]
    if k == "map":
        if not isinstance(doc, dict):
            return [f"{path}: expected an object, got {_tn(doc)}"]
        return [e for key, x in doc.items() for e in validate(x, node.kw["value"], f"{path}.{key}")]
    if k == "obj":
        if not isinstance(doc, dict):
            return [f"{path}: expected an object, got {_tn(doc)}"]
        errs = [f"{path}: missing {key!r}" for key in node.kw["required"] if key not in doc]
        for key, x in doc.items():
            sub = node.kw["required"].get(key) or node.kw["optional"].get(key) or node.kw["extra"]
            if sub is None:
                errs.append(f"{path}: unknown key {key!r}")
            else:
                errs += validate(x, sub, f"{path}.{key}")
        return errs
    raise ValueError(f"validate: unknown schema node {k!r}")


def _tn(x) -> str:
    return "null" if x is None else type(x).__name__


# ---- command line ----------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m reports.wptreport", description=__doc__.split("\n\n")[0])
    ap.add_argument("report", help="a report.json")
    ap.add_argument("--client", help="write this client's results as a single-product wptreport")
    ap.add_argument("--validate", action="store_true", help="only check the file against reports/SCHEMA.md")
    ap.add_argument("-o", "--output", help="output file (default: stdout)")
    a = ap.parse_args(argv)
    with open(a.report, encoding="utf-8") as f:
        doc = json.load(f)
    errs = validate(doc)
    if errs:
        print("\n".join(f"{a.report}: {e}" for e in errs), file=sys.stderr)
        return 1
    if a.validate:
        print(f"{a.report}: valid (schema_version {doc['schema_version']}, {len(doc['results'])} results)")
        return 0
    out = single_client(doc, a.client) if a.client else doc
    text = json.dumps(out, indent=1, ensure_ascii=False) + "\n"
    if a.output:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
