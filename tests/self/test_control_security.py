"""Self-tests of the runner's security model (README, "Security"): the real binary on loopback, raw sockets.

A web page elsewhere can make a browser connect to our ports (DNS rebinding: a name of its own that resolves to
127.0.0.1) and send simple requests to them (a form, an <img>, a fetch without CORS). These tests play that
page: every request that names another Host is refused, every request that would change the run's state without
the run's secret or a page of the run is refused, no reply lets another origin read it, and the server carries
on serving the run after each refusal.
"""
from __future__ import annotations

import json
import re

import pytest

from tests.harness import rawhttp
from tests.harness.server import Runner

from .test_runner import CASES, host_of, token_for


@pytest.fixture(scope="module")
def runner():
    r = Runner(cases=[CASES]).start()
    yield r
    assert r.stop() == 0, "runner serve did not exit cleanly:\n" + "".join(r.stderr_lines[-20:])


def send(runner, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"", origin: str = "A"):
    """One request with exactly these header lines (Host included when the test gives it); the status code,
    the header lines and the body of the reply, which must end with FIN or stay open (keep-alive)."""
    lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    ex = rawhttp.request(runner.origins[origin], raw, timeout=3, until=None)
    head, _, payload = ex.data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", status_line)
    assert m, f"{method} {path}: no status line in {ex.data[:200]!r}"
    return int(m.group(1)), [tuple(x.split(": ", 1)) for x in header_lines], payload, ex.end


def header(headers, name):
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def assert_alive(runner):
    assert runner.health()["ok"] is True


# -- the Host --------------------------------------------------------------------------------------------------

FOREIGN_PATHS = ["/_h/health", "/_h/cases", "/_h/vocabulary", "/_h/stray", "/_h/static/page.html", "/_h/quit",
                 "/favicon.ico", "/", "/c/{token}/weird"]


@pytest.mark.parametrize("path", FOREIGN_PATHS)
@pytest.mark.parametrize("host", ["rebind.example:{port}", "rebind.example", "127.0.0.1:{port}", "[::1]:{port}",
                                  "localhost:1"])
def test_a_host_that_is_not_the_runs_is_refused(runner, path, host):
    """DNS rebinding: the page's own name (or our address under a name that is not the origin's) in Host gets
    421 and a JSON error, for control and case URLs alike, and the connection closes."""
    port = runner.ready["ports"]["A"]
    host = host.format(port=port)
    status, headers, body, end = send(runner, "GET", path.format(token=token_for(runner)), [("Host", host)])
    assert status == 421
    assert header(headers, "Content-Type") == "application/json"
    assert "not one of this run's origins" in json.loads(body)["error"]
    assert header(headers, "Access-Control-Allow-Origin") is None
    assert end == "fin"
    assert_alive(runner)


def test_refused_requests_are_remembered_as_strays(runner):
    send(runner, "GET", "/_h/cases", [("Host", "stray-rebind.example")])
    strays = runner.call("GET", "/_h/stray")
    assert any(s["why"] == "Host is not one of the run's origins" and s["target"] == "/_h/cases" for s in strays)


@pytest.mark.parametrize("hosts", [[], ["{host}", "{host}"]])
def test_a_request_needs_exactly_one_host(runner, hosts):
    """RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request
    message that lacks a Host header field and to any request message that contains more than one Host header
    field line"."""
    status, _, body, end = send(runner, "GET", "/_h/health", [("Host", h.format(host=host_of(runner))) for h in hosts])
    assert status == 400 and "exactly one Host header" in json.loads(body)["error"] and end == "fin"


@pytest.mark.parametrize("origin", ["A", "B", "C"])
def test_each_origin_answers_under_its_own_host(runner, origin):
    status, _, body, _ = send(runner, "GET", "/_h/health", [("Host", host_of(runner, origin)), ("Connection", "close")],
                              origin=origin)
    assert status == 200 and json.loads(body)["ok"] is True


def test_the_host_name_is_case_insensitive(runner):
    status, _, _, _ = send(runner, "GET", "/_h/health", [("Host", host_of(runner).upper()), ("Connection", "close")])
    assert status == 200


# -- the secret ------------------------------------------------------------------------------------------------

def test_the_secret_is_in_the_ready_line_and_new_each_run(runner):
    assert re.fullmatch(r"[0-9a-f]{64}", runner.secret)
    with Runner(cases=[CASES]) as other:
        assert re.fullmatch(r"[0-9a-f]{64}", other.secret) and other.secret != runner.secret


def state_changes(runner):
    """Every endpoint that changes the run's state, with a request that would otherwise succeed."""
    run = runner.new_run("sec", cases=["http/selftest/bytes"])
    token = token_for(runner)
    return [
        ("POST", "/_h/runs", b'{"client": "evil", "polyfill": "window.XMLHttpRequest = null"}'),
        ("POST", f"/_h/runs/{run}/cases", b'{"cases": ["http/selftest/bytes"]}'),
        ("POST", f"/_h/runs/{run}/close", b"{}"),
        ("GET", f"/_h/next?run={run}", b""),
        ("GET", "/_h/program?case=http%2Fselftest%2Fbytes", b""),
        ("POST", f"/_h/result?token={token}", b'{"events": [], "final": {}}'),
        ("POST", f"/_h/cancel?token={token}", b'{"status": "ERROR", "message": "cancelled by a stranger"}'),
        ("GET", "/_h/quit", b""),
        ("POST", "/_h/quit", b""),
    ]


@pytest.mark.parametrize("credentials", [[], [("X-Harness-Secret", "0" * 64)], [("X-Harness-Secret", "")],
                                         [("Origin", "http://rebind.example")], [("Origin", "null")],
                                         [("Origin", "http://localhost:1")]])
def test_state_changes_without_the_secret_are_refused(runner, credentials):
    """A page elsewhere can send these (a form posts text/plain, an <img> GETs) but has neither the secret nor
    an Origin of the run: 403, nothing changes, the server carries on."""
    for method, path, body in state_changes(runner):
        token = path.split("token=")[1] if "token=" in path else None
        status, headers, payload, _ = send(runner, method, path, [("Host", host_of(runner)), *credentials,
                                                                 ("Connection", "close")], body)
        assert status == 403, f"{method} {path} with {credentials}: {status} {payload[:200]!r}"
        assert "needs the run's secret" in json.loads(payload)["error"]
        assert header(headers, "Access-Control-Allow-Origin") is None
        if token:
            assert runner.verdict(token=token)["status"] == "PENDING", "a refused request changed a verdict"
    assert_alive(runner)


def test_state_changes_with_the_secret_or_from_a_page_of_the_run(runner):
    """The secret (pytest, adapters: CH_SECRET; the browser page: its URL), or an Origin of the run (a case page
    posting its observations) is enough."""
    for creds in ([("X-Harness-Secret", runner.secret)], [("Origin", runner.origins["B"])]):
        status, _, payload, _ = send(runner, "POST", "/_h/runs", [("Host", host_of(runner)), *creds,
                                                                 ("Connection", "close")], b'{"client": "c"}')
        assert status == 200 and json.loads(payload)["run"].startswith("r"), payload


def test_reading_needs_no_secret(runner):
    t = token_for(runner)
    for path in ("/_h/health", "/_h/cases", "/_h/vocabulary", f"/_h/verdict?token={t}", f"/_h/transcript?token={t}",
                 "/_h/stray"):
        status, _, _, _ = send(runner, "GET", path, [("Host", host_of(runner)), ("Connection", "close")])
        assert status == 200, path


# -- CORS ------------------------------------------------------------------------------------------------------

def test_no_reply_grants_another_site(runner):
    t = token_for(runner)
    for method, path, body in [("GET", "/_h/health", b""), ("GET", "/_h/cases", b""), ("GET", "/_h/vocabulary", b""),
                               ("GET", f"/_h/transcript?token={t}", b""), ("GET", "/_h/static/page.html", b""),
                               ("POST", f"/_h/result?token={t}", b"{}")]:
        status, headers, _, _ = send(runner, method, path, [("Host", host_of(runner)), ("Origin", "http://rebind.example"),
                                                           ("X-Harness-Secret", runner.secret), ("Connection", "close")],
                                     body)
        assert header(headers, "Access-Control-Allow-Origin") is None, f"{path} ({status}) grants another site"


def test_a_page_of_the_run_may_read_its_posted_result(runner):
    """The harness page on A posts a case's observations to the case's page origin (B): that answer, and only
    that one, is readable by a page of another of the run's origins."""
    t = runner.program("http/selftest/bytes")["token"]
    a = runner.origins["A"]
    status, headers, _, _ = send(runner, "OPTIONS", f"/_h/result?token={t}",
                                 [("Host", host_of(runner, "B")), ("Origin", a),
                                  ("Access-Control-Request-Method", "POST"), ("Connection", "close")], origin="B")
    assert status == 204 and header(headers, "Access-Control-Allow-Origin") == a
    status, headers, payload, _ = send(runner, "POST", f"/_h/result?token={t}",
                                       [("Host", host_of(runner, "B")), ("Origin", a), ("Connection", "close")],
                                       b'{"events": [], "final": {}}', origin="B")
    assert status == 200 and json.loads(payload)["ok"] is True
    assert header(headers, "Access-Control-Allow-Origin") == a and header(headers, "Vary") == "Origin"
    status, headers, _, _ = send(runner, "OPTIONS", "/_h/result", [("Host", host_of(runner)),
                                                                  ("Origin", "http://rebind.example"),
                                                                  ("Connection", "close")])
    assert status == 403 and header(headers, "Access-Control-Allow-Origin") is None
    status, headers, _, _ = send(runner, "OPTIONS", "/_h/quit", [("Host", host_of(runner)), ("Origin", a),
                                                                ("Connection", "close")])
    assert status == 403 and header(headers, "Access-Control-Allow-Origin") is None
