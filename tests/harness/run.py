"""One pytest process's share of a conformance run: the case set, the clients, the expectations, the runner,
the client sessions, the event stream, and one item's verdict as a pytest outcome.

`conformance(config)` is the process's ConformanceRun (made in pytest_configure, tests/harness/plugin.py).
A run is a conformance run when, and because, it collected conformance items (tests/harness/items.py): the
first process to have some writes run-start (reports/events.py says why that can be a worker) and this
process's plan; the controller (the only process, or xdist's) ends the stream and builds the reports.

The item's pytest outcome follows reports.expectations.classify:
  as expected, PASS or NON-STRICT    passed
  as expected, N/A                   skipped ("N/A: why"), as without expectations
  as expected, anything else         xfailed ("expected FAIL: message") — a known failure: exit code 0
  unexpected failure                 failed ("FAIL (expected PASS): message") — exit code 1
  unexpected pass                    passed (N/A: skipped); with --strict-expectations failed. Either way
                                     the entry is listed as stale at the end of the run and in report.json.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from reports import build as reports_build
from reports import expectations as ex
from reports.events import EventStream

from . import adapters
from . import clients as clients_mod
from .items import CaseRun, case_run, case_runs
from .server import ROOT, Runner, RunnerError, runner_path
from .session import Sessions

RUN_KEY = pytest.StashKey["ConformanceRun"]()
# What the xdist controller hands its workers (pytest_configure_node): the run's id and argv, and the
# address of the one runner they share (or why it did not start).
WORKER_RUN, WORKER_ARGV, WORKER_RUNNER = "conformance_run", "conformance_argv", "conformance_runner"


def conformance(config) -> "ConformanceRun":
    return config.stash[RUN_KEY]


def is_worker(config) -> bool:
    return hasattr(config, "workerinput")


class ConformanceRun:
    def __init__(self, config):
        self.config = config
        self.repeats = config.getoption("--repeat")
        if self.repeats < 1:
            raise pytest.UsageError(f"--repeat {self.repeats}: N must be 1 or more")
        for opt in ("--concurrency", "--pages"):
            if config.getoption(opt) < 1:
                raise pytest.UsageError(f"{opt} {config.getoption(opt)}: N must be 1 or more")
        # Each client's stable name (items, expectations, reports) and the --client value it came from.
        self.specs, self.factories = resolve_clients(config)
        self.clients = list(self.specs)
        self.expectations = _load_expectations(config.getoption("--expectations"))
        self.recording = config.getoption("--update-expectations")
        self.warnings = self.expectations.missing_clients(self.clients, self.specs) if self.expectations else []
        self.report_dir = Path(config.getoption("--report") or ROOT / "reports" / "out")
        self.stream = EventStream(self.report_dir / "events.jsonl")
        given = getattr(config, "workerinput", {})
        self.run_id = given.get(WORKER_RUN) or uuid.uuid4().hex
        self.argv = given.get(WORKER_ARGV) or list(config.invocation_params.args)
        self.worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self._cases: list | None = None
        self._files: dict | None = None
        self.runner: Runner | None = None
        self.own_runner = False
        self.sessions: Sessions | None = None
        self.items: list = []      # this process's conformance items, once it has begun
        self.built: dict | None = None

    # ---- the case set --------------------------------------------------------------------------------------
    def case_paths(self) -> list[str]:
        return self.config.getoption("--cases") or [str(ROOT / "cases")]

    def cases(self) -> list[dict]:
        """The expanded case set, from `runner list --json` over --cases (default cases/)."""
        if self._cases is None:
            self._cases = _runner_list(self.case_paths())
        return self._cases

    def cases_in(self, path: Path) -> list[dict]:
        """The cases written in the case file `path` (a matrix gives several), in file order."""
        if self._files is None:
            self._files = {}
            for c in self.cases():
                self._files.setdefault(_resolve((c.get("source") or {}).get("file", "")), []).append(c)
        return self._files.get(_resolve(path), [])

    def in_case_set(self, path: Path) -> bool:
        """Whether `path` lies in one of the --cases paths (a .case file elsewhere is not collected)."""
        p = _resolve(path)
        return any(p == root or root in p.parents for root in map(_resolve, self.case_paths()))

    def case_runs(self, cases: list[dict]) -> list[CaseRun]:
        return case_runs(cases, self.clients, self.repeats)

    def expected(self, client: str, case_id: str) -> dict:
        if self.expectations is None:
            return {"expected": "PASS", "known_intermittent": [], "expectation": None}
        return self.expectations.expected_for(client, case_id)

    # ---- the stream: begin (whoever has items), plan, end (the controller) -------------------------------
    def begin(self, items: list):
        """This process collected conformance `items` (in run order): the run begins (once, whichever
        process comes first), stale reports go, and this process's plan is written."""
        self.items = items
        if self.stream.begin_run(self.run_id, self._run_start):
            for name in ("report.json", "index.html"):
                (self.report_dir / name).unlink(missing_ok=True)
        plan, metas = [], {}
        for r in map(case_run, items):
            plan.append({"client": r.client, "case": r.id, "repeat": r.repeat, **self.expected(r.client, r.id)})
            metas.setdefault(r.id, _case_meta(r.case))
        self.stream.emit("worker-start", worker=self.worker, plan=plan, cases=list(metas.values()))

    def began(self) -> bool:
        """Whether some process of this run collected conformance items (the stream holds this run)."""
        return self.stream.run_id() == self.run_id

    def _run_start(self) -> dict:
        case_ids = [c["id"] for c in self.cases()]
        if self.config.getoption("--cases"):
            # The tree's cases too: an expectations entry for a case outside the selection is not stale.
            case_ids = sorted(set(case_ids) | set(_tree_case_ids()))
        exp = self.expectations
        return dict(clients=self.clients, client_specs=self.specs, warnings=self.warnings,
                    platform=platform.platform(), harness=_harness_version(),
                    time_scale=self.config.getoption("--time-scale"), repeat=self.repeats,
                    expectations=self.config.getoption("--expectations"),
                    expectations_data=exp.to_json() if exp is not None else None,
                    strict_expectations=self.config.getoption("--strict-expectations"),
                    python=platform.python_version(), pytest=pytest.__version__, case_ids=case_ids, argv=self.argv)

    def end_items(self):
        """Every process that ran items, at its session's end: clients stopped, worker-end written."""
        if self.sessions is not None:
            self.sessions.close_all()
        if self.items:
            self.stream.emit("worker-end", worker=self.worker)

    def end_run(self, exitstatus: int):
        """The controller, after every worker: run-end, every report from the stream, --update-expectations."""
        if not self.began():
            return
        self.stream.emit("run-end", exitstatus=int(exitstatus))
        try:
            built = reports_build.build(self.report_dir, expectations=self.expectations, write_junit=False)
        except reports_build.BuildError as e:
            self.built = {"error": str(e)}
            return
        upd = self.recording
        if upd:
            old = ex.Expectations.load(upd) if Path(upd).exists() else None
            new = ex.baseline(built["report"]["results"], old, self.clients,
                              harness=built["report"]["run_info"]["harness_version"])
            new.write(upd)
            built["updated"] = (upd, new, old)
        self.built = built

    # ---- the runner ------------------------------------------------------------------------------------------
    # Cases tagged `timing` must not run beside ordinary cases. The runner's scheduler guarantees it for every run
    # it serves (harness/server/runs.c: a timing case is handed out only when no ordinary case is in flight, no
    # ordinary case while one is, and timing cases beside each other only as far as their precision allows), so
    # every client of a pytest run uses one runner: under xdist the controller starts
    # it and its workers attach to it. (There used to be a runner per worker plus a file lock taken around
    # each client phase, shared by ordinary phases and exclusive for timing ones: a second mechanism for the
    # same rule, which also held a timing phase back until every other worker's ordinary phase was over.)
    # The rule covers cases: under xdist another worker's client may be starting or stopping while a timing
    # case runs. `make run` runs clients one after another, in one process.
    def start_shared_runner(self) -> dict:
        """The controller, for its xdist workers: the runner's ready line, or {"error": why}."""
        if self.runner is None:
            try:
                self.runner = self._new_runner().start()
                self.own_runner = True
            except RunnerError as e:
                return {"error": str(e)}
        return self.runner.ready

    def ensure_runner(self) -> Runner:
        if self.runner is None:
            shared = getattr(self.config, "workerinput", {}).get(WORKER_RUNNER)
            if shared is None:
                self.runner = self._new_runner().start()
                self.own_runner = True
            elif "error" in shared:
                raise RunnerError(shared["error"])
            else:
                self.runner = Runner.attach(shared)
        return self.runner

    def _new_runner(self) -> Runner:
        # The run's folder, in pytest's temporary directory for this session: the runner writes ca.pem there.
        # (Without pytest's tmpdir plugin the runner makes a folder of its own and removes it at exit.)
        factory = getattr(self.config, "_tmp_path_factory", None)
        run_dir = factory.mktemp("run", numbered=True) if factory else None
        remote = [(f"--{o}", self.config.getoption(f"--{o}")) for o in ("listen", "host-a", "host-c")]
        extra = [arg for opt, value in remote if value for arg in (opt, value)]
        return Runner(cases=self.case_paths(), time_scale=self.config.getoption("--time-scale"), run_dir=run_dir,
                      extra_args=extra)

    def stop_runner(self):
        if self.runner is not None and self.own_runner:
            self.runner.stop()
        self.runner = None

    # ---- one item --------------------------------------------------------------------------------------------
    def _sessions(self) -> Sessions:
        if self.sessions is None:
            poly = self.config.getoption("--polyfill")
            self.sessions = Sessions(self.ensure_runner(), [case_run(i) for i in self.items], self.stream,
                                     make_factory=lambda name: self.factories[name],
                                     time_scale=self.config.getoption("--time-scale"),
                                     concurrency=self.config.getoption("--concurrency"),
                                     polyfill=Path(poly).read_text() if poly else None)
        return self.sessions

    def run_item(self, item):
        """The verdict of one case on one client, as the item's pytest outcome (this module's docstring)."""
        r = case_run(item)
        exp = self.expected(r.client, r.id)
        sessions = self._sessions()
        session = sessions.get(r)
        self.stream.emit("case-start", case=r.id, client=r.client, repeat=r.repeat)
        t0 = time.monotonic()
        try:
            v = session.verdict(r.id)
            version = session.version or ""  # before item_done: the last item of a phase closes its client
        finally:
            sessions.item_done(r)
        status = v.get("status")
        outcome = ex.classify(status, exp["expected"], exp["known_intermittent"], exp["expectation"] is not None)
        self.stream.emit_verdict(v, client=r.client, version=version, duration=time.monotonic() - t0, case=r.case,
                                 repeat=r.repeat, outcome=outcome, **exp)
        first = _first_failing(v)
        item.failed_line = (first or {}).get("line")
        _record_properties(item, r, version, v, first, exp["expected"])
        message = v.get("message", "")
        if outcome == ex.EXPECTED:
            if status in ("PASS", "NON-STRICT"):
                return  # NON-STRICT: SHOULD-level failures are reported (report.json, HTML) but pass the item
            if status == "N/A":
                pytest.skip(f"N/A: {message}")
            pytest.xfail(f"expected {status}: {message}")
        if outcome == ex.UNEXPECTED_FAIL and self.recording:
            pytest.xfail(f"{status}, recorded in the baseline {self.recording}: {message}")
        if outcome == ex.UNEXPECTED_PASS:
            if self.config.getoption("--strict-expectations"):
                pytest.fail(f"{status} (expected {exp['expected']}): an unexpected pass — the expectations entry "
                            f"is stale (--strict-expectations)", pytrace=False)
            if status == "N/A":
                pytest.skip(f"N/A (expected {exp['expected']}): {message}")
            return
        shown = f" (expected {exp['expected']})" if exp["expectation"] is not None or exp["expected"] != "PASS" else ""
        pytest.fail(f"{status}{shown}: {message}", pytrace=False)


def _first_failing(v: dict) -> dict | None:
    return next((c for c in v.get("checks") or [] if c.get("status") in ("FAIL", "ERROR")), None)


def _record_properties(item, r: CaseRun, version: str, v: dict, first: dict | None, expected: str):
    """JUnit testcase properties (junit_family xunit1, pytest.ini), through the item's user_properties."""
    spec = (first or {}).get("spec") or (r.case.get("spec") or [""])[0]
    for name, value in (("client", r.client), ("version", version), ("case", r.id), ("status", v.get("status")),
                        ("expected", expected), ("rule", (first or {}).get("rule") or ""), ("spec", spec or ""),
                        ("token", v.get("token") or "")):
        item.user_properties.append((name, value))


def resolve_clients(config) -> tuple[dict, dict]:
    """{stable name: --client value} and {stable name: factory}, in --client order (README, "Gate your library").

    A browser or a ready-made library client is named as given (chromium, node:xhr2, python:requests, curl); a
    library given by its path or module (node:PATH, python:MODULE, python:FILE.py) is named after the library
    the adapter finds in it (tests/harness/adapters: node:xmlhttprequest, python:websocket-client), so that the
    same library at another path is the same client; `--client-name NAME` (one client) or `--client-name
    CLIENT=NAME` names one explicitly. Loading a library that does not load is a usage error, here."""
    given = [c.strip() for c in (config.getoption("--client") or "chromium").split(",") if c.strip()]
    renames = _client_names(config.getoption("--client-name") or [], given)
    specs, factories = {}, {}
    for spec in given:
        try:
            factory = make_factory(config, spec)
        except adapters.AdapterError as e:  # an adapter that cannot load its library: say so before anything runs
            raise pytest.UsageError(f"--client {spec}: {e}") from None
        name = renames.get(spec) or factory.stable_name
        if name in specs:
            raise pytest.UsageError(f"--client {spec} and --client {specs[name]} are both named {name!r}: "
                                    "give one another name with --client-name CLIENT=NAME")
        factory.name = name
        specs[name], factories[name] = spec, factory
    return specs, factories


def _client_names(values: list, given: list) -> dict:
    """--client-name values: {--client value: name}."""
    out = {}
    for v in values:
        spec, sep, name = v.rpartition("=")
        if not sep:
            if len(given) != 1:
                raise pytest.UsageError(f"--client-name {v}: with several clients, say which: --client-name CLIENT=NAME")
            spec, name = given[0], v
        if spec not in given:
            raise pytest.UsageError(f"--client-name {v}: {spec!r} is not one of --client {','.join(given)}")
        if not name or any(ch.isspace() or ch in ",[]" for ch in name):
            raise pytest.UsageError(f"--client-name {v}: a name without spaces, commas or brackets")
        out[spec] = name
    return out


def make_factory(config, spec: str):
    """A zero-argument callable making a fresh client for --client value `spec` (a browser, or an adapter
    process); its `stable_name` is the client's name unless --client-name gives one."""
    if config.getoption("--listen") and spec != "webdriver":
        # The origins' names resolve only where the remote browser is told so (README, "Remote browsers").
        raise pytest.UsageError(f"--listen is for a remote browser (--client webdriver): {spec} would have to "
                                "resolve --host-a and --host-c on this host")
    if spec in clients_mod.BROWSERS:
        url = config.getoption("--webdriver-url")
        caps = config.getoption("--webdriver-capabilities")
        if spec == "webdriver" and not url:
            raise pytest.UsageError("--client webdriver needs --webdriver-url")

        pages = config.getoption("--pages")

        def factory():
            return clients_mod.BrowserClient(spec, webdriver_url=url, capabilities=json.loads(caps) if caps else None,
                                             pages=pages)
        factory.stable_name = spec
    else:
        factory = adapters.factory(spec)  # node:, python:, curl
    factory.name = factory.stable_name
    return factory


def _load_expectations(path):
    if not path:
        return None
    try:
        return ex.Expectations.load(path)
    except ex.ExpectationsError as e:
        raise pytest.UsageError(f"--expectations: {e}") from None


def _runner_list(paths: list[str]) -> list[dict]:
    exe = runner_path()
    if not exe.exists():
        raise pytest.UsageError(f"{exe} does not exist: run `make` first")
    p = subprocess.run([str(exe), "list", "--json", *paths], cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        raise pytest.UsageError("the case files do not check:\n" + p.stderr)
    return json.loads(p.stdout)


def _tree_case_ids() -> list:
    """The ids of cases/ ([] if it does not list)."""
    p = subprocess.run([str(runner_path()), "list", "--json", str(ROOT / "cases")], cwd=ROOT, capture_output=True,
                       text=True)
    try:
        return [c["id"] for c in json.loads(p.stdout)] if p.returncode == 0 else []
    except ValueError:
        return []


def _resolve(path) -> Path:
    """`path` resolved as the runner reads it (it runs in the repository's root)."""
    p = Path(path)
    return (p if p.is_absolute() else ROOT / p).resolve()


def _case_meta(case: dict) -> dict:
    """What the reports show of a case (not its programs)."""
    keys = ("id", "title", "spec", "tags", "needs", "source", "cell", "deadline_ms", "wpt")
    meta = {k: case[k] for k in keys if k in case}
    meta["objects"] = (case.get("client") or {}).get("objects", [])
    src = meta.get("source") or {}
    if str(src.get("file", "")).startswith(str(ROOT) + os.sep):
        meta["source"] = dict(src, file=os.path.relpath(src["file"], ROOT))
    return meta


def _harness_version() -> str:
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"
