"""pytest plugin: the case set × the chosen clients, one pytest item each, verdicts from the runner's judge.

    /usr/bin/python3 -m pytest tests/conformance --client chromium,firefox --report reports/out

Items are named `test_case[CLIENT:CASE-ID]`; `-k` selects by either part, markers by family (`-m sse`), tag
(`-m timing`, `-m headline`) or client (`-m chromium`). Each client runs its cases through one browser or
adapter (restarted after a crash or a hang); cases tagged `timing` run in a phase of their own, holding a
lock that keeps every other client of this run (xdist workers included) idle meanwhile.
"""
from __future__ import annotations

import fcntl
import json
import os
import platform
import subprocess
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

FAMILIES = ("xhr", "cors", "sse", "ws", "comet", "jsonp", "img", "fetch", "http")
TAG_MARKERS = ("timing", "headline", "measure")

STASH_CASES = pytest.StashKey[list]()
STASH_SESSIONS = pytest.StashKey[dict]()
STASH_EVENTS = pytest.StashKey[EventStream]()


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


def pytest_configure(config):
    for f in FAMILIES:
        config.addinivalue_line("markers", f"{f}: cases of the {f} family")
    for t in TAG_MARKERS:
        config.addinivalue_line("markers", f"{t}: cases tagged {t}")
    for b in clients_mod.BROWSERS:
        config.addinivalue_line("markers", f"{b}: items run by the {b} client")
    config.addinivalue_line("markers", "conformance: one case run by one client")


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
            params.append(pytest.param((client, c), id=f"{client}:{c['id']}", marks=marks))
    metafunc.parametrize("conformance_case", params)


def _is_timing(case: dict) -> bool:
    return "timing" in case.get("tags", [])


def pytest_collection_modifyitems(session, config, items):
    """Per client: the ordinary cases, then the `timing` ones (their own phase); clients one after another."""
    order = {name: i for i, name in enumerate(client_names(config))}

    def key(item):
        cs = getattr(item, "callspec", None)
        if not cs or "conformance_case" not in cs.params:
            return (-1, 0, 0)
        client, case = cs.params["conformance_case"]
        return (order.get(client, 99), _is_timing(case), 0)

    items.sort(key=key)  # stable: case order is kept inside each group


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
            client, case = item.callspec.params["conformance_case"]
            k = (client, _is_timing(case))
            self.pending[k] = self.pending.get(k, 0) + 1
            self.cases.setdefault(k, []).append(CaseInfo(case["id"], case.get("deadline_ms", 10000), _is_timing(case),
                                                         case.get("needs", [])))
        poly = config.getoption("--polyfill")
        self.polyfill = Path(poly).read_text() if poly else None
        self.lockfile = Path(report_dir(config)) / ".timing.lock"

    def get(self, client: str, case: dict) -> ClientSession:
        k = (client, _is_timing(case))
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

    def item_done(self, client: str, case: dict):
        k = (client, _is_timing(case))
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


@pytest.fixture(scope="session")
def conformance_events(request):
    config = request.config
    out = Path(report_dir(config))
    out.mkdir(parents=True, exist_ok=True)
    ev = EventStream(out / "events.jsonl")
    config.stash[STASH_EVENTS] = ev
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    ev.emit("run-start", worker=worker, clients=client_names(config), platform=platform.platform(),
            harness=harness_version(), time_scale=config.getoption("--time-scale"))
    yield ev
    ev.emit("run-end", worker=worker)


def harness_version() -> str:
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


# ---- the item --------------------------------------------------------------------------------------------

def run_case(conformance_case, conformance_sessions, conformance_events):
    """Body of tests/conformance: the verdict of one case on one client, as a pytest outcome."""
    client, case = conformance_case
    session = conformance_sessions.get(client, case)
    conformance_events.emit("case-start", case=case["id"], client=client)
    t0 = time.monotonic()
    try:
        v = session.verdict(case["id"])
    finally:
        conformance_sessions.item_done(client, case)
    conformance_events.emit_verdict(v, client=client, version=session.version or "", duration=time.monotonic() - t0,
                                    case=case)
    status = v.get("status")
    if status == "PASS":
        return
    if status == "NON-STRICT":
        return  # SHOULD-level failures are reported (report.json, HTML) but do not fail the item
    if status == "N/A":
        pytest.skip(f"N/A: {v.get('message', '')}")
    pytest.fail(f"{status}: {v.get('message', '')}", pytrace=False)
