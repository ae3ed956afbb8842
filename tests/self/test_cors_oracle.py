"""Self-tests of the CORS matrices (cases/cors/, cases/FORMAT.md §7) against the real `runner serve`.

A raw HTTP client plays a client: it sends on loopback exactly the requests the oracle says a conforming client
sends for a cell (the preflight with its Origin, Access-Control-Request-Method and -Headers; the actual request
only when the preflight passed), then posts the observations such a client would record, computed from the
replies it really got. The C judge must PASS that. Then non-conforming replays (the actual request sent after
a failed preflight; Access-Control-Request-Headers unsorted) must FAIL, naming the rule.

They also prove the server side of a failed preflight: the actual route exists, answers only when asked, and
the transcript of a conforming run never shows it.
"""
from __future__ import annotations

import re
import urllib.parse

import pytest

from tests.harness import rawhttp
from tests.harness.server import ROOT, Runner

CORS_CASES = ROOT / "cases" / "cors"


@pytest.fixture(scope="module")
def runner():
    r = Runner(cases=[CORS_CASES]).start()
    yield r
    assert r.stop() == 0, "runner serve did not exit cleanly:\n" + "".join(r.stderr_lines[-20:])


@pytest.fixture(scope="module")
def matrix_cells(runner):
    """Every case with a cors summary and no other section's traffic (the matrices), by id."""
    cells = {}
    for c in runner.cases():
        summary = c.get("cors") or []
        if len(summary) == 1 and len(c["client"]["objects"]) == 1 and len(c["server"]) <= 2:
            cells[c["id"]] = c
    return cells


# ---- a client on a raw socket -----------------------------------------------------------------------------

def parse_response(data: bytes):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name, value.strip(" \t")))
    return status, headers, body


def send(url: str, method: str, headers: list[tuple[str, str]], body: bytes = b""):
    """One request on its own connection (Connection: close), exactly these headers; the parsed reply."""
    u = urllib.parse.urlsplit(url)
    target = u.path + ("?" + u.query if u.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {u.netloc}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    ex = rawhttp.request(url, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body, timeout=5.0)
    assert ex.end == "fin", f"{method} {url}: the reply did not end with FIN: {ex.data[:200]!r}"
    return parse_response(ex.data)


def combined(headers, name):
    vals = [v for k, v in headers if k.lower() == name.lower()]
    return ", ".join(vals) if vals else None


def author_headers(prog):
    """The author's headers as the program sets them: [(name, value)], xhr combining repeated names."""
    out: list[list[str]] = []
    kind = prog["objects"][0]["kind"]
    for s in prog["steps"]:
        pairs = [(s["name"], s["value"])] if s["op"] == "header" else [tuple(p) for p in s.get("headers", [])] \
            if s["op"] == "fetch" else []
        for n, v in pairs:
            same = [h for h in out if h[0].lower() == n.lower()]
            if kind == "xhr" and same:
                same[0][1] += ", " + v
            else:
                out.append([n, v])
    return [tuple(h) for h in out]


def request_step(prog):
    return next(s for s in prog["steps"] if s["op"] in ("open", "fetch"))


def body_of(prog):
    for s in prog["steps"]:
        if s["op"] == "send" and s.get("body"):
            return s["body"]["value"].encode()
        if s["op"] == "fetch" and s.get("body") is not None:
            return str(s["body"]).encode()
    return b""


class Replay:
    """Plays one run of a cell: sends what it is told, records what a conforming client would observe."""

    def __init__(self, runner, case):
        self.runner, self.case = runner, case
        self.summary = case["cors"][0]
        self.prog = runner.program(case["id"])
        self.token = self.prog["token"]
        self.origin = self.prog["origins"]["A"]
        step = request_step(self.prog)
        self.url, self.method = step["url"], self.summary["method"]
        self.preflight_reply = None
        self.actual_reply = None

    def preflight(self, acrh: str | None = "oracle"):
        s = self.summary
        h = [("Origin", self.origin), ("Accept", "*/*"), ("Access-Control-Request-Method", s["acrm"])]
        acrh = s["acrh"] if acrh == "oracle" else acrh
        if acrh is not None:
            h.append(("Access-Control-Request-Headers", acrh))
        self.preflight_reply = send(self.url, "OPTIONS", h)
        return self.preflight_reply

    def actual(self):
        s = self.summary
        h = [("Origin", self.origin)] if not s["opaque"] else []
        h += [(n, v) for n, v in author_headers(self.prog) if n.lower() not in s["dropped"]]
        body = body_of(self.prog)
        if body and not any(n.lower() == "content-type" for n, _ in h):
            h.append(("Content-Type", "text/plain;charset=UTF-8"))
        if not any(n.lower() == "accept" for n, _ in h):
            h.append(("Accept", "*/*"))
        self.actual_reply = send(self.url, self.method, h, body)
        return self.actual_reply

    def conforming(self):
        s = self.summary
        if s["preflight"]:
            self.preflight()
        if s["actual_sent"]:
            self.actual()
        return self.observations()

    # What a conforming client records (fixtures/PROTOCOL.md §3), from the replies it got.
    def observations(self):
        s = self.summary
        kind = self.prog["objects"][0]["kind"]
        obj = self.prog["objects"][0]["name"]
        ok = self.actual_reply is not None and not s["network_error"]
        status = self.actual_reply[0] if ok and not s["opaque"] else 0
        headers = self.actual_reply[1] if ok else []
        readable = [(n, combined(headers, n)) for n in s["exposed"]] if ok else []
        t = iter(range(1, 1000))

        def ev(typ, arg=None, state=None):
            e = {"obj": obj, "type": typ, "t": float(next(t)), "state": state or {}}
            if arg is not None:
                e["arg"] = arg
            return e

        if kind == "xhr":
            rs = lambda n, st: ev("readystatechange", n, {"readyState": n, "status": st})
            up = any(st["op"] == "listen" for st in self.prog["steps"]) and bool(body_of(self.prog)) \
                and self.method not in ("GET", "HEAD")
            if ok:
                upload = [ev("upload.loadstart"), ev("upload.progress"), ev("upload.load"), ev("upload.loadend")]
                events = [rs(1, 0), ev("loadstart")] + (upload if up else []) + \
                         [rs(2, status), rs(3, status), ev("progress"), rs(4, status), ev("load"), ev("loadend")]
            else:
                events = [rs(1, 0), ev("loadstart")] + ([ev("upload.loadstart")] if up else []) + [rs(4, 0)] + \
                         ([ev("upload.error"), ev("upload.loadend")] if up else []) + [ev("error"), ev("loadend")]
            for step in self.prog["steps"]:
                if step["op"] == "get-header":
                    v = dict((n, v) for n, v in readable).get(step["name"].lower())
                    events.append(ev("read", None, {"header:" + step["name"]: v}))
            final = {obj: {"readyState": 4, "status": status}}
        else:
            if ok:
                rtype = "opaque" if s["opaque"] else "cors"
                events = [ev("resolve", status, {"status": status, "type": rtype,
                                                 "headers": [[n, v] for n, v in sorted(readable)]}),
                          ev("body", "ok", {"text": "ok"})]
            else:
                events = [ev("reject", "TypeError", {"name": "TypeError"})]
            final = {}
        return {"token": self.token, "client": {"name": "raw-replay", "version": "1"}, "events": events,
                "final": final, "timed_out": False, "unsupported": None, "error": None}

    def judge(self, observations):
        self.runner.post_result(self.token, observations)
        return self.runner.verdict(token=self.token, wait_ms=5000)

    def transcript_requests(self):
        return [(e["method"], e["path"]) for e in self.runner.transcript(self.token)["events"] if e["type"] == "request"]


# ---- a sample of cells ----------------------------------------------------------------------------------

SAMPLE = [
    "cors/method-origin/get-same-star-none",       # simple, shared
    "cors/method-origin/put-same-star-none",       # preflight, shared
    "cors/method-origin/lpatch-same-star-none",    # ACRM `patch`, ACAM `patch`
    "cors/method-origin/put-include-star-true",    # preflight fails: ACAO * with credentials
    "cors/method-origin/put-include-exact-true",   # credentialed preflight passes
    "cors/method-origin/get-include-exact-none",   # simple request sent, response blocked (no ACAC)
    "cors/method-origin/delete-same-list-none",    # a list of origins fails
    "cors/method-allow/lpatch-upper-same",         # `patch` is not `PATCH`
    "cors/method-allow/custom-star-include",       # ACAM * does not cover credentials
    "cors/headers/twocustom-listed-same",          # ACRH x-a,x-b
    "cors/headers/long129-none-same",              # a 129-byte Accept is unsafe: preflight fails (no ACAH)
    "cors/headers/auth-star-same",                 # Authorization is never covered by *
    "cors/headers/ctplain-none-include",           # safelisted: no preflight
    "cors/preflight-status/s302-method",           # no redirects on a preflight
    "cors/preflight-status/s204-upload",           # upload listeners force a preflight
    "cors/expose/star-same-xhr",                   # ACEH *
    "cors/expose/star-include-fetch",              # ACEH * with credentials: literal
    "cors/fetch-modes/get-xtest-nocors-omit",      # opaque, header dropped
    "cors/fetch-modes/lpatch-xtest-cors-include",  # fetch preflight
]


@pytest.mark.parametrize("cell", SAMPLE)
def test_conforming_replay_passes(runner, matrix_cells, cell):
    case = matrix_cells.get(cell)
    assert case, f"no cell {cell} (cells: {len(matrix_cells)})"
    r = Replay(runner, case)
    v = r.judge(r.conforming())
    assert v["status"] == "PASS", f"{cell}: {v['status']}: {v['message']}"
    want = ([("OPTIONS", r.summary["path"])] if r.summary["preflight"] else []) + \
           ([(r.method, r.summary["path"])] if r.summary["actual_sent"] else [])
    assert r.transcript_requests() == want


def failed_preflight_cells(matrix_cells):
    return sorted(i for i, c in matrix_cells.items() if c["cors"][0]["preflight"] and not c["cors"][0]["preflight_ok"])


def test_the_matrices_hold_300_cells_and_failed_preflights(matrix_cells):
    assert len(matrix_cells) >= 300
    assert len(failed_preflight_cells(matrix_cells)) >= 50


@pytest.mark.parametrize("cell", ["cors/method-origin/put-include-star-true", "cors/method-allow/lpatch-upper-same",
                                  "cors/preflight-status/s404-header", "cors/headers/auth-star-same",
                                  "cors/values/preflight-lists/space-ok-xhr", "cors/values/preflight-lists/ok-colon-fetch",
                                  "cors/values/allow-credentials/quoted-put-xhr"])
def test_actual_request_after_failed_preflight_fails_with_the_rule(runner, matrix_cells, cell):
    case = matrix_cells[cell]
    s = case["cors"][0]
    assert s["preflight"] and not s["preflight_ok"] and not s["actual_sent"]
    r = Replay(runner, case)
    r.preflight()
    status, _, _ = r.actual()                      # the non-conforming client asks anyway
    assert status == case["server"][1]["steps"][0]["code"], "the server answers the actual route when asked"
    v = r.judge(r.observations())
    assert v["status"] == "FAIL"
    rule = s["preflight_result"]["rule"]
    assert "a failed preflight never lets the actual request out" in v["message"] and rule in v["message"], v["message"]


@pytest.mark.parametrize("cell,rule", [("cors/values/allow-origin/upper-same-xhr", "cors-check/acao-mismatch"),
                                       ("cors/values/allow-origin/twolines-include-fetch", "cors-check/acao-mismatch"),
                                       ("cors/values/allow-credentials/comma-get-xhr", "cors-check/acac-not-true")])
def test_sharing_a_response_that_failed_the_cors_check_fails_with_the_rule(runner, matrix_cells, cell, rule):
    """A lenient client (one that reads ACAO or ACAC loosely) shows the response; the judge names the rule."""
    case = matrix_cells[cell]
    s = case["cors"][0]
    assert s["actual_sent"] and s["network_error"] and s["result"]["rule"] == rule
    r = Replay(runner, case)
    r.actual()
    r.summary = dict(s, network_error=False)       # the lenient client's reading
    v = r.judge(r.observations())
    assert v["status"] == "FAIL" and rule in v["message"], v["message"]


def test_unsorted_acrh_fails_with_the_rule(runner, matrix_cells):
    case = matrix_cells["cors/headers/twocustom-listed-same"]
    assert case["cors"][0]["acrh"] == "x-a,x-b"
    r = Replay(runner, case)
    r.preflight(acrh="x-b,x-a")
    r.actual()
    v = r.judge(r.observations())
    assert v["status"] == "FAIL" and "preflight/request" in v["message"], v["message"]
    assert "expected Access-Control-Request-Headers: x-a,x-b" in v["message"], v["message"]


def test_a_conforming_failed_preflight_run_never_reaches_the_actual_route(runner, matrix_cells):
    """Every failed-preflight cell of one matrix, replayed conformingly: PASS, and the transcript holds the
    OPTIONS request only; the actual route is scripted (the case has it) but never reached."""
    cells = [i for i in failed_preflight_cells(matrix_cells) if i.startswith("cors/method-origin/")]
    assert len(cells) >= 20
    for cell in cells:
        case = matrix_cells[cell]
        assert [rt["method"] for rt in case["server"]][0] == "OPTIONS" and len(case["server"]) == 2
        r = Replay(runner, case)
        v = r.judge(r.conforming())
        assert v["status"] == "PASS", f"{cell}: {v['message']}"
        assert r.transcript_requests() == [("OPTIONS", "/r")], cell


def test_generated_rules_cite_fetch_anchors(matrix_cells):
    case = matrix_cells["cors/method-origin/put-include-star-true"]
    gen = [e for e in case["expect"] if e["kind"] in ("request-count", "requests", "request-header", "events")]
    assert gen and all(re.match(r"https://(fetch|xhr)\.spec\.whatwg\.org/#", e["spec"]) for e in gen)
    count = [e for e in gen if e["kind"] == "request-count" and e["method"] == "PUT"][0]
    assert count["n"] == 0 and "cors-check/acao-star-credentials" in count["rule"]


def test_every_matrix_cell_replayed_conformingly_passes(runner, matrix_cells):
    """Beyond the sample: every cell, so no generated expectation contradicts what a conforming client does."""
    failures = []
    for cell, case in sorted(matrix_cells.items()):
        r = Replay(runner, case)
        v = r.judge(r.conforming())
        if v["status"] != "PASS":
            failures.append(f"{cell}: {v['status']}: {v['message'][:300]}")
    assert not failures, f"{len(failures)} of {len(matrix_cells)} cells:\n" + "\n".join(failures[:20])
