"""pytest plugin: the case set × the chosen clients, one pytest item each, verdicts from the runner's judge.

    /usr/bin/python3 -m pytest tests/conformance --client chromium,firefox --report reports/out

Items are named `test_case[CLIENT:CASE-ID]` (with `#R` for repetition R under `--repeat N`); `-k` selects by
either part, markers by family (`-m sse`), tag (`-m timing`, `-m headline`) or client (`-m chromium`). Each
client runs its cases through one browser or adapter (restarted after a crash or a hang); cases tagged
`timing` run in a phase of their own, holding a lock that keeps every other client of this run (xdist
workers included) idle meanwhile.

Reports. Every process appends to REPORT/events.jsonl (tests/harness/events.py); at the end of the run the
controller (the only process, or xdist's controller once every worker is done) builds REPORT/report.json and
REPORT/index.html from it (reports/build.py). pytest's own --junitxml writes REPORT/junit.xml unless given
elsewhere, as junit_family xunit1 so that each testcase carries properties (client, version, case, status,
expected, rule, spec, token).

Gating. `--expectations FILE` (reports/EXPECTATIONS.md) gives each result an expected status and known
intermittent ones; reports.expectations.classify decides, and the item's pytest outcome follows it:
  as expected, PASS or NON-STRICT    passed
  as expected, N/A                   skipped ("N/A: why"), as without expectations
  as expected, anything else         xfailed ("expected FAIL: message") — a known failure: exit code 0,
                                     shown as `x` and XFAIL in the summary, <skipped type="pytest.xfail"> in JUnit
  unexpected failure                 failed ("FAIL (expected PASS): message") — exit code 1
  unexpected pass                    passed (N/A: skipped); with --strict-expectations failed. Either way
                                     the entry is listed as stale at the end of the run and in report.json.
Without an expectations file every case is expected to PASS (NON-STRICT and N/A do not fail the run).
`--update-expectations FILE` writes this run's results as the new baseline; `--repeat N` runs every case N
times, each repetition a fresh client run (fresh tokens), and reports statuses that differ as flaky.
"""
from __future__ import annotations

import fcntl
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import clients as clients_mod
from .events import EventStream
from .server import ROOT, Runner, runner_path
from .session import CaseInfo, ClientSession

HELP_CLIENT = ("comma-separated clients: chromium, firefox, webkit, webdriver (with --webdriver-url), "
               "node:MODULE, python:MODULE, curl")
HELP_REPORT = "report folder (events.jsonl, report.json, junit.xml, index.html); default reports/out"
HELP_POLYFILL = "a script run in each case page before the interpreter (it may replace XMLHttpRequest, ...)"
HELP_WEBDRIVER = "send the `webdriver` client to this W3C WebDriver endpoint (Selenium Grid, chromedriver, ...)"
HELP_CAPS = "JSON capabilities for --webdriver-url (default: a headless chromium)"
HELP_SCALE = "multiply every scripted wait, client timeout and tolerance (slow machines: 2)"
HELP_CASES = "case files or folders (repeatable; default: cases/)"
HELP_CONCURRENCY = "cases a client may run at once (cases tagged `timing` always run alone)"
HELP_EXPECTATIONS = ("expected statuses per client and case (JSON, reports/EXPECTATIONS.md): a run exits 0 when "
                     "every result is as expected, 1 on an unexpected failure")
HELP_STRICT = "with --expectations: an unexpected pass (the entry is stale) fails the run too"
HELP_UPDATE = "write this run's results to FILE as the new expectations baseline (entries it did not run are kept)"
HELP_REPEAT = "run every case N times (each a fresh client run and token); differing statuses are reported as flaky"

FAMILIES = ("xhr", "cors", "sse", "ws", "comet", "jsonp", "img", "fetch", "http")
TAG_MARKERS = ("timing", "headline", "measure")

STASH_CASES = pytest.StashKey[list]()
STASH_SESSIONS = pytest.StashKey[dict]()
STASH_EVENTS = pytest.StashKey[EventStream]()
STASH_EXPECTATIONS = pytest.StashKey[object]()
STASH_CONFORMANCE = pytest.StashKey[bool]()
STASH_CURRENT_ITEM = pytest.StashKey[object]()
STASH_BUILT = pytest.StashKey[dict]()


def pytest_addoption(parser):
    g = parser.getgroup("conformance", "conformance runs against real clients")
    g.addoption("--client", default=None, help=HELP_CLIENT)
    g.addoption("--report", default=None, help=HELP_REPORT)
    g.addoption("--polyfill", default=None, help=HELP_POLYFILL)
    g.addoption("--webdriver-url", default=None, help=HELP_WEBDRIVER)
    g.addoption("--webdriver-capabilities", default=None, help=HELP_CAPS)
    g.addoption("--time-scale", type=float, default=1.0, help=HELP_SCALE)
    g.addoption("--cases", action="append", default=None, help=HELP_CASES)
    g.addoption("--concurrency", type=int, default=4, help=HELP_CONCURRENCY)
    g.addoption("--expectations", default=None, metavar="FILE", help=HELP_EXPECTATIONS)
    g.addoption("--strict-expectations", action="store_true", default=False, help=HELP_STRICT)
    g.addoption("--update-expectations", default=None, metavar="FILE", help=HELP_UPDATE)
    g.addoption("--repeat", type=int, default=1, metavar="N", help=HELP_REPEAT)


@pytest.hookimpl(tryfirst=True)  # before junitxml's pytest_configure reads --junitxml and junit_family
def pytest_configure(config):
    for f in FAMILIES:
        config.addinivalue_line("markers", f"{f}: cases of the {f} family")
    for t in TAG_MARKERS:
        config.addinivalue_line("markers", f"{t}: cases tagged {t}")
    for b in clients_mod.BROWSERS:
        config.addinivalue_line("markers", f"{b}: items run by the {b} client")
    config.addinivalue_line("markers", "conformance: one case run by one client")
    if config.getoption("--repeat") < 1:
        raise pytest.UsageError(f"--repeat {config.getoption('--repeat')}: N must be 1 or more")
    config.stash[STASH_EXPECTATIONS] = load_expectations(config)
    conformance = is_conformance_run(config)
    config.stash[STASH_CONFORMANCE] = conformance
    if conformance and not hasattr(config, "workerinput"):
        _start_run(config)


# ---- the case set ----------------------------------------------------------------------------------------

def case_paths(config) -> list[str]:
    return config.getoption("--cases") or [str(ROOT / "cases")]


def load_cases(config) -> list[dict]:
    """The expanded case set, from `runner list --json` (pytest never parses case files itself)."""
    if STASH_CASES in config.stash:
        return config.stash[STASH_CASES]
    exe = runner_path()
    if not exe.exists():
        raise pytest.UsageError(f"{exe} does not exist: run `make` first")
    p = subprocess.run([str(exe), "list", "--json", *case_paths(config)], cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        raise pytest.UsageError("the case files do not check:\n" + p.stderr)
    cases = json.loads(p.stdout)
    config.stash[STASH_CASES] = cases
    return cases


def client_names(config) -> list[str]:
    raw = config.getoption("--client") or "chromium"
    return [c.strip() for c in raw.split(",") if c.strip()]


def pytest_generate_tests(metafunc):
    if "conformance_case" not in metafunc.fixturenames:
        return
    config = metafunc.config
    repeats = config.getoption("--repeat")
    params = []
    for client in client_names(config):
        for c in load_cases(config):
            family = c["id"].split("/")[0]
            marks = [pytest.mark.conformance, pytest.mark.xdist_group(client)]
            if family in FAMILIES:
                marks.append(getattr(pytest.mark, family))
            marks += [getattr(pytest.mark, t) for t in c.get("tags", []) if t in TAG_MARKERS]
            if client in clients_mod.BROWSERS:
                marks.append(getattr(pytest.mark, client))
            for r in range(1, repeats + 1):
                params.append(pytest.param((client, c, r), id=_reports().model.item_name(client, c["id"], r, repeats),
                                           marks=marks))
    metafunc.parametrize("conformance_case", params)


def _is_timing(case: dict) -> bool:
    return "timing" in case.get("tags", [])


def _param(item):
    """(client, case, repeat) of a conformance item, or None."""
    cs = getattr(item, "callspec", None)
    if not cs or "conformance_case" not in cs.params:
        return None
    return cs.params["conformance_case"]


def pytest_collection_modifyitems(session, config, items):
    """Per client and repetition: the ordinary cases, then the `timing` ones (their own phase); clients one
    after another."""
    order = {name: i for i, name in enumerate(client_names(config))}

    def key(item):
        p = _param(item)
        if p is None:
            return (-1, 0, 0)
        client, case, rep = p
        return (order.get(client, 99), rep, _is_timing(case))

    items.sort(key=key)  # stable: case order is kept inside each group


def pytest_collection_finish(session):
    """This process's plan, so that a report shows every planned item — NOTRUN where no verdict came."""
    config = session.config
    items = [p for p in map(_param, session.items) if p is not None]
    if not items or not config.stash.get(STASH_CONFORMANCE, False) or config.option.collectonly:
        return
    exp = config.stash[STASH_EXPECTATIONS]
    plan, metas = [], {}
    for client, case, rep in items:
        plan.append({"client": client, "case": case["id"], "repeat": rep, **_expected(exp, client, case["id"])})
        metas.setdefault(case["id"], case_meta(case))
    events_stream(config).emit("worker-start", worker=os.environ.get("PYTEST_XDIST_WORKER", "main"),
                               plan=plan, cases=list(metas.values()))


def case_meta(case: dict) -> dict:
    """What the reports show of a case (not its programs)."""
    keys = ("id", "title", "spec", "tags", "needs", "source", "cell", "deadline_ms")
    meta = {k: case[k] for k in keys if k in case}
    meta["objects"] = (case.get("client") or {}).get("objects", [])
    src = meta.get("source") or {}
    if str(src.get("file", "")).startswith(str(ROOT) + os.sep):
        meta["source"] = dict(src, file=os.path.relpath(src["file"], ROOT))
    return meta


# ---- sessions --------------------------------------------------------------------------------------------

def make_factory(config, name: str):
    log = None
    if name in clients_mod.BROWSERS:
        url = config.getoption("--webdriver-url")
        caps = config.getoption("--webdriver-capabilities")
        if name == "webdriver" and not url:
            raise pytest.UsageError("--client webdriver needs --webdriver-url")

        def factory():
            return clients_mod.BrowserClient(name, webdriver_url=url, capabilities=json.loads(caps) if caps else None,
                                             log=log)
    else:
        from . import adapters  # issue 6: node:, python:, curl

        factory = adapters.factory(name)
    factory.name = name
    return factory


class PhaseLock:
    """Cross-process lock: ordinary phases share it, a `timing` phase holds it alone."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = None

    def acquire(self, exclusive: bool):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)

    def release(self):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


class Sessions:
    """Lazily started (client, phase) sessions, each closed as soon as its last item is done, so that
    clients do not overlap within one worker."""

    def __init__(self, config, runner: Runner, items, events: EventStream):
        self.config = config
        self.runner = runner
        self.events = events
        self.live: dict = {}
        self.locks: dict = {}
        self.pending: dict = {}
        self.cases: dict = {}
        for item in items:
            client, case, rep = item.callspec.params["conformance_case"]
            k = (client, _is_timing(case), rep)
            self.pending[k] = self.pending.get(k, 0) + 1
            self.cases.setdefault(k, []).append(CaseInfo(case["id"], case.get("deadline_ms", 10000), _is_timing(case),
                                                         case.get("needs", [])))
        poly = config.getoption("--polyfill")
        self.polyfill = Path(poly).read_text() if poly else None
        self.lockfile = Path(report_dir(config)) / ".timing.lock"

    def get(self, client: str, case: dict, rep: int = 1) -> ClientSession:
        k = (client, _is_timing(case), rep)
        if k not in self.live:
            for other in list(self.live):  # one client at a time in this worker
                self.close(other)
            lock = PhaseLock(self.lockfile)
            lock.acquire(exclusive=k[1])
            self.locks[k] = lock
            s = ClientSession(self.runner, make_factory(self.config, client), self.cases[k],
                              time_scale=self.config.getoption("--time-scale"), polyfill=self.polyfill,
                              concurrency=1 if k[1] else self.config.getoption("--concurrency"),
                              on_start=lambda c: self.events.emit("client-start", client=client, version=c.version,
                                                                  timing_phase=k[1]))
            self.live[k] = s
        return self.live[k]

    def item_done(self, client: str, case: dict, rep: int = 1):
        k = (client, _is_timing(case), rep)
        self.pending[k] -= 1
        if self.pending[k] == 0:
            self.close(k)

    def close(self, k):
        s = self.live.pop(k, None)
        if s:
            s.close()
        lock = self.locks.pop(k, None)
        if lock:
            lock.release()

    def close_all(self):
        for k in list(self.live):
            self.close(k)


def report_dir(config) -> str:
    return config.getoption("--report") or str(ROOT / "reports" / "out")


@pytest.fixture(scope="session")
def conformance_runner(request):
    config = request.config
    r = Runner(cases=case_paths(config), time_scale=config.getoption("--time-scale")).start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def conformance_sessions(request, conformance_runner, conformance_events):
    items = [i for i in request.session.items if getattr(i, "callspec", None)
             and "conformance_case" in i.callspec.params]
    s = Sessions(request.config, conformance_runner, items, conformance_events)
    request.config.stash[STASH_SESSIONS] = s
    yield s
    s.close_all()


def events_stream(config) -> EventStream:
    if STASH_EVENTS not in config.stash:
        out = Path(report_dir(config))
        out.mkdir(parents=True, exist_ok=True)
        config.stash[STASH_EVENTS] = EventStream(out / "events.jsonl")
    return config.stash[STASH_EVENTS]


@pytest.fixture(scope="session")
def conformance_events(request):
    """The run's stream; run-start and run-end are the controller's (see _start_run, pytest_sessionfinish)."""
    ev = events_stream(request.config)
    yield ev
    ev.emit("worker-end", worker=os.environ.get("PYTEST_XDIST_WORKER", "main"))


def harness_version() -> str:
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


# ---- the item --------------------------------------------------------------------------------------------

def run_case(conformance_case, conformance_sessions, conformance_events):
    """Body of tests/conformance: the verdict of one case on one client, as a pytest outcome (the table in
    this module's docstring)."""
    client, case, rep = conformance_case
    config = conformance_sessions.config
    exp = _expected(config.stash[STASH_EXPECTATIONS], client, case["id"])
    session = conformance_sessions.get(client, case, rep)
    conformance_events.emit("case-start", case=case["id"], client=client, repeat=rep)
    t0 = time.monotonic()
    try:
        v = session.verdict(case["id"])
        version = session.version or ""  # before item_done: the last item of a phase closes its client
    finally:
        conformance_sessions.item_done(client, case, rep)
    status = v.get("status")
    ex = _reports().expectations
    outcome = ex.classify(status, exp["expected"], exp["known_intermittent"], exp["expectation"] is not None)
    conformance_events.emit_verdict(v, client=client, version=version, duration=time.monotonic() - t0, case=case,
                                    repeat=rep, outcome=outcome, **exp)
    _record_properties(config, client, version, case, v, status, exp["expected"])
    message = v.get("message", "")
    if outcome == ex.EXPECTED:
        if status in ("PASS", "NON-STRICT"):
            return  # NON-STRICT: SHOULD-level failures are reported (report.json, HTML) but pass the item
        if status == "N/A":
            pytest.skip(f"N/A: {message}")
        pytest.xfail(f"expected {status}: {message}")
    if outcome == ex.UNEXPECTED_PASS:
        if config.getoption("--strict-expectations"):
            pytest.fail(f"{status} (expected {exp['expected']}): an unexpected pass — the expectations entry is "
                        f"stale (--strict-expectations)", pytrace=False)
        if status == "N/A":
            pytest.skip(f"N/A (expected {exp['expected']}): {message}")
        return
    shown = f" (expected {exp['expected']})" if exp["expectation"] is not None or exp["expected"] != "PASS" else ""
    pytest.fail(f"{status}{shown}: {message}", pytrace=False)


def _record_properties(config, client, version, case, v, status, expected):
    """JUnit testcase properties (junit_family xunit1), through the item's user_properties."""
    item = config.stash.get(STASH_CURRENT_ITEM, None)
    if item is None:
        return
    first = next((c for c in v.get("checks") or [] if c.get("status") in ("FAIL", "ERROR")), None)
    spec = (first or {}).get("spec") or (case.get("spec") or [""])[0]
    for name, value in (("client", client), ("version", version), ("case", case["id"]), ("status", status),
                        ("expected", expected), ("rule", (first or {}).get("rule") or ""), ("spec", spec or ""),
                        ("token", v.get("token") or "")):
        item.user_properties.append((name, value))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    item.config.stash[STASH_CURRENT_ITEM] = item
    try:
        yield
    finally:
        item.config.stash[STASH_CURRENT_ITEM] = None


# ---- expectations, the run's start and end, reports --------------------------------------------------------

def _reports():
    """The reports package (at the repository's root, beside tests/)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import reports.build
    import reports.expectations
    import reports.model
    return reports


def load_expectations(config):
    path = config.getoption("--expectations")
    if not path:
        return None
    ex = _reports().expectations
    try:
        return ex.Expectations.load(path)
    except ex.ExpectationsError as e:
        raise pytest.UsageError(f"--expectations: {e}") from None


def _expected(expectations, client: str, case_id: str) -> dict:
    if expectations is None:
        return {"expected": "PASS", "known_intermittent": [], "expectation": None}
    return expectations.expected_for(client, case_id)


def is_conformance_run(config) -> bool:
    """Whether this invocation runs tests/conformance (its reports and gating apply only then)."""
    if config.option.collectonly:
        return False
    conf = (ROOT / "tests" / "conformance").resolve()
    base = Path(config.invocation_params.dir)
    for arg in config.args:
        p = Path(str(arg).split("::")[0])
        p = (p if p.is_absolute() else base / p).resolve()
        if p == conf or conf in p.parents or p in conf.parents:
            return True
    return False


def _start_run(config):
    """Controller only, before any worker starts: a fresh stream with its run-start, stale reports removed,
    and pytest's --junitxml pointed into the report folder unless the user chose a file."""
    out = Path(report_dir(config))
    out.mkdir(parents=True, exist_ok=True)
    junit = out / "junit.xml"
    if config.option.xmlpath is None:
        config.option.xmlpath = str(junit)
    family_set = "junit_family" in config.inicfg or any(
        o.startswith("junit_family=") for o in (config.option.override_ini or []))
    if not family_set:
        config.inicfg["junit_family"] = "xunit1"  # testcase <properties> are not valid xunit2
    for name in ("report.json", "index.html"):
        (out / name).unlink(missing_ok=True)
    if Path(config.option.xmlpath).resolve() == junit.resolve():
        junit.unlink(missing_ok=True)
    ev = events_stream(config)
    ev.reset()
    exp = config.stash[STASH_EXPECTATIONS]
    try:
        case_ids = [c["id"] for c in load_cases(config)]
    except pytest.UsageError:
        case_ids = None  # collection will say why
    if case_ids is not None and config.getoption("--cases"):
        case_ids = sorted(set(case_ids) | set(_tree_case_ids()))
    ev.emit("run-start", clients=client_names(config), platform=platform.platform(), harness=harness_version(),
            time_scale=config.getoption("--time-scale"), repeat=config.getoption("--repeat"),
            expectations=config.getoption("--expectations"),
            expectations_data=exp.to_json() if exp is not None else None,
            strict_expectations=config.getoption("--strict-expectations"),
            python=platform.python_version(), pytest=pytest.__version__, case_ids=case_ids,
            argv=list(config.invocation_params.args))


def _tree_case_ids() -> list:
    """The ids of cases/ (a run narrowed with --cases still knows which cases exist, so that an expectations
    entry for a case outside the selection is not called stale); [] if cases/ does not list."""
    p = subprocess.run([str(runner_path()), "list", "--json", str(ROOT / "cases")], cwd=ROOT, capture_output=True,
                       text=True)
    try:
        return [c["id"] for c in json.loads(p.stdout)] if p.returncode == 0 else []
    except ValueError:
        return []


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """Controller only: run-end, then every report from the stream, then --update-expectations."""
    config = session.config
    if not config.stash.get(STASH_CONFORMANCE, False) or hasattr(config, "workerinput"):
        return
    ev = events_stream(config)
    if not ev.path.exists():
        return
    ev.emit("run-end", exitstatus=int(exitstatus))
    rep = _reports()
    try:
        built = rep.build.build(report_dir(config), expectations=config.stash[STASH_EXPECTATIONS],
                                write_junit=False)
    except rep.build.BuildError as e:
        config.stash[STASH_BUILT] = {"error": str(e)}
        return
    upd = config.getoption("--update-expectations")
    if upd:
        old = rep.expectations.Expectations.load(upd) if Path(upd).exists() else None
        new = rep.expectations.baseline(built["report"]["results"], old, client_names(config),
                                        harness=built["report"]["run_info"]["harness_version"])
        new.write(upd)
        built["updated"] = (upd, len(new.entries))
    config.stash[STASH_BUILT] = built


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    built = config.stash.get(STASH_BUILT, None)
    if not built:
        return
    tr = terminalreporter
    tr.section("conformance reports")
    if "error" in built:
        tr.write_line(f"reports not built: {built['error']}", red=True)
        return
    tr.write_line(_reports().build.describe(built, unexpected=False))
    xml = config.option.xmlpath
    if xml and Path(xml).exists():
        tr.write_line(f"  {xml} ({Path(xml).stat().st_size:,} bytes)")
    if "updated" in built:
        tr.write_line(f"expectations baseline written: {built['updated'][0]} ({built['updated'][1]} entries)")


def pytest_report_header(config):
    if not config.stash.get(STASH_CONFORMANCE, False):
        return None
    exp = config.getoption("--expectations")
    line = f"conformance: clients {', '.join(client_names(config))}; reports in {report_dir(config)}"
    if exp:
        line += f"; expectations {exp}" + (" (strict)" if config.getoption("--strict-expectations") else "")
    if config.getoption("--repeat") > 1:
        line += f"; each case {config.getoption('--repeat')}×"
    return line
