"""W3C WebDriver (classic, HTTP) with urllib: any endpoint, WebKitWebDriver, chromedriver, a Grid.

Every request carries a client timeout: a WebKitWebDriver ``POST /session``
with bad capabilities never answers (MiniBrowser given ``--headless`` exits, and the
driver waits for it forever).

Console errors: W3C WebDriver classic has no console. Where the endpoint offers
the legacy log API (chromedriver: ``goog:loggingPrefs`` {"browser": "ALL"} and
``POST /session/{id}/se/log``) that is used and sees everything from page start
("webdriver-log"), except console lines of cross-site (out-of-process) iframes,
which that log lacks. Otherwise (WebKitWebDriver 2.50: no log endpoints, no
``webSocketUrl``/BiDi) a hook is injected into each page right after
``navigate`` returns ("injected"): it records console.error, console.assert,
uncaught errors and unhandled rejections from then on, and misses anything
logged before the new document was seen, everything in iframes, and
everything on pages the page navigates to by itself.
"""

import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from . import base

log = logging.getLogger("harness.browsers")

_HOOK = r"""
if (!window.__harnessConsole) {
  const q = window.__harnessConsole = [];
  const fmt = (a) => {
    if (typeof a === 'string') return a;
    if (a instanceof Error) return String(a.stack || a);
    try { return JSON.stringify(a); } catch (e) { return String(a); }
  };
  const error = console.error, assert = console.assert;
  console.error = function (...args) { q.push('console.error: ' + args.map(fmt).join(' ')); return error.apply(this, args); };
  console.assert = function (cond, ...args) {
    if (!cond) q.push('console.assert: ' + args.map(fmt).join(' '));
    return assert.apply(this, [cond, ...args]);
  };
  window.addEventListener('error', (e) => {
    if (e instanceof ErrorEvent) q.push('uncaught: ' + (e.error && e.error.stack ? String(e.error) + ' ' + e.error.stack : e.message));
  }, true);
  window.addEventListener('unhandledrejection', (e) => { q.push('unhandled rejection: ' + fmt(e.reason)); });
}
return location.href;
"""

_DRAIN = "const q = window.__harnessConsole; return q ? q.splice(0) : [];"


class WebDriverError(base.ProtocolError):
    """An error reply: ``error`` is the W3C error code (e.g. "invalid session id")."""

    def __init__(self, error, message, status):
        self.error, self.message, self.status = error, message, status
        super().__init__(f"{error} ({status}): {message}")


_GONE_ERRORS = {"invalid session id", "no such window", "session not created"}


class WebDriverHTTP:
    """Minimal W3C WebDriver transport: JSON in, the reply's ``value`` out."""

    def __init__(self, url):
        self.base = url.rstrip("/")
        host = urllib.parse.urlsplit(self.base).hostname or ""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        # Loopback drivers must not go through an http_proxy from the environment.
        handlers = [urllib.request.ProxyHandler({})] if loopback else []
        self._opener = urllib.request.build_opener(*handlers)

    def request(self, method, path, body=None, timeout=30.0):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                payload, status = resp.read(), resp.status
        except urllib.error.HTTPError as exc:
            payload, status = exc.read(), exc.code
        except (socket.timeout, TimeoutError):
            raise base.CallTimeout(f"webdriver: {method} {path}: no answer within {timeout} s") from None
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            raise base.BrowserGone(f"webdriver: {method} {path}: {exc}") from None
        try:
            value = json.loads(payload)["value"] if payload else None
        except (ValueError, KeyError, TypeError):
            raise WebDriverError("invalid reply", payload[:200].decode("utf-8", "replace"), status) from None
        if status >= 400:
            value = value if isinstance(value, dict) else {}
            raise WebDriverError(value.get("error", "unknown error"), value.get("message", ""), status)
        return value

    def wait_ready(self, timeout, is_running=lambda: True):
        """Poll ``GET /status`` until ``ready`` (True) or ``timeout`` s; False if not ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and is_running():
            try:
                if self.request("GET", "/status", timeout=1.0).get("ready", True):
                    return True
            except base.BrowserError:
                pass
            time.sleep(0.02)
        return False


class WebDriverBrowser(base.Browser):
    """A W3C WebDriver session with one window, at any endpoint.

    ``capabilities`` go to ``POST /session`` as ``alwaysMatch``.
    ``pageLoadStrategy`` defaults to "none", and navigate() waits by itself
    until the window holds a new document (a marker set on the old one is
    gone): the same "committed" point as CDP and BiDi, and long-running pages
    do not block it. Why not "eager": WebKitWebDriver 2.50 with "eager" hangs
    the first command after navigating to a page with an iframe (always for a
    same-origin iframe, sometimes for a cross-site one) until the client gives
    up; "normal" waits for the load event. With another strategy given in
    ``capabilities``, navigate() trusts the driver's wait.
    """

    name = "webdriver"
    _session_timeout = 60.0

    def __init__(self, webdriver_url, capabilities=None, *, name=None, profile_dir=None, log=None,
                 timeout=60.0, **_ignored):
        if name:
            self.name = name
        super().__init__(profile_dir=profile_dir, log=log)
        if profile_dir is not None:   # e.g. a --user-data-dir the caller put in the capabilities
            self._own_dir(profile_dir)
        self.webdriver_url = webdriver_url
        self._other_pages = []       # (first window, window) of each open_page
        self.session_id = None
        self.capabilities = {}
        self._gone = None
        self._http = WebDriverHTTP(webdriver_url)
        try:
            self._new_session(capabilities or {}, timeout)
        except BaseException:
            self.close()
            raise

    def _new_session(self, capabilities, timeout):
        t0 = time.monotonic()
        caps = dict(capabilities)
        caps.setdefault("pageLoadStrategy", "none")      # navigate() waits itself
        # The client-side timeout of each call is what bounds it; keep the
        # driver's own script timeout (default 30 s) from cutting in first.
        caps.setdefault("timeouts", {"script": 600000})
        value = self._http.request("POST", "/session", {"capabilities": {"alwaysMatch": caps}},
                                   timeout=timeout)
        self.session_id = value["sessionId"]
        self.capabilities = value.get("capabilities", {})
        self.version = str(self.capabilities.get("browserVersion", ""))
        self.timings["session"] = time.monotonic() - t0
        try:
            types = self._http.request("GET", f"/session/{self.session_id}/se/log/types", timeout=10.0)
        except base.BrowserError:
            types = []
        self.console_source = "webdriver-log" if "browser" in (types or []) else "injected"

    # -- plumbing -----------------------------------------------------------------

    def _cmd(self, method, path, body=None, timeout=30.0):
        if self._closed:
            raise base.BrowserGone(f"{self.name}: closed")
        try:
            return self._http.request(method, f"/session/{self.session_id}{path}", body, timeout)
        except base.BrowserGone as exc:
            self._gone = str(exc)
            raise
        except WebDriverError as exc:
            if exc.error in _GONE_ERRORS:
                self._gone = str(exc)
                raise base.BrowserGone(f"{self.name}: {exc}") from None
            raise

    def _execute(self, script, timeout=30.0):
        try:
            return self._cmd("POST", "/execute/sync", {"script": script, "args": []}, timeout + 5.0)
        except WebDriverError as exc:
            if exc.error == "javascript error":
                raise base.JavaScriptError(f"{self.name}: {exc.message}") from None
            if exc.error == "script timeout":
                raise base.CallTimeout(f"{self.name}: {exc.message}") from None
            raise

    def _collect_console(self):
        try:
            if self.console_source == "webdriver-log":
                entries = self._cmd("POST", "/se/log", {"type": "browser"}, timeout=10.0) or []
                for e in entries:
                    if e.get("level") == "SEVERE":
                        self._add_console(str(e.get("message", "")))
            elif self.console_source == "injected":
                for text in self._execute(_DRAIN, timeout=10.0) or []:
                    self._add_console(text)
                self._drain_other_pages()
        except base.BrowserError as exc:
            log.debug("%s: console collection failed: %s", self.name, exc)

    # -- interface ------------------------------------------------------------------

    def navigate(self, url, timeout=30.0):
        """Navigate; return once the new document is there (see the class docstring)."""
        deadline = time.monotonic() + timeout
        if self.console_source == "injected":
            self._collect_console()        # the old page's hook goes away with it
        own_wait = self.capabilities.get("pageLoadStrategy") == "none"
        marker = uuid.uuid4().hex
        if own_wait:
            try:
                self._execute(f"window.__harnessNav = '{marker}'; return 1", timeout=10.0)
            except (base.JavaScriptError, WebDriverError):
                pass
        try:
            self._cmd("POST", "/url", {"url": url}, timeout)
        except WebDriverError as exc:
            if exc.error in ("unknown error", "timeout"):
                raise base.NavigationError(f"{self.name}: {url}: {exc}") from None
            raise
        landed = self._wait_new_document(url, marker, deadline) if own_wait else None
        if self.console_source == "injected":
            try:
                landed = self._execute(_HOOK, timeout=10.0)
            except base.JavaScriptError as exc:
                log.debug("%s: console hook not installed: %s", self.name, exc)
        if landed is not None and _is_error_page(url, landed):
            raise base.NavigationError(f"{self.name}: {url}: load failed (the window shows {landed})")

    def _wait_new_document(self, url, marker, deadline):
        """Poll until the document no longer carries ``marker``; return its URL.

        (A fragment-only navigation keeps the document: it is done when the URL
        matches.) Commands may fail while the old document unloads; retried.
        """
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise base.CallTimeout(f"{self.name}: {url}: no new document within the timeout")
            try:
                seen, href = self._execute("return [window.__harnessNav || null, location.href];",
                                           timeout=min(remaining, 5.0))
                if seen != marker or ("#" in url and href == url):
                    return href
            except (base.JavaScriptError, WebDriverError, base.CallTimeout) as exc:
                log.debug("%s: waiting for %s: %s", self.name, url, exc)
            time.sleep(0.01)

    def open_page(self, url, timeout=30.0):
        """WebDriver "New Window" (a top-level browsing context of its own), switched to for "Navigate To", then
        back to the first page, which every other command acts on."""
        first = self._cmd("GET", "/window", timeout=timeout)
        handle = self._cmd("POST", "/window/new", {"type": "window"}, timeout)["handle"]
        self._cmd("POST", "/window", {"handle": handle}, timeout)
        try:
            self.navigate(url, timeout)      # installs the injected hook there too
        finally:
            self._cmd("POST", "/window", {"handle": first}, timeout)
        self._other_pages.append((first, handle))   # drained from now on (navigate drains them too)

    def _drain_other_pages(self):
        """The injected hook's lines of the pages open_page opened: each window switched to, drained, and the
        first page switched back to (the log API, where there is one, has every window's). A window that cannot
        be drained (closed by its page, say) is logged and skipped, so the others' lines are still collected; a
        failure to switch back to the first page is raised, since every later command would go to another page."""
        for first, handle in self._other_pages:
            try:
                self._cmd("POST", "/window", {"handle": handle}, timeout=10.0)
                for text in self._execute(_DRAIN, timeout=10.0) or []:
                    self._add_console(text)
            except base.BrowserError as exc:
                log.debug("%s: console of window %s not collected: %s", self.name, handle, exc)
            self._cmd("POST", "/window", {"handle": first}, timeout=10.0)

    def evaluate(self, js, timeout=30.0):
        return base.decode_result(self._execute("return " + base.wrap_expression(js), timeout))

    def console_errors(self):
        if not self._closed and self._gone is None:
            self._collect_console()
        return super().console_errors()

    def alive(self):
        if self._closed or self._gone is not None or self.session_id is None:
            return False
        if any(not g.leader_running() for g in self.groups):
            return False
        try:
            self._cmd("GET", "/window", timeout=5.0)
            return True
        except base.BrowserError as exc:
            log.debug("%s: not alive: %s", self.name, exc)
            return False

    def _shutdown(self):
        if self.session_id is None:
            return
        if any(not g.leader_running() for g in self.groups):
            return
        try:
            self._http.request("DELETE", f"/session/{self.session_id}", timeout=10.0)
        except base.BrowserError as exc:
            log.debug("%s: DELETE /session failed: %s", self.name, exc)


def _is_error_page(url, landed):
    """Did a load fail? Drivers that do not wait for it report nothing; the window
    shows the engine's error page instead (WebKitWebDriver does this for any strategy)."""
    if landed.startswith(("chrome-error://", "about:neterror")):
        return True
    return landed == "about:blank" and url != "about:blank"


def chromium_capabilities(profile_dir=None, binary="/usr/bin/chromium"):
    """Capabilities for chromedriver driving Debian's Chromium with chromium.FLAGS.

    Without ``profile_dir`` chromedriver makes (and removes) its own profile;
    ``binary=None`` leaves the choice to the driver (a Grid node's own Chrome).
    """
    from .chromium import flags
    options = {"args": flags(profile_dir)}
    if binary:
        options["binary"] = binary
    return {
        "browserName": "chrome",
        "goog:chromeOptions": options,
        "goog:loggingPrefs": {"browser": "ALL"},
    }
