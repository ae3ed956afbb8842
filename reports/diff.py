"""What changed between two runs: per client, cases whose status or expectation changed, new and removed cases.

    /usr/bin/python3 -m reports.diff A/report.json B/report.json [--html diff.html] [--json]

Reads two report.json files (reports/SCHEMA.md; any schema_version-1 report, one client or several) and
matches results by (client, case). A changed result says what changed: the status (labelled `regression`
when it went from a pass to anything else, `fixed` the other way), the expected status (an expectations
file changed), or both; regressions are listed first. Exit status: 0 no differences, 1 differences, 2 unreadable input (as diff(1)).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .expectations import PASSING

PASSLIKE = PASSING + ("N/A",)
LABEL_ORDER = ("regression", "changed", "fixed", "expectation")


def load(path) -> dict:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or "results" not in doc:
        raise ValueError(f"{path}: not a report.json (no results)")
    return doc


def _side(doc: dict, path: str) -> dict:
    info = doc.get("run_info", {})
    t = doc.get("time_start")
    return {"path": str(path), "harness": info.get("harness_version", "?"),
            "time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t / 1000)) if t else "?",
            "versions": info.get("versions", {})}


def _client(r: dict, doc: dict) -> str:
    return r.get("client") or doc.get("run_info", {}).get("product", "?")


def diff(a: dict, b: dict, a_path="A", b_path="B") -> dict:
    ra = {(_client(r, a), r["test"]): r for r in a["results"]}
    rb = {(_client(r, b), r["test"]): r for r in b["results"]}
    clients = []
    for c, _ in list(ra) + list(rb):
        if c not in clients:
            clients.append(c)
    out = {"a": _side(a, a_path), "b": _side(b, b_path), "clients": {}}
    for c in clients:
        ka = sorted(k for k in ra if k[0] == c)
        kb = sorted(k for k in rb if k[0] == c)
        changed, unchanged = [], 0
        for k in sorted(set(ka) & set(kb)):
            x, y = ra[k], rb[k]
            what = []
            if x["status"] != y["status"]:
                what.append("status")
            if x.get("expected", "PASS") != y.get("expected", "PASS") or \
                    sorted(x.get("known_intermittent", [])) != sorted(y.get("known_intermittent", [])):
                what.append("expected")
            if not what:
                unchanged += 1
                continue
            label = "changed"
            if "status" in what:
                if x["status"] in PASSLIKE and y["status"] not in PASSLIKE:
                    label = "regression"
                elif x["status"] not in PASSLIKE and y["status"] in PASSLIKE:
                    label = "fixed"
            elif "expected" in what:
                label = "expectation"
            changed.append({"test": k[1], "label": label, "what": what,
                            "a_status": x["status"], "b_status": y["status"],
                            "a_expected": x.get("expected", "PASS"), "b_expected": y.get("expected", "PASS"),
                            "a_known_intermittent": x.get("known_intermittent", []),
                            "b_known_intermittent": y.get("known_intermittent", []),
                            "a_unexpected": bool(x.get("unexpected")), "b_unexpected": bool(y.get("unexpected")),
                            "b_message": y.get("message") or "", "a_message": x.get("message") or ""})
        changed.sort(key=lambda x: (LABEL_ORDER.index(x["label"]), x["test"]))   # regressions first
        new = [{"test": k[1], "status": rb[k]["status"], "expected": rb[k].get("expected", "PASS")}
               for k in sorted(set(kb) - set(ka))]
        removed = [{"test": k[1], "status": ra[k]["status"], "expected": ra[k].get("expected", "PASS")}
                   for k in sorted(set(ka) - set(kb))]
        out["clients"][c] = {"a_version": out["a"]["versions"].get(c, ""), "b_version": out["b"]["versions"].get(c, ""),
                             "in_a": bool(ka), "in_b": bool(kb), "changed": changed, "new": new,
                             "removed": removed, "unchanged": unchanged}
    out["differences"] = sum(len(v["changed"]) + len(v["new"]) + len(v["removed"]) for v in out["clients"].values())
    return out


def text(d: dict) -> str:
    lines = [f"A: {d['a']['path']}  (harness {d['a']['harness']}, {d['a']['time']})",
             f"B: {d['b']['path']}  (harness {d['b']['harness']}, {d['b']['time']})"]
    for c, v in d["clients"].items():
        ver = v["a_version"] if v["a_version"] == v["b_version"] else f"{v['a_version'] or '-'} → {v['b_version'] or '-'}"
        where = "" if v["in_a"] and v["in_b"] else (" (only in B)" if v["in_b"] else " (only in A)")
        lines.append(f"{c} {ver}{where}: {len(v['changed'])} changed, {len(v['new'])} new, {len(v['removed'])} "
                     f"removed, {v['unchanged']} unchanged")
        for x in v["changed"]:
            parts = []
            if "status" in x["what"]:
                parts.append(f"status {x['a_status']} → {x['b_status']}")
            if "expected" in x["what"]:
                ea = x["a_expected"] + (f" (+{','.join(x['a_known_intermittent'])})" if x["a_known_intermittent"] else "")
                eb = x["b_expected"] + (f" (+{','.join(x['b_known_intermittent'])})" if x["b_known_intermittent"] else "")
                parts.append(f"expected {ea} → {eb}")
            if x["a_unexpected"] != x["b_unexpected"]:
                parts.append("now unexpected" if x["b_unexpected"] else "now as expected")
            lines.append(f"  {x['label']:<11} {x['test']}: {'; '.join(parts)}")
        for x in v["new"]:
            lines.append(f"  {'new':<11} {x['test']}: {x['status']}")
        for x in v["removed"]:
            lines.append(f"  {'removed':<11} {x['test']}: was {x['status']}")
    lines.append(f"{d['differences']} difference{'s' if d['differences'] != 1 else ''}")
    return "\n".join(lines)


def html(d: dict) -> str:
    from .html import environment
    return environment().get_template("diff.html.j2").render(d=d, generated=time.strftime("%Y-%m-%d %H:%M:%S"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m reports.diff", description=__doc__.split("\n\n")[0])
    ap.add_argument("a", help="the earlier report.json")
    ap.add_argument("b", help="the later report.json")
    ap.add_argument("--html", metavar="OUT", help="also write an HTML view (one offline file)")
    ap.add_argument("--json", action="store_true", help="print the difference as JSON instead of text")
    a = ap.parse_args(argv)
    try:
        d = diff(load(a.a), load(a.b), a.a, a.b)
    except (OSError, ValueError, KeyError) as e:
        print(f"reports.diff: {e}", file=sys.stderr)
        return 2
    print(json.dumps(d, indent=1, ensure_ascii=False) if a.json else text(d))
    if a.html:
        Path(a.html).write_text(html(d), encoding="utf-8")
    return 1 if d["differences"] else 0


if __name__ == "__main__":
    sys.exit(main())
