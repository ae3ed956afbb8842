"""Report builders over a recorded event stream (tests/self/data/reports/events.jsonl: a real run of four xhr
cases on Chromium 156 and Firefox 153, Chromium failing xhr/events/empty-body). No browser here: the page's
DOM is checked in test_reports_html.py, exit codes in test_reports_gating.py."""
from __future__ import annotations

import copy
import json
import pathlib
import shutil
import xml.etree.ElementTree as ET

import pytest

from reports import build, diff, expectations as ex, model, timeline, wptreport
from reports import html as report_html

DATA = pathlib.Path(__file__).resolve().parent / "data" / "reports"
STREAM = DATA / "events.jsonl"
FAILING = ("chromium", "xhr/events/empty-body")


def events():
    return [json.loads(line) for line in STREAM.read_text().splitlines()]


def write_stream(path, evs, tail=""):
    path.write_text("".join(json.dumps(e) + "\n" for e in evs) + tail)
    return path


@pytest.fixture
def built(tmp_path):
    shutil.copy(STREAM, tmp_path / "events.jsonl")
    return build.build(tmp_path), tmp_path


# ---- report.json ------------------------------------------------------------------------------------------

def test_report_json_from_the_recorded_stream(built):
    result, out = built
    doc = json.loads((out / "report.json").read_text())
    assert wptreport.validate(doc) == []
    assert doc["schema_version"] == 1
    info = doc["run_info"]
    assert info["clients"] == ["chromium", "firefox"]
    assert info["versions"]["chromium"].startswith("156.") and info["versions"]["firefox"].startswith("153.")
    assert info["harness_version"] and info["platform"] and info["time_scale"] == 1.0 and info["complete"]
    assert doc["time_start"] < doc["time_end"]
    assert len(doc["results"]) == 8
    by = {(r["client"], r["test"]): r for r in doc["results"]}
    bad = by[FAILING]
    assert bad["status"] == "FAIL" and bad["expected"] == "PASS" and bad["unexpected"] is True
    assert bad["message"].startswith("line 24: ")
    assert bad["spec"] == "https://xhr.spec.whatwg.org/#handle-response-end-of-body"
    first = next(s for s in bad["subtests"] if s["status"] == "FAIL")
    assert first["name"].startswith("line 24: no body bytes") and first["expected"] == "PASS"
    assert "at event 4" in first["message"]
    assert all(s["status"] == "PASS" and s["message"] is None for s in bad["subtests"] if s is not first)
    assert by[("firefox", "xhr/events/empty-body")]["status"] == "PASS"
    assert doc["summary"]["chromium"]["FAIL"] == 1 and doc["summary"]["chromium"]["unexpected"] == 1
    assert doc["summary"]["firefox"]["PASS"] == 4 and doc["summary"]["firefox"]["total"] == 4
    # duration: the client program's span in ms (the timeout case waits 500 ms for its timeout)
    assert 450 <= by[("chromium", "xhr/timeout/status-0")]["duration"] < 5000
    assert doc["stale_expectations"] == []


def test_schema_validator_names_what_is_wrong(built):
    doc = json.loads((built[1] / "report.json").read_text())
    bad = copy.deepcopy(doc)
    del bad["run_info"]["harness_version"]
    bad["results"][0]["status"] = "PASSED"
    bad["results"][1]["duration"] = 1.5
    bad["results"][2]["subtests"][0]["expected"] = None
    bad["results"][3]["surprise"] = 1
    bad["schema_version"] = 2
    errs = wptreport.validate(bad)
    assert "$.run_info: missing 'harness_version'" in errs
    assert "$.results[0].status: 'PASSED' is not one of ['PASS', 'FAIL', 'TIMEOUT', 'ERROR', 'CRASH', 'NOTRUN', " \
           "'N/A', 'NON-STRICT']" in errs
    assert "$.results[1].duration: expected an integer, got float" in errs
    assert any(e.startswith("$.results[2].subtests[0].expected: None is not one of") for e in errs)
    assert "$.results[3]: unknown key 'surprise'" in errs
    assert any(e.startswith("$.schema_version: 2 is not one of") for e in errs)
    assert wptreport.validate([]) == ["$: expected an object, got list"]


def test_single_client_report_is_plain_wptreport(built):
    doc = json.loads((built[1] / "report.json").read_text())
    one = wptreport.single_client(doc, "firefox")
    assert one["run_info"]["product"] == "firefox" and one["run_info"]["browser_version"].startswith("153.")
    assert len(one["results"]) == 4 and all("client" not in r for r in one["results"])
    with pytest.raises(KeyError):
        wptreport.single_client(doc, "webkit")
    assert wptreport.main([str(built[1] / "report.json"), "--validate"]) == 0


# ---- a stream cut short -----------------------------------------------------------------------------------

def test_truncated_stream_builds_with_notrun(tmp_path):
    evs = [e for e in events() if e["event"] not in ("run-end", "worker-end")]
    last = max(i for i, e in enumerate(evs) if e["event"] == "verdict")
    lost = evs[last]
    cut = json.dumps(lost)[: len(json.dumps(lost)) // 2]          # the crash hit mid-write
    write_stream(tmp_path / "events.jsonl", evs[:last], tail=cut)
    assert len(model.load(tmp_path / "events.jsonl").results) == 8
    result = build.build(tmp_path)
    doc = result["report"]
    assert wptreport.validate(doc) == []
    assert doc["run_info"]["complete"] is False
    r = next(r for r in doc["results"] if (r["client"], r["test"]) == (lost["client"], lost["case"]))
    assert r["status"] == "NOTRUN" and r["unexpected"] is True
    assert "started at" in r["message"] and "mid-case" in r["message"]
    html = (tmp_path / "index.html").read_text()
    assert 'id="incomplete"' in html and "NOTRUN" in html
    assert (tmp_path / "junit.xml").exists()                          # pytest never wrote one


def test_stream_with_only_a_plan_shows_every_item_notrun(tmp_path):
    evs = [e for e in events() if e["event"] in ("run-start", "worker-start")]
    write_stream(tmp_path / "events.jsonl", evs)
    doc = build.build(tmp_path)["report"]
    assert [r["status"] for r in doc["results"]] == ["NOTRUN"] * 8
    assert all(r["message"] == "no verdict: the run stopped before this case" for r in doc["results"])


def test_missing_stream_is_a_clear_error(tmp_path, capsys):
    assert build.main([str(tmp_path)]) == 2
    assert "no event stream" in capsys.readouterr().err


# ---- repetitions and statuses -------------------------------------------------------------------------------

def test_repetitions_that_differ_are_flaky():
    evs = events()
    extra = []
    for e in evs:
        if e["event"] == "verdict" and (e["client"], e["case"]) == ("firefox", "xhr/abort/state/unsent"):
            for rep, status in ((2, "TIMEOUT"), (3, "PASS")):
                x = dict(e, repeat=rep, status=status)
                x.pop("outcome", None)
                extra.append(x)
    run = model.from_events(evs + extra)
    r = run.result("firefox", "xhr/abort/state/unsent")
    assert r.statuses == ["PASS", "TIMEOUT", "PASS"] and r.flaky
    assert r.status == "TIMEOUT" and r.outcome == ex.UNEXPECTED_FAIL      # the unexpected one speaks
    doc = wptreport.build(run)
    assert wptreport.validate(doc) == []
    assert doc["summary"]["firefox"]["flaky"] == 1
    assert not run.result(*FAILING).flaky


# ---- junit.xml rebuilt from the stream ---------------------------------------------------------------------

def test_junit_rebuilt_from_the_stream(built):
    root = ET.parse(built[1] / "junit.xml").getroot()
    suite = root.find("testsuite")
    assert suite.get("tests") == "8" and suite.get("failures") == "1"
    cases = {tc.get("name"): tc for tc in suite.iter("testcase")}
    tc = cases["test_case[chromium:xhr/events/empty-body]"]
    props = {p.get("name"): p.get("value") for p in tc.iter("property")}
    assert props["client"] == "chromium" and props["status"] == "FAIL" and props["expected"] == "PASS"
    assert props["rule"].startswith("no body bytes") and props["spec"].endswith("#handle-response-end-of-body")
    assert tc.find("failure").get("message").startswith("FAIL: line 24")
    assert cases["test_case[firefox:xhr/events/empty-body]"].find("failure") is None


# ---- expectations -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("status, expected, known, explicit, want", [
    ("PASS", "PASS", [], False, ex.EXPECTED),
    ("NON-STRICT", "PASS", [], False, ex.EXPECTED),
    ("N/A", "PASS", [], False, ex.EXPECTED),
    ("FAIL", "PASS", [], False, ex.UNEXPECTED_FAIL),
    ("TIMEOUT", "PASS", [], False, ex.UNEXPECTED_FAIL),
    ("CRASH", "PASS", [], False, ex.UNEXPECTED_FAIL),
    ("NOTRUN", "PASS", [], False, ex.UNEXPECTED_FAIL),
    ("FAIL", "FAIL", [], True, ex.EXPECTED),
    ("TIMEOUT", "FAIL", ["TIMEOUT"], True, ex.EXPECTED),
    ("ERROR", "FAIL", ["TIMEOUT"], True, ex.UNEXPECTED_FAIL),
    ("PASS", "FAIL", [], True, ex.UNEXPECTED_PASS),
    ("NON-STRICT", "FAIL", [], True, ex.UNEXPECTED_PASS),
    ("N/A", "FAIL", [], True, ex.UNEXPECTED_PASS),
    ("N/A", "PASS", [], True, ex.UNEXPECTED_PASS),
    ("PASS", "FAIL", ["PASS"], True, ex.EXPECTED),
])
def test_classify(status, expected, known, explicit, want):
    assert ex.classify(status, expected, known, explicit) == want


def test_expectations_lookup_precedence():
    e = ex.Expectations(ex.parse({"clients": {
        "chromium": {"xhr/abort/*": "TIMEOUT", "xhr/abort/state/*": {"status": "FAIL", "reason": "r"},
                     "xhr/abort/state/sent": "CRASH"},
        "*": {"xhr/*": "ERROR", "xhr/abort/state/sent": "NOTRUN"}}}))
    assert e.lookup("chromium", "xhr/abort/state/sent").status == "CRASH"       # exact
    assert e.lookup("chromium", "xhr/abort/state/done").status == "FAIL"        # longest glob
    assert e.lookup("chromium", "xhr/abort/other").status == "TIMEOUT"
    assert e.lookup("firefox", "xhr/abort/state/sent").status == "NOTRUN"       # "*" exact
    assert e.lookup("firefox", "xhr/events/x").status == "ERROR"                # "*" glob
    assert e.lookup("firefox", "sse/x") is None
    assert e.expected_for("chromium", "xhr/abort/state/done") == {
        "expected": "FAIL", "known_intermittent": [],
        "expectation": {"client": "chromium", "pattern": "xhr/abort/state/*", "reason": "r", "link": ""}}


@pytest.mark.parametrize("data, message", [
    ([], "the top level must be an object"),
    ({"clients": {"c": {"x": "FAILED"}}}, "clients['c']['x'].status: unknown status 'FAILED' (one of PASS,"),
    ({"clients": {"c": {"x": {"status": "FAIL", "bug": 1}}}}, "clients['c']['x']: unknown key 'bug'"),
    ({"clients": {"c": {"x": {"known_intermittent": ["SOMETIMES"]}}}}, "known_intermittent: unknown status"),
    ({"clients": {"c": {"x": {"reason": 3}}}}, "clients['c']['x'].reason: a string"),
    ({"clients": {"c": ["x"]}}, "clients['c'] must be an object"),
    ({"clients": {}, "version": 1}, "unknown top-level key 'version'"),
    ({"schema_version": 2, "clients": {}}, "schema_version 2 is not 1"),
])
def test_expectations_refuse_what_they_do_not_know(data, message):
    with pytest.raises(ex.ExpectationsError) as e:
        ex.parse(data, "exp.json")
    assert str(e.value).startswith("exp.json") and message in str(e.value)


def test_expectations_file_errors_name_the_file(tmp_path):
    p = tmp_path / "e.json"
    p.write_text("{not json")
    with pytest.raises(ex.ExpectationsError, match=r"e\.json: not JSON"):
        ex.Expectations.load(p)
    with pytest.raises(ex.ExpectationsError, match="cannot read"):
        ex.Expectations.load(tmp_path / "missing.json")


def test_stale_entries(tmp_path):
    shutil.copy(STREAM, tmp_path / "events.jsonl")
    e = ex.Expectations(ex.parse({"clients": {
        "chromium": {"xhr/events/empty-body": "FAIL", "xhr/abort/state/unsent": {"status": "FAIL", "link": "L"}},
        "firefox": {"xhr/gone": "FAIL", "xhr/timeout/*": "TIMEOUT"},
        "webkit": {"xhr/events/empty-body": "FAIL"}}}))
    result = build.build(tmp_path, expectations=e, case_ids=[c for c in model.load(STREAM).cases])
    stale = {(s["client"], s["case"]): s for s in result["report"]["stale_expectations"]}
    assert set(stale) == {("chromium", "xhr/abort/state/unsent"), ("firefox", "xhr/gone"),
                          ("firefox", "xhr/timeout/*")}
    assert stale[("firefox", "xhr/gone")]["why"] == "no such case"
    assert stale[("chromium", "xhr/abort/state/unsent")]["why"] == "now passes"
    assert stale[("chromium", "xhr/abort/state/unsent")]["link"] == "L"
    assert wptreport.validate(result["report"]) == []
    # the expected failure is no longer unexpected; the now-passing entry makes an unexpected pass
    by = {(r["client"], r["test"]): r for r in result["report"]["results"]}
    assert by[FAILING]["unexpected"] is False and by[FAILING]["expected"] == "FAIL"


def test_baseline_from_results():
    old = ex.Expectations(ex.parse({"clients": {
        "chromium": {"a": {"status": "FAIL", "reason": "known", "link": "L"}, "b": "FAIL", "z": "FAIL"},
        "firefox": {"a": "FAIL"},
        "*": {"c": "FAIL"}}}))
    results = [
        {"client": "chromium", "test": "a", "status": "FAIL", "statuses": ["FAIL"], "message": "m"},
        {"client": "chromium", "test": "b", "status": "PASS", "statuses": ["PASS"], "message": ""},
        {"client": "chromium", "test": "c", "status": "PASS", "statuses": ["PASS"], "message": ""},
        {"client": "chromium", "test": "d", "status": "TIMEOUT", "statuses": ["PASS", "TIMEOUT", "TIMEOUT"],
         "message": "slow"},
        {"client": "chromium", "test": "e", "status": "N/A", "statuses": ["N/A"], "message": ""},
    ]
    new = ex.baseline(results, old, ["chromium"], harness="v1")
    got = new.to_json()["clients"]
    assert got["chromium"]["a"] == {"status": "FAIL", "reason": "known", "link": "L"}   # carried over
    assert "b" not in got["chromium"]                                                  # passes now
    assert got["chromium"]["c"] == {"status": "PASS", "reason": got["chromium"]["c"]["reason"]}  # beats "*"
    assert got["chromium"]["d"]["status"] == "TIMEOUT" and got["chromium"]["d"]["known_intermittent"] == ["PASS"]
    assert got["chromium"]["d"]["reason"].startswith("baseline ") and "(v1): slow" in got["chromium"]["d"]["reason"]
    assert "e" not in got["chromium"]
    assert got["chromium"]["z"] == {"status": "FAIL"}          # not run: kept
    assert got["firefox"] == {"a": {"status": "FAIL"}} and got["*"] == {"c": {"status": "FAIL"}}
    for r in results:                                          # the baseline expects what happened
        e = new.expected_for(r["client"], r["test"])
        for s in r["statuses"]:
            assert ex.classify(s, e["expected"], e["known_intermittent"], e["expectation"] is not None) == ex.EXPECTED


# ---- timeline ----------------------------------------------------------------------------------------------

def verdict_of(client, case):
    return next(e for e in events() if e["event"] == "verdict" and (e["client"], e["case"]) == (client, case))


def test_timeline_aligns_on_the_first_request():
    v = verdict_of(*FAILING)
    tl = timeline.build(v, [{"name": "xhr", "kind": "xhr"}])
    req = next(e for e in v["transcript"]["events"] if e["type"] == "request")
    send = next(s for s in v["observations"]["steps"] if s["op"] == "send")
    assert tl["aligned"] and tl["offset_ms"] == pytest.approx(req["t_us"] / 1000 - send["t"])
    assert "meets the first request the server received (GET /empty at" in tl["note"]
    ts = [r["t"] for r in tl["rows"] if r["side"] != "gap"]
    assert ts == sorted(ts)
    hl = [r for r in tl["rows"] if r["hl"]]
    assert len(hl) == 1 and hl[0]["side"] == "client" and hl[0]["label"] == "xhr.readystatechange(4)"
    assert tl["diff"]["expected"].startswith("progress(loaded=0")
    sides = {r["side"] for r in tl["rows"]}
    assert {"client", "server"} <= sides
    assert any(r["label"].startswith("→ GET /c/") for r in tl["rows"])


def test_timeline_without_a_request_keeps_two_clocks():
    v = verdict_of("chromium", "xhr/abort/state/unsent")
    tl = timeline.build(v)
    assert not tl["aligned"] and tl["rows"] == [] and "each lane shows its own clock" in tl["note"]
    assert tl["lanes"]["client"] and tl["diff"] is None


def test_timeline_points_at_a_request_or_connection():
    v = copy.deepcopy(verdict_of("firefox", "xhr/error/reset-mid-body"))
    v["checks"][0].update(status="FAIL", kind="requests", detail="request 1: expected GET /x, observed GET /y")
    d = timeline.build(v)["diff"]
    assert v["transcript"]["events"][d["server_event"]]["type"] == "request"
    conn = next(e["conn"] for e in v["transcript"]["events"] if e["type"] == "conn-close")
    v["checks"][0].update(kind="closed", detail=f"connection {conn} closed at 12.0 ms")
    d = timeline.build(v)["diff"]
    assert v["transcript"]["events"][d["server_event"]]["type"] == "conn-close"


# ---- index.html (static checks; the browser check is test_reports_html.py) --------------------------------

def test_html_is_one_offline_file(built):
    html = (built[1] / "index.html").read_text()
    low = html.lower()
    for needle in ("<script src", "<link rel=\"stylesheet\"", "<img", "url(", "@import", "fetch(", "xmlhttprequest",
                   "<iframe", "src=\"http"):
        assert needle not in low, needle
    assert low.count("<script") == 2 and low.count("<style") == 1     # the page's script, the case bodies (JSON)
    assert '<script type="application/json" id="case-bodies">' in html
    bodies = report_html.read_bodies(html)         # gzipped parts (tests/self/test_reports_bodies.py)
    assert sorted(bodies) == sorted(model.load(STREAM).cases)
    body = bodies["xhr/events/empty-body"]
    assert "First difference:" in body and "Clocks aligned." in body
    assert 'href="https://xhr.spec.whatwg.org/#handle-response-end-of-body"' in body
    assert "Clocks not aligned." in bodies["xhr/abort/state/unsent"]


# ---- diff --------------------------------------------------------------------------------------------------

def test_diff_shows_a_changed_expectation(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        shutil.copy(STREAM, d / "events.jsonl")
    build.build(a)
    evs = events()
    for e in evs:                   # run B: chromium's failure now expected, firefox's unsent now a TIMEOUT
        if e["event"] == "verdict" and (e["client"], e["case"]) == FAILING:
            e.update(expected="FAIL", outcome="expected")
        if e["event"] == "verdict" and (e["client"], e["case"]) == ("firefox", "xhr/abort/state/unsent"):
            e.update(status="TIMEOUT", outcome=None)
    evs = [e for e in evs if not (e["event"] == "verdict" and e["case"] == "xhr/error/reset-mid-body"
                                  and e["client"] == "firefox")]
    for e in evs:
        if e["event"] == "worker-start":
            e["plan"] = [p for p in e["plan"] if not (p["client"] == "firefox" and p["case"] == "xhr/error/reset-mid-body")]
    write_stream(b / "events.jsonl", evs)
    build.build(b)
    rc = diff.main([str(a / "report.json"), str(b / "report.json"), "--html", str(tmp_path / "diff.html")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "  expectation xhr/events/empty-body: expected PASS → FAIL; now as expected" in out
    assert "  regression  xhr/abort/state/unsent: status PASS → TIMEOUT; now unexpected" in out
    assert "  removed     xhr/error/reset-mid-body: was PASS" in out
    assert "chromium 156.0.8078.108: 1 changed, 0 new, 0 removed, 3 unchanged" in out
    assert out.rstrip().endswith("3 differences")
    page = (tmp_path / "diff.html").read_text()
    assert "xhr/events/empty-body" in page and "regression" in page and "<script src" not in page
    assert diff.main([str(a / "report.json"), str(a / "report.json")]) == 0
    assert diff.main([str(a / "report.json"), str(tmp_path / "nope.json")]) == 2
    d = diff.diff(json.loads((b / "report.json").read_text()), json.loads((a / "report.json").read_text()))
    assert [x["test"] for x in d["clients"]["firefox"]["new"]] == ["xhr/error/reset-mid-body"]


def test_page_survives_hostile_text(tmp_path):
    evs = events()
    for e in evs:
        if e["event"] == "verdict" and (e["client"], e["case"]) == FAILING:
            e["checks"][0]["observed"] = "</script><script>alert(1)</script><!-- \u2028"
            e["transcript"]["events"].append({"t_us": 99000, "type": "sent", "conn": 1, "bytes": 9,
                                              "text": "</script>"})
    write_stream(tmp_path / "events.jsonl", evs)
    build.build(tmp_path)
    html = (tmp_path / "index.html").read_text()
    assert html.lower().count("<script") == 2 and html.lower().count("</script>") == 2
    body = report_html.read_bodies(html)["xhr/events/empty-body"]
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in body
