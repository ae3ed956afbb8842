"""Client sessions: one client (a browser or a library adapter) working through a run of cases.

A session creates a run on the runner with the cases its pytest items will ask for, starts the client on it,
and hands out verdicts one case at a time. It never judges: verdicts come from the runner's C judge. What it
adds is the harness's promise that nothing is lost — a client that dies marks its case CRASH, a client that
hangs marks it TIMEOUT; either way the client is restarted on the cases still to run and the run goes on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from .server import Runner, RunnerError

# After a case is handed out, the client has its deadline plus this long to post a result (the page itself
# posts `timed_out` at deadline + 5 s, so this only fires when the client is stuck or dead).
RESULT_GRACE_S = 20.0
# A run that does not hand out the next case for this long, while the runner has no case in flight, means the
# client stopped asking. While cases are in flight the runner may be holding this one back on purpose (a
# `timing` case never runs beside an ordinary one, across every run the runner serves: another xdist worker's case
# can take a minute).
ISSUE_TIMEOUT_S = 60.0
POLL_MS = 1000


@dataclass
class CaseInfo:
    id: str
    deadline_ms: int
    timing: bool
    needs: list = field(default_factory=list)


class Client:
    """What a session needs of a client: start on a run, tell whether it lives, stop. Subclasses: browsers
    (harness.clients.BrowserClient) and adapter processes (harness.clients.ProcessClient)."""

    name = "client"
    version = ""

    def start(self, runner: Runner, run: str) -> None:
        raise NotImplementedError

    def alive(self) -> bool:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def describe_death(self) -> str:
        return f"{self.name} stopped responding"


class ClientSession:
    """Runs `cases` (in order) on a client made by `factory()`; `verdict(case_id)` blocks until that case is
    judged, or marks it CRASH/TIMEOUT."""

    def __init__(self, runner: Runner, factory, cases: list[CaseInfo], time_scale: float = 1.0,
                 polyfill: str | None = None, concurrency: int = 4, log=None, on_start=None):
        self.runner = runner
        self.factory = factory
        self.cases = {c.id: c for c in cases}
        self.order = [c.id for c in cases]
        self.scale = time_scale
        self.polyfill = polyfill
        self.concurrency = concurrency
        self.log = log or (lambda msg: None)
        self.on_start = on_start or (lambda client: None)
        self.client: Client | None = None
        self.run: str | None = None
        self.done: dict[str, dict] = {}
        self.restarts = 0
        self.started_at = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def _remaining(self, after: str | None = None) -> list[str]:
        ids = [c for c in self.order if c not in self.done]
        if after is not None and after in ids:
            ids = ids[ids.index(after) + 1:]
        return ids

    def _start(self, ids: list[str]):
        self.run = self.runner.new_run(self.factory.name, ids, concurrency=self.concurrency, polyfill=self.polyfill)
        self.runner.close_run(self.run)
        self.client = self.factory()
        self.client.concurrency = self.concurrency
        self.client.start(self.runner, self.run)
        self.started_at = time.monotonic()
        self.log(f"{self.client.name} {self.client.version}: run {self.run} with {len(ids)} cases")
        self.on_start(self.client)

    def _restart(self, after: str | None = None):
        """Stop the client and start it again on the cases still owed (those after `after` in order, when given:
        pytest asks in order, so the ones before it are done)."""
        self._stop_client()
        self.restarts += 1
        ids = self._remaining(after)
        self._release_inflight(ids)
        if ids:
            self._start(ids)

    def _release_inflight(self, ids: list[str]):
        """Cases the stopped client had been handed (a client may run several at once) but never answered keep
        the server's in-flight count up, and a `timing` case waits for it to reach 0: cancel their tokens
        (NOTRUN). They run again, with new tokens, in the next run."""
        if not self.run:
            return
        for case_id in ids:
            try:
                v = self.runner.verdict(run=self.run, case=case_id)
                if v.get("status") == "PENDING" and v.get("issued") and v.get("token"):
                    self.runner.cancel(v["token"], "NOTRUN", "the client was restarted before it answered; "
                                       "the case runs again")
            except RunnerError:
                continue

    def _stop_client(self):
        if self.client:
            try:
                self.client.stop()
            finally:
                self.client = None

    def close(self):
        self._stop_client()

    @property
    def version(self) -> str:
        return self.client.version if self.client else ""

    # -- verdicts ----------------------------------------------------------------------------------------
    def verdict(self, case_id: str) -> dict:
        if case_id in self.done:
            return self.done[case_id]
        if self.client is None:
            self._start(self._remaining())
        v = self._wait(case_id)
        self.done[case_id] = v
        return v

    def _fail_case(self, case_id: str, status: str, message: str, token: str | None) -> dict:
        v = self._cancelled(case_id, status, message, token)
        self._restart(case_id)
        return v

    def _runner_busy(self) -> bool:
        try:
            return self.runner.health().get("inflight", 0) > 0
        except RunnerError:
            return False

    def _limit_ms(self, case_id: str) -> float:
        return self.cases[case_id].deadline_ms * self.scale + RESULT_GRACE_S * 1000

    def _hung_message(self, p: dict) -> str:
        deadline_s = self.cases[p["case"]].deadline_ms * self.scale / 1000
        return (f"no result {p['age_ms'] / 1000:.1f} s after the case was handed out "
                f"(deadline {deadline_s:.1f} s): the client hung")

    def _hung(self) -> list[dict]:
        """Every case of the run handed out and past its bound, whichever case pytest waits for: the runner hands
        cases out in its own order (timing cases tightest first), so the case that hangs the client is often
        not the one the current item asks for, and while it is in flight the runner may hold that one back."""
        try:
            live = self.runner.inflight(self.run)
        except RunnerError:
            return []
        return [p for p in live if p.get("case") in self.cases and p["age_ms"] > self._limit_ms(p["case"])]

    def _time_out_others(self, hung: list[dict]):
        """Cases pytest has not asked for yet that hung the client: their TIMEOUT verdicts are kept for when it
        asks, and the client restarts on every case still owed."""
        for p in hung:
            self.done[p["case"]] = self._cancelled(p["case"], "TIMEOUT", self._hung_message(p), p["token"])
        self._restart()

    def _cancelled(self, case_id: str, status: str, message: str, token: str | None) -> dict:
        """Record `status` as the case's verdict (the runner keeps a verdict that came first) and return it."""
        try:
            if token:
                self.runner.cancel(token, status, message)
                v = self.runner.verdict(token=token, full=True)
                if v.get("status") not in (None, "PENDING"):
                    return v
        except RunnerError:
            pass
        return {"case": case_id, "status": status, "message": message, "checks": [], "client": self.factory.name}

    def _wait(self, case_id: str) -> dict:
        waited_unissued, checked_at = 0.0, 0.0
        while True:
            t0 = time.monotonic()
            v = self.runner.verdict(run=self.run, case=case_id, wait_ms=POLL_MS, full=True)
            if v.get("status") != "PENDING":
                return v
            if not self.client.alive():
                return self._fail_case(case_id, "CRASH", self.client.describe_death(), v.get("token"))
            if time.monotonic() - checked_at >= POLL_MS / 1000:
                checked_at = time.monotonic()
                hung = self._hung()
                mine = [p for p in hung if p["case"] == case_id]
                if mine:
                    return self._fail_case(case_id, "TIMEOUT", self._hung_message(mine[0]), mine[0]["token"])
                if hung:
                    self._time_out_others(hung)
                    continue
            if not v.get("issued"):
                time.sleep(0.1)  # not handed out yet: the verdict call answered at once
                if not self._runner_busy():
                    waited_unissued += time.monotonic() - t0
                if waited_unissued > ISSUE_TIMEOUT_S * max(self.scale, 1.0):
                    return self._fail_case(case_id, "TIMEOUT",
                                           f"the client did not ask for this case within {ISSUE_TIMEOUT_S:.0f} s",
                                           None)


class Sessions:
    """A process's client sessions, one per (client, repetition), started lazily and each closed as soon as its
    last item is done, so that clients do not overlap within one process. A client's cases tagged `timing` come
    last in its queue; the runner holds them back until no ordinary case is in flight and lets them share the
    server only as far as their precision allows (harness/server/runs.c)."""

    def __init__(self, runner: Runner, runs: list, events, make_factory, time_scale: float = 1.0,
                 concurrency: int = 4, polyfill: str | None = None):
        self.runner = runner
        self.events = events
        self.make_factory = make_factory
        self.time_scale = time_scale
        self.concurrency = concurrency
        self.polyfill = polyfill
        self.live: dict = {}
        self.pending: dict = {}
        self.cases: dict = {}
        for r in runs:
            k = self.key(r)
            self.pending[k] = self.pending.get(k, 0) + 1
            self.cases.setdefault(k, []).append(CaseInfo(r.id, r.case.get("deadline_ms", 10000), r.timing,
                                                         r.case.get("needs", [])))

    @staticmethod
    def key(r) -> tuple:
        return (r.client, r.repeat)

    def get(self, r) -> ClientSession:
        """The session that runs CaseRun `r` (tests/harness/items.py)."""
        k = self.key(r)
        if k not in self.live:
            for other in list(self.live):  # one client at a time in this process
                self.close(other)
            client = k[0]
            self.live[k] = ClientSession(self.runner, self.make_factory(client), self.cases[k],
                                         time_scale=self.time_scale, polyfill=self.polyfill,
                                         concurrency=self.concurrency,
                                         on_start=lambda c: self.events.emit("client-start", client=client,
                                                                             version=c.version,
                                                                             tls=getattr(c, "tls", None)))
        return self.live[k]

    def item_done(self, r):
        k = self.key(r)
        self.pending[k] -= 1
        if self.pending[k] == 0:
            self.close(k)

    def close(self, k):
        s = self.live.pop(k, None)
        if s:
            s.close()

    def close_all(self):
        for k in list(self.live):
            self.close(k)
