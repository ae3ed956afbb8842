"""WebKitGTK: MiniBrowser driven by WebKitWebDriver, under an Xvfb of its own.

The GTK MiniBrowser has no headless mode (``--headless``: "Unknown option"), so each browser gets
its own X server: ``Xvfb -displayfd`` picks a free display number itself
(xvfb-run -a races under parallel starts). WebKitWebDriver listens on a free
port on 127.0.0.1; MiniBrowser runs with ``--automation`` and, with its web
and network processes, stays in the driver's process group. XDG_* directories
point into the profile dir so nothing is written under $HOME (base.py).

Console errors: WebKitWebDriver 2.50 has neither the legacy log endpoints nor
BiDi (``webSocketUrl`` fails to match capabilities), so they come from the hook
``WebDriverBrowser`` injects after each navigation (see webdriver.py).
"""

import os
import select
import time

from . import base, procs
from . import tls as tls_mod
from .webdriver import WebDriverBrowser

DRIVER = "/usr/bin/WebKitWebDriver"
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
XVFB = "/usr/bin/Xvfb"


def default_capabilities(binary=MINIBROWSER):
    # Pages SA, SB, SC and D run in windows the harness page opens without a user gesture (PROTOCOL.md §2).
    return {"browserName": "MiniBrowser",
            "webkitgtk:browserOptions": {"binary": binary, "args": [
                "--automation", "--javascript-can-open-windows-automatically=true"]}}


class WebKit(WebDriverBrowser):
    name = "webkit"
    binaries = (DRIVER, MINIBROWSER, XVFB)
    # With a second harness page, case windows (pages SA, SB, SC, D: window.open) often never loaded: cases/tls
    # twice, WebKitGTK 2.50.6, 2026-12-06: 6 ERROR/TIMEOUT of 160 with two pages, none with one (and 47 s
    # against 129 s). One page, then, whatever --pages says.
    pages_limit = 1
    _close_grace = 3.0

    def __init__(self, *, profile_dir=None, display=None, log=None, timeout=60.0,
                 capabilities=None, tls=None, **_ignored):
        # Not WebDriverBrowser.__init__: processes must exist before the session.
        base.Browser.__init__(self, profile_dir=profile_dir, log=log, profile_prefix="harness-webkit-")
        self.session_id = None
        self.capabilities = {}
        self._gone = None
        self._other_pages = []
        self.display = display
        t0 = time.monotonic()
        try:
            if self.display is None:
                self.display = self._start_xvfb(timeout)
                self.timings["xvfb"] = time.monotonic() - t0
            # GSETTINGS_BACKEND=memory: GTK keeps settings in memory, no dconf.
            env = self._private_env(DISPLAY=self.display, GSETTINGS_BACKEND="memory",
                                    XDG_RUNTIME_DIR=os.path.join(self.profile_dir, "xdg", "runtime"))
            os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
            capabilities = capabilities or default_capabilities()
            self._wrap = []
            if tls:
                capabilities = self._trust(tls, capabilities)
            self._start_driver(env, timeout)
            self.timings["driver"] = time.monotonic() - t0
            self._new_session(capabilities, timeout)
            self.timings["launch"] = time.monotonic() - t0
        except BaseException:
            self.close()
            raise

    def _trust(self, tls, capabilities):
        """The driver and its MiniBrowser in a private mount namespace with the CA bundle and hosts file of
        tls.py (real trust); where that is not allowed, the driver's per-host allowance for the good leaf
        (`certificates`: webkit_web_context_allow_tls_certificate_for_host, errors ignored for that
        certificate) and no origin D."""
        if tls_mod.can_unshare_mounts():
            self._wrap = tls_mod.namespace_wrap(tls, self.profile_dir)
            self.tls_info = {"trust": "real trust: the system CA bundle plus the run's CA bind-mounted over "
                                      f"{tls_mod.SYSTEM_BUNDLE} in a private mount namespace",
                             "host_d": "/etc/hosts bind-mounted in the same namespace"}
            return capabilities
        leaf = tls_mod.good_leaf(tls, self.profile_dir)
        caps = {**capabilities, "webkitgtk:browserOptions": dict(capabilities["webkitgtk:browserOptions"])}
        caps["webkitgtk:browserOptions"]["certificates"] = [
            {"host": "localhost", "certificateFile": leaf}, {"host": "127.0.0.1", "certificateFile": leaf}]
        self.tls_info = {"trust": "errors ignored for the good certificate on localhost and 127.0.0.1 (the "
                                  "driver's certificates option): no mount namespace here", "host_d": None}
        self.lacks["host-d"] = ("no private mount namespace (CAP_SYS_ADMIN) for an /etc/hosts naming "
                                f"{tls.insecure_host}")
        return caps

    def _start_xvfb(self, timeout):
        read_fd, write_fd = os.pipe()
        try:
            argv = [XVFB, "-displayfd", str(write_fd), "-nolisten", "tcp", "-screen", "0", "1280x800x24"]
            group = self._start(argv, name="xvfb", pass_fds=(write_fd,))
        finally:
            os.close(write_fd)
        try:
            data = b""
            deadline = time.monotonic() + timeout
            while not data.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([read_fd], [], [], remaining)[0]:
                    raise base.LaunchError(f"webkit: Xvfb printed no display within {timeout} s")
                chunk = os.read(read_fd, 64)
                if not chunk:
                    raise base.LaunchError(f"webkit: Xvfb exited ({group.popen.poll()}); log tail:\n"
                                           f"{self._log_tail()}")
                data += chunk
        finally:
            os.close(read_fd)
        return ":" + data.decode().strip()

    def _start_driver(self, env, timeout, attempts=3):
        """Start WebKitWebDriver on a free port; a lost port race is retried."""
        from .webdriver import WebDriverHTTP
        for attempt in range(attempts):
            port = procs.free_port()
            group = self._start([*self._wrap, DRIVER, f"--port={port}"], name="WebKitWebDriver", env=env)
            # The driver's group (MiniBrowser and its helpers join it) is the browser's own.
            self.groups.remove(group)
            self.groups.insert(0, group)
            self.webdriver_url = f"http://127.0.0.1:{port}"
            self._http = WebDriverHTTP(self.webdriver_url)
            if self._http.wait_ready(timeout, group.leader_running):
                return
            group.stop(grace=1.0)
            self.groups.remove(group)
        raise base.LaunchError(f"webkit: WebKitWebDriver not ready after {attempts} attempts; "
                               f"log tail:\n{self._log_tail()}")
