"""Every family's checks can fail: deliberately broken implementations, injected into a real Chromium with
`--polyfill`, must FAIL on the right case with the broken rule named — and the unmodified engine must not
fail that rule there.

Each run goes through the whole product path: the conformance plugin in a pytest subprocess, `runner serve`,
the harness page, the judge, the events.jsonl stream.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reports.events import read_events
from tests.harness.server import ROOT

POLYFILLS = Path(__file__).parent / "polyfills"

# (polyfill, case file, case id, a phrase of the rule that must be named in the failure)
BROKEN = [
    ("xhr-load-before-done.js", "cases/xhr/success-event-order.case", "xhr/events/success-order",
     "send() then the response: 1, loadstart"),
    ("xhr-load-before-done.js", "cases/xhr/timeout-status-0.case", "xhr/timeout/status-0",
     "request error steps (timeout)"),
    ("xhr-timeout-status-200.js", "cases/xhr/timeout-status-0.case", "xhr/timeout/status-0",
     "timeout fires in readyState 4 with status 0"),
    ("eventsource-forgets-last-event-id.js", "cases/sse/reconnect/after-fin.case", "sse/reconnect/after-fin",
     "the reconnection carries Last-Event-ID"),
    ("websocket-always-clean.js", "cases/ws/close/server-abrupt.case", "ws/close/server-abrupt/rst",
     "wasClean is false"),
    ("websocket-accepts-1005.js", "cases/ws/close/api-invalid-codes.case", "ws/close/api-invalid-codes/1005",
     "throws InvalidAccessError"),
    ("xhr-open-accepts-any-method.js", "cases/xhr/validate/method.case", "xhr/validate/method/connect",
     "a forbidden method (CONNECT, TRACE, TRACK, byte-case-insensitive) makes open() throw SecurityError"),
    ("xhr-open-accepts-any-method.js", "cases/xhr/validate/method.case", "xhr/validate/method/space",
     "a method that is not a token makes open() throw SyntaxError"),
    ("xhr-setrequestheader-any-state.js", "cases/xhr/validate/state.case", "xhr/validate/state/headerbeforeopen",
     "setRequestHeader() in UNSENT throws InvalidStateError"),
    ("xhr-setrequestheader-any-state.js", "cases/xhr/validate/header.case", "xhr/validate/header/valuelf",
     "makes setRequestHeader() throw SyntaxError"),
    ("xhr-timeout-fixed-at-send.js", "cases/xhr/timeout/changed-after-send.case",
     "xhr/timeout/changed-after-send/shorter", "the new, shorter timeout has passed since send()"),
    ("xhr-3xx-as-error.js", "cases/xhr/redirect/no-location.case", "xhr/redirect/no-location/s302",
     "a 3xx without Location is the response"),
    ("xhr-response-header-untrimmed.js", "cases/xhr/headers/response-whitespace.case",
     "xhr/headers/response-whitespace", "leading spaces are not part of the value"),
    ("xhr-url-credentials-over-authorization.js", "cases/xhr/auth/author-header.case",
     "xhr/auth/author-header/withargs", "the author's Authorization is sent as set, and URL credentials do not"),
    ("xhr-sets-accept.js", "cases/xhr/headers/ua-defaults.case", "xhr/headers/ua-defaults/direct",
     "fetch appends Accept: */*"),
    ("eventsource-strips-nul.js", "cases/sse/parse/null-in-data.case", "sse/parse/null-in-data",
     "U+0000 included"),
    ("eventsource-strips-nul.js", "cases/sse/redirect/cross-origin.case", "sse/redirect/cross-origin/exact",
     "the message's origin is that of the final URL"),
    ("websocket-lax-constructor.js", "cases/ws/api/constructor-url.case", "ws/api/constructor-url/fragment",
     "the constructor throws a \"SyntaxError\" DOMException"),
    ("websocket-lax-constructor.js", "cases/ws/api/constructor-protocols.case", "ws/api/constructor-protocols/dup",
     "the constructor throws a \"SyntaxError\" DOMException"),
    ("websocket-sends-whole-buffer.js", "cases/ws/frames/send-data.case", "ws/frames/send-data/uint8view-arraybuffer",
     "only the view's section: 3 bytes from offset 2"),
    ("websocket-sends-whole-buffer.js", "cases/ws/frames/send-data.case", "ws/frames/send-data/dataview-blob",
     "only the DataView's section"),
    ("websocket-bufferedamount-zero.js", "cases/ws/api/bufferedamount.case", "ws/api/bufferedamount/text",
     "adds its UTF-8 byte count, 3"),
]


def run_conformance(tmp: Path, case_files: list[str], polyfill: str | None) -> dict:
    """Runs the plugin on Chromium; returns {case id: verdict event}."""
    args = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/conformance",
            "--client", "chromium", "--report", str(tmp)]
    for f in case_files:
        args += ["--cases", f]
    if polyfill:
        args += ["--polyfill", str(POLYFILLS / polyfill)]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    verdicts = {e["case"]: e for e in read_events(tmp / "events.jsonl") if e["event"] == "verdict"}
    assert verdicts, f"no verdicts recorded:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return verdicts


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    files = sorted({r[1] for r in BROKEN})
    return run_conformance(tmp_path_factory.mktemp("baseline"), files, None)


@pytest.mark.parametrize("polyfill", sorted({r[0] for r in BROKEN}))
def test_broken_polyfill_fails_on_the_right_case_with_the_rule(polyfill, baseline, tmp_path):
    rows = [r for r in BROKEN if r[0] == polyfill]
    verdicts = run_conformance(tmp_path, sorted({r[1] for r in rows}), polyfill)
    for _, _, case_id, phrase in rows:
        v = verdicts.get(case_id)
        assert v is not None, f"{case_id}: no verdict with {polyfill}"
        failing = [c for c in v.get("checks", []) if c.get("status") == "FAIL"]
        assert v["status"] == "FAIL", f"{case_id} with {polyfill}: {v['status']} {v.get('message')}"
        assert any(phrase in (c.get("rule") or "") + " " + (c.get("expected") or "") for c in failing), \
            f"{case_id} with {polyfill}: no failing check names '{phrase}': {json.dumps(failing)[:1500]}"
        # The same rule holds in the unmodified engine: the failure is the polyfill's.
        base = baseline.get(case_id)
        assert base is not None
        base_failing = [c for c in base.get("checks", []) if c.get("status") == "FAIL"]
        assert not any(phrase in (c.get("rule") or "") for c in base_failing), \
            f"{case_id}: the unmodified engine fails '{phrase}' too: {base.get('message')}"
