"""The pytest plugin itself, in pytest subprocesses: case files collected as items (ids, markers, the case set),
a failure located at its .case file and line, quiet gating output, xdist workers sharing one runner, and no
report written by a run without conformance items. Library clients only (curl, python:requests,
python:websockets): no browser."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from reports.events import read_events
from tests.harness.server import ROOT

TRUNCATED = "cases/http/body-content-length-truncated.case"   # python:requests 2.28 fails it (README)
WEIRD = "cases/http/status-weird-reason.case"
TIMING_WS = "cases/ws/close/delayed-reply.case"                # tagged timing


def pytest_run(*args, timeout=600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_ADDOPTS"))}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def collected(p) -> list[str]:
    return [line for line in p.stdout.splitlines() if "::" in line]


def needs(module: str):
    try:
        __import__(module)
    except ImportError:
        pytest.skip(f"{module} is not installed (scripts/install-deps.sh)")


# ---- collection ------------------------------------------------------------------------------------------------

def test_a_case_file_is_its_cases_times_clients_times_repeats(tmp_path):
    p = pytest_run("--co", "-q", "cases/xhr/timeout-status-0.case", "cases/sse/retry", "--client", "chromium,curl",
                   "--report", str(tmp_path / "r"))
    assert p.returncode == 0, p.stdout + p.stderr
    ids = collected(p)
    listed = json.loads(subprocess.run([str(ROOT / "build" / "runner"), "list", "--json", "cases/sse/retry"],
                                       cwd=ROOT, capture_output=True, text=True).stdout)
    assert len(ids) == 2 * (1 + len(listed))
    for client in ("chromium", "curl"):
        assert f"cases/xhr/timeout-status-0.case::{client}:xhr/timeout/status-0" in ids
        for c in listed:
            assert f"{os.path.relpath(c['source']['file'], ROOT)}::{client}:{c['id']}" in ids
    assert not (tmp_path / "r").exists()  # collecting only writes no report
    # -m and -k select as in tests/conformance; --repeat gives #R
    p = pytest_run("--co", "-q", "cases/sse/retry", "cases/http", "-m", "timing and chromium", "--repeat", "2")
    ids = collected(p)
    assert ids and all(i.startswith("cases/sse/retry/") and "::chromium:sse/retry/" in i for i in ids), ids
    assert {i[-2:] for i in ids} == {"#1", "#2"}


def test_a_matrix_file_gives_one_item_per_cell():
    listed = json.loads(subprocess.run([str(ROOT / "build" / "runner"), "list", "--json",
                                        "cases/ws/close/server-code.case"], cwd=ROOT, capture_output=True,
                                       text=True).stdout)
    assert len(listed) > 1
    p = pytest_run("--co", "-q", "cases/ws/close/server-code.case", "--client", "curl")
    assert collected(p) == [f"cases/ws/close/server-code.case::curl:{c['id']}" for c in listed]


def test_tests_conformance_and_case_files_together():
    p = pytest_run("--co", "-q", "tests/conformance", "--client", "curl", "--cases", WEIRD, "--cases", TRUNCATED)
    assert collected(p) == ["tests/conformance/test_conformance.py::test_case[curl:http/status/weird-reason]",
                            "tests/conformance/test_conformance.py::test_case[curl:http/body/content-length-truncated]"]
    # Asked for twice (the module and the file), a case runs once.
    p = pytest_run("--co", "-q", "tests/conformance", WEIRD, "--client", "curl", "--cases", WEIRD)
    assert len(collected(p)) == 1 and "1 deselected" in p.stdout, p.stdout


def test_slow_cases_only_when_asked_for():
    """The whole suite leaves out the cases tagged `slow` unless --slow; a case file named runs whatever its tags."""
    slow = "tests/conformance/test_conformance.py::test_case[curl:cors/cache/cap-measure]"
    p = pytest_run("--co", "-q", "tests/conformance", "--client", "curl", "-k", "cors/cache/")
    ids = collected(p)
    assert ids and slow not in ids, p.stdout
    with_slow = collected(pytest_run("--co", "-q", "tests/conformance", "--client", "curl", "--slow", "-k", "cors/cache/"))
    assert sorted(with_slow) == sorted(ids + [slow])
    p = pytest_run("--co", "-q", "cases/cors/cache/cap-measure.case", "--client", "curl")
    assert collected(p) == ["cases/cors/cache/cap-measure.case::curl:cors/cache/cap-measure"]


def test_case_files_outside_the_case_set():
    # tests/self holds case files of its own: collecting tests/ does not make them conformance items...
    p = pytest_run("--co", "-q", "tests/self/cases", "tests/self/test_plugin.py")
    assert p.returncode == 0 and not any(".case::" in i for i in collected(p)), p.stdout
    # ...and naming one says what to add
    p = pytest_run("--co", "-q", "tests/self/cases/timing/timing.case")
    assert p.returncode != 0
    assert ("tests/self/cases/timing/timing.case is not in the case set (cases): "
            "add --cases tests/self/cases/timing/timing.case") in p.stdout
    p = pytest_run("--co", "-q", "tests/self/cases/timing/timing.case", "--cases", "tests/self/cases")
    assert collected(p) == ["tests/self/cases/timing/timing.case::chromium:http/selftest/timing"]


# ---- a run ---------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def requests_fails(tmp_path_factory):
    """python:requests on a body cut short of its Content-Length: a real FAIL (README, Known results)."""
    needs("requests")
    out = tmp_path_factory.mktemp("fail")
    return out, pytest_run(TRUNCATED, "--client", "python:requests", "--report", str(out))


def test_a_failure_is_located_at_its_case_file_and_line(requests_fails):
    out, p = requests_fails
    assert p.returncode == 1, p.stdout + p.stderr
    (v,) = [e for e in read_events(out / "events.jsonl") if e["event"] == "verdict"]
    assert v["status"] == "FAIL"
    line = next(c["line"] for c in v["checks"] if c["status"] == "FAIL")
    assert (ROOT / TRUNCATED).read_text().splitlines()[line - 1].lstrip().startswith(("events", "never"))
    assert f"{TRUNCATED}:{line}: FAIL: line {line}: " in p.stdout
    assert f"FAILED {TRUNCATED}::python:requests:http/body/content-length-truncated" in p.stdout
    (tc,) = ET.parse(out / "junit.xml").getroot().iter("testcase")
    assert tc.get("file") == TRUNCATED and tc.get("name") == "python:requests:http/body/content-length-truncated"
    props = {x.get("name"): x.get("value") for x in tc.iter("property")}
    assert props["status"] == "FAIL" and props["case"] == "http/body/content-length-truncated"
    report = json.loads((out / "report.json").read_text())
    assert [(r["test"], r["status"]) for r in report["results"]] == [("http/body/content-length-truncated", "FAIL")]


def test_a_passing_gate_prints_counts_not_its_known_failures(requests_fails, tmp_path):
    out, _ = requests_fails
    exp = tmp_path / "exp.json"
    exp.write_text(json.dumps({"schema_version": 1, "clients": {"python:requests": {
        "http/body/content-length-truncated": {"status": "FAIL", "reason": "urllib3 1.26 returns the short body"}}}}))
    p = pytest_run(TRUNCATED, WEIRD, "--client", "python:requests", "--report", str(tmp_path / "q"), "-q",
                   "--expectations", str(exp))
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"^1 passed, 1 xfailed in ", p.stdout, re.M), p.stdout
    assert "XFAIL" not in p.stdout and "urllib3 1.26" not in p.stdout
    p = pytest_run(TRUNCATED, "--client", "python:requests", "--report", str(tmp_path / "ra"), "-q", "-ra",
                   "--expectations", str(exp))
    assert p.returncode == 0, p.stdout + p.stderr
    assert (f"XFAIL {TRUNCATED}::python:requests:http/body/content-length-truncated - reason: expected FAIL: "
            in p.stdout), p.stdout


def test_xdist_workers_share_one_runner(tmp_path):
    """Two clients on two workers, one of the cases tagged timing: one runner serves both (its scheduler is
    what runs a timing case alone), so every request reached the same port."""
    needs("websockets")
    needs("xdist")
    out = tmp_path / "r"
    p = pytest_run("-n", "2", "--dist", "loadgroup", WEIRD, TIMING_WS, "--client", "python:websockets,curl",
                   "--report", str(out), "-q")
    assert p.returncode == 0, p.stdout + p.stderr
    events = read_events(out / "events.jsonl")
    assert [e["event"] for e in events].count("run-start") == 1 and events[0]["event"] == "run-start"
    assert {e["worker"] for e in events if e["event"] == "worker-start"} == {"gw0", "gw1"}
    verdicts = {(e["client"], e["case"]): e for e in events if e["event"] == "verdict"}
    ran = [verdicts[("curl", "http/status/weird-reason")], verdicts[("python:websockets", "ws/close/delayed-reply")]]
    assert [v["status"] for v in ran] == ["PASS", "PASS"], [v["message"] for v in ran]
    hosts = {h[1] for v in ran for e in v["transcript"]["events"] if e.get("type") == "request"
             for h in e["headers"] if h[0] == "Host"}
    assert len(hosts) == 1, hosts  # a runner per worker (as before) gives two


def test_a_run_without_conformance_items_writes_no_report(tmp_path):
    p = pytest_run("tests/self/test_reports.py", "-k", "diff", "-q", "--report", str(tmp_path / "r"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert not (tmp_path / "r").exists()


def test_listen_is_for_the_remote_webdriver_client_only(tmp_path):
    """--listen names the origins with host names only the remote browser resolves (README, "Remote browsers"):
    a client on this host is refused before anything starts."""
    p = pytest_run("--co", "-q", "tests/conformance", "--client", "curl", "--cases", WEIRD, "--listen", "127.0.0.2",
                   "--host-a", "a.test", "--host-c", "c.test", "--report", str(tmp_path / "r"))
    assert p.returncode == 4 and "--listen is for a remote browser" in p.stderr, p.stdout + p.stderr


def test_pages_share_the_concurrency_and_none_is_left_without_a_case():
    from tests.harness.clients import page_shares
    assert page_shares(4, 1) == [4]
    assert page_shares(4, 2) == [2, 2]
    assert page_shares(5, 2) == [3, 2]
    assert page_shares(8, 3) == [3, 3, 2]
    assert page_shares(1, 3) == [1]  # one case at a time: one page
    assert sum(page_shares(7, 4)) == 7


def test_pages_and_concurrency_below_one_are_refused():
    for opt in ("--pages", "--concurrency"):
        p = pytest_run("tests/conformance", "-q", "--client", "chromium", opt, "0", "--collect-only", timeout=120)
        assert p.returncode != 0 and f"{opt} 0: N must be 1 or more" in p.stderr + p.stdout, p.stderr[-2000:]
