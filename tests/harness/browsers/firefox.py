"""Firefox ESR over raw WebDriver BiDi on python3-websockets (no geckodriver exists here).

Launch: ``firefox-esr --headless --no-remote --profile <fresh dir> --remote-debugging-port 0``
with USER_JS below copied into the profile; the endpoint comes from the
``WebDriver BiDi listening on ws://...`` line of its stderr, and the session
from ``session.new`` on ``<endpoint>/session``. The launch returns only after
``session.new`` answered: the first page of a cold Firefox may lose requests
(base.py, warm_up), so nothing is navigated before the session is up.
"""

import os
import threading
import time

from . import base, procs
from . import tls as tls_mod
from .wsrpc import RpcClosed, RpcTimeout

BINARY = "/usr/bin/firefox-esr"

# No background traffic: without these prefs Firefox made about 150 DNS queries in 15 s (remote settings,
# captive portal, push, telemetry, a DoH probe); with them only loopback connections remain.
USER_JS = """\
user_pref("app.normandy.enabled", false);
user_pref("app.update.auto", false);
user_pref("browser.aboutwelcome.enabled", false);
user_pref("browser.newtabpage.activity-stream.default.sites", "");
user_pref("browser.newtabpage.activity-stream.feeds.system.topsites", false);
user_pref("browser.newtabpage.activity-stream.feeds.topsites", false);
user_pref("browser.newtabpage.enabled", false);
user_pref("browser.region.network.url", "");
user_pref("browser.region.update.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.provider.mozilla.updateURL", "");
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage", "about:blank");
user_pref("browser.startup.page", 0);
user_pref("browser.topsites.contile.enabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("dom.push.connection.enabled", false);
user_pref("dom.push.serverURL", "");
user_pref("extensions.blocklist.enabled", false);
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("extensions.systemAddon.update.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("geo.provider.network.url", "");
user_pref("media.gmp-manager.url", "");
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.http.speculative-parallel-limit", 0);
user_pref("network.prefetch-next", false);
user_pref("network.trr.mode", 5);
user_pref("toolkit.telemetry.enabled", false);
user_pref("toolkit.telemetry.unified", false);
// non-loopback HTTP(S) -> dead loopback proxy; loopback stays direct
// (network.proxy.allow_hijacking_localhost is false by default)
user_pref("network.proxy.type", 1);
user_pref("network.proxy.http", "127.0.0.1");
user_pref("network.proxy.http_port", 9);
user_pref("network.proxy.ssl", "127.0.0.1");
user_pref("network.proxy.ssl_port", 9);
// pages SA, SB, SC and D run in windows the harness page opens without a user gesture (PROTOCOL.md §2)
user_pref("dom.disable_open_during_load", false);
"""

# Origin D's name resolves to loopback in this profile only, and goes to no proxy.
USER_JS_INSECURE = """\
user_pref("network.dns.localDomains", "{host}");
user_pref("network.proxy.no_proxies_on", "{host}");
"""

_EVENTS = ["log.entryAdded", "browsingContext.navigationStarted", "browsingContext.navigationCommitted",
           "browsingContext.navigationFailed", "browsingContext.contextDestroyed"]


class Firefox(base.Browser):
    name = "firefox"
    binary = BINARY
    binaries = (BINARY,)
    _close_grace = 5.0

    def __init__(self, *, profile_dir=None, log=None, timeout=60.0, tls=None, **_ignored):
        super().__init__(profile_dir=profile_dir, log=log, profile_prefix="harness-firefox-")
        self.console_source = "bidi"
        self._conn = None
        self._context = None
        self._gone = None
        self._navigations = {}                 # navigation id -> ("committed" | "failed", url)
        self._started = []                     # (navigation id, url) of navigationStarted, our context
        self._nav_cond = threading.Condition()
        t0 = time.monotonic()
        try:
            with open(os.path.join(self.profile_dir, "user.js"), "w") as f:
                f.write(USER_JS)
                if tls:
                    f.write(USER_JS_INSECURE.format(host=tls.insecure_host))
            if tls:
                # The profile's own certificate database (cert9.db), made before the first start.
                tls_mod.nss_db(self.profile_dir, tls.ca)
                self.tls_info = {"trust": "real trust: the run's CA in the profile's cert9.db (certutil -t C,,)",
                                 "host_d": "network.dns.localDomains"}
            env = self._private_env(MOZ_CRASHREPORTER_DISABLE="1")
            argv = [self.binary, "--headless", "--no-remote", "--profile", self.profile_dir,
                    "--remote-debugging-port", "0", "about:blank"]
            group = self._start(argv, name="firefox", env=env)
            marker = "WebDriver BiDi listening on "
            line = self._wait_for_log_line(marker, group, timeout)
            ws_url = line[line.index(marker) + len(marker):].split()[0]
            self.timings["endpoint"] = time.monotonic() - t0
            self._conn = base.connect_rpc(ws_url.rstrip("/") + "/session", self._on_event, "bidi", timeout)
            caps = self._bidi("session.new", {"capabilities": {}}, timeout=timeout)["capabilities"]
            self.version = caps.get("browserVersion", "")
            self.capabilities = caps
            self.timings["session"] = time.monotonic() - t0
            tree = self._bidi("browsingContext.getTree", {"maxDepth": 0}, timeout=timeout)
            self._context = tree["contexts"][0]["context"]
            self._bidi("session.subscribe", {"events": _EVENTS}, timeout=timeout)
            self.timings["launch"] = time.monotonic() - t0
        except BaseException:
            self.close()
            raise

    # -- BiDi plumbing ----------------------------------------------------------

    def _bidi(self, method, params, timeout=30.0):
        try:
            reply = self._conn.call({"method": method, "params": params}, timeout=timeout)
        except RpcClosed as exc:
            raise base.BrowserGone(f"firefox: {exc}") from None
        except RpcTimeout as exc:
            raise base.CallTimeout(f"firefox: {exc}") from None
        return _result(method, reply)

    def _reply_result(self, reply_future, message_name):
        """The result of a done reply Future of send_call (errors as _bidi raises them)."""
        try:
            reply = reply_future.result(0)
        except RpcClosed as exc:
            raise base.BrowserGone(f"firefox: {exc}") from None
        except Exception as exc:  # cancelled: the connection closed
            raise base.BrowserGone(f"firefox: {message_name}: {exc!r}") from None
        return _result(message_name, reply)

    def _on_event(self, msg):
        method = msg.get("method")
        params = msg.get("params", {})
        if method == "log.entryAdded":
            if params.get("level") == "error":
                kind = params.get("type")
                label = f"console.{params.get('method', 'error')}" if kind == "console" else "uncaught"
                text = params.get("text") or ""
                if kind == "javascript" and params.get("stackTrace", {}).get("callFrames"):
                    frame = params["stackTrace"]["callFrames"][0]
                    text += f" ({frame.get('url')}:{frame.get('lineNumber')})"
                self._add_console(f"{label}: {text}")
        elif method == "browsingContext.navigationStarted":
            if params.get("context") == self._context and params.get("navigation"):
                with self._nav_cond:
                    self._started.append((params["navigation"], params.get("url", "")))
                    self._nav_cond.notify_all()
        elif method in ("browsingContext.navigationCommitted", "browsingContext.navigationFailed"):
            if params.get("context") == self._context and params.get("url", "").startswith("about:tabcrashed"):
                # A crashed content process shows as a commit of the crash page.
                self._gone = "content process crashed"
            if params.get("context") == self._context and params.get("navigation"):
                state = "committed" if method.endswith("Committed") else "failed"
                with self._nav_cond:
                    self._navigations[params["navigation"]] = (state, params.get("url", ""))
                    self._nav_cond.notify_all()
        elif method == "browsingContext.contextDestroyed" and params.get("context") == self._context:
            self._gone = "page context destroyed"
            with self._nav_cond:
                self._nav_cond.notify_all()

    # -- interface --------------------------------------------------------------

    def navigate(self, url, timeout=30.0):
        """browsingContext.navigate with wait "none", then wait for its navigationCommitted.

        (This BiDi knows only none / interactive / complete; "none" plus the
        commit event gives the same point as CDP's Page.navigate.)

        The navigation is known by the command's reply or, if that comes first,
        by a navigationStarted event for ``url`` in our context: Firefox 153
        sometimes never answers the command when the navigation ends on an
        error page at once (seen with a refused port after a page with frames;
        navigationStarted and navigationCommitted of about:neterror did come).
        """
        self._check()
        deadline = time.monotonic() + timeout
        message = {"method": "browsingContext.navigate",
                   "params": {"context": self._context, "url": url, "wait": "none"}}
        with self._nav_cond:
            self._started.clear()
        try:
            reply = self._conn.send_call(message, timeout)
        except RpcClosed as exc:
            raise base.BrowserGone(f"firefox: {exc}") from None
        except RpcTimeout as exc:
            raise base.CallTimeout(f"firefox: {exc}") from None
        try:
            nav = self._navigation_of(reply, url, deadline, timeout)
            if nav is None:    # same-document (fragment) navigation: nothing to wait for
                return
            state, committed_url = self._wait_navigation(nav, url, deadline, timeout)
        finally:
            reply.cancel()     # a late reply is of no use now
        if state == "failed" or committed_url.startswith("about:neterror"):
            raise base.NavigationError(f"firefox: {url}: navigation failed ({committed_url})")

    def _navigation_of(self, reply, url, deadline, timeout):
        """The navigation id of our navigate command: from its reply or its navigationStarted."""
        with self._nav_cond:
            while not reply.done():
                for nav, started_url in self._started:
                    if _same_url(started_url, url):
                        return nav
                self._wait_nav(url, deadline, timeout)
        try:
            result = self._reply_result(reply, message_name="browsingContext.navigate")
        except _BidiError as exc:
            raise base.NavigationError(f"firefox: {url}: {exc.message}") from None
        return result.get("navigation")

    def _wait_navigation(self, nav, url, deadline, timeout):
        with self._nav_cond:
            while nav not in self._navigations:
                self._wait_nav(url, deadline, timeout)
            return self._navigations.pop(nav)

    def _wait_nav(self, url, deadline, timeout):
        """One wait on _nav_cond (held) of at most 0.2 s; raises once the time is up or the browser gone."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise base.CallTimeout(f"firefox: {url} not committed within {timeout} s")
        if self._gone or self._conn.closed:
            raise base.BrowserGone(f"firefox: {self._gone or self._conn.close_reason}")
        self._nav_cond.wait(min(remaining, 0.2))

    def evaluate(self, js, timeout=30.0):
        self._check()
        result = self._bidi("script.evaluate", {
            "expression": base.wrap_expression(js), "target": {"context": self._context},
            "awaitPromise": True, "resultOwnership": "none"}, timeout)
        if result.get("type") == "exception":
            details = result.get("exceptionDetails", {})
            raise base.JavaScriptError(f"firefox: {details.get('text', details)}")
        value = result.get("result", {})
        return base.decode_result(value.get("value") if value.get("type") == "string" else None)

    def open_page(self, url, timeout=30.0):
        """browsingContext.create of a window (a top-level browsing context not opened by the first page), then
        browsingContext.navigate with wait "none"."""
        self._check()
        context = self._bidi("browsingContext.create", {"type": "window"}, timeout=timeout)["context"]
        self._bidi("browsingContext.navigate", {"context": context, "url": url, "wait": "none"}, timeout=timeout)

    def alive(self):
        return (not self._closed and self._gone is None and self._conn is not None
                and not self._conn.closed and self.groups[0].leader_running())

    def _check(self):
        if self._closed:
            raise base.BrowserGone("firefox: closed")
        if self._gone:
            raise base.BrowserGone(f"firefox: {self._gone}")

    def _shutdown(self):
        if self._conn is None:
            return
        try:
            if not self._conn.closed and self.groups and self.groups[0].leader_running():
                self._bidi("browser.close", {}, timeout=5.0)
        except base.BrowserError:
            pass
        finally:
            self._conn.close()
        if self.groups:
            leader = self.groups[0]
            procs.wait_until(lambda: not leader.leader_running(), 5.0)


class _BidiError(base.ProtocolError):
    def __init__(self, method, error, message):
        self.method, self.error, self.message = method, error, message
        super().__init__(f"{method}: {error}: {message}")


def _result(method, reply):
    if reply.get("type") == "error":
        raise _BidiError(method, reply.get("error"), reply.get("message", ""))
    return reply.get("result", {})


def _same_url(seen, asked):
    """Whether an event's URL is the one navigate() was given (Firefox may add the root "/")."""
    return seen == asked or seen == asked + "/"
