#!/usr/bin/python3
"""Which http origins an https page may reach: the mixed-content design of the TLS cases (README.md §5.1).

    /usr/bin/python3 harness/tls/mixed_probe.py [--browsers chromium,firefox,webkit]   # starts browsers: run it alone

A page on https://localhost:GOOD (build/tls-demo, the CA trusted the browser's real way, trust_probe.py)
fetches three http URLs of one plain loopback server, each path its own:

    http://127.0.0.1:H/loopback     127.0.0.0/8 is potentially trustworthy (Secure Contexts §3.1): not mixed
    http://insecure.test:H/named    a name that is not: blockable mixed content (Mixed Content §4.3)
    http://insecure.test:H/page     navigated to directly: isSecureContext must be false there; from it,
    http://127.0.0.1:H/control      fetched by that http page: proves the server is reachable for the browser

insecure.test resolves to 127.0.0.1 only inside each browser (Chromium: a --host-resolver-rules MAP; Firefox:
network.dns.localDomains; WebKit: /etc/hosts bind-mounted in the driver's private mount namespace), so a request
that is not blocked does reach the server: "blocked" is told apart from "unreachable" by the server's log.
"""

import argparse
import http.server
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trust_probe as tp  # noqa: E402

PROBE = """new Promise(r => document.readyState !== 'loading' ? r() : addEventListener('DOMContentLoaded', r))
  .then(() => Promise.all(%s.map(u => fetch(u, {cache: 'no-store'}).then(
      r => r.text().then(t => 'loaded: ' + t), e => 'rejected: ' + e.name + ': ' + e.message))))
  .then(rs => ({isSecureContext: self.isSecureContext, text: document.getElementById('ok') &&
                document.getElementById('ok').textContent, results: rs}))"""


class Plain(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        Plain.seen.append(self.path)
        body = (b"<!doctype html><title>plain</title><p id=ok>plain http</p>" if self.path == "/page"
                else b"plain http")
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if self.path == "/page" else "text/plain")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


WAYS = {"chromium": (tp.chromium, "nssdb"), "firefox": (tp.firefox, "cert9.db"),
        "webkit": (tp.webkit, "mount-namespace")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--demo", default=os.path.join(tp.ROOT, "build", "tls-demo"))
    ap.add_argument("--browsers", default="chromium,firefox,webkit")
    args = ap.parse_args()
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Plain)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    h = plain.server_address[1]
    demo = tp.Demo(args.demo)
    out = {}
    try:
        for name in args.browsers.split(","):
            make, way = WAYS[name]
            b = make(demo, way, map_insecure=True)
            try:
                Plain.seen.clear()
                b.navigate(demo.url("good", "localhost"), timeout=15)
                urls = [f"http://127.0.0.1:{h}/loopback", f"http://{tp.INSECURE_HOST}:{h}/named"]
                from_https = b.evaluate(PROBE % json.dumps(urls), timeout=20)
                b.navigate(f"http://{tp.INSECURE_HOST}:{h}/page", timeout=15)
                on_http = b.evaluate(PROBE % json.dumps([f"http://127.0.0.1:{h}/control"]), timeout=20)
                out[name] = {"version": b.version, "from_https_page": from_https, "insecure_page": on_http,
                             "server_saw": list(Plain.seen)}
            finally:
                b.close()
            print(name, json.dumps(out[name]), flush=True)
    finally:
        demo.stop()
        plain.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
