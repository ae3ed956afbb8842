"""The run's event stream (reports/out/events.jsonl): one JSON object per line, appended as things happen.

Every report (report.json, junit.xml, index.html) is built from this stream, so a run that crashes midway
still leaves a readable record; readers tolerate a truncated last line. Writers on several xdist workers
append under an flock, one whole line at a time.

Events, in the order a run writes them (reports/model.py reads them):
  run-start     once, by the controller (or the only process): clients, platform, harness, time_scale,
                repeat, expectations (path, entries), the case set's ids
  worker-start  each process that runs items: its plan (client, case, repeat, expected) and case metadata
  client-start  a client (browser, adapter) came up: name, version
  case-start    an item begins
  verdict       an item's verdict: status, expected, outcome, checks, observations, transcript, duration
  worker-end    the process's items are done
  run-end       once, by the controller, with pytest's exit status
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from pathlib import Path

SCHEMA = 1


class EventStream:
    def __init__(self, path: Path):
        self.path = Path(path)

    def reset(self):
        """Start a new stream (the run's controller does, once, before any worker writes)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.close(fd)

    def emit(self, event: str, **fields):
        rec = {"event": event, "time": time.time(), "schema": SCHEMA, **fields}
        line = (json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
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
                  transcript=transcript, transcript_digest=digest, repeat=repeat, outcome=outcome,
                  expectation=expectation)


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
