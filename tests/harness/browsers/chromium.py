"""Chromium over raw CDP (Chrome DevTools Protocol) on python3-websockets.

Launch: Debian's /usr/bin/chromium, headless, with FLAGS below and
``--remote-debugging-port=0``; the endpoint is read from the
``DevTools listening on ws://...`` line of its stderr. One page: the initial
about:blank tab, attached with ``Target.attachToTarget`` {flatten: true}; every
page command carries that sessionId.
"""

import os
import time

from . import base, procs
from . import tls as tls_mod
from .wsrpc import RpcClosed, RpcTimeout

BINARY = "/usr/bin/chromium"

# No first-run pages, updates, sync or other background traffic: the resolver rule sends every host but the
# harness's loopback origins to NOTFOUND (it took background DNS lookups from 40 in 15 s to none). Both
# EXCLUDEs are needed: with only "EXCLUDE localhost" the rule maps 127.0.0.1 (origin C) to NOTFOUND too.
# Pages SA, SB, SC and D run in windows the harness page opens without a user gesture (fixtures/PROTOCOL.md
# §2, top_level): the popup blocker must let them.
FLAGS = [
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    "--disable-popup-blocking",
]


def flags(profile_dir=None, insecure_host=None):
    """FLAGS (``--no-sandbox`` when root, ``--user-data-dir`` if given; origin D's name mapped to loopback
    first, since the first matching rule wins)."""
    out = list(FLAGS)
    if insecure_host:
        out = [f.replace("--host-resolver-rules=", f"--host-resolver-rules=MAP {insecure_host} 127.0.0.1 , ")
               for f in out]
    if os.geteuid() == 0:
        out.insert(1, "--no-sandbox")   # "Running as root without --no-sandbox is not supported"
    if profile_dir is not None:
        out.append(f"--user-data-dir={profile_dir}")
    return out


_AUTO_ATTACH = {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": True}


class Chromium(base.Browser):
    name = "chromium"
    binary = BINARY
    binaries = (BINARY,)

    def __init__(self, *, profile_dir=None, log=None, timeout=30.0, tls=None, **_ignored):
        super().__init__(profile_dir=profile_dir, log=log, profile_prefix="harness-chromium-")
        self.console_source = "cdp"
        self._session = None
        self._children = {}          # sessionId of an attached iframe/worker -> "[type url] "
        self._crashed = None
        self._conn = None
        t0 = time.monotonic()
        try:
            env = self._private_env()
            if tls:
                # Chromium on Linux reads user trust from $HOME/.pki/nssdb: a HOME of its own, in the profile.
                env["HOME"] = os.path.join(self.profile_dir, "home")
                tls_mod.nss_db(os.path.join(env["HOME"], ".pki", "nssdb"), tls.ca)
                self.tls_info = {"trust": "real trust: the run's CA in an NSS database of the profile's own HOME "
                                          "(certutil -t C,,)", "host_d": "--host-resolver-rules MAP"}
            argv = [self.binary, *flags(self.profile_dir, tls.insecure_host if tls else None),
                    "--remote-debugging-port=0", "about:blank"]
            group = self._start(argv, name="chromium", env=env)
            line = self._wait_for_log_line("DevTools listening on ws://", group, timeout)
            ws_url = line[line.index("ws://"):].split()[0]
            self.timings["endpoint"] = time.monotonic() - t0
            self._conn = base.connect_rpc(ws_url, self._on_event, "cdp", timeout)
            self.version = self._cdp("Browser.getVersion", timeout=timeout)["product"].split("/", 1)[-1]
            self._session = self._attach_page(timeout)
            for domain in ("Page", "Runtime", "Log", "Inspector"):   # Inspector: targetCrashed
                self._cdp(f"{domain}.enable", session=True, timeout=timeout)
            # Cross-site iframes (origin C) and workers are targets of their own
            # under site isolation: attach to them to hear their console too.
            self._cdp("Target.setAutoAttach", _AUTO_ATTACH, session=True, timeout=timeout)
            self.timings["launch"] = time.monotonic() - t0
        except BaseException:
            self.close()
            raise

    # -- CDP plumbing ---------------------------------------------------------

    def _cdp(self, method, params=None, *, session=False, timeout=30.0):
        """``session``: True for the first page's session, a sessionId for another, False for the browser."""
        msg = {"method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self._session if session is True else session
        try:
            reply = self._conn.call(msg, timeout=timeout)
        except RpcClosed as exc:
            raise base.BrowserGone(f"chromium: {exc}") from None
        except RpcTimeout as exc:
            raise base.CallTimeout(f"chromium: {exc}") from None
        if "error" in reply:
            err = reply["error"]
            raise base.ProtocolError(f"chromium: {method}: {err.get('message', err)}")
        return reply.get("result", {})

    def _attach_page(self, timeout):
        targets = self._cdp("Target.getTargets", timeout=timeout)["targetInfos"]
        pages = [t for t in targets if t["type"] == "page"]
        if pages:
            target_id = pages[0]["targetId"]
        else:
            target_id = self._cdp("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
        self._target = target_id
        return self._cdp("Target.attachToTarget", {"targetId": target_id, "flatten": True},
                         timeout=timeout)["sessionId"]

    def _on_event(self, msg):
        method = msg.get("method")
        params = msg.get("params", {})
        # Events of an attached iframe or worker say which, before the text.
        where = self._children.get(msg.get("sessionId"), "")
        if method == "Runtime.consoleAPICalled":
            if params.get("type") in ("error", "assert"):
                text = " ".join(_remote_object_text(a) for a in params.get("args", []))
                self._add_console(f"console.{params['type']}: {where}{text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            exc = details.get("exception", {})
            self._add_console(f"uncaught: {where}{exc.get('description') or details.get('text', '')}")
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            if entry.get("level") == "error":
                url = f" ({entry['url']})" if entry.get("url") else ""
                self._add_console(f"{entry.get('source', 'log')}: {where}{entry.get('text', '')}{url}")
        elif method == "Target.attachedToTarget":
            child, info = params.get("sessionId"), params.get("targetInfo", {})
            self._children[child] = f"[{info.get('type')} {info.get('url', '')}] "
            for command in ("Runtime.enable", "Log.enable"):
                self._conn.post({"method": command, "params": {}, "sessionId": child})
            self._conn.post({"method": "Target.setAutoAttach", "params": _AUTO_ATTACH, "sessionId": child})
        elif method == "Inspector.targetCrashed" and msg.get("sessionId") == self._session:
            self._crashed = "renderer crashed"
        elif method == "Target.detachedFromTarget":
            if params.get("sessionId") == self._session:
                self._crashed = "page detached"
            self._children.pop(params.get("sessionId"), None)

    # -- interface --------------------------------------------------------------

    def navigate(self, url, timeout=30.0):
        """Page.navigate: answers once the navigation committed (or failed)."""
        self._check()
        result = self._cdp("Page.navigate", {"url": url}, session=True, timeout=timeout)
        if result.get("errorText"):
            raise base.NavigationError(f"chromium: {url}: {result['errorText']}")

    def evaluate(self, js, timeout=30.0):
        self._check()
        result = self._cdp("Runtime.evaluate", {
            "expression": base.wrap_expression(js), "awaitPromise": True,
            "returnByValue": True}, session=True, timeout=timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise base.JavaScriptError(f"chromium: {text}")
        return base.decode_result(result.get("result", {}).get("value"))

    def open_page(self, url, timeout=30.0):
        """Target.createTarget with newWindow: a new tab in a browsing instance of its own, which Chromium's
        default process model may give a process of its own (it reuses one past its process limit). It is
        attached as the first page is, its console heard from its start (blank), then navigated."""
        self._check()
        target = self._cdp("Target.createTarget", {"url": "about:blank", "newWindow": True}, timeout=timeout)
        page = self._cdp("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True},
                         timeout=timeout)["sessionId"]
        self._children[page] = f"[page {url}] "
        for domain in ("Runtime", "Log"):
            self._cdp(f"{domain}.enable", session=page, timeout=timeout)
        self._cdp("Target.setAutoAttach", _AUTO_ATTACH, session=page, timeout=timeout)
        result = self._cdp("Page.navigate", {"url": url}, session=page, timeout=timeout)
        if result.get("errorText"):
            raise base.NavigationError(f"chromium: {url}: {result['errorText']}")

    def screenshot(self, path=None, *, width=None, height=None, full_page=False, timeout=30.0):
        """The page as PNG bytes (Page.captureScreenshot), also written to ``path`` if given.

        ``width``/``height`` set the viewport first (Emulation.setDeviceMetricsOverride); ``full_page``
        captures the whole document rather than the viewport."""
        import base64
        self._check()
        if width or height:
            self._cdp("Emulation.setDeviceMetricsOverride", {
                "width": int(width or 1280), "height": int(height or 800), "deviceScaleFactor": 1,
                "mobile": False}, session=True, timeout=timeout)
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self._cdp("Page.getLayoutMetrics", session=True, timeout=timeout)["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        png = base64.b64decode(self._cdp("Page.captureScreenshot", params, session=True, timeout=timeout)["data"])
        if path is not None:
            with open(path, "wb") as f:
                f.write(png)
        return png

    def alive(self):
        return (not self._closed and self._crashed is None and self._conn is not None
                and not self._conn.closed and self.groups[0].leader_running())

    def _check(self):
        if self._closed:
            raise base.BrowserGone("chromium: closed")
        if self._crashed:
            raise base.BrowserGone(f"chromium: {self._crashed}")

    def _shutdown(self):
        if self._conn is None:
            return
        try:
            if not self._conn.closed and self.groups and self.groups[0].leader_running():
                self._cdp("Browser.close", timeout=5.0)
        except base.BrowserError:
            pass
        finally:
            self._conn.close()
        if self.groups:
            leader = self.groups[0]
            procs.wait_until(lambda: not leader.leader_running(), 5.0)


def _remote_object_text(obj):
    if "value" in obj:
        return str(obj["value"])
    return obj.get("description") or obj.get("unserializableValue") or obj.get("type", "")
