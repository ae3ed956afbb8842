"""The conformance items: one case (a matrix cell is a case) × one client × one repetition, two ways in.

    pytest tests/conformance --client chromium            test_case[chromium:xhr/timeout/status-0]
    pytest cases/xhr/timeout-status-0.case --client ...   cases/xhr/timeout-status-0.case::chromium:xhr/timeout/status-0

tests/conformance/test_conformance.py is one function parametrized over the whole case set (`parametrize`);
a .case file is a collector (`CaseFile`) with one `CaseItem` per case it holds, whose location is the file
and line (a failure names the line of the first failing expectation). Both carry a `CaseRun` and the same
markers, and run through the same code (tests/harness/run.py); which cases exist, and where they are written,
comes from `runner list --json` (pytest never parses case files itself).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from reports.model import item_name

from . import clients as clients_mod

FAMILIES = ("xhr", "cors", "sse", "ws", "comet", "jsonp", "img", "fetch", "http", "tls")
TAG_MARKERS = ("timing", "headline", "measure", "slow", "tls")  # tls: every case of the TLS origins (FORMAT.md §2)
CASE_RUN = pytest.StashKey["CaseRun"]()


@dataclass(frozen=True)
class CaseRun:
    """What a conformance item runs: `case` (its `runner list --json` object) on `client`, repetition
    `repeat` of `repeats`."""
    client: str
    case: dict
    repeat: int = 1
    repeats: int = 1

    @property
    def id(self) -> str:
        return self.case["id"]

    @property
    def timing(self) -> bool:
        """A case tagged `timing` measures time: the runner hands it out only when no other case is in flight."""
        return "timing" in self.case.get("tags", [])

    @property
    def name(self) -> str:
        return item_name(self.client, self.id, self.repeat, self.repeats)

    def marks(self) -> list:
        family = self.id.split("/")[0]
        marks = [pytest.mark.conformance, pytest.mark.xdist_group(self.client)]
        if family in FAMILIES:
            marks.append(getattr(pytest.mark, family))
        marks += [getattr(pytest.mark, t) for t in self.case.get("tags", []) if t in TAG_MARKERS and t != family]
        if self.client in clients_mod.BROWSERS:
            marks.append(getattr(pytest.mark, self.client))
        return marks


def register_markers(config):
    for f in FAMILIES:
        config.addinivalue_line("markers", f"{f}: cases of the {f} family")
    for t in TAG_MARKERS:
        if t not in FAMILIES:
            config.addinivalue_line("markers", f"{t}: cases tagged {t}")
    for b in clients_mod.BROWSERS:
        config.addinivalue_line("markers", f"{b}: items run by the {b} client")
    config.addinivalue_line("markers", "conformance: one case run by one client")


def case_runs(cases: list[dict], clients: list[str], repeats: int) -> list[CaseRun]:
    """Every client × case × repetition, in that order."""
    return [CaseRun(client, c, r, repeats) for client in clients for c in cases for r in range(1, repeats + 1)]


def case_run(item) -> CaseRun | None:
    """The CaseRun of a conformance item (either kind), None for any other item."""
    return item.stash.get(CASE_RUN, None)


# ---- tests/conformance: one parametrized function ---------------------------------------------------------

def parametrize(metafunc, runs: list[CaseRun]):
    metafunc.parametrize("conformance_case", [pytest.param(r, id=r.name, marks=r.marks()) for r in runs])


def adopt_function(item):
    """Gives a test_case[...] item its CaseRun (its parameter), as CaseItem has its own."""
    cs = getattr(item, "callspec", None)
    if cs is not None and isinstance(cs.params.get("conformance_case"), CaseRun):
        item.stash[CASE_RUN] = cs.params["conformance_case"]


# ---- .case files: a collector per file, an item per case × client × repetition --------------------------------

class CaseFile(pytest.File):
    """A case file of the run's case set (`--cases`, default cases/)."""

    def collect(self):
        from .run import conformance  # the process's run: its case set, clients, repetitions
        run = conformance(self.config)
        if not run.in_case_set(self.path):
            raise self.CollectError(f"{display_path(self.path)} is not in the case set "
                                    f"({', '.join(display_path(Path(p)) for p in run.case_paths())}):"
                                    f" add --cases {display_path(self.path)}")
        try:
            cases = run.cases_in(self.path)
        except pytest.UsageError as e:  # no runner built, or a case file that does not check: say so, no traceback
            raise self.CollectError(str(e)) from None
        for r in run.case_runs(cases):
            yield CaseItem.from_parent(self, name=r.name, run=r)


class CaseItem(pytest.Item):
    def __init__(self, *, run: CaseRun, **kw):
        super().__init__(**kw)
        self.stash[CASE_RUN] = run
        for m in run.marks():
            self.add_marker(m)
        self.failed_line: int | None = None  # the first failing expectation's line, once judged

    def runtest(self):
        from .run import conformance
        conformance(self.config).run_item(self)

    def reportinfo(self):
        r = self.stash[CASE_RUN]
        return self.path, source_line(r.case) - 1, f"{r.id} on {r.client}"

    def repr_failure(self, excinfo):
        """A verdict that fails the item reads `FILE:LINE: STATUS: message`, LINE the first failing check's."""
        if isinstance(excinfo.value, pytest.fail.Exception) and not excinfo.value.pytrace:
            line = self.failed_line or source_line(self.stash[CASE_RUN].case)
            return f"{display_path(self.path)}:{line}: {excinfo.value.msg}"
        return super().repr_failure(excinfo)


def source_line(case: dict) -> int:
    return int((case.get("source") or {}).get("line") or 1)


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it is below it (as pytest shows locations)."""
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel
