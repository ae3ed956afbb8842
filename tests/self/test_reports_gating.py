"""Gating end to end: pytest runs tests/conformance in a subprocess on two small cases
(tests/self/data/reports/cases) in headless Chromium, with polyfills that break one of them, and we read the
exit code, the terminal summary, report.json and junit.xml.

  break-responsetext.js  xhr/selftest-reports/hello reads "broken": FAIL every time
  break-on-even-runs.js  the same on the runner's even-numbered runs only: with --repeat 2, PASS then FAIL
"""
from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from reports import diff, wptreport
from reports import html as report_html
from tests.harness import browsers

ROOT = pathlib.Path(__file__).resolve().parents[2]

DATA = pathlib.Path(__file__).resolve().parent / "data" / "reports"
CASES = DATA / "cases"
BREAK = DATA / "polyfills" / "break-responsetext.js"
FLAKY = DATA / "polyfills" / "break-on-even-runs.js"
HELLO = "xhr/selftest-reports/hello"
STATUS = "xhr/selftest-reports/status"

pytestmark = pytest.mark.browser("chromium")


@pytest.fixture(scope="module", autouse=True)
def _chromium():
    reason = browsers.available("chromium")
    if reason:
        pytest.skip(reason)


def _env():
    # A nested run must not think it is an xdist worker of ours, nor inherit our own addopts.
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_ADDOPTS"))}


def _argv(out, *args, polyfill=None, cases=(CASES,)):
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/conformance", "--client", "chromium",
            "--report", str(out), "-q", "-rA"]
    for c in cases:
        argv += ["--cases", str(c)]
    if polyfill:
        argv += ["--polyfill", str(polyfill)]
    return argv + list(args)


def run(out, *args, polyfill=None, cases=(CASES,)):
    p = subprocess.run(_argv(out, *args, polyfill=polyfill, cases=cases), cwd=ROOT, env=_env(),
                       capture_output=True, text=True, timeout=300)
    p.out = pathlib.Path(out)
    return p


def report(p) -> dict:
    doc = json.loads((p.out / "report.json").read_text())
    assert wptreport.validate(doc) == []
    return doc


def results(p) -> dict:
    return {r["test"]: r for r in report(p)["results"]}


def junit(p) -> dict:
    root = ET.parse(p.out / "junit.xml").getroot()
    return {tc.get("name"): tc for tc in root.iter("testcase")}


def expectations(path, entries: dict):
    path.write_text(json.dumps({"schema_version": 1, "clients": {"chromium": entries}}))
    return path


@pytest.fixture(scope="module")
def unexpected_run(tmp_path_factory):
    return run(tmp_path_factory.mktemp("unexpected"), polyfill=BREAK)


@pytest.fixture(scope="module")
def known_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("known")
    exp = expectations(d / "exp.json", {HELLO: {"status": "FAIL", "reason": "the polyfill breaks responseText",
                                                "link": "https://example.invalid/bug/1"}})
    return run(d / "out", "--expectations", str(exp), polyfill=BREAK)


def test_an_unexpected_failure_exits_1(unexpected_run):
    p = unexpected_run
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"FAILED tests/conformance/test_conformance.py::test_case[chromium:{HELLO}]" in p.stdout
    assert "1 failed, 1 passed" in p.stdout
    assert "chromium " in p.stdout and "2 results: 1 PASS, 1 FAIL, 1 unexpected" in p.stdout
    r = results(p)
    assert r[HELLO]["status"] == "FAIL" and r[HELLO]["unexpected"] and r[HELLO]["expected"] == "PASS"
    assert "responseText: expected hello, observed broken" in r[HELLO]["message"]  # the first difference
    assert r[STATUS]["status"] == "PASS" and not r[STATUS]["unexpected"]
    tc = junit(p)
    hello = tc[f"test_case[chromium:{HELLO}]"]
    props = {x.get("name"): x.get("value") for x in hello.iter("property")}
    assert props["client"] == "chromium" and props["version"].startswith("1") and props["case"] == HELLO
    assert props["status"] == "FAIL" and props["expected"] == "PASS"
    assert props["rule"] == "the response body, as text"
    assert props["spec"] == "https://xhr.spec.whatwg.org/#the-responsetext-attribute"
    assert hello.find("failure").get("message").startswith("FAIL: line ")
    assert tc[f"test_case[chromium:{STATUS}]"].find("failure") is None
    assert (p.out / "index.html").stat().st_size > 10000


def test_the_expectations_file_makes_it_exit_0(known_run):
    p = known_run
    assert p.returncode == 0, p.stdout + p.stderr
    assert "1 passed, 1 xfailed" in p.stdout
    assert f"XFAIL tests/conformance/test_conformance.py::test_case[chromium:{HELLO}] - reason: expected FAIL: line" \
           in p.stdout
    r = results(p)
    assert r[HELLO]["status"] == "FAIL" and r[HELLO]["expected"] == "FAIL" and not r[HELLO]["unexpected"]
    assert r[HELLO]["expectation_reason"] == "the polyfill breaks responseText"
    skipped = junit(p)[f"test_case[chromium:{HELLO}]"].find("skipped")
    assert skipped.get("type") == "pytest.xfail" and skipped.get("message").startswith("expected FAIL: line")
    bodies = report_html.read_bodies((p.out / "index.html").read_text())     # the case's details, gzipped
    assert "https://example.invalid/bug/1" in bodies[HELLO]


def test_diff_of_the_two_runs_shows_the_changed_expectation(unexpected_run, known_run, capsys):
    rc = diff.main([str(unexpected_run.out / "report.json"), str(known_run.out / "report.json"),
                    "--html", str(known_run.out / "diff.html")])
    out = capsys.readouterr().out
    assert rc == 1
    assert f"  expectation {HELLO}: expected PASS → FAIL; now as expected" in out
    assert "chromium " in out and "1 changed, 0 new, 0 removed, 1 unchanged" in out
    assert HELLO in (known_run.out / "diff.html").read_text()


def test_an_unexpected_pass_is_stale_and_fails_only_when_strict(tmp_path):
    exp = expectations(tmp_path / "exp.json", {HELLO: "FAIL", "xhr/selftest-reports/gone": "TIMEOUT"})
    p = run(tmp_path / "lax", "--expectations", str(exp))
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"stale expectation: chromium {HELLO} (expects FAIL): now passes" in p.stdout
    assert "stale expectation: chromium xhr/selftest-reports/gone (expects TIMEOUT): no such case" in p.stdout
    stale = {(s["case"], s["why"]) for s in report(p)["stale_expectations"]}
    assert stale == {(HELLO, "now passes"), ("xhr/selftest-reports/gone", "no such case")}
    assert results(p)[HELLO]["outcome"] == "unexpected-pass"
    p = run(tmp_path / "strict", "--expectations", str(exp), "--strict-expectations")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "PASS (expected FAIL): an unexpected pass" in p.stdout


def test_update_expectations_writes_a_baseline_that_gates(tmp_path):
    base = tmp_path / "baseline.json"
    p = run(tmp_path / "first", "--update-expectations", str(base), polyfill=BREAK)
    assert p.returncode == 0, p.stdout + p.stderr  # recording records: the failure is xfailed (issue 13)
    assert f"expectations baseline written: {base} (1 entries)" in p.stdout
    assert "chromium: 1 entry (1 FAIL)" in p.stdout
    written = json.loads(base.read_text())
    assert list(written["clients"]["chromium"]) == [HELLO]
    assert written["clients"]["chromium"][HELLO]["status"] == "FAIL"
    assert "responseText: expected hello, observed broken" in written["clients"]["chromium"][HELLO]["reason"]
    p = run(tmp_path / "second", "--expectations", str(base), polyfill=BREAK)
    assert p.returncode == 0, p.stdout + p.stderr


def test_repeat_reports_flakiness(tmp_path):
    p = run(tmp_path / "plain", "--repeat", "2", polyfill=FLAKY)
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"PASSED tests/conformance/test_conformance.py::test_case[chromium:{HELLO}#1]" in p.stdout
    assert f"FAILED tests/conformance/test_conformance.py::test_case[chromium:{HELLO}#2]" in p.stdout
    assert f"flaky: chromium {HELLO}: PASS FAIL" in p.stdout
    r = results(p)[HELLO]
    assert r["flaky"] and r["statuses"] == ["PASS", "FAIL"] and r["status"] == "FAIL" and r["unexpected"]
    assert report(p)["run_info"]["repeat"] == 2
    assert len(junit(p)) == 4
    exp = expectations(tmp_path / "exp.json", {HELLO: {"status": "PASS", "known_intermittent": ["FAIL"]}})
    p = run(tmp_path / "known", "--repeat", "2", "--expectations", str(exp), polyfill=FLAKY)
    assert p.returncode == 0, p.stdout + p.stderr
    r = results(p)[HELLO]
    assert r["flaky"] and not r["unexpected"]


def test_a_bad_expectations_file_stops_the_run(tmp_path):
    exp = expectations(tmp_path / "exp.json", {HELLO: "FAILED"})
    p = run(tmp_path / "out", "--expectations", str(exp))
    assert p.returncode == 4  # pytest's usage error
    assert f"--expectations: {exp}: clients['chromium']['{HELLO}'].status: unknown status 'FAILED'" in p.stderr


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in pathlib.Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> str:
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_a_run_killed_midway_still_reports(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(_argv(out, cases=(CASES, DATA / "slow-cases")), cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runners = []
    try:
        stream = out / "events.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:             # wait until the slow case is running
            runners = [c for c in _children(proc.pid) if " serve " in _cmdline(c)] or runners
            if stream.exists() and any('"event":"case-start"' in line and 'selftest-reports/slow"' in line
                                       for line in stream.read_text().splitlines()):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the slow case never started")
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)                 # as `timeout` would: browsers die with it
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for pid in runners:                               # the runner has its own session: end it by its id
            if " serve " in _cmdline(pid):
                os.kill(pid, signal.SIGTERM)
    assert not (out / "report.json").exists() and not (out / "junit.xml").exists()
    p = subprocess.run([sys.executable, "-m", "reports.build", str(out)], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert "the stream has no run-end" in p.stdout
    doc = json.loads((out / "report.json").read_text())
    assert wptreport.validate(doc) == [] and doc["run_info"]["complete"] is False
    r = {x["test"]: x for x in doc["results"]}
    assert r["xhr/selftest-reports/slow"]["status"] == "NOTRUN"
    assert "mid-case" in r["xhr/selftest-reports/slow"]["message"]
    assert r[HELLO]["status"] == "PASS" and r[STATUS]["status"] == "PASS"
    tc = {t.get("name"): t for t in ET.parse(out / "junit.xml").getroot().iter("testcase")}
    assert tc["test_case[chromium:xhr/selftest-reports/slow]"].find("failure").get("message").startswith("NOTRUN")
