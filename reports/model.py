"""From the raw event stream (events.jsonl) to one run: its facts, its plan, and a result per case × client.

Every report is built from this one reading (one raw event stream, many reports):

    run = load(Path("reports/out/events.jsonl"))
    run.info        # run-start facts: clients, platform, harness, time_scale, repeat, expectations...
    run.results     # [Result], plan order: one per (client, case), each with its repetitions
    run.cases       # case id -> metadata (title, spec, tags, source, objects)

The stream may end anywhere (a crash, a kill): a truncated last line is skipped by `read_events`, a planned
item without a verdict becomes NOTRUN (saying whether it had started), and the run's end time is its last
event. Events (reports/events.py, SCHEMA 1): run-start, worker-start (with the worker's plan),
client-start, case-start, verdict, worker-end, run-end. Streams written before the plan existed (only
run-start + verdicts) still load: the plan is then the verdicts seen.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .events import read_events
from .expectations import EXPECTED, UNEXPECTED_FAIL, UNEXPECTED_PASS, classify

# Worst first: which status a repeated result shows when its repetitions disagree (an unexpected one wins).
SEVERITY = ("CRASH", "ERROR", "TIMEOUT", "FAIL", "NOTRUN", "NON-STRICT", "N/A", "PASS")


def item_name(client: str, case: str, repeat: int = 1, repeats: int = 1) -> str:
    """The pytest item's parameter id (test_case[ID]): CLIENT:CASE, with #R for repetition R of --repeat N>1."""
    return f"{client}:{case}" + (f"#{repeat}" if repeats > 1 else "")


@dataclass
class Rep:
    """One repetition of one case on one client: the verdict event (or a NOTRUN stand-in)."""
    repeat: int
    status: str
    outcome: str                    # expectations.EXPECTED / UNEXPECTED_FAIL / UNEXPECTED_PASS
    verdict: dict                   # the verdict event as written (observations, transcript, checks...)
    started: float | None = None    # case-start time, if one was written


@dataclass
class Result:
    client: str
    case: str
    expected: str = "PASS"
    known_intermittent: list = field(default_factory=list)
    expectation: dict | None = None  # the governing entry (client, pattern, reason, link), if any
    reps: list = field(default_factory=list)

    @property
    def statuses(self) -> list:
        return [r.status for r in self.reps]

    @property
    def flaky(self) -> bool:
        return len(set(self.statuses) - {"NOTRUN"}) > 1

    @property
    def shown(self) -> Rep:
        """The repetition that speaks for the result: the worst unexpected one, else the worst."""
        return min(self.reps, key=lambda r: (r.outcome == EXPECTED, SEVERITY.index(r.status)
                                             if r.status in SEVERITY else 0, r.repeat))

    @property
    def status(self) -> str:
        return self.shown.status

    @property
    def outcome(self) -> str:
        outs = {r.outcome for r in self.reps}
        for o in (UNEXPECTED_FAIL, UNEXPECTED_PASS):
            if o in outs:
                return o
        return EXPECTED

    @property
    def family(self) -> str:
        return self.case.split("/", 1)[0]


@dataclass
class Run:
    info: dict
    cases: dict
    results: list
    clients: dict                   # name -> version (the last one a client reported)
    time_start: float | None
    time_end: float | None
    complete: bool                  # a run-end event was written
    events_path: str = ""
    workers: list = field(default_factory=list)

    def result(self, client: str, case: str) -> Result | None:
        return next((r for r in self.results if r.client == client and r.case == case), None)


def load(path) -> Run:
    return from_events(read_events(Path(path)), str(path))


def from_events(events: list[dict], path: str = "") -> Run:
    info: dict = {}
    cases: dict = {}
    plan: list = []                  # (client, case, repeat) in the order first seen
    planned: set = set()
    expect: dict = {}                # (client, case) -> {expected, known_intermittent, expectation}
    verdicts: dict = {}              # (client, case, repeat) -> verdict event (the last one written)
    started: dict = {}
    clients: dict = {}
    workers = []
    complete = False
    times = [e["time"] for e in events if isinstance(e.get("time"), (int, float))]

    def add_plan(client, case, rep):
        k = (client, case, rep)
        if k not in planned:
            planned.add(k)
            plan.append(k)

    for e in events:
        kind = e.get("event")
        if kind == "run-start":
            if not info:             # the first run-start speaks for the run (a stream holds one run)
                info = {k: v for k, v in e.items() if k not in ("event", "schema")}
            for c in e.get("clients", []):
                clients.setdefault(c, "")
        elif kind == "worker-start":
            workers.append(e.get("worker", ""))
            for meta in e.get("cases", []):
                cases.setdefault(meta["id"], meta)
            for item in e.get("plan", []):
                add_plan(item["client"], item["case"], item.get("repeat", 1))
                if "expected" in item:
                    expect.setdefault((item["client"], item["case"]), {
                        "expected": item["expected"], "known_intermittent": item.get("known_intermittent", []),
                        "expectation": item.get("expectation")})
        elif kind == "client-start":
            if e.get("version"):
                clients[e["client"]] = e["version"]
            else:
                clients.setdefault(e["client"], "")
        elif kind == "case-start":
            started[(e.get("client"), e.get("case"), e.get("repeat", 1))] = e.get("time")
        elif kind == "verdict":
            k = (e.get("client"), e.get("case"), e.get("repeat", 1))
            add_plan(*k)
            verdicts[k] = e
            if e.get("version"):
                clients[e["client"]] = e["version"]
            if e.get("expected") is not None:
                expect[(k[0], k[1])] = {"expected": e["expected"],
                                        "known_intermittent": e.get("known_intermittent") or [],
                                        "expectation": e.get("expectation")}
            if k[1] not in cases:
                cases[k[1]] = {"id": k[1], "title": e.get("title") or "", "tags": e.get("tags", []),
                               "spec": [e["spec"]] if e.get("spec") else []}
        elif kind == "run-end":
            complete = True
            if "exitstatus" in e:
                info["exitstatus"] = e["exitstatus"]

    results: dict = {}
    for client, case, rep in plan:
        r = results.get((client, case))
        if r is None:
            ex = expect.get((client, case), {})
            r = Result(client, case, ex.get("expected") or "PASS", list(ex.get("known_intermittent") or []),
                       ex.get("expectation"))
            results[(client, case)] = r
        v = verdicts.get((client, case, rep))
        t0 = started.get((client, case, rep))
        if v is None:
            v = {"event": "verdict", "case": case, "client": client, "status": "NOTRUN", "checks": [],
                 "message": (f"started at {_clock(t0)} but no verdict was written: the run stopped mid-case"
                             if t0 else "no verdict: the run stopped before this case"), "duration": 0}
        status = v.get("status") or "ERROR"
        outcome = v.get("outcome") or classify(status, r.expected, r.known_intermittent, r.expectation is not None)
        r.reps.append(Rep(rep, status, outcome, v, t0))
    for r in results.values():
        r.reps.sort(key=lambda x: x.repeat)
    return Run(info=info, cases=cases, results=list(results.values()), clients=clients,
               time_start=info.get("time", times[0] if times else None), time_end=times[-1] if times else None,
               complete=complete, events_path=path, workers=workers)


def apply_expectations(run: Run, expectations) -> Run:
    """Judge every result against `expectations` (reports.expectations.Expectations) instead of the ones the
    run had: expected, known_intermittent and each repetition's outcome are recomputed, statuses untouched."""
    for r in run.results:
        e = expectations.expected_for(r.client, r.case)
        r.expected, r.known_intermittent, r.expectation = e["expected"], e["known_intermittent"], e["expectation"]
        for rep in r.reps:
            rep.outcome = classify(rep.status, r.expected, r.known_intermittent, r.expectation is not None)
    return run


def case_duration_ms(verdict: dict) -> float:
    """How long the case ran on the client: from its program's start to the end of its last step or its last
    event (observations), else how long pytest waited for the verdict (a client that never answered). The
    wait alone would mislead: a client running cases concurrently has many verdicts ready at once."""
    obs = verdict.get("observations") or {}
    ends = [float(s.get("t") or 0) + float(s.get("dt") or 0) for s in obs.get("steps") or []]
    ends += [float(e.get("t") or 0) for e in obs.get("events") or []]
    if ends:
        return max(ends)
    return float(verdict.get("duration") or 0) * 1000.0


def _clock(t: float) -> str:
    import time
    return time.strftime("%H:%M:%S", time.localtime(t))
