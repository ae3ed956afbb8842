#!/usr/bin/python3
"""Measure what driving each engine costs: launch, warm-up, navigate, evaluate, close.

    /usr/bin/python3 -m tests.harness.measure_browsers [--rounds 3] [--navs 5] [ENGINE ...]

One browser at a time; rounds are interleaved across engines (round 1 of every
engine, then round 2, ...) so drift on a noisy machine hits all alike. A page
served on 127.0.0.1 POSTs a token back: "nav->POST" is navigate() until the
server has that POST, "navigate" is until navigate() returns (the new document
committed; it can come after the POST). The webdriver engine is measured
against a local chromedriver (not counted in its launch time). Medians with
min-max in seconds.
"""

import argparse
import http.server
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid

from tests.harness import browsers
from tests.harness.browsers import procs
from tests.harness.browsers.webdriver import WebDriverHTTP

PAGE = ('<!doctype html><title>m</title><script>fetch("/report", {method: "POST", '
        'body: "%s"});</script>')


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen = {}
        self.cond = threading.Condition()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/page/"):
            self._send(200, (PAGE % self.path[6:]).encode())
        elif self.path == "/blank":
            self._send(200, b"<!doctype html><title>b</title>")
        else:
            self._send(204)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with self.server.cond:
            self.server.seen[body] = time.monotonic()
            self.server.cond.notify_all()
        self._send(204)


def _chromedriver(workdir):
    port = procs.free_port()
    env = dict(os.environ, XDG_CONFIG_HOME=f"{workdir}/config", XDG_CACHE_HOME=f"{workdir}/cache")
    group = procs.ProcGroup(["/usr/bin/chromedriver", f"--port={port}"], name="chromedriver", env=env)
    url = f"http://127.0.0.1:{port}"
    if not WebDriverHTTP(url).wait_ready(15, group.leader_running):
        group.stop()
        raise SystemExit("chromedriver did not start")
    return group, url


def one_round(name, srv, navs, samples, workdir):
    origin = f"http://127.0.0.1:{srv.server_address[1]}"
    driver = None
    kwargs = {}
    if name == "webdriver":
        driver, url = _chromedriver(workdir)
        profile = tempfile.mkdtemp(prefix="harness-measure-", dir=workdir)
        kwargs = dict(webdriver_url=url, profile_dir=profile,
                      capabilities=browsers.chromium_capabilities(profile))
    try:
        t0 = time.monotonic()
        b = browsers.launch(name, **kwargs)
        samples["launch"].append(time.monotonic() - t0)
        try:
            samples["version"] = b.version
            samples["warm-up"].append(b.warm_up(origin + "/blank"))
            for _ in range(navs):
                token = uuid.uuid4().hex
                t0 = time.monotonic()
                b.navigate(f"{origin}/page/{token}")
                samples["navigate"].append(time.monotonic() - t0)
                with srv.cond:
                    if not srv.cond.wait_for(lambda: token in srv.seen, 15):
                        raise RuntimeError(f"{name}: page never posted back")
                    samples["nav->POST"].append(srv.seen.pop(token) - t0)
                t0 = time.monotonic()
                b.evaluate("document.title")
                samples["evaluate"].append(time.monotonic() - t0)
        finally:
            t0 = time.monotonic()
            b.close()
            samples["close"].append(time.monotonic() - t0)
    finally:
        if driver:
            driver.stop()


def fmt(values):
    if not values:
        return "-"
    return f"{statistics.median(values):.3f} ({min(values):.2f}-{max(values):.2f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("engines", nargs="*", default=list(browsers.ENGINES))
    ap.add_argument("--rounds", type=int, default=3, help="launches per engine (default 3)")
    ap.add_argument("--navs", type=int, default=5, help="navigations per launch (default 5)")
    args = ap.parse_args()
    engines = [e for e in args.engines if browsers.available(e) is None]
    for e in set(args.engines) - set(engines):
        print(f"skipped: {browsers.available(e)}", file=sys.stderr)
    srv = _Server()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    cols = ["launch", "warm-up", "navigate", "nav->POST", "evaluate", "close"]
    results = {e: {c: [] for c in cols} for e in engines}
    with tempfile.TemporaryDirectory(prefix="harness-measure-") as workdir:
        for r in range(args.rounds):
            for e in engines:
                one_round(e, srv, args.navs, results[e], workdir)
                print(f"round {r + 1}: {e} done", file=sys.stderr)
    srv.shutdown()
    print(f"{os.cpu_count()} cores; {args.rounds} launches x {args.navs} navigations per engine; "
          "seconds, median (min-max)\n")
    header = ["engine", "version"] + cols
    rows = [[e, results[e].get("version", "")] + [fmt(results[e][c]) for c in cols] for e in engines]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header, ["-" * w for w in widths]] + rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
