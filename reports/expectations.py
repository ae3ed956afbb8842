"""Expectations files: what each client is known to do, so that a run fails only on what is new.

The format is written down in reports/EXPECTATIONS.md. In short, one JSON file keyed by client:

    {"schema_version": 1,
     "clients": {"chromium": {"xhr/events/empty-body": {"status": "FAIL", "reason": "...", "link": "..."},
                              "xhr/abort/state/*": {"status": "PASS", "known_intermittent": ["TIMEOUT"]}},
                 "*": {"sse/retry/*": "FAIL"}}}

`classify` is the one place that decides whether a status was expected; the pytest plugin (gating) and the
report builders (report.json, index.html) both call it, so the exit code and the reports cannot disagree.
"""
from __future__ import annotations

import fnmatch
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_VERSION = 1
STATUSES = ("PASS", "FAIL", "TIMEOUT", "ERROR", "CRASH", "NOTRUN", "N/A", "NON-STRICT")
# Statuses that mean "the client did what the case asks" (N/A: it could not run the case at all).
PASSING = ("PASS", "NON-STRICT")
ENTRY_KEYS = ("status", "known_intermittent", "reason", "link")

EXPECTED = "expected"
UNEXPECTED_FAIL = "unexpected-fail"
UNEXPECTED_PASS = "unexpected-pass"


class ExpectationsError(ValueError):
    """A malformed expectations file; the message names the file and the entry."""


@dataclass
class Entry:
    client: str          # a client name, or "*" for every client
    pattern: str         # a case id, or a glob over case ids (fnmatch: * ? [...])
    status: str = "PASS"
    known_intermittent: list = field(default_factory=list)
    reason: str = ""
    link: str = ""

    def __post_init__(self):
        self._glob = any(ch in self.pattern for ch in "*?[")

    @property
    def is_glob(self) -> bool:
        return self._glob

    def matches(self, case_id: str) -> bool:
        return fnmatch.fnmatchcase(case_id, self.pattern) if self._glob else case_id == self.pattern

    def to_json(self):
        out = {"status": self.status}
        if self.known_intermittent:
            out["known_intermittent"] = list(self.known_intermittent)
        if self.reason:
            out["reason"] = self.reason
        if self.link:
            out["link"] = self.link
        return out


def classify(status: str, expected: str = "PASS", known_intermittent=(), explicit: bool = False) -> str:
    """EXPECTED, UNEXPECTED_FAIL or UNEXPECTED_PASS for one result.

    - `status` is `expected` or one of `known_intermittent`: expected.
    - No entry (`explicit` false, so `expected` is the default PASS): NON-STRICT (only SHOULD-level checks
      failed) and N/A (the client lacks a capability) are expected too; neither fails a run by default.
    - Otherwise a passing status (PASS, NON-STRICT, or N/A against an explicit entry) is an unexpected pass,
      anything else (FAIL, TIMEOUT, ERROR, CRASH, NOTRUN) an unexpected failure.
    """
    if status == expected or status in (known_intermittent or ()):
        return EXPECTED
    if not explicit and expected == "PASS" and status in ("NON-STRICT", "N/A"):
        return EXPECTED
    if status in PASSING or status == "N/A":
        return UNEXPECTED_PASS
    return UNEXPECTED_FAIL


class Expectations:
    """The parsed file. `lookup(client, case)` gives the entry that governs a result, or None. `clients` are
    the client names the file has a key for, in file order (an empty object names a client that is expected to
    pass every case). `entries` are fixed once made: lookups go through an index of them."""

    def __init__(self, entries: list[Entry] | None = None, path: str | None = None, clients=None):
        self.entries = list(entries or [])
        self.path = path
        self.clients = list(dict.fromkeys(list(clients or []) + [e.client for e in self.entries]))
        self._exact: dict = {}   # (client, case id) -> the first entry naming it exactly
        self._globs: dict = {}   # client -> its glob entries, in file order
        for e in self.entries:
            if e.is_glob:
                self._globs.setdefault(e.client, []).append(e)
            else:
                self._exact.setdefault((e.client, e.pattern), e)

    # -- reading -------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path) -> "Expectations":
        path = str(path)
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except OSError as e:
            raise ExpectationsError(f"{path}: cannot read: {e.strerror}") from None
        except ValueError as e:
            raise ExpectationsError(f"{path}: not JSON: {e}") from None
        return cls(parse(data, path), path, list(data["clients"]))

    @classmethod
    def from_json(cls, data, path: str = "<expectations>") -> "Expectations":
        """The file's JSON as parsed (a run-start event keeps it); raises ExpectationsError."""
        entries = parse(data, path)
        return cls(entries, path, list(data["clients"]))

    def lookup(self, client: str, case_id: str) -> Entry | None:
        """Precedence: this client's exact id, this client's most specific glob (the longest pattern), then
        the same two under "*"."""
        for who in (client, "*"):
            exact = self._exact.get((who, case_id))
            if exact is not None:
                return exact
            globs = [e for e in self._globs.get(who, ()) if e.matches(case_id)]
            if globs:
                return max(globs, key=lambda e: len(e.pattern))
        return None

    def expected_for(self, client: str, case_id: str) -> dict:
        """The fields a verdict event carries: expected, known_intermittent, and the entry (or None)."""
        e = self.lookup(client, case_id)
        if e is None:
            return {"expected": "PASS", "known_intermittent": [], "expectation": None}
        return {"expected": e.status, "known_intermittent": list(e.known_intermittent),
                "expectation": {"client": e.client, "pattern": e.pattern, "reason": e.reason, "link": e.link}}

    # -- stale entries ---------------------------------------------------------------------------------------
    def stale(self, results: list[dict], case_ids, clients) -> list[dict]:
        """Entries that no longer earn their place: none of `case_ids` (the cases that exist) matches them (`no such
        case`), or every result they governed in this run passed while they expect something else (`now
        passes`). `results` are report results (client, test, status, statuses); `clients` the run's clients."""
        case_ids = list(case_ids)
        known = set(case_ids)
        governed_by: dict = {}   # id(entry) -> the results it governs (lookup gives it: its client's or "*")
        for r in results:
            if r["client"] in clients and r["status"] != "NOTRUN":
                e = self.lookup(r["client"], r["test"])
                if e is not None:
                    governed_by.setdefault(id(e), []).append(r)
        out = []
        for e in self.entries:
            if not (any(e.matches(c) for c in case_ids) if e.is_glob else e.pattern in known):
                out.append(_stale(e, "no such case", "no case in cases/ or the --cases paths matches it"))
                continue
            if e.status in PASSING:
                continue
            governed = governed_by.get(id(e), [])
            if governed and all(s in PASSING for r in governed for s in r.get("statuses") or [r["status"]]):
                seen = sorted({s for r in governed for s in r.get("statuses") or [r["status"]]})
                out.append(_stale(e, "now passes", f"expected {e.status}, every governed result was "
                                  f"{'/'.join(seen)} ({len(governed)} result{'s' if len(governed) != 1 else ''})"))
        return out

    # -- writing ---------------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        clients: dict = {c: {} for c in sorted(self.clients, key=lambda c: (c == "*", c))}
        for e in sorted(self.entries, key=lambda e: (e.client == "*", e.client, e.pattern)):
            clients.setdefault(e.client, {})[e.pattern] = e.to_json()
        return {"schema_version": SCHEMA_VERSION, "clients": clients}

    def missing_clients(self, clients, specs: dict | None = None) -> list[dict]:
        """A warning for every client of a run that the file has no key for: its results are all expected to
        PASS, so each of its known failures counts as unexpected (a baseline recorded under another name, or
        none recorded). `specs` maps a client's name to the --client value that named it, to spot a key written
        when clients were named by their path."""
        out = []
        for c in clients:
            if c in self.clients:
                continue
            msg = (f"the expectations file {self.path} has no entry for client {c}: every result of {c} is expected "
                   "to PASS, so each of its known failures counts as unexpected")
            spec = (specs or {}).get(c)
            if spec and spec != c and spec in self.clients:
                msg += (f"; the file names it by its path ({spec!r}): clients are keyed by name now, rename that "
                        f"key to {c!r}")
            else:
                others = [k for k in self.clients if k != "*"]
                msg += (f" (the file has {', '.join(others)})" if others else " (the file names no client)")
                msg += f"; record one with --update-expectations {self.path}, or name the client with --client-name"
            out.append({"kind": "no-expectations", "client": c, "message": msg})
        return out

    def write(self, path) -> None:
        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
        tmp = Path(str(path) + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)


def _stale(e: Entry, why: str, detail: str) -> dict:
    return {"client": e.client, "case": e.pattern, "expected": e.status, "why": why, "detail": detail,
            "reason": e.reason, "link": e.link}


def parse(data, path: str = "<expectations>") -> list[Entry]:
    """Entries from the decoded JSON; raises ExpectationsError naming the file and the entry at fault."""
    if not isinstance(data, dict):
        raise ExpectationsError(f"{path}: the top level must be an object with \"clients\"")
    unknown = set(data) - {"schema_version", "clients", "comment"}
    if unknown:
        raise ExpectationsError(f"{path}: unknown top-level key {sorted(unknown)[0]!r} "
                                "(schema_version, clients, comment)")
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise ExpectationsError(f"{path}: schema_version {version!r} is not {SCHEMA_VERSION}")
    clients = data.get("clients")
    if not isinstance(clients, dict):
        raise ExpectationsError(f"{path}: \"clients\" must be an object: client name -> {{case id -> entry}}")
    out = []
    for client, cases in clients.items():
        where = f"{path}: clients[{client!r}]"
        if not isinstance(cases, dict):
            raise ExpectationsError(f"{where} must be an object: case id -> entry")
        for pattern, raw in cases.items():
            out.append(_entry(client, pattern, raw, f"{where}[{pattern!r}]"))
    return out


def _entry(client: str, pattern: str, raw, where: str) -> Entry:
    if not pattern:
        raise ExpectationsError(f"{where}: an empty case id")
    if isinstance(raw, str):
        raw = {"status": raw}
    if not isinstance(raw, dict):
        raise ExpectationsError(f"{where}: an entry is a status string or an object with {', '.join(ENTRY_KEYS)}")
    unknown = set(raw) - set(ENTRY_KEYS)
    if unknown:
        raise ExpectationsError(f"{where}: unknown key {sorted(unknown)[0]!r} ({', '.join(ENTRY_KEYS)})")
    status = raw.get("status", "PASS")
    _check_status(status, f"{where}.status")
    ki = raw.get("known_intermittent", [])
    if isinstance(ki, str):
        ki = [ki]
    if not isinstance(ki, list):
        raise ExpectationsError(f"{where}.known_intermittent: a list of statuses")
    for s in ki:
        _check_status(s, f"{where}.known_intermittent")
    for key in ("reason", "link"):
        if not isinstance(raw.get(key, ""), str):
            raise ExpectationsError(f"{where}.{key}: a string")
    return Entry(client, pattern, status, list(ki), raw.get("reason", ""), raw.get("link", ""))


def _check_status(s, where: str):
    if s not in STATUSES:
        raise ExpectationsError(f"{where}: unknown status {s!r} (one of {', '.join(STATUSES)})")


def baseline(results: list[dict], old: Expectations | None, clients, harness: str = "") -> Expectations:
    """The expectations a run's results make (for --update-expectations).

    Every result of this run's clients that is not a pass (PASS or NON-STRICT; N/A is left to the default)
    gets an exact entry: its status, or for a flaky result the most frequent status with the others as
    known_intermittent. Reasons and links carry over from the entry that governed the result when the status
    did not change. Entries the run did not exercise are kept: those of other clients, those matching no
    case this run ran (deselected with -k, or outside --cases), and every "*" entry (it speaks for clients
    this run did not see; where it no longer fits, the run lists it as stale).
    """
    old = old or Expectations()
    ran = {(r["client"], r["test"]) for r in results if r["status"] != "NOTRUN"}
    kept = []
    for e in old.entries:
        touched = any(e.client == c and e.matches(t) for (c, t) in ran)
        if e.client == "*" or not touched:
            kept.append(e)
    still = Expectations(kept)
    stamp = time.strftime("%Y-%m-%d")
    new = []
    for r in results:
        if r["client"] not in clients or r["status"] == "NOTRUN":
            continue
        statuses = [s for s in (r.get("statuses") or [r["status"]]) if s != "NOTRUN"]
        counts = Counter(statuses)
        main = max(counts, key=lambda s: (counts[s], -statuses.index(s)))
        others = sorted(set(statuses) - {main})
        if main in PASSING + ("N/A",) and not others:
            # A pass needs no entry, unless a kept entry (a "*" one) would call it unexpected.
            governing = still.lookup(r["client"], r["test"])
            if governing is None or classify(main, governing.status, governing.known_intermittent, True) == EXPECTED:
                continue
        prev = old.lookup(r["client"], r["test"])
        reason, link = "", ""
        if prev is not None and prev.status == main:
            reason, link = prev.reason, prev.link
        if not reason:
            reason = f"baseline {stamp}" + (f" ({harness})" if harness else "") + (
                f": {r['message'][:200]}" if r.get("message") else "")
        new.append(Entry(r["client"], r["test"], main, others, reason, link))
    # Every client of the run gets a key, entries or none: a client that passed everything is still known.
    return Expectations(kept + new, old.path, list(old.clients) + list(clients))
