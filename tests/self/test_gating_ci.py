"""Gating a library in CI (README, "Gate your library"; issue 13): a client's name is the library's, not its
path; an expectations file without an entry for a client of the run says so loudly; recording a baseline
exits 0 and says what it wrote; and the README's CI job, run verbatim, passes with a baseline recorded in
another checkout.

The library under test is the real npm package xhr2 (fixtures/node/node_modules, README "Known results": it
fails event-order cases), copied as a library author would have it: its own folder with its package.json and
an index.js, once at one path (where the baseline is recorded) and once at another (the CI checkout).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reports import expectations as ex
from reports.events import read_events
from tests.harness import group
from tests.harness.run import _client_names

ROOT = Path(__file__).resolve().parents[2]
XHR2 = ROOT / "fixtures" / "node" / "node_modules" / "xhr2"
README = ROOT / "README.md"
needs_node = pytest.mark.skipif(not XHR2.is_dir() or not shutil.which("node"),
                                reason="fixtures/node/node_modules missing: scripts/install-deps.sh --libraries")
ORDER = "cases/xhr/success-event-order.case"  # xhr2 0.2.1 FAILs it (README, Known results)


def a_library(where: Path) -> Path:
    """xhr2 as its author's checkout: the package (package.json says xhr2 0.2.1) plus an index.js."""
    shutil.copytree(XHR2, where)
    (where / "index.js").write_text("module.exports = require('./lib/xhr2.js');\n")
    return where


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_ADDOPTS"))}
    return {**env, **extra}


def pytest_run(*args, cwd=ROOT):
    return group.run(["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "tests/conformance", *args],
                     timeout=900, cwd=cwd, env=_env())


def run_start(report_dir: Path) -> dict:
    return next(e for e in read_events(report_dir / "events.jsonl") if e["event"] == "run-start")


# ---- names and warnings, without a run ------------------------------------------------------------------------

def test_a_file_without_the_client_warns_and_names_a_path_key():
    exp = ex.Expectations.from_json({"schema_version": 1, "clients": {
        "node:/home/me/lib/index.js": {"xhr/events/success-order": "FAIL"}, "node:other": {}}}, "exp.json")
    assert exp.missing_clients(["node:other"]) == []  # an empty object is an entry: "passes everything"
    [w] = exp.missing_clients(["node:xhr2"], {"node:xhr2": "node:/home/me/lib/index.js"})
    assert w["client"] == "node:xhr2" and "no entry for client node:xhr2" in w["message"]
    assert "rename that key to 'node:xhr2'" in w["message"]
    [w] = exp.missing_clients(["node:xhr2"], {"node:xhr2": "node:/ci/lib/index.js"})
    assert "--update-expectations exp.json" in w["message"] and "node:other" in w["message"]


def test_a_baseline_keeps_a_key_for_a_client_that_passed_everything():
    results = [{"client": "node:a", "test": "x/1", "status": "PASS"},
               {"client": "node:b", "test": "x/1", "status": "FAIL", "message": "m"}]
    doc = ex.baseline(results, None, ["node:a", "node:b"]).to_json()
    assert doc["clients"]["node:a"] == {} and doc["clients"]["node:b"]["x/1"]["status"] == "FAIL"
    again = ex.Expectations.from_json(doc)
    assert again.missing_clients(["node:a", "node:b"]) == []


def test_client_name_option_forms():
    assert _client_names(["mylib"], ["node:/x/i.js"]) == {"node:/x/i.js": "mylib"}
    assert _client_names(["node:/x/i.js=node:mine"], ["node:/x/i.js", "curl"]) == {"node:/x/i.js": "node:mine"}
    for bad, given in ((["mylib"], ["node:a", "curl"]), (["curl2=x"], ["curl"]), (["has space"], ["curl"])):
        with pytest.raises(pytest.UsageError):
            _client_names(bad, given)


@needs_node
def test_the_node_adapter_names_the_library_not_the_wrapper(tmp_path):
    """A wrapper with its own package.json (1.0.0) re-exporting xhr2 is xhr2 0.2.1 (issue 13, point 5)."""
    lib = a_library(tmp_path / "node_modules" / "xhr2")
    (tmp_path / "package.json").write_text(json.dumps({"name": "my-wrapper", "version": "1.0.0"}))
    (tmp_path / "index.js").write_text("module.exports = { XMLHttpRequest: require('xhr2') };\n")
    out = subprocess.run(["node", "-e", f"""
        const a = require({json.dumps(str(ROOT / 'fixtures/node/adapter.js'))});
        a.libraryEnv([{json.dumps(str(tmp_path / 'index.js'))}, {json.dumps(str(lib / 'index.js'))}])
          .then((e) => console.log(JSON.stringify(e.client)));"""], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    client = json.loads(out.stdout.strip().splitlines()[-1])
    assert client["name"].split("+") == ["xhr2", "xhr2"] and client["version"].startswith("0.2.1"), client


# ---- one run each: the name, the warning, --client-name, a baseline -----------------------------------------

@needs_node
def test_a_path_keyed_file_warns_even_with_q_and_the_name_is_the_librarys(tmp_path):
    lib = a_library(tmp_path / "lib")
    spec = f"node:{lib}/index.js"
    exp = tmp_path / "exp.json"
    exp.write_text(json.dumps({"schema_version": 1, "clients": {spec: {"xhr/events/success-order": "FAIL"}}}))
    p = pytest_run("--client", spec, "--cases", ORDER, "--expectations", str(exp), "--report", str(tmp_path / "r"),
                   "-q")
    assert p.returncode == 1, p.stdout[-3000:] + p.stderr[-3000:]  # the key does not apply: a loud failure
    assert "WARNING: the expectations file" in p.stdout and "no entry for client node:xhr2" in p.stdout, p.stdout
    assert "rename that key to 'node:xhr2'" in p.stdout
    assert "node:xhr2: 1 unexpected finding (1 failing result;" in p.stdout, p.stdout  # reports/findings.py
    start = run_start(tmp_path / "r")
    assert start["clients"] == ["node:xhr2"] and start["client_specs"] == {"node:xhr2": spec}
    assert start["warnings"] and start["warnings"][0]["kind"] == "no-expectations"
    doc = json.loads((tmp_path / "r" / "report.json").read_text())
    assert doc["run_info"]["clients"] == ["node:xhr2"] and doc["run_info"]["versions"]["node:xhr2"] == "0.2.1"


@needs_node
def test_client_name_renames_and_a_baseline_exits_0_saying_what_it_wrote(tmp_path):
    lib = a_library(tmp_path / "lib")
    exp = tmp_path / "exp.json"
    p = pytest_run("--client", f"node:{lib}/index.js", "--client-name", "node:my-xhr", "--cases", ORDER,
                   "--update-expectations", str(exp), "--report", str(tmp_path / "r"), "-q")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert f"expectations baseline written: {exp} (1 entries)" in p.stdout, p.stdout
    assert "node:my-xhr: 1 entry (1 FAIL)" in p.stdout
    doc = json.loads(exp.read_text())
    assert list(doc["clients"]) == ["node:my-xhr"]
    assert doc["clients"]["node:my-xhr"]["xhr/events/success-order"]["status"] == "FAIL"
    assert run_start(tmp_path / "r")["clients"] == ["node:my-xhr"]


# ---- the README's CI job, verbatim ---------------------------------------------------------------------------

def readme_blocks() -> tuple[str, str, str]:
    """(step 1's record command, the shell CI script, the GitHub job's pytest command) from README.md."""
    text = README.read_text()
    gate = text[text.index("## Gate your library"):]
    gate = gate[:gate.index("\n## ", 10)]
    record = re.search(r"1\. Record a baseline.*?```\n(.*?)```", gate, re.S).group(1)
    script = re.search(r"```sh\n(#!/bin/sh -e\n.*?)```", gate, re.S).group(1)
    job = re.search(r"run: >\n(.*?)\n      - ", gate, re.S).group(1)
    return "\n".join(line.strip() for line in record.splitlines()), script, " ".join(job.split())


def test_the_readme_job_and_script_run_the_same_command():
    _, script, job = readme_blocks()
    flat = " ".join(script.replace("\\\n", " ").split())
    for arg in ("tests/conformance", "--cases cases/xhr", "--cases cases/sse", "-p no:cacheprovider", "-q",
                "--expectations", "--report", "--client"):
        assert arg in job and arg in flat, arg
    assert "install-deps.sh --libraries" in README.read_text()


@needs_node
# Two whole gating runs of a library (record 65 s, the CI script 81 s on a quiet machine, README "Gating a
# library"): the 300 s last-resort bound of pytest.ini is too tight on a shared machine. Each step is bounded at
# 550 s, before the test's own 1,200 s, and killed with everything it started.
@pytest.mark.timeout(1200)
def test_the_readme_ci_job_verbatim_baseline_at_one_path_gates_at_another(tmp_path):
    """Step 1 (record) with the library at one path; the CI script with the same library checked out at
    another path and the committed expectations file: exit 0, no warning, the library's name and version."""
    record, script, _ = readme_blocks()
    here = a_library(tmp_path / "home" / "work" / "lib")
    (here / "ci").mkdir()
    p = group.run(["sh", "-ec", record], 550, cwd=ROOT, env=_env(LIB=str(here)))
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-3000:]
    assert "expectations baseline written:" in p.stdout and "node:xhr2:" in p.stdout, p.stdout[-2000:]
    baseline = json.loads((here / "ci" / "conformance-expectations.json").read_text())
    assert list(baseline["clients"]) == ["node:xhr2"] and baseline["clients"]["node:xhr2"], baseline

    ci = a_library(tmp_path / "ci-workspace" / "lib")
    shutil.copytree(here / "ci", ci / "ci")  # the committed file, nothing else
    (ci / "ci" / "conformance.sh").write_text(script)
    p = group.run(["sh", "ci/conformance.sh"], 550, cwd=ci, env=_env(HARNESS=str(ROOT)))
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-3000:]
    assert "WARNING" not in p.stdout, p.stdout[-3000:]
    start = run_start(ci / "conformance")
    assert start["clients"] == ["node:xhr2"] and start["client_specs"]["node:xhr2"] == f"node:{ci}/index.js"
    versions = {e.get("version") for e in read_events(ci / "conformance" / "events.jsonl") if e["event"] == "verdict"}
    assert versions == {"0.2.1"}, versions
    assert re.search(r"\d+ xfailed", p.stdout) and " failed" not in p.stdout, p.stdout[-2000:]


def test_a_python_adapter_is_named_after_the_distribution_it_imports(tmp_path):
    """An Adapter without `name` driving `websocket` is websocket-client, at whatever path (chclient/library.py)."""
    for where in ("a", "b/c"):
        f = tmp_path / where / "my_ws_adapter.py"
        f.parent.mkdir(parents=True)
        f.write_text("import websocket\nfrom chclient import SyncHttpAdapter\n\n"
                     "class Adapter(SyncHttpAdapter):\n    pass\n")
        out = subprocess.run(["/usr/bin/python3", "-m", "chclient", "--lib", str(f), "--check"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60,
                             env=_env(PYTHONPATH=str(ROOT / "fixtures" / "python")))
        assert out.returncode == 0, out.stderr
        info = json.loads(out.stdout)
        import websocket  # noqa: PLC0415 - Debian's python3-websocket, the distribution the adapter names
        assert (info["name"], info["version"]) == ("websocket-client", websocket.__version__), info
