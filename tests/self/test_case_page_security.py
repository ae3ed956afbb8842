"""The case page against a page on another site (README, "Security"): a real browser, the real runner.

The attack: a page on another origin frames (or opens) the runner's `/_h/static/case.html?token=x` on origin A and,
when it says "ready", posts it a program whose result URL is `<A>/_h/quit`. If the case page ran it, its POST of
the observations would carry `Origin` A, which the control API takes in place of the run's secret, and the runner
would stop. The case page must take a program only from the run's harness page (its origin A, read from its own
server), and the runner's static pages may be framed only by A (Content-Security-Policy: frame-ancestors).
"""
from __future__ import annotations

import http.server
import threading
import time

import pytest

from tests.harness import browsers, rawhttp
from tests.harness.server import Runner

from .test_runner import CASES

ATTACK = """<!doctype html><title>elsewhere</title><script>
const target = {case_url};
const evil = {{ch: 'ch-harness', type: 'run', token: 'x', polyfill: '', client: {{}}, vocabulary: null,
  program: {{case: 'x', token: 'x', result: {quit!r}, page: {a!r}, steps: [], objects: {{}}, deadline_ms: 100,
             settle_ms: 0}}}};
let w = {how} === 'frame' ? (() => {{ const f = document.createElement('iframe'); f.src = target;
  document.body.appendChild(f); return f.contentWindow; }})() : window.open(target);
addEventListener('message', (ev) => {{ if (ev.data && ev.data.type === 'ready') w.postMessage(evil, '*'); }});
</script>"""


class _Elsewhere(http.server.ThreadingHTTPServer):
    """A page on another site: http://127.0.0.1:PORT, an origin the runner does not serve."""

    def __init__(self, page: str):
        self.page = page.encode()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/attack"


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.server.page)))
        self.end_headers()
        self.wfile.write(self.server.page)


@pytest.mark.parametrize("engine", ["chromium", "firefox"])
@pytest.mark.parametrize("how", ["open", "frame"])
def test_a_page_elsewhere_cannot_hand_the_case_page_a_program(engine, how):
    if browsers.available(engine):
        pytest.skip(browsers.available(engine))
    runner = Runner(cases=[CASES]).start()
    a = runner.origins["A"]
    page = ATTACK.format(case_url=repr(f"{a}/_h/static/case.html?token=x"), quit=f"{a}/_h/quit", a=a,
                         how=repr(how))
    site = _Elsewhere(page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    b = browsers.launch(engine)
    try:
        b.warm_up(a + "/_h/health")
        b.navigate(site.url)
        time.sleep(4)  # the case page loads, says ready, gets the program; a run one would POST within a second
        assert runner.proc.poll() is None, f"{engine} ({how}): the case page ran a foreign page's program: the runner quit"
        assert runner.health()["ok"]
    finally:
        b.close()
        site.shutdown()
        runner.stop()


def test_the_static_pages_may_be_framed_only_by_origin_a():
    runner = Runner(cases=[CASES]).start()
    try:
        a = runner.origins["A"]
        for page, charset in (("case.html", "utf-8"), ("page.html", "utf-8"),
                              ("case.html?charset=windows-1252", "windows-1252"),
                              ("client.js?charset=windows-1252", None), ("case.html?charset=koi8-r", "utf-8")):
            ex = rawhttp.get(f"{runner.origins['B']}/_h/static/{page}")
            head = ex.data.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
            if charset is None:  # charset= changes HTML fixtures only
                assert "content-type: text/javascript; charset=utf-8\r\n" in head + "\r\n", head
                continue
            assert f"content-security-policy: frame-ancestors {a}".lower() in head, head
            # case.html?charset=windows-1252 is the case page of `page X windows-1252` (cases/FORMAT.md §2): its
            # HTTP charset decides the document's encoding; no other charset is taken.
            assert f"content-type: text/html; charset={charset}\r\n" in head + "\r\n", head
        ex = rawhttp.get(f"{a}/_h/static/client.js")
        assert b"frame-ancestors" not in ex.data.partition(b"\r\n\r\n")[0]
    finally:
        runner.stop()
