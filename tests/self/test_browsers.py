"""Self-tests of tests/harness/browsers: every engine through the same small interface.

Per engine (select with ``-k chromium`` etc.): one shared browser for the
read-only checks, one more launch for the crash check. A tiny http.server on
127.0.0.1 serves a page that POSTs a token back, so "the page ran" is seen by
the server, not only by the browser.

    /usr/bin/python3 -m pytest -p no:cacheprovider tests/self/test_browsers.py
"""

import http.server
import os
import re
import signal
import threading
import time
import uuid

import pytest

from tests.harness import browsers
from tests.harness.browsers import procs
from tests.harness.browsers.webdriver import WebDriverHTTP

CHROMEDRIVER = "/usr/bin/chromedriver"


def _engine(name):
    return pytest.param(name, id=name, marks=[pytest.mark.browser(name),
                                              pytest.mark.xdist_group(f"browser-{name}")])


ENGINES = [_engine(n) for n in browsers.ENGINES]


# -- a page server that hears back from the page -------------------------------------

PAGE = """<!doctype html><meta charset="utf-8"><title>probe {token}</title>
<script>
console.error("deliberate-load-{token}");
fetch("/report", {{method: "POST", body: "value-{token}"}});
</script>
"""


class PageServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.reports = []
        self.cond = threading.Condition()
        self.stop = threading.Event()

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def wait_report(self, body, timeout=10.0):
        with self.cond:
            return self.cond.wait_for(lambda: body in self.reports, timeout)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body=b"", ctype="text/html; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        m = re.fullmatch(r"/page/([0-9a-f]+)", self.path)
        if m:
            self._send(200, PAGE.format(token=m.group(1)).encode())
        elif self.path.startswith("/framed/"):      # /framed/<token>?<cross-site frame URL>
            token, _, src = self.path[len("/framed/"):].partition("?")
            self._send(200, f'<!doctype html><iframe src="{src}/frame/{token}"></iframe>'.encode())
        elif self.path.startswith("/endless/"):     # a document whose body never ends
            token = self.path[len("/endless/"):]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(f'<!doctype html><title>endless</title><!-- {"x" * 2048} --><script>'
                             f'fetch("/report", {{method: "POST", body: "endless-{token}"}});'
                             f'</script>'.encode())
            self.wfile.flush()
            self.server.stop.wait(30)              # until the browser leaves or the server stops
            self.close_connection = True
        elif self.path.startswith("/alone/"):       # says whether it has an opener (open_page: it must not)
            token = self.path[len("/alone/"):]
            self._send(200, f'<!doctype html><script>fetch("/report", {{method: "POST", body: "alone-{token}-" + '
                            f'(window.opener === null)}}); setTimeout(() => console.error("second-page-{token}"), '
                            f'300);</script>'.encode())
        elif self.path.startswith("/frame/"):
            token = self.path[len("/frame/"):]
            self._send(200, f'<!doctype html><script>console.error("in-frame-{token}");'
                            f'fetch("/report", {{method: "POST", body: "frame-{token}"}});</script>'.encode())
        elif self.path == "/blank":
            self._send(200, b"<!doctype html><title>blank</title>")
        else:
            self._send(404 if self.path != "/favicon.ico" else 204)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with self.server.cond:
            self.server.reports.append(body)
            self.server.cond.notify_all()
        self._send(204)


@pytest.fixture(scope="module")
def server():
    srv = PageServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.stop.set()
    srv.shutdown()
    srv.server_close()
    thread.join(5)


# -- launching ----------------------------------------------------------------------

class _Chromedriver:
    """A local chromedriver standing in for a remote WebDriver endpoint."""

    def __init__(self, tmp_path_factory):
        port = procs.free_port()
        # Chromium would write ~/.config/chromium/Crash Reports and ~/.cache/dconf.
        home = tmp_path_factory.mktemp("chromedriver-xdg")
        env = dict(os.environ, XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"))
        self.group = procs.ProcGroup([CHROMEDRIVER, f"--port={port}"], name="chromedriver", env=env)
        self.url = f"http://127.0.0.1:{port}"
        if not WebDriverHTTP(self.url).wait_ready(15, self.group.leader_running):
            self.group.stop()
            pytest.fail("chromedriver did not become ready")

    def launch(self, tmp_path_factory):
        profile = str(tmp_path_factory.mktemp("chromedriver-profile"))
        return browsers.launch("webdriver", webdriver_url=self.url, profile_dir=profile,
                               capabilities=browsers.chromium_capabilities(profile))


def _skip_if_missing(name):
    if name == "webdriver":
        missing = [p for p in (CHROMEDRIVER, "/usr/bin/chromium") if not os.access(p, os.X_OK)]
        if missing:
            pytest.skip(f"webdriver mode is tested with chromedriver: {missing[0]} not found")
    else:
        reason = browsers.available(name)
        if reason:
            pytest.skip(reason)


def _launch(name, tmp_path_factory):
    """(browser, chromedriver or None): the browser, and the driver standing in for a grid."""
    _skip_if_missing(name)
    if name == "webdriver":
        driver = _Chromedriver(tmp_path_factory)
        try:
            return driver.launch(tmp_path_factory), driver
        except BaseException:
            driver.group.stop()
            raise
    return browsers.launch(name), None


@pytest.fixture(scope="module", params=ENGINES)
def browser(request, server, tmp_path_factory):
    b, driver = _launch(request.param, tmp_path_factory)
    try:
        b.warm_up(server.origin + "/blank")
        yield b
    finally:
        b.close()
        if driver:
            driver.group.stop()
    assert not b.pids(), f"{b.name}: processes left after close: {b.pids()}"


def _token():
    return uuid.uuid4().hex[:12]


def _wait_console(b, needle, timeout=5.0):
    return procs.wait_until(lambda: any(needle in e for e in b.console_errors()), timeout, 0.05)


# -- the tests --------------------------------------------------------------------------

def test_version(browser):
    assert browser.name in browsers.ENGINES
    assert re.fullmatch(r"\d+(\.\d+)+\w*", browser.version), browser.version


def test_navigate_page_posts_back(browser, server):
    token = _token()
    browser.navigate(f"{server.origin}/page/{token}")
    assert server.wait_report(f"value-{token}"), f"server got {server.reports}"
    assert browser.evaluate("location.pathname") == f"/page/{token}"


def test_navigate_does_not_wait_for_the_load_event(browser, server):
    """Comet pages (a forever iframe, a streaming document) never finish loading."""
    token = _token()
    start = time.monotonic()
    browser.navigate(f"{server.origin}/endless/{token}", timeout=20)
    assert time.monotonic() - start < 5
    assert server.wait_report(f"endless-{token}")
    assert browser.evaluate("document.readyState") == "loading"
    browser.navigate(f"{server.origin}/blank")


def test_open_page_opens_an_unrelated_page_and_commands_stay_on_the_first(browser, server):
    """--pages (tests/harness/clients.py): a second harness page runs its own loop, and evaluate still reads the
    first page, which the session watches."""
    first, second = _token(), _token()
    browser.navigate(f"{server.origin}/page/{first}")
    assert server.wait_report(f"value-{first}")
    browser.open_page(f"{server.origin}/alone/{second}")
    assert server.wait_report(f"alone-{second}-true"), f"server got {server.reports}"
    assert browser.evaluate("location.pathname") == f"/page/{first}"
    assert browser.alive()
    assert _wait_console(browser, f"second-page-{second}"), browser.console_errors()   # a case's errors show there


def test_evaluate_json_and_promises(browser):
    assert browser.evaluate("1 + 1") == 2
    assert browser.evaluate("({a: [1, 'x', null, true]})") == {"a": [1, "x", None, True]}
    assert browser.evaluate("new Promise(r => setTimeout(() => r('later'), 50))") == "later"
    assert browser.evaluate("undefined") is None
    with pytest.raises(browsers.JavaScriptError):
        browser.evaluate("no_such_variable_anywhere")
    with pytest.raises(browsers.JavaScriptError):
        browser.evaluate("Promise.reject(new Error('nope'))")


def test_console_errors(browser, server):
    token = _token()
    browser.navigate(f"{server.origin}/page/{token}")
    assert server.wait_report(f"value-{token}")
    browser.evaluate(f"setTimeout(() => console.error('deliberate-later-{token}'), 0), "
                     f"setTimeout(() => {{ throw new Error('uncaught-{token}'); }}, 0), 1")
    assert _wait_console(browser, f"deliberate-later-{token}"), browser.console_errors()
    assert _wait_console(browser, f"uncaught-{token}"), browser.console_errors()
    # An injected hook arrives once navigate() has seen the new document: a
    # console.error run while the page was parsing is usually missed then
    # (documented in webdriver.py). The protocols see it always.
    if browser.console_source != "injected":
        assert any(f"deliberate-load-{token}" in e for e in browser.console_errors()), \
            browser.console_errors()


def test_console_errors_of_a_cross_site_iframe(browser, server):
    """The harness runs cases in iframes, some on another site (origin C):
    Chromium puts those in a process and a CDP target of their own."""
    token = _token()
    other_site = server.origin.replace("127.0.0.1", "localhost")
    browser.navigate(f"{server.origin}/framed/{token}?{other_site}")
    assert server.wait_report(f"frame-{token}"), "the iframe never ran"
    if browser.console_source == "injected":
        pytest.skip("the injected hook sees the top window only (documented in webdriver.py)")
    if browser.console_source == "webdriver-log":
        pytest.skip("chromedriver's browser log has same-origin iframes but not cross-site "
                    "(out-of-process) ones (documented in webdriver.py)")
    assert _wait_console(browser, f"in-frame-{token}"), browser.console_errors()


def test_navigation_error(browser):
    with pytest.raises(browsers.NavigationError):
        browser.navigate(f"http://127.0.0.1:{procs.free_port()}/refused")


def test_close_is_graceful_and_clean(browser):
    pids, profile = browser.pids(), browser.profile_dir
    assert browser.alive()
    browser.close()
    assert not browser.alive()
    assert not browser.pids(), f"left running: {browser.pids()} (were {pids})"
    if profile:
        assert not os.path.exists(profile)
    browser.close()                                  # idempotent
    with pytest.raises(browsers.BrowserGone):
        browser.evaluate("1")


@pytest.mark.parametrize("name", ENGINES)
def test_killed_browser_is_noticed_and_cleaned(name, tmp_path_factory):
    b, driver = _launch(name, tmp_path_factory)
    try:
        assert b.alive()
        # The browser's own process group: for webdriver mode, the chromedriver
        # this test started (Chromium runs in its group).
        group = driver.group if driver else b.groups[0]
        pids = group.members()
        assert pids
        os.killpg(group.pgid, signal.SIGKILL)
        start = time.monotonic()
        assert procs.wait_until(lambda: not b.alive(), 5.0, 0.05), "alive() still True 5 s after the kill"
        assert time.monotonic() - start < 5.0
        with pytest.raises(browsers.BrowserError):
            b.evaluate("1")
    finally:
        b.close()
        if driver:
            driver.group.stop()
    assert not group.members(), f"left running: {group.members()}"
    assert not b.pids()
    if b.profile_dir:
        assert not os.path.exists(b.profile_dir)


@pytest.mark.browser("chromium")
def test_given_profile_dir_and_log(tmp_path):
    _skip_if_missing("chromium")
    profile, logfile = tmp_path / "profile", tmp_path / "chromium.log"
    b = browsers.launch("chromium", profile_dir=profile, log=logfile)
    try:
        assert b.profile_dir == str(profile) and profile.is_dir()
        assert any(profile.iterdir())
    finally:
        b.close()
    assert not profile.exists()
    assert "DevTools listening on" in logfile.read_text()     # the caller's log is kept


@pytest.mark.browser("webkit")
def test_webkit_on_a_given_display(tmp_path):
    _skip_if_missing("webkit")
    read_fd, write_fd = os.pipe()
    xvfb = procs.ProcGroup([browsers.webkit.XVFB, "-displayfd", str(write_fd), "-nolisten", "tcp"],
                           name="xvfb", pass_fds=(write_fd,))
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as f:
            display = ":" + f.readline().strip()
        with browsers.launch("webkit", display=display) as b:
            assert [g.name for g in b.groups] == ["WebKitWebDriver"]     # no X server of its own
            assert b.evaluate("1 + 2") == 3
        assert xvfb.leader_running()                                     # not ours to stop
    finally:
        xvfb.stop()


_ORPHAN_SCRIPT = """
import sys, time
from tests.harness import browsers
b = browsers.launch("chromium")
print(b.pgid, b.profile_dir, flush=True)
if sys.argv[1] == "exit":
    sys.exit(0)            # no close(): the atexit net must clean up
time.sleep(60)             # killed by SIGTERM: the signal handler must clean up
"""


@pytest.mark.browser("chromium")
@pytest.mark.parametrize("how", ["exit", "sigterm"])
def test_safety_net_when_close_is_never_called(how):
    import subprocess
    import sys
    _skip_if_missing("chromium")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # python3 -c from the repository's root: `tests` imports from there (sys.path[0] is the working directory)
    proc = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT, how], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        pgid, profile = proc.stdout.readline().split()
        assert procs.group_members(int(pgid))
        if how == "sigterm":
            proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == (0 if how == "exit" else -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert not procs.group_members(int(pgid))
    assert not os.path.exists(profile)
