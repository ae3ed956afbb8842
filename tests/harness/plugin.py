"""The pytest plugin of the conformance harness: cases × clients, one item each, verdicts from the runner's judge.

    /usr/bin/python3 -m pytest tests/conformance --client chromium,firefox --report reports/out
    /usr/bin/python3 -m pytest cases/xhr/timeout-status-0.case --client chromium    # case files, directly
    /usr/bin/python3 -m pytest cases/sse --client node:eventsource                  # a folder of them

Loaded by the repository's conftest.py (`pytest_plugins`), or by the `pytest11` entry point of an installed
package (pyproject.toml). Items (tests/harness/items.py) are named CLIENT:CASE-ID (with `#R` for repetition
R under `--repeat N`); `-k` selects by either part, markers by family (`-m sse`), tag (`-m timing`,
`-m headline`) or client (`-m chromium`). Cases tagged `slow` (measurements a minute long) run only with
--slow (`make run-all`) or when their file is named. Each client runs its cases through one browser or
adapter, several at once (tests/harness/session.py), restarted after a crash or a hang; cases tagged
`timing` come last and never beside an ordinary case (harness/server/runs.c says how they share).

Reports. Every process appends to REPORT/events.jsonl (reports/events.py); at the end of the run the
controller (the only process, or xdist's controller once every worker is done) builds REPORT/report.json and
REPORT/index.html from it (reports/build.py). pytest's own --junitxml writes REPORT/junit.xml unless given
elsewhere (junit_family xunit1, pytest.ini: each testcase carries properties client, version, case,
status, expected, rule, spec, token). All of this happens only in a run that collected conformance items.

Gating. `--expectations FILE` (reports/EXPECTATIONS.md) gives each result an expected status and known
intermittent ones; the item's outcome follows (tests/harness/run.py): a known failure is an xfail (exit code
0), an unexpected one a failure (exit code 1). The terminal shows counts and unexpected results; known
failures one line each only with -v or -ra. Without an expectations file every case is expected to PASS
(NON-STRICT and N/A do not fail the run). `--update-expectations FILE` writes this run's results as the new
baseline; `--repeat N` runs every case N times, each repetition a fresh client run (fresh tokens), and
reports statuses that differ as flaky.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from reports import build as reports_build
from reports import findings as findings_mod

from . import items as items_mod
from .items import CaseFile, CaseItem, case_run
from .run import RUN_KEY, WORKER_ARGV, WORKER_RUN, WORKER_RUNNER, ConformanceRun, conformance, is_worker

HELP_CLIENT = ("comma-separated clients: chromium, firefox, webkit, webdriver (with --webdriver-url), "
               "node:MODULE, python:MODULE, curl")
HELP_CLIENT_NAME = ("a library client's stable name (expectations, reports, item ids): NAME with one --client, "
                    "CLIENT=NAME with several (repeatable); default: the library's package or distribution name")
HELP_REPORT = "report folder (events.jsonl, report.json, junit.xml, index.html); default reports/out"
HELP_POLYFILL = "a script run in each case page before the interpreter (it may replace XMLHttpRequest, ...)"
HELP_WEBDRIVER = "send the `webdriver` client to this W3C WebDriver endpoint (Selenium Grid, chromedriver, ...)"
HELP_LISTEN = ("runner serve --listen ADDR: the origins listen on ADDR instead of loopback, for a browser on another "
               "host (a --webdriver-url); needs --host-a and --host-c (README, \"Remote browsers\")")
HELP_HOST_A = "with --listen: the host name of origins A and B (one site), which the remote browser resolves to ADDR"
HELP_HOST_C = "with --listen: the host name of origin C (another site than --host-a), resolved to ADDR"
HELP_CAPS = "JSON capabilities for --webdriver-url (default: a headless chromium)"
HELP_SCALE = "multiply every scripted wait, client timeout and tolerance (slow machines: 2)"
HELP_CASES = "the case set: case files or folders (repeatable; default: cases/)"
HELP_CONCURRENCY = "cases a client may run at once (cases tagged `timing` never beside an ordinary case)"
HELP_PAGES = ("browsers: harness pages sharing the run, each a top-level page the engine may give a renderer "
              "process of its own; --concurrency is spread over them (WebKitGTK: always 1)")
HELP_EXPECTATIONS = ("expected statuses per client and case (JSON, reports/EXPECTATIONS.md): a run exits 0 when "
                     "every result is as expected, 1 on an unexpected failure")
HELP_STRICT = "with --expectations: an unexpected pass (the entry is stale) fails the run too"
HELP_UPDATE = "write this run's results to FILE as the new expectations baseline (entries it did not run are kept)"
HELP_SLOW = ("also run the cases tagged `slow` (measurements that wait for a minute or more), which the whole "
             "suite (tests/conformance) leaves out by default; `make run-all` sets it")
HELP_REPEAT = "run every case N times (each a fresh client run and token); differing statuses are reported as flaky"


def pytest_addoption(parser):
    g = parser.getgroup("conformance", "conformance runs against real clients")
    g.addoption("--client", default=None, help=HELP_CLIENT)
    g.addoption("--client-name", action="append", default=None, metavar="[CLIENT=]NAME", help=HELP_CLIENT_NAME)
    g.addoption("--report", default=None, help=HELP_REPORT)
    g.addoption("--polyfill", default=None, help=HELP_POLYFILL)
    g.addoption("--webdriver-url", default=None, help=HELP_WEBDRIVER)
    g.addoption("--webdriver-capabilities", default=None, help=HELP_CAPS)
    g.addoption("--listen", default=None, metavar="ADDR", help=HELP_LISTEN)
    g.addoption("--host-a", default=None, metavar="NAME", help=HELP_HOST_A)
    g.addoption("--host-c", default=None, metavar="NAME", help=HELP_HOST_C)
    g.addoption("--time-scale", type=float, default=1.0, help=HELP_SCALE)
    g.addoption("--cases", action="append", default=None, help=HELP_CASES)
    g.addoption("--concurrency", type=int, default=4, help=HELP_CONCURRENCY)
    g.addoption("--pages", type=int, default=1, help=HELP_PAGES)
    g.addoption("--expectations", default=None, metavar="FILE", help=HELP_EXPECTATIONS)
    g.addoption("--strict-expectations", action="store_true", default=False, help=HELP_STRICT)
    g.addoption("--update-expectations", default=None, metavar="FILE", help=HELP_UPDATE)
    g.addoption("--slow", action="store_true", default=False, help=HELP_SLOW)
    g.addoption("--repeat", type=int, default=1, metavar="N", help=HELP_REPEAT)


def pytest_configure(config):
    items_mod.register_markers(config)
    config.stash[RUN_KEY] = ConformanceRun(config)  # a bad --expectations file or --repeat stops here
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistController(), "conformance-xdist")


# ---- collection ----------------------------------------------------------------------------------------------

def pytest_generate_tests(metafunc):
    """tests/conformance: one test_case[CLIENT:CASE] per case of the case set × client × repetition."""
    if "conformance_case" in metafunc.fixturenames:
        run = conformance(metafunc.config)
        items_mod.parametrize(metafunc, run.case_runs(run.cases()))


def pytest_collect_file(file_path: Path, parent):
    """A .case file of the case set (--cases, default cases/) is collected as its cases. One elsewhere is not
    (tests/self holds case files of its own), unless named on the command line: then it says what to add."""
    if file_path.suffix != ".case":
        return None
    if conformance(parent.config).in_case_set(file_path) or parent.session.isinitpath(file_path):
        return CaseFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Conformance items in run order: per client (in --client order) and repetition, the ordinary cases, then
    the `timing` ones (their own phase). An item asked for twice (tests/conformance and a case file) runs once.
    The whole suite (tests/conformance) leaves out the cases tagged `slow` unless --slow; a case file named on the
    command line runs whatever its tags."""
    for item in items:
        items_mod.adopt_function(item)
    order = {name: i for i, name in enumerate(conformance(config).clients)}
    slow = config.getoption("--slow")
    seen, dropped = set(), []
    for item in items:
        r = case_run(item)
        if r is not None:
            k = (r.client, r.id, r.repeat)
            if k in seen or (not slow and "slow" in r.case.get("tags", []) and not isinstance(item, CaseItem)):
                dropped.append(item)
            seen.add(k)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if not any(i is d for d in dropped)]

    def key(item):
        r = case_run(item)
        return (-1, 0, 0) if r is None else (order.get(r.client, 99), r.repeat, r.timing)

    items.sort(key=key)  # stable: case order is kept inside each group


@pytest.hookimpl(tryfirst=True)  # before xdist tells its controller that this worker has collected
def pytest_collection_finish(session):
    config = session.config
    conf_items = [i for i in session.items if case_run(i) is not None]
    if not conf_items or config.option.collectonly:
        return
    run = conformance(config)
    run.begin(conf_items)
    if not is_worker(config):
        _junit_into_report(config, run)


def pytest_report_collectionfinish(config, items):
    if any(case_run(i) is not None for i in items):
        run = conformance(config)
        warnings = [f"WARNING: {w['message']}" for w in run.warnings]  # shown even with -q
        return ([_header(run)] if config.option.verbose >= 0 else []) + warnings
    return None


def _header(run: ConformanceRun) -> str:
    named = [c if run.specs.get(c, c) == c else f"{c} (--client {run.specs[c]})" for c in run.clients]
    line = f"conformance: clients {', '.join(named)}; reports in {run.report_dir}"
    if run.expectations is not None:
        line += f"; expectations {run.expectations.path}"
        line += " (strict)" if run.config.getoption("--strict-expectations") else ""
    if run.repeats > 1:
        line += f"; each case {run.repeats}×"
    return line


def _junit_into_report(config, run: ConformanceRun):
    """pytest's --junitxml into REPORT/junit.xml unless a path was given. The junitxml plugin opens its file
    in pytest_configure, before a run can know it is a conformance run (that takes collecting), so its
    configure runs again here with the path set, and the LogXML it registers gets the pytest_sessionstart it
    missed. The controller does this before any item runs."""
    junitxml = config.pluginmanager.getplugin("junitxml")
    if config.option.xmlpath is not None or junitxml is None:  # a path of the user's, or -p no:junitxml
        return
    path = run.report_dir / "junit.xml"
    path.unlink(missing_ok=True)
    config.option.xmlpath = str(path)
    before = set(config.pluginmanager.get_plugins())
    junitxml.pytest_configure(config)
    for plugin in set(config.pluginmanager.get_plugins()) - before:
        plugin.pytest_sessionstart()


class XdistController:
    """pytest-xdist's controller: hands its workers the run's id and argv and the one runner they share
    (tests/harness/run.py says why one), and points junit.xml into the report once a worker has begun the
    run. Registered only when xdist is loaded (its hooks are unknown otherwise)."""

    def __init__(self):
        self.seen = False

    def pytest_configure_node(self, node):
        run = conformance(node.config)
        node.workerinput[WORKER_RUN] = run.run_id
        node.workerinput[WORKER_ARGV] = run.argv
        node.workerinput[WORKER_RUNNER] = run.start_shared_runner()

    def pytest_xdist_node_collection_finished(self, node, ids):
        config = node.config
        run = conformance(config)
        if self.seen or config.option.collectonly or not run.began():
            return
        self.seen = True
        _junit_into_report(config, run)
        tr = config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None and config.option.verbose >= 0:
            tr.write_line(_header(run))
        for w in run.warnings if tr is not None else ():
            tr.write_line(f"WARNING: {w['message']}", yellow=True, bold=True)


# ---- the end ------------------------------------------------------------------------------------------------------

@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """Each process: its clients stopped, worker-end. The controller, after every worker: run-end, every report
    from the stream, --update-expectations. Then the runner it started, if any, stops."""
    config = session.config
    run = conformance(config)
    try:
        run.end_items()
        if not is_worker(config):
            run.end_run(exitstatus)
    finally:
        run.stop_runner()


def pytest_unconfigure(config):
    run = config.stash.get(RUN_KEY, None)
    if run is not None:
        run.stop_runner()  # the controller's shared runner when the session never finished


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    run = conformance(config)
    built = run.built
    if not built:
        return
    tr = terminalreporter
    tr.section("conformance reports")
    for w in run.warnings:
        tr.write_line(f"WARNING: {w['message']}", yellow=True, bold=True)
    if "error" in built:
        tr.write_line(f"reports not built: {built['error']}", red=True)
        return
    tr.write_line(reports_build.describe(built, unexpected=False))
    # Root causes (reports/findings.py): the unexpected ones; every one with -v.
    for line in findings_mod.describe(built["report"].get("findings", []), only_unexpected=config.option.verbose <= 0):
        tr.write_line(line)
    xml = config.option.xmlpath
    if xml and Path(xml).exists():
        tr.write_line(f"  {xml} ({Path(xml).stat().st_size:,} bytes)")
    if "updated" in built:
        path, new, old = built["updated"]
        tr.write_line(reports_build.describe_baseline(path, new, old, run.clients), green=True)
