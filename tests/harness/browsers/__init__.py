"""Launch and drive real browsers, the same small interface for every engine.

    b = launch("firefox")            # chromium | firefox | webkit | webdriver
    b.name, b.version                # "firefox", "153.7.0" (as the browser reports it)
    b.warm_up("http://localhost:PA/_h/health")
    b.navigate(url)                  # returns once the navigation committed
    b.evaluate("document.title")     # awaited, JSON value
    b.alive(); b.console_errors()
    b.close()                        # graceful, then the process groups by PGID; idempotent

Engines and how each is driven:

=========  ===============================================  =========================
name       driver                                           console errors
=========  ===============================================  =========================
chromium   /usr/bin/chromium headless, raw CDP              CDP, from page start
firefox    firefox-esr headless, raw WebDriver BiDi          BiDi, from page start
webkit     WebKitWebDriver + MiniBrowser under own Xvfb      injected after navigate
webdriver  any W3C endpoint (``webdriver_url``) with the     chromedriver log API, else
           caller's ``capabilities``                         injected after navigate
=========  ===============================================  =========================

``launch(name, webdriver_url=U)`` for chromium / firefox / webkit sends that
engine to the WebDriver endpoint U (a Selenium Grid, say) with default
capabilities for it instead of starting it here.

navigate() returns once the new document is committed, not at its load event,
so a page that never finishes loading does not block it: CDP Page.navigate;
BiDi navigate with wait "none" plus its navigationCommitted event; WebDriver
with pageLoadStrategy "none" plus polling until a marker left on the old
document is gone (webdriver.py says why not "eager"). A failed load raises
NavigationError. evaluate() takes an expression (``await`` allowed inside),
and returns ``JSON.parse(JSON.stringify(value))``; a throw or rejection raises
JavaScriptError. One caller thread per Browser: calls are not meant to overlap.

Process hygiene (procs.py): every process group is recorded and ended by PGID;
helpers that leave the group (crash reporters) are found by an environment
token; an atexit handler and a SIGTERM/SIGHUP handler kill whatever is still
recorded and remove profiles, so a forgotten close() leaves nothing behind
(only SIGKILL of the Python process can).
"""

import os
import shutil

from . import procs
from .base import (Browser, BrowserError, BrowserGone, CallTimeout, JavaScriptError,
                   LaunchError, NavigationError, ProtocolError)
from .chromium import Chromium
from .firefox import Firefox
from .tls import TlsSetup
from .webdriver import WebDriverBrowser, WebDriverError, chromium_capabilities
from .webkit import WebKit

__all__ = [
    "launch", "available", "ENGINES", "Browser", "BrowserError", "BrowserGone", "CallTimeout",
    "JavaScriptError", "LaunchError", "NavigationError", "ProtocolError", "WebDriverError",
    "chromium_capabilities", "TlsSetup",
    "procs",
]

ENGINES = ("chromium", "firefox", "webkit", "webdriver")

_LOCAL = {"chromium": Chromium, "firefox": Firefox, "webkit": WebKit}


def _remote_capabilities(name):
    if name == "chromium":
        return chromium_capabilities(binary=None)     # the endpoint's own Chrome/Chromium
    if name == "firefox":
        return {"browserName": "firefox", "moz:firefoxOptions": {"args": ["-headless"]}}
    if name == "webkit":
        from .webkit import default_capabilities
        return default_capabilities()
    return {}


def available(name):
    """None if engine ``name`` can be launched here, else the reason it cannot."""
    if name == "webdriver":
        return None
    if name not in _LOCAL:
        return f"unknown engine {name!r} (one of {', '.join(ENGINES)})"
    cls = _LOCAL[name]
    for path in cls.binaries:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)) and not shutil.which(path):
            return f"{name}: {path} not found"
    return None


def launch(name, *, profile_dir=None, display=None, webdriver_url=None, log=None,
           capabilities=None, timeout=60.0, tls=None):
    """Start engine ``name`` (or a session at ``webdriver_url``) and return a Browser.

    Returns only when the driver session is up (CDP page attached, BiDi
    ``session.new`` answered, WebDriver session created), so the first navigation
    is not a cold start. ``profile_dir``: the profile to use (created if absent;
    removed by close()); default a fresh temporary one. ``display``: an X display
    for webkit (default: an own Xvfb). ``log``: file the browser's stdout and
    stderr are appended to (default: a temporary file removed at close).
    ``capabilities``: for webdriver (``alwaysMatch``) and webkit. ``tls``: a
    tls.TlsSetup — the instance trusts the run's CA and resolves origin D's name
    (tls.py says how each engine does it, and what it proves); a remote WebDriver
    session ignores it and lacks the capabilities ``tls`` and ``host-d``.
    Raises LaunchError (or CallTimeout / WebDriverError) if it does not come up;
    nothing is left running then.
    """
    if name not in ENGINES:
        raise ValueError(f"launch: unknown engine {name!r} (one of {', '.join(ENGINES)})")
    procs.install_signal_cleanup()
    if name == "webdriver" or webdriver_url is not None:
        if webdriver_url is None:
            raise ValueError("launch('webdriver') needs webdriver_url")
        caps = capabilities if capabilities is not None else _remote_capabilities(name)
        b = WebDriverBrowser(webdriver_url, caps, name=name, profile_dir=profile_dir, log=log, timeout=timeout)
        if tls:
            why = "a remote WebDriver endpoint is not given the run's CA or D's name"
            b.lacks.update({"tls": why, "host-d": why})
        return b
    reason = available(name)
    if reason:
        raise LaunchError(reason)
    return _LOCAL[name](profile_dir=profile_dir, display=display, log=log,
                        capabilities=capabilities, timeout=timeout, tls=tls)
