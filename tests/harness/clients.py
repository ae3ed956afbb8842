"""The clients a session can run: real browsers (through tests/harness/browsers) and adapter processes.

A client only runs cases and posts observations; it never decides a verdict.
"""
from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from . import group
from .session import Client

BROWSERS = ("chromium", "firefox", "webkit", "webdriver")


def page_shares(concurrency: int, pages: int) -> list[int]:
    """How many cases each harness page may run at once: `concurrency` (the client's total, README "Options")
    spread over at most `pages` pages, none given less than one. share(4, 2) = [2, 2]; (5, 2) = [3, 2];
    (1, 3) = [1]: a page with nothing to run is not opened."""
    n = max(1, min(pages, concurrency))
    return [concurrency // n + (i < concurrency % n) for i in range(n)]


def remote_capabilities(caps: dict, ready: dict) -> dict:
    """`caps` for a run whose origins are remote names (`runner serve --listen`, README "Remote browsers").

    On loopback, A, B (http://localhost) and C (http://127.0.0.1) are potentially trustworthy (Secure Contexts
    §3.1: 127.0.0.0/8, and localhost); under other names they would not be, and every page of the run would lose
    what a secure context has (Fetch Metadata's Sec-Fetch-* headers, Secure cookies...). §3.1 lets a user agent
    be configured to treat an origin as trustworthy ("If origin has been configured as a trustworthy origin,
    return Potentially Trustworthy"): for Chromium's goog:chromeOptions that is
    --unsafely-treat-insecure-origin-as-secure with the run's http origins A, B and C, added here since their
    ports are known only now. Other capabilities are returned as they are."""
    opts = caps.get("goog:chromeOptions")
    if not ready.get("listen") or not isinstance(opts, dict):
        return caps
    origins = ",".join(ready["origins"][o] for o in ("A", "B", "C"))
    args = [a for a in opts.get("args", []) if not a.startswith("--unsafely-treat-insecure-origin-as-secure=")]
    args.append(f"--unsafely-treat-insecure-origin-as-secure={origins}")
    return {**caps, "goog:chromeOptions": {**opts, "args": args}}


class BrowserClient(Client):
    """A real browser pointed at the harness page: `<A>/_h/static/page.html?run=R`. The page loops over the
    run's cases, one fresh iframe (or, for pages on SA, SB, SC, D, window) per case (fixtures/page.js). With
    `pages` > 1 the browser gets that many harness pages on the same run, each a top-level page of its own
    (Browser.open_page): a case iframe shares its harness page's renderer process and main thread, which one page
    keeps busy (README "Speed"); the run's concurrency is spread over them (page_shares). When the
    runner serves TLS origins, the browser trusts the run's CA and maps origin D's name its own way
    (browsers/tls.py); what it cannot do goes to the page as `lack=CAP:WHY` (those cases are N/A)."""

    def __init__(self, name: str, webdriver_url: str | None = None, capabilities: dict | None = None, log=None,
                 pages: int = 1):
        self.name = name
        self.concurrency = 1  # set by the session before start()
        self.pages = pages
        self.webdriver_url = webdriver_url
        self.capabilities = capabilities
        self.logf = log
        self.browser = None
        self.version = ""
        self.tls = None

    def start(self, runner, run):
        from . import browsers
        setup = browsers.TlsSetup.from_ready(runner.ready)
        kwargs = {"log": self.logf, "tls": setup}
        if self.name == "webdriver":
            caps = remote_capabilities(self.capabilities or {}, runner.ready)
            kwargs.update(webdriver_url=self.webdriver_url, capabilities=caps)
        self.browser = browsers.launch(self.name, **kwargs)
        self.version = self.browser.version
        lacks = dict(self.browser.lacks)
        if setup is None:
            lacks.update({"tls": "the runner serves no TLS origins", "host-d": "the runner serves no origin D"})
        self.tls = {"info": self.browser.tls_info, "lacks": lacks}
        # Never time anything on a fresh browser's first page (browsers/base.py, warm_up): warm up first.
        self.browser.warm_up(runner.base + "/_h/health")
        # The page asks for the run's cases with the run's secret (README, "Security"), which its URL carries.
        pages = min(self.pages, self.browser.pages_limit)
        first, *more = [self._page_url(runner, run, lacks, share) for share in page_shares(self.concurrency, pages)]
        self.browser.navigate(first)
        for url in more:
            self.browser.open_page(url)

    @staticmethod
    def _page_url(runner, run, lacks, concurrency):
        query = urllib.parse.urlencode([("run", run), ("concurrency", concurrency), ("secret", runner.secret)] +
                                       [("lack", f"{cap}:{why}") for cap, why in sorted(lacks.items())])
        return f"{runner.base}/_h/static/page.html?{query}"

    def alive(self):
        return self.browser is not None and self.browser.alive()

    def describe_death(self):
        return f"{self.name} {self.version}: the browser process or its driver connection died"

    def stop(self):
        if self.browser:
            try:
                self.browser.close()
            finally:
                self.browser = None


class ProcessClient(Client):
    """An adapter process that speaks the control protocol itself (`next` loop): Node, Python, curl."""

    def __init__(self, name: str, argv: list[str], version: str = "", env: dict | None = None, cwd=None,
                 tls=None):
        self.name = name
        self.argv = argv
        self.version = version
        self.env = env
        self.cwd = cwd
        self.proc = None
        self.stderr_path = None
        # How the adapter is told the run's CA (harness/tls/README.md §3): `tls(ca_path)` gives
        # (extra argv, extra environment, what it proves); None: the adapter is given nothing.
        self.tls_way = tls
        self.tls = None

    def start(self, runner, run):
        import tempfile
        argv, env = list(self.argv), {**os.environ, **(self.env or {})}
        ca = runner.ready.get("ca")
        if ca and self.tls_way:
            more_argv, more_env, info = self.tls_way(ca)
            argv += more_argv
            env.update(more_env)
            self.tls = {"info": info}
        fd, self.stderr_path = tempfile.mkstemp(prefix="adapter-", suffix=".log")
        # CH_SECRET: the run's secret, which the adapter sends with its control requests (README, "Security").
        env["CH_SECRET"] = runner.secret
        self.proc = group.spawn(argv + ["--server", runner.base, "--run", run], stdout=fd, stderr=fd, env=env,
                                cwd=self.cwd)
        os.close(fd)

    def alive(self):
        # An adapter that exits after `done` is fine; one that exits while cases remain died.
        return self.proc is not None and self.proc.poll() is None

    def describe_death(self):
        tail = ""
        if self.stderr_path and Path(self.stderr_path).exists():
            tail = Path(self.stderr_path).read_text(errors="replace")[-800:]
        rc = self.proc.returncode if self.proc else None
        return f"{self.name}: the adapter process exited with {rc}" + (f": {tail.strip()}" if tail.strip() else "")

    def stop(self):
        if self.proc:
            group.end(self.proc, grace=5)
        self.proc = None
        if self.stderr_path:
            try:
                os.unlink(self.stderr_path)
            except OSError:
                pass
