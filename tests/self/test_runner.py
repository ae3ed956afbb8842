"""Self-tests of `runner serve` (and check / list / judge): the real binary on loopback, raw sockets as clients.

They prove the server's promises: byte-exact scripted replies with nothing added, scripted timings measured
at the client socket, transcripts that show what was sent and when, the control protocol, hostile input
answered per protocol without disturbing other connections, and a clean shutdown.
"""
from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.harness import rawhttp
from tests.harness.server import ROOT, Runner, RunnerError, runner_path

CASES = Path(__file__).parent / "cases" / "server"


@pytest.fixture(scope="module")
def runner():
    r = Runner(cases=[CASES]).start()
    yield r
    assert r.stop() == 0, "runner serve did not exit cleanly:\n" + "".join(r.stderr_lines[-20:])


def token_for(runner, case="http/selftest/bytes"):
    return runner.program(case)["token"]


def host_of(runner, origin="A"):
    """The Host a request to an origin names (any other is refused: README, "Security")."""
    return runner.origins[origin].split("//", 1)[1]


def test_ready_line_names_three_loopback_origins(runner):
    o = runner.origins
    assert o["A"].startswith("http://localhost:") and o["B"].startswith("http://localhost:")
    assert o["C"].startswith("http://127.0.0.1:")
    assert len({o["A"], o["B"], o["C"]}) == 3
    assert runner.health()["cases"] == 2


def test_reply_is_exactly_the_scripted_bytes(runner):
    t = token_for(runner)
    ex = rawhttp.get(f"{runner.base}/c/{t}/weird", headers={"Origin": "http://o.example", "Connection": "close"})
    assert ex.data == (b"HTTP/1.1 599 Weird Reason\r\nX-Dup: a\r\nx-dup: b\r\nX-Echo-Origin: http://o.example\r\n"
                       b"Content-Length: 5\r\n\r\nhello")
    assert ex.end == "fin"


def test_chunks_as_scripted(runner):
    t = token_for(runner)
    ex = rawhttp.get(f"{runner.base}/c/{t}/chunked", until=b"0\r\n\r\n")
    assert ex.data.endswith(b"\r\n\r\n5\r\nhello\r\n3\r\n wo\r\n3\r\nrld\r\n0\r\n\r\n")


def test_truncation_then_reset(runner):
    t = token_for(runner)
    ex = rawhttp.get(f"{runner.base}/c/{t}/truncated")
    assert ex.data.endswith(b"\r\n\r\n0123456789") and ex.end == "rst"
    events = runner.transcript(t)["events"]
    close = [e for e in events if e["type"] == "conn-close"][-1]
    assert (close["by"], close["how"]) == ("server", "rst")


def test_wait_measured_at_the_client_socket(runner):
    t = token_for(runner)
    ex = rawhttp.get(f"{runner.base}/c/{t}/slow", until=b"\r\n\r\n")
    first = ex.chunks[0][0]
    assert 0.295 <= first < 0.45, f"first byte after {first * 1000:.1f} ms, scripted 300 ms"


def test_trickle_and_its_transcript(runner):
    t = token_for(runner)
    ex = rawhttp.get(f"{runner.base}/c/{t}/trickle", until=b"ijkl")
    assert ex.data.endswith(b"abcdefghijkl")
    sent = [e for e in runner.transcript(t)["events"] if e["type"] == "sent" and e.get("text") in ("abcd", "efgh", "ijkl")]
    assert [e["text"] for e in sent] == ["abcd", "efgh", "ijkl"]
    gaps = [(b["t_us"] - a["t_us"]) / 1000 for a, b in zip(sent, sent[1:])]
    assert all(95 <= g < 150 for g in gaps), gaps


def test_echo_and_request_record(runner):
    t = token_for(runner)
    ex = rawhttp.get(f"{runner.base}/c/{t}/echo", method="POST", body=b"a=1&b=2",
                     headers={"X-First": "1", "X-First ": "", "Connection": "close"})
    body = json.loads(ex.data.split(b"\r\n\r\n", 1)[1])
    assert body["method"] == "POST" and body["body_text"] == "a=1&b=2"
    req = [e for e in runner.transcript(t)["events"] if e["type"] == "request"][-1]
    assert req["path"] == "/echo" and req["body_size"] == 7 and req["headers"][1] == ["X-First", "1"]


def test_nth_request_and_keep_alive(runner):
    t = token_for(runner)
    raw = f"GET /c/{t}/n HTTP/1.1\r\nHost: {host_of(runner)}\r\n\r\n".encode()
    ex = rawhttp.request(runner.base, raw * 3, until=b"Other\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 Other")
    assert ex.data.count(b"HTTP/1.1 200 Other") == 2 and ex.data.count(b"HTTP/1.1 200 Second") == 1
    assert ex.data.index(b"Second") < ex.data.rindex(b"Other")


def test_unmatched_request_is_404_and_recorded(runner):
    t = token_for(runner)
    ex = rawhttp.get(f"{runner.base}/c/{t}/nothing", headers={"Connection": "close"})
    assert ex.data.startswith(b"HTTP/1.1 404 No Script\r\n")
    req = [e for e in runner.transcript(t)["events"] if e["type"] == "request"][-1]
    assert req["unmatched"] is True


def test_a_finished_case_releases_what_it_held(runner):
    """A complete keep-alive reply followed by `hold`: a browser may keep that connection for its next request,
    which would never be answered. Once the case's verdict is in, the server closes what the case still holds."""
    t = token_for(runner)
    s = rawhttp.connect(runner.base)
    t0 = time.monotonic()
    s.sendall(f"GET /c/{t}/held HTTP/1.1\r\nHost: {host_of(runner)}\r\n\r\n".encode())
    ex = rawhttp.read_all(s, t0, timeout=0.5)
    assert ex.data == b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" and ex.end is None  # held open
    runner.post_result(t, {"token": t, "events": [], "final": {"xhr": {"status": 599}}})
    ex = rawhttp.read_all(s, t0, timeout=3)
    assert ex.end == "fin"
    s.close()
    judged = runner.verdict(token=t, full=True)["transcript"]["events"]
    assert not [e for e in judged if e["type"] == "conn-close"], "the judged transcript is as it was judged"
    live = runner.transcript(t)["events"]
    assert [(e["by"], e["how"]) for e in live if e["type"] == "conn-close"] == [("server", "case-over")]


def test_program_fills_placeholders_and_scales(runner):
    p = runner.program("http/selftest/program")
    assert p["page"] == runner.origins["B"]
    step = [s for s in p["steps"] if s["op"] == "open"][0]
    assert step["url"] == f"{runner.origins['C']}/c/{p['token']}/x"
    assert p["deadline_ms"] == 4000 and p["settle_ms"] == 100
    assert p["result"].startswith(runner.origins["B"] + "/_h/result?token=")
    assert p["sandboxed"] is False and p["top_level"] is False


def test_program_of_a_sandboxed_page(tmp_path):
    """`page B sandboxed` (cases/FORMAT.md §2): the program says so (page.js then sandboxes the iframe), its page
    and result stay on B, and it needs page-opaque, which a library client lacks."""
    text = (CASES / "program.case").read_text().replace("case    http/selftest/program", "case    http/selftest/sandboxed")
    (tmp_path / "sandboxed.case").write_text(text.replace("page    B\n", "page    B sandboxed\n"))
    with Runner(cases=[tmp_path]) as r:
        p = r.program("http/selftest/sandboxed")
        assert p["sandboxed"] is True and p["top_level"] is False
        assert p["page"] == r.origins["B"] and p["result"].startswith(r.origins["B"] + "/_h/result?token=")
        assert p["page_url"].startswith(r.origins["B"] + "/_h/static/case.html?token=")
        assert "page-opaque" in p["needs"] and "page-b" in p["needs"]


def test_program_of_a_windows_1252_page(tmp_path):
    """`page B windows-1252` (cases/FORMAT.md §2): the case page is case.html on B asked for in windows-1252, and
    the program needs document, which a library client lacks; a plain page asks for no charset
    (test_program_of_a_sandboxed_page)."""
    text = (CASES / "program.case").read_text().replace("case    http/selftest/program", "case    http/selftest/w1252")
    (tmp_path / "w1252.case").write_text(text.replace("page    B\n", "page    B windows-1252\n"))
    with Runner(cases=[tmp_path]) as r:
        p = r.program("http/selftest/w1252")
        assert p["page_url"].startswith(r.origins["B"] + "/_h/static/case.html?charset=windows-1252&token=")
        assert p["sandboxed"] is False and "document" in p["needs"] and "page-b" in p["needs"]
    # The same bytes are read as UTF-8 or windows-1252: they must be ASCII, whose text is the same in both.
    assert (ROOT / "fixtures" / "case.html").read_bytes().isascii()


def test_time_scale_multiplies_every_duration():
    with Runner(cases=[CASES], time_scale=2.5) as r:
        p = r.program("http/selftest/program")
        assert [s["ms"] for s in p["steps"] if "ms" in s] == [625, 250]
        assert p["deadline_ms"] == 10000
        t = r.program("http/selftest/bytes")["token"]
        ex = rawhttp.get(f"{r.base}/c/{t}/slow", until=b"\r\n\r\n")
        assert 0.745 <= ex.chunks[0][0] < 0.95


@pytest.mark.parametrize("raw,status", [
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", b"414"),
    (b"GET /x HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n", b"431"),
    (b"GET /x HTTP/1.1\r\nX: " + b"y" * 40000 + b"\r\n\r\n", b"431"),
    (b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"400"),
    (b"GET /x HTTP/3.0\r\n\r\n", b"505"),
    (b"\x00\x01garbage\r\n\r\n", b"400"),
], ids=["long-target", "many-headers", "big-header", "bad-chunk", "bad-version", "garbage"])
def test_hostile_requests_get_the_protocols_answer(runner, raw, status):
    ex = rawhttp.request(runner.base, raw)
    assert ex.data.startswith(b"HTTP/1.1 " + status), ex.data[:60]
    assert ex.end == "fin"
    assert runner.health()["ok"]


def test_a_slow_client_does_not_stall_others(runner):
    """A slowloris connection (head never finished) is answered 408 later; meanwhile others are served."""
    s = rawhttp.connect(runner.base)
    s.sendall(b"GET /_h/health HTTP/1.1\r\nX-Slow: ")
    t0 = time.monotonic()
    for _ in range(20):
        assert runner.health()["ok"]
    assert time.monotonic() - t0 < 2
    s.close()


def test_path_traversal_refused(runner):
    for path in ("/_h/static/../runner.c", "/_h/static/%2e%2e/runner.c", "/_h/static//etc/passwd"):
        ex = rawhttp.get(runner.base + path, headers={"Connection": "close"})
        assert ex.data.startswith(b"HTTP/1.1 404"), path
    ex = rawhttp.get(runner.base + "/_h/static/PROTOCOL.md", headers={"Connection": "close"})
    assert ex.data.startswith(b"HTTP/1.1 200") and b"The control protocol" in ex.data


def test_fixtures_are_cacheable_only_as_validated(runner):
    """Case pages load the interpreter every time: the runner lets the browser keep it but ask first (no-cache and
    a strong ETag: RFC 9111 §5.2.2.4), and answers a matching If-None-Match with 304, no content, and the 200's
    Content-Length (RFC 9110 §13.1.2, §8.6); another tag gets the file."""
    import hashlib
    js = (ROOT / "fixtures" / "client.js").read_bytes()
    ok = rawhttp.get(runner.base + "/_h/static/client.js", headers={"Connection": "close"})
    head, _, body = ok.data.partition(b"\r\n\r\n")
    etag = '"' + hashlib.sha256(js).hexdigest()[:32] + '"'
    assert head.startswith(b"HTTP/1.1 200") and body == js
    assert b"\r\nCache-Control: no-cache\r\n" in head and f"\r\nETag: {etag}\r\n".encode() in head, head
    same = rawhttp.get(runner.base + "/_h/static/client.js", headers={"Connection": "close", "If-None-Match": etag})
    head, _, body = same.data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 304 Not Modified") and body == b"", same.data[:300]
    assert f"\r\nContent-Length: {len(js)}\r\n".encode() in head and f"ETag: {etag}".encode() in head
    other = rawhttp.get(runner.base + "/_h/static/client.js", headers={"Connection": "close", "If-None-Match": '"0"'})
    assert other.data.startswith(b"HTTP/1.1 200") and other.data.endswith(js)


def test_result_is_judged_and_cancel_keeps_the_first_verdict(runner):
    p = runner.program("http/selftest/bytes")
    obs = {"token": p["token"], "client": {"name": "selftest"}, "events": [],
           "final": {"xhr": {"readyState": 4, "status": 599}}}
    assert runner.post_result(p["token"], obs)["status"] == "PASS"
    assert runner.cancel(p["token"], "TIMEOUT", "late")["status"] == "PASS"
    p2 = runner.program("http/selftest/bytes")
    runner.cancel(p2["token"], "CRASH", "the client died")
    v = runner.verdict(token=p2["token"])
    assert (v["status"], v["message"]) == ("CRASH", "the client died")
    obs["final"]["xhr"]["status"] = 200
    p3 = runner.program("http/selftest/bytes")
    v = runner.post_result(p3["token"], dict(obs, token=p3["token"]))
    assert v["status"] == "FAIL"
    full = runner.verdict(token=p3["token"], full=True)
    assert full["checks"][0]["observed"] == "status=200" and "transcript" in full and "vars" in full


def test_runs_hand_out_cases_in_order_then_done(runner):
    run = runner.new_run("selftest", ["http/selftest/program", "http/selftest/bytes"], concurrency=1)
    runner.close_run(run)
    first = runner.next(run)
    assert first["case"] == "http/selftest/program"
    assert runner.verdict(run=run, case="http/selftest/bytes")["issued"] is False
    runner.cancel(first["token"], "NOTRUN", "skipped by the test")
    second = runner.next(run)
    assert second["case"] == "http/selftest/bytes"
    runner.cancel(second["token"], "NOTRUN", "skipped by the test")
    assert runner.next(run) == {"done": True}
    with pytest.raises(RunnerError, match="unknown case id"):
        runner.new_run("selftest", ["http/nope"])


def held_back(r: Runner, run: str, blocker: dict, why: str) -> dict:
    """Asks for the run's next case while `blocker` is in flight: it must not come (0.4 s), then, once the
    blocker is cancelled, it does. Returns that case's program."""
    box: dict = {}
    th = threading.Thread(target=lambda: box.update(r.next(run)))
    th.start()
    time.sleep(0.4)
    assert not box, why
    r.cancel(blocker["token"], "NOTRUN", "done")
    th.join(5)
    return dict(box)


def test_a_timing_case_waits_for_the_floor():
    """A case tagged `timing` is handed out only when no ordinary case is in flight, and none starts beside it."""
    cases = CASES.parent / "timing"
    with Runner(cases=[CASES, cases]) as r:
        run = r.new_run("selftest", ["http/selftest/bytes", "http/selftest/timing"], concurrency=4)
        r.close_run(run)
        first = r.next(run)
        later = held_back(r, run, first, "the timing case was handed out while another case was in flight")
        assert later.get("case") == "http/selftest/timing"


def test_timing_cases_share_as_far_as_their_precision_allows():
    """Timing cases may run beside each other (never beside an ordinary case): one whose reply waits 1 s joins
    the untimed one at once; one whose reply waits 20 ms (closer than one other case may disturb: 50 ms) goes
    first and alone, and the others wait for its verdict (harness/server/runs.c)."""
    cases = CASES.parent / "timing"
    with Runner(cases=[CASES, cases]) as r:
        run = r.new_run("selftest", ["http/selftest/timing", "http/selftest/timing-loose",
                                     "http/selftest/timing-tight", "http/selftest/bytes"], concurrency=4)
        r.close_run(run)
        tight = r.next(run)
        assert tight["case"] == "http/selftest/timing-tight"  # tightest first
        first = held_back(r, run, tight, "a timing case joined one of 20 ms precision")
        second = r.next(run)  # answered at once: both allow two in flight
        assert {first["case"], second["case"]} == {"http/selftest/timing", "http/selftest/timing-loose"}
        box: dict = {}
        th = threading.Thread(target=lambda: box.update(r.next(run)))
        th.start()
        time.sleep(0.4)
        assert not box, "an ordinary case started beside timing cases"
        r.cancel(first["token"], "NOTRUN", "done")
        time.sleep(0.2)
        assert not box, "an ordinary case started beside a timing case"
        r.cancel(second["token"], "NOTRUN", "done")
        th.join(5)
        assert box.get("case") == "http/selftest/bytes"


def test_check_reports_file_line_col(tmp_path):
    bad = tmp_path / "bad.case"
    bad.write_text("case xhr/x\ntitle t\nspec http://s\nserver GET /x\n  wiat 2s\nclient xhr\n  send\n"
                   "expect client\n  final status=0\n")
    p = subprocess.run([str(runner_path()), "check", str(bad)], capture_output=True, text=True)
    assert p.returncode == 2
    assert f"{bad}:5:3:" in p.stderr and "wiat" in p.stderr


def test_serve_refuses_bad_cases(tmp_path):
    bad = tmp_path / "bad.case"
    bad.write_text("case xhr/x\n")
    p = subprocess.run([str(runner_path()), "serve", "--cases", str(bad)], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "bad.case:" in p.stderr


@pytest.mark.parametrize("args, why", [
    (["--listen", "127.0.0.2"], "go together"),
    (["--host-a", "a.test", "--host-c", "c.test"], "go together"),
    (["--listen", "127.0.0.2", "--host-a", "a.test", "--host-c", "A.TEST"], "must differ"),
    (["--listen", "127.0.0.2", "--host-a", "a_b.test", "--host-c", "c.test"], "host names"),
    (["--listen", "127.0.0.2", "--host-a", "a.test.", "--host-c", "c.test"], "host names"),
    (["--listen", "no-address", "--host-a", "a.test", "--host-c", "c.test"], "cannot listen on no-address"),
], ids=["listen-alone", "names-alone", "same-name", "underscore", "trailing-dot", "not-an-address"])
def test_serve_refuses_bad_remote_options(args, why):
    """--listen ADDR --host-a NAME --host-c NAME (README, "Remote browsers"): all three, two distinct host names,
    an address literal; otherwise a clear error and nothing served."""
    p = subprocess.run([str(runner_path()), "serve", "--cases", str(CASES), *args], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode != 0 and why in p.stderr and not p.stdout


def test_judge_rejudges_a_recorded_verdict(runner, tmp_path):
    p = runner.program("http/selftest/bytes")
    runner.post_result(p["token"], {"token": p["token"], "events": [], "final": {"xhr": {"status": 599}}})
    rec = runner.verdict(token=p["token"], full=True)
    f = tmp_path / "rec.jsonl"
    f.write_text(json.dumps(rec) + "\n" + '{"case": "http/selftest/by')  # a truncated last line
    out = subprocess.run([str(runner_path()), "judge", "--cases", str(CASES), str(f)], capture_output=True,
                         text=True)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [v["status"] for v in lines] == ["PASS"]
    assert out.returncode == 1 and "not a JSON object" in out.stderr


def test_quit_shuts_down_cleanly():
    r = Runner(cases=[CASES]).start()
    s = rawhttp.connect(r.base)  # an idle connection must not keep it alive
    r.call("GET", "/_h/quit")
    r.proc.wait(5)
    assert r.proc.returncode == 0
    s.close()
    r.stop()
