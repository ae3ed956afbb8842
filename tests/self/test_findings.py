"""Root-cause findings (reports/findings.py; issue 13): failures that first differ the same way are one finding
with its cases, in report.json, index.html and the terminal lines; different causes stay apart; what changes
from run to run (tokens, ports, times) does not split a finding."""
from __future__ import annotations

import json

from reports import findings, model, wptreport
from reports.build import build


def verdict(case, client="node:lib", status="FAIL", diff=None, thrown=None, message="m", outcome=None, token="t1-ab12"):
    checks = [{"line": 3, "kind": "events", "status": "PASS", "level": "must", "rule": "an earlier rule"}]
    if diff is not None:
        checks.append({"line": 9, "kind": "events", "status": "FAIL", "level": "must", "rule": "R", "spec": "S",
                       "first_diff": diff})
    v = {"event": "verdict", "case": case, "client": client, "status": status, "checks": checks, "repeat": 1,
         "message": message, "thrown": thrown, "token": token}
    if outcome:
        v["outcome"] = outcome
    return v


ABORT = {"at": "at event 1 (t=3.0 ms)", "expected": "readystatechange(1)", "observed": "abort", "values": False}
STATE = {"at": "at event 3 (t=9.0 ms)", "expected": "error(readyState=2)", "observed": "error(readyState=0)",
         "property": "readyState", "event": "error", "values": True}


def run_of(evs):
    return model.from_events([{"event": "run-start", "clients": ["node:lib"]}] + evs)


def test_the_same_first_difference_in_many_cases_is_one_finding():
    evs = [verdict(f"xhr/order/{i}", diff=dict(ABORT, at=f"at event 1 (t={i}.5 ms)"), token=f"t{i}-00aa")
           for i in range(40)]
    evs += [verdict("sse/retry/honoured", diff=STATE), verdict("sse/x/pass", status="PASS")]
    found = findings.findings(run_of(evs).results)
    assert [f["count"] for f in found] == [40, 1]
    big = found[0]
    assert big["headline"] == "expected readystatechange(1), observed abort"
    assert big["cases"][:2] == ["xhr/order/0", "xhr/order/1"] and big["rule"] == "R" and big["statuses"] == {"FAIL": 40}
    assert found[1]["headline"] == "readyState: expected error(readyState=2), observed error(readyState=0) at error"
    lines = findings.describe(found)
    assert lines[0].startswith("node:lib: 2 findings (41 failing results")
    assert "40 × FAIL: expected readystatechange(1), observed abort — xhr/order/0, xhr/order/1, xhr/order/2 … (+37)" \
        in lines[1]


def test_a_thrown_exception_groups_by_step_and_name_and_clients_stay_apart():
    thrown = {"op": "send", "name": "TypeError", "message": "Cannot read properties of undefined (reading 'x')"}
    evs = [verdict("xhr/a", diff=ABORT, thrown=thrown), verdict("xhr/b", thrown=thrown, status="FAIL"),
           verdict("xhr/c", client="node:other", thrown=thrown),
           verdict("xhr/t", status="TIMEOUT", message="no load within 10000 ms"),
           verdict("xhr/u", status="TIMEOUT", message="no load within 20000 ms")]
    found = findings.findings(model.from_events([{"event": "run-start", "clients": ["node:lib", "node:other"]}]
                                                + evs).results)
    by = {(f["client"], f["headline"]): f for f in found}
    ex = by[("node:lib", "send threw TypeError: Cannot read properties of undefined (reading 'x')")]
    assert ex["cases"] == ["xhr/a", "xhr/b"] and ex["kind"] == "exception"
    assert by[("node:other", "send threw TypeError: Cannot read properties of undefined (reading 'x')")]["count"] == 1
    assert by[("node:lib", "TIMEOUT: no load within N ms")]["count"] == 2  # the numbers do not split it


def test_findings_in_report_json_index_html_and_only_unexpected_when_quiet(tmp_path):
    evs = [{"event": "run-start", "clients": ["node:lib"], "run": "r1"}]
    evs += [verdict(f"xhr/order/{i}", diff=ABORT, outcome="expected") for i in range(3)]
    evs += [verdict("sse/retry/honoured", diff=STATE, outcome="unexpected-fail"), {"event": "run-end"}]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in evs))
    built = build(tmp_path)
    doc = json.loads((tmp_path / "report.json").read_text())
    assert wptreport.validate(doc) == []
    assert [(f["count"], f["known"], f["unexpected"]) for f in doc["findings"]] == [(3, 3, 0), (1, 0, 1)]
    html = (tmp_path / "index.html").read_text()
    assert 'id="findings"' in html and "expected readystatechange(1), observed abort" in html
    quiet = findings.describe(built["report"]["findings"], only_unexpected=True)
    assert len(quiet) == 2 and "sse/retry/honoured" in quiet[1] and "abort" not in "".join(quiet)
    assert wptreport.single_client(doc, "node:lib")["findings"] == doc["findings"]
