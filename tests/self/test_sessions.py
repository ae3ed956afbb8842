"""Self-tests of the client session (tests/harness/session.py) against a real `runner serve`: a client that hangs
on a case pytest has not asked for yet is found by that case's own bound, and the run goes on.

The client here is broken on purpose, like the broken libraries of test_adapters.py, but at the protocol level:
the library adapters and the case page guard their own deadlines, so what is left to the session is a client
whose whole process or page is stuck (a browser page blocked in a synchronous call), which this one is.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.harness import session as session_mod
from tests.harness.server import Runner
from tests.harness.session import CaseInfo, Client, ClientSession

HANG = Path(__file__).parent / "data" / "hang"
LOOSE, TIGHT = "xhr/selftest-hang/loose", "xhr/selftest-hang/tight"


class StuckClient(Client):
    """Asks for cases one at a time and answers each with empty observations, except `stuck_on`: it takes that
    one and then never answers or asks again (alive all along)."""

    name = "stuck"
    version = "0"
    concurrency = 1

    def __init__(self, stuck_on: str, taken: list):
        self.stuck_on, self.taken = stuck_on, taken
        self.stop_flag = threading.Event()

    def start(self, runner: Runner, run: str) -> None:
        threading.Thread(target=self._loop, args=(runner, run), daemon=True).start()

    def _loop(self, runner: Runner, run: str):
        while not self.stop_flag.is_set():
            p = runner.next(run)
            if p.get("done"):
                return
            if "case" not in p:
                continue  # nothing may start yet: ask again
            self.taken.append(p["case"])
            if p["case"] == self.stuck_on:
                self.stop_flag.wait()  # stuck: no result, no more requests
                return
            runner.post_result(p["token"], {})

    def alive(self) -> bool:
        return True

    def stop(self) -> None:
        self.stop_flag.set()


@pytest.fixture()
def runner():
    r = Runner(cases=[HANG]).start()
    yield r
    assert r.stop() == 0, "runner serve did not exit cleanly:\n" + "".join(r.stderr_lines[-20:])


def test_a_case_handed_out_out_of_order_that_hangs_the_client_is_timeout(runner, monkeypatch):
    """pytest asks for `loose` first; the runner hands out `tight` first and alone (timing cases tightest
    first) and the client hangs on it, so `loose` is never handed out while `tight` is in flight. The session
    must bound `tight` by its own deadline while it waits for `loose`, record TIMEOUT for it, restart the client
    and run `loose`. Before it did, it waited for `loose` until the item timeout (300 s)."""
    monkeypatch.setattr(session_mod, "RESULT_GRACE_S", 1.0)
    taken: list = []

    def factory():
        return StuckClient(TIGHT, taken)
    factory.name = "stuck"
    s = ClientSession(runner, factory, [CaseInfo(LOOSE, 5000, True), CaseInfo(TIGHT, 2000, True)],
                      concurrency=1)
    got: dict = {}
    worker = threading.Thread(target=lambda: got.update(loose=s.verdict(LOOSE), tight=s.verdict(TIGHT)), daemon=True)
    worker.start()
    worker.join(60)  # a guard against the fault itself (the wait never ends), not a speed check
    s.close()
    assert not worker.is_alive(), f"no verdict for {LOOSE} after 60 s: the hung {TIGHT} was never bounded ({taken})"
    loose, tight = got["loose"], got["tight"]
    assert taken[:2] == [TIGHT, LOOSE], f"the runner should hand out {TIGHT} first: {taken}"
    assert tight["status"] == "TIMEOUT" and "the client hung" in tight["message"], tight
    assert "(deadline 2.0 s)" in tight["message"], tight["message"]
    assert loose["status"] not in ("TIMEOUT", "NOTRUN", "PENDING"), loose
    assert s.restarts == 1, s.restarts


def test_inflight_lists_the_run_cases_handed_out_and_not_judged(runner):
    run = runner.new_run("raw", [TIGHT, LOOSE], concurrency=2)
    assert runner.inflight(run) == []
    p = runner.next(run)
    assert p["case"] == TIGHT
    [entry] = runner.inflight(run)
    assert entry["case"] == TIGHT and entry["token"] == p["token"] and entry["age_ms"] >= 0, entry
    runner.post_result(p["token"], {})
    assert runner.inflight(run) == []
