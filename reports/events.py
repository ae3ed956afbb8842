"""The run's event stream (REPORT/events.jsonl): its schema, its one writer and its one reader.

One JSON object per line, appended as things happen. Every report (report.json, junit.xml, index.html) is
built from this stream (reports/model.py), so a run that crashes midway still leaves a readable record;
readers tolerate a truncated last line. Writers in several processes (xdist workers) append under an flock,
one whole line at a time. reports/SCHEMA.md §1 lists every event and field; the order a run writes them:

  run-start     once, first: the run's id, clients, platform, harness, time_scale, repeat, expectations (path,
                entries), the case set's ids, argv
  worker-start  each process that runs items: its plan (client, case, repeat, expected) and case metadata
  client-start  a client (browser, adapter) came up: name, version
  case-start    an item begins
  verdict       an item's verdict: status, expected, outcome, checks, observations, transcript, vars, duration
  worker-end    the process's items are done
  run-end       once, by pytest's controller (the only process, or xdist's), with pytest's exit status

Which process writes run-start: the first one that has conformance items (`begin_run`). A run only knows it
has any once it has collected, and under xdist only the workers collect; so every process carries the run's
id (made by the controller, handed to xdist workers) and the first to call `begin_run` with it truncates the
stream and writes run-start, while the others find that line already there. A stream holds one run.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from pathlib import Path

SCHEMA = 1


def _line(event: str, fields: dict) -> bytes:
    rec = {"event": event, "time": time.time(), "schema": SCHEMA, **fields}
    return (json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _run_of(first_line: bytes) -> str | None:
    """The run id of a stream's first line, if it is a run-start."""
    try:
        rec = json.loads(first_line)
    except ValueError:
        return None
    return rec.get("run") if isinstance(rec, dict) and rec.get("event") == "run-start" else None


class EventStream:
    def __init__(self, path: Path):
        self.path = Path(path)

    def begin_run(self, run_id: str, run_start) -> bool:
        """Make this stream run `run_id`'s: unless its first line is already that run's run-start, truncate it
        and write run-start with the fields `run_start()` returns. True when this call began the run. Under the
        stream's flock, so that of several processes exactly one begins it and none writes before it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(os.dup(fd), "rb") as f:
                first = f.readline()
            if _run_of(first) == run_id:
                return False
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, _line("run-start", {"run": run_id, **run_start()}))
            return True
        finally:
            os.close(fd)

    def run_id(self) -> str | None:
        """The id of the run this stream holds (its run-start's), or None."""
        try:
            with open(self.path, "rb") as f:
                return _run_of(f.readline())
        except OSError:
            return None

    def emit(self, event: str, **fields):
        line = _line(event, fields)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
        finally:
            os.close(fd)

    def emit_verdict(self, v: dict, client: str, version: str, duration: float, case: dict, expected=None,
                     known_intermittent=None, repeat: int = 1, outcome: str | None = None,
                     expectation: dict | None = None):
        """One verdict line. `expected`/`known_intermittent`/`expectation` come from the expectations file
        (reports/EXPECTATIONS.md), `outcome` is reports.expectations.classify's word for it, `repeat` the
        repetition (--repeat N) this verdict belongs to."""
        first = next((c for c in v.get("checks", []) if c.get("status") == "FAIL"), None)
        transcript = v.get("transcript")
        digest = hashlib.sha256(json.dumps(transcript, sort_keys=True).encode()).hexdigest() if transcript else None
        self.emit("verdict", case=v.get("case", case["id"]), client=client, version=version,
                  status=v.get("status"), expected=expected, known_intermittent=known_intermittent or [],
                  message=v.get("message", ""), rule=first.get("rule") if first else None,
                  spec=(first.get("spec") if first else None) or (case.get("spec") or [None])[0],
                  title=case.get("title"), tags=case.get("tags", []), duration=round(duration, 3),
                  token=v.get("token"), checks=v.get("checks", []), observations=v.get("observations"),
                  transcript=transcript, transcript_digest=digest, vars=v.get("vars"), repeat=repeat, outcome=outcome,
                  expectation=expectation, thrown=v.get("thrown"))


def read_events(path: Path) -> list[dict]:
    """All complete records of a stream; a truncated or corrupt line (a crash mid-write) is skipped."""
    out = []
    with open(path, "rb") as f:
        for raw in f:
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
    return out
