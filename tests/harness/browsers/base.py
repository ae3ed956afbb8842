"""What every engine shares: the Browser interface, errors, the evaluate wrapper."""

import json
import logging
import os
import tempfile
import threading
import time
import weakref

from . import procs

log = logging.getLogger("harness.browsers")


class BrowserError(Exception):
    """Base class of everything this package raises."""


class LaunchError(BrowserError):
    """The browser, its driver or its X server did not come up."""


class BrowserGone(BrowserError):
    """The browser process died or the driver connection broke."""


class NavigationError(BrowserError):
    """The browser refused or failed a navigation (e.g. connection refused)."""


class JavaScriptError(BrowserError):
    """The evaluated expression threw (or its promise rejected)."""


class CallTimeout(BrowserError):
    """The browser or driver did not answer within the call's timeout."""


class ProtocolError(BrowserError):
    """The browser answered a protocol command (CDP, BiDi, WebDriver) with an error."""


def wrap_expression(js):
    """Turn an expression into one that yields ``JSON.stringify`` of its awaited value.

    Every engine then returns a string that ``decode_result`` parses, so
    ``evaluate`` has the same JSON semantics everywhere (undefined and functions
    become None, Dates become strings). ``js`` must be an expression, not a
    statement list; newlines around it let it end in a ``//`` comment. A value
    JSON.stringify cannot take (a cycle, a BigInt) raises JavaScriptError.
    """
    return ("(async () => { const v = await (\n" + js + "\n);"
            " return JSON.stringify(v === undefined ? null : v); })()")


def decode_result(text):
    """Parse what a ``wrap_expression`` script produced (None if it was not serialisable)."""
    return None if text is None else json.loads(text)


def connect_rpc(url, on_event, name, timeout):
    """Open the CDP / BiDi WebSocket; LaunchError if that fails."""
    from .wsrpc import RpcClosed, RpcConnection, RpcTimeout
    try:
        return RpcConnection(url, on_event=on_event, name=name, connect_timeout=timeout)
    except (RpcClosed, RpcTimeout) as exc:
        raise LaunchError(str(exc)) from None


def _release(groups, dirs):
    """Finalizer: kill groups and remove directories left by a Browser never closed."""
    for group in groups:
        group.kill()
    for d in dirs:
        procs.remove_dir(d)


class Browser:
    """One browser (or remote WebDriver session) with one page. See ``launch()``.

    Attributes: ``name`` (engine name as given to launch), ``version`` (exact
    engine version reported by the browser), ``profile_dir``, ``log_path``,
    ``groups`` (the ProcGroups this object started; the first is the browser's
    own), ``console_source`` (how console errors are collected), ``timings``
    (seconds per launch phase), ``tls_info`` (how it trusts the run's CA and
    resolves origin D: tls.py; None without a TLS setup), ``lacks`` (capability
    -> why, for the capabilities this instance cannot offer).
    """

    name = None
    # How many harness pages a run may use on this engine (clients.py, --pages): open_page works everywhere, but
    # an engine listed lower here loses cases with more.
    pages_limit = 8

    def __init__(self, *, profile_dir=None, log=None, profile_prefix=None):
        self.version = ""
        self.tls_info = None    # how this instance trusts the run's CA and maps D (tls.py), when set up
        self.lacks = {}
        self.groups = []
        self.timings = {}
        self.console_source = "none"
        self._console = []
        self._console_lock = threading.Lock()
        self._closed = False
        self._owned_dirs = []
        if profile_prefix is None:
            self.profile_dir = profile_dir
        else:
            if profile_dir is None:
                profile_dir = tempfile.mkdtemp(prefix=profile_prefix)
            else:
                os.makedirs(profile_dir, exist_ok=True)
            self.profile_dir = str(profile_dir)
            self._own_dir(self.profile_dir)
        if log is None:
            fd, path = tempfile.mkstemp(prefix=f"harness-{self.name}-", suffix=".log")
            os.close(fd)
            self.log_path = path
            self._owned_log = path
            self._own_dir(path)        # a file, removed at close or exit like the profile
        else:
            # A path, or an open file that has one (its .name); appended to.
            path = log.name if hasattr(log, "fileno") else os.fspath(log)
            if not isinstance(path, str):
                raise TypeError(f"{self.name}: log must be a path or a named file, not {log!r}")
            self.log_path = path
            self._owned_log = None
        try:  # an appended log may hold an old run's "listening" line: read past it
            self._log_offset = os.path.getsize(self.log_path)
        except OSError:
            self._log_offset = 0
        self._finalizer = weakref.finalize(self, _release, self.groups, self._owned_dirs)

    def __repr__(self):
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self.name} {self.version} {state}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the interface ------------------------------------------------------

    @property
    def pgid(self):
        """PGID of the browser's own process group (None for a remote WebDriver)."""
        return self.groups[0].pgid if self.groups else None

    def pids(self):
        """Live (non-zombie) PIDs of every process group this browser owns."""
        return [pid for g in self.groups for pid in g.members()]

    def navigate(self, url, timeout=30.0):
        raise NotImplementedError

    def evaluate(self, js, timeout=30.0):
        raise NotImplementedError

    def open_page(self, url, timeout=30.0):
        """Open ``url`` in another top-level page, in a browsing context group of its own (a new window, not
        one the first page opened), so that the engine is free to give it a renderer process of its own.
        Returns once the engine accepted the navigation; ``navigate`` and ``evaluate`` keep acting on the
        first page. Each engine's way: chromium.py, firefox.py, webdriver.py."""
        raise NotImplementedError

    def alive(self):
        raise NotImplementedError

    def console_errors(self):
        """Console errors and uncaught exceptions seen so far, oldest first."""
        with self._console_lock:
            return list(self._console)

    def warm_up(self, url, timeout=60.0):
        """Navigate once to a trivial page and wait for it to finish loading.

        Never time anything on the first page of a fresh browser: on the reference machine a cold Firefox's
        first page lost its request to the server in 7 of 8 tries, while every browser whose driver session
        was up before it navigated delivered it. Call this before the first page that matters. Returns the
        seconds taken.
        """
        start = time.monotonic()
        self.navigate(url, timeout=timeout)
        deadline = start + timeout
        while self.evaluate("document.readyState", timeout=timeout) != "complete":
            if time.monotonic() > deadline:
                raise CallTimeout(f"{self.name}: warm-up page {url} did not complete in {timeout} s")
            time.sleep(0.02)
        return time.monotonic() - start

    def close(self):
        """End the session gracefully, then the process groups by PGID; remove the profile.

        Idempotent; never raises for a browser that already died.
        """
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        start = time.monotonic()
        try:
            self._shutdown()
        except Exception as exc:
            log.debug("%s: graceful shutdown failed: %r", self.name, exc)
        finally:
            for group in self.groups:
                left = group.stop(grace=self._close_grace)
                if left:
                    log.warning("%s: pids %s of group %d survived SIGKILL", self.name, left, group.pgid)
            for d in self._owned_dirs:
                procs.remove_dir(d)
            self.timings["close"] = time.monotonic() - start

    # -- for subclasses -----------------------------------------------------

    _close_grace = 3.0

    def _shutdown(self):
        """Protocol-level goodbye (Browser.close, browser.close, DELETE /session)."""

    def _private_env(self, **extra):
        """os.environ with the XDG base directories inside the profile dir.

        Browsers otherwise write under $HOME even with a profile of their own
        (Chromium's crashpad database in ~/.config/chromium, Firefox's
        ~/.cache/mozilla, MiniBrowser's ~/.cache/webkitgtk-4.1, GTK's dconf, the
        Mesa shader cache); close() removes the profile, so nothing is left.
        """
        env = dict(os.environ, **extra)
        for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"),
                         ("XDG_DATA_HOME", "data")):
            env[var] = os.path.join(self.profile_dir, "xdg", sub)
            os.makedirs(env[var], mode=0o700, exist_ok=True)
        return env

    def _own_dir(self, path):
        self._owned_dirs.append(str(path))
        procs.register_dir(path)

    def _start(self, argv, *, name, env=None, pass_fds=()):
        group = procs.ProcGroup(argv, name=name, env=env, log_path=self.log_path, pass_fds=pass_fds)
        self.groups.append(group)
        return group

    def _add_console(self, text):
        with self._console_lock:
            self._console.append(text)

    def _log_tail(self, n=2000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - n))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _wait_for_log_line(self, marker, group, timeout):
        """Return the first log line containing ``marker``; LaunchError if the group dies first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.log_path, "rb") as f:
                    f.seek(self._log_offset)
                    for raw in f:
                        line = raw.decode("utf-8", "replace")
                        if marker in line:
                            return line.strip()
            except OSError:
                pass
            if not group.leader_running():
                raise LaunchError(f"{self.name}: {group.name} exited ({group.popen.poll()}) before "
                                  f"printing {marker!r}; log tail:\n{self._log_tail()}")
            time.sleep(0.02)
        raise LaunchError(f"{self.name}: no {marker!r} from {group.name} within {timeout} s; "
                          f"log tail:\n{self._log_tail()}")
