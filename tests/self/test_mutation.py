"""Mutation testing end to end (README, "Mutation testing"): a real client's run of a case, kept with `runner
record`, then `runner mutate` over it. The checks that can fail are proven; a deliberately vacuous one (a query
the program never writes and no client sends) survives, and fails the run until it is listed with a reason; a
record of a case changed since it was made is reported stale and not used. A mutant adds only what a real client
was seen to record (harness/mutate/seen.c), so a second case, in which the server drops the connection, gives
the records an xhr `error` event: with it the first case's `never error abort timeout` is provable. The unit tests are
harness/judge/tests/check_mutants.c (every kind; a `never` on an event nothing listens to survives) and
harness/mutate/tests/check_mutate.c."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from reports.events import read_events
from tests.harness.server import ROOT

RUNNER = os.environ.get("RUNNER", str(ROOT / "build" / "runner"))

CASE = """\
case    xhr/selftest/mutation
title   Mutation testing's self-test: checks that can fail, and one that cannot
spec    https://xhr.spec.whatwg.org/#the-send()-method

server GET /x
  status 200 OK
  header Content-Length: {body-length}
  body "hello"

client xhr
  open GET {A}/x
  send
  await loadend

expect client xhr
  never error abort timeout
  at load status=200
expect server
  requests GET /x
  query GET /x absent
    rule "deliberately vacuous: the program writes no query and no client of this case sends one"
"""
ERROR_CASE = """\
case    xhr/selftest/mutation-error
title   Mutation testing's self-test: an xhr that sees a network error
spec    https://xhr.spec.whatwg.org/#request-error-steps

server GET /x
  close

client xhr
  open GET {A}/x
  send
  await loadend

expect client xhr
  at error readyState=4
"""
VACUOUS_LINE = CASE.splitlines().index("  query GET /x absent") + 1

needs_node = pytest.mark.skipif(not (ROOT / "fixtures" / "node" / "node_modules" / "xhr2").is_dir(),
                                reason="fixtures/node/node_modules missing: scripts/install-deps.sh")


def runner(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RUNNER, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def write_cases(folder: Path, main_case: str) -> Path:
    folder.mkdir()
    (folder / "mutation.case").write_text(main_case)
    (folder / "mutation-error.case").write_text(ERROR_CASE)
    return folder


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, Path]:
    """The folder of the two cases and the records of one real run of them on node:xhr2."""
    tmp = tmp_path_factory.mktemp("mutation")
    case = write_cases(tmp / "cases", CASE)
    report = tmp / "report"
    subprocess.run(["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/conformance",
                    "--client", "node:xhr2", "--cases", str(case), "--report", str(report)],
                   cwd=ROOT, capture_output=True, text=True, timeout=300)
    verdicts = [e for e in read_events(report / "events.jsonl") if e["event"] == "verdict"]
    assert [v["status"] for v in verdicts] == ["PASS", "PASS"], verdicts
    rec = runner("record", "--cases", str(case), str(report / "events.jsonl"))
    assert rec.returncode == 0, rec.stderr
    records = tmp / "records.jsonl"
    records.write_text(rec.stdout)
    assert "2 records made" in rec.stderr
    return case, records


@needs_node
def test_the_real_checks_are_proven_and_the_vacuous_one_survives(recorded, tmp_path):
    case, records = recorded
    out = tmp_path / "checks.json"
    p = runner("mutate", "--cases", str(case), "--json", str(out), str(records))
    assert p.returncode == 1, p.stdout
    assert "xhr    checks proven able to fail: 4 of 5" in p.stdout, p.stdout
    survivor = f"xhr/selftest/mutation:{VACUOUS_LINE}:request-query"
    assert survivor in p.stdout and "1 problem" in p.stdout, p.stdout
    checks = {c["id"]: c for c in json.loads(out.read_text())}
    assert checks[survivor]["outcome"] == "survivor" and checks[survivor]["passed"] == ["node:xhr2"]
    proven = [c for c in checks.values() if c["outcome"] == "proven"]
    assert len(proven) == 4 and all(c["proof"]["client"] == "node:xhr2" for c in proven)
    # never error abort timeout: an event the xhr records, added
    never = next(c for c in proven if c["kind"] == "never")
    assert never["proof"]["mutant"] == "add xhr event error", never


@needs_node
def test_a_survivor_listed_with_a_reason_passes(recorded, tmp_path):
    case, records = recorded
    listed = tmp_path / "survivors.json"
    listed.write_text(json.dumps([{"case": "xhr/selftest/*", "line": VACUOUS_LINE,
                                   "why": "the program writes no query and no client of this case sends one"}]))
    p = runner("mutate", "--cases", str(case), "--survivors", str(listed), str(records))
    assert p.returncode == 0, p.stdout
    assert "survivors: 1 (1 listed with a reason, 0 not)" in p.stdout
    # An entry that names a proven check has no business in the list.
    listed.write_text(json.dumps([{"case": "xhr/selftest/mutation", "line": VACUOUS_LINE, "why": "x"},
                                  {"case": "xhr/selftest/mutation", "line": VACUOUS_LINE - 1, "why": "stale"}]))
    p = runner("mutate", "--cases", str(case), "--survivors", str(listed), str(records))
    assert p.returncode == 1 and "names only checks now proven able to fail" in p.stdout, p.stdout


@needs_node
def test_a_record_of_a_changed_case_is_stale_and_not_used(recorded, tmp_path):
    case, records = recorded
    changed = write_cases(tmp_path / "changed", CASE.replace('body "hello"', 'body "hello, world"'))
    p = runner("mutate", "--cases", str(changed), str(records))
    assert "1 stale records, not used" in p.stdout and "xhr/selftest/mutation (1)" in p.stdout, p.stdout
    # The changed case's 4 checks are judged on no record; the other case's check is still proven.
    assert "checks proven able to fail: 1 of 5" in p.stdout and "judged on no fresh record 4" in p.stdout
    assert p.returncode == 0, p.stdout
    # What only documents the run (a rule, the title, where lines sit) does not make a record stale.
    reworded = write_cases(tmp_path / "reworded",
                           "# a comment shifts every line\n" + CASE.replace("Mutation testing's self-test", "Reworded"))
    p = runner("mutate", "--cases", str(reworded), str(records))
    assert "stale" not in p.stdout and "checks proven able to fail: 4 of 5" in p.stdout, p.stdout
