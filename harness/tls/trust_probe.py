#!/usr/bin/python3
"""Proves, client by client, how each trusts the run's CA without any system-wide change (issue 12, phase A).

    /usr/bin/python3 harness/tls/trust_probe.py [--clients curl,python,node,...]   # starts browsers: run it alone

Starts build/tls-demo in a fresh run folder (it writes only ca.pem there), then for every client and every
way of trusting it (README.md §3) loads:

    good/localhost   https://localhost:GOOD/       must load
    good/127.0.0.1   https://127.0.0.1:GOOD/       must load
    expired          https://localhost:EXPIRED/    must be refused
    wrong-name       https://localhost:WRONG/      must be refused
    self-signed      https://localhost:SELF/       must be refused

A "baseline" way (no trust set up) must refuse everything: the CA is trusted only where we put it. Before and
after, the system's trust stores are fingerprinted (README.md §3.2); the run fails if any changed. Browsers are
launched the harness's way (tests/harness/browsers), each with a throwaway profile. Exit 0 when every cell is
as required. Phase B moves each way into the clients' setup; this script is its record.
"""

import argparse
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

TARGETS = [("good/localhost", "good", "localhost", True), ("good/127.0.0.1", "good", "127.0.0.1", True),
           ("expired", "expired", "localhost", False), ("wrong-name", "wrong-name", "localhost", False),
           ("self-signed", "self-signed", "localhost", False)]

# Waits for the document to be parsed, then reads the demo page's marker (null on an error page).
# Firefox's certificate error page exposes the NSS error to its own document (getFailedCertSecurityInfo).
PAGE_MARK = ("new Promise(r => { const f = () => r({text: document.getElementById('ok') ? "
             "document.getElementById('ok').textContent : null, uri: document.documentURI, error: "
             "(() => { try { return document.getFailedCertSecurityInfo().errorCodeString; } catch (e) { return null; } })()}); "
             "if (document.readyState !== 'loading') f(); else document.addEventListener('DOMContentLoaded', f); })")

SYSTEM_TRUST = ["/etc/ssl/certs", "/usr/local/share/ca-certificates", "/usr/share/ca-certificates",
                "/etc/pki", "/etc/chromium/policies", "/etc/opt/chrome/policies",
                "/usr/lib/firefox-esr/distribution", "/etc/firefox/policies", "/etc/firefox-esr",
                os.path.expanduser("~/.pki"), os.path.expanduser("~/.mozilla"),
                "/usr/share/p11-kit", "/etc/pkcs11"]


def fingerprint(paths):
    """SHA-256 over every file's path, size and content under the given paths (symlinks by target)."""
    h = hashlib.sha256()
    for top in paths:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                p = os.path.join(dirpath, name)
                h.update(p.encode())
                try:
                    if os.path.islink(p):
                        h.update(b"->" + os.readlink(p).encode())
                    else:
                        with open(p, "rb") as f:
                            h.update(hashlib.sha256(f.read()).digest())
                except OSError as exc:
                    h.update(str(exc).encode())
        h.update(b"|exists" if os.path.exists(top) else b"|absent")
    return h.hexdigest()


class Demo:
    """build/tls-demo in a fresh run folder; its event lines are collected as they come."""

    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="tls-probe-run-")
        self.proc = subprocess.Popen([binary, self.dir], stdout=subprocess.PIPE, text=True)
        self.ready = json.loads(self.proc.stdout.readline())
        self.ca = self.ready["ca"]
        self.ports = self.ready["ports"]
        self.events = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.events.append(json.loads(line))

    def seen(self, since, listener):
        """What the server saw on `listener` from event index `since`: the client's alerts, handshakes done."""
        time.sleep(0.3)   # let the last close reach the server
        alerts, done = [], 0
        for ev in self.events[since:]:
            if ev.get("listener") != listener:
                continue
            if ev["type"] == "tls-alert" and ev["by"] == "client" and ev["alert"] != "close_notify":
                alerts.append(ev["alert"])
            done += ev["type"] == "tls-handshake"
        return {"client_alerts": sorted(set(alerts)), "handshakes": done}

    def url(self, listener, host, path="/"):
        return f"https://{host}:{self.ports[listener]}{path}"

    def leaf_pem(self, listener="good"):
        """The certificate a listener presents, fetched off the wire, as a PEM file in the run folder."""
        path = os.path.join(self.dir, f"{listener}.pem")
        with open(path, "w") as f:
            f.write(ssl.get_server_certificate(("127.0.0.1", self.ports[listener])))
        return path

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.reader.join(5)
        shutil.rmtree(self.dir, ignore_errors=True)
        return self.events


# ---- library clients ------------------------------------------------------------------------------------------

def curl(demo, way):
    def load(url):
        args = ["curl", "-sS", "--max-time", "10"] + (["--cacert", demo.ca] if way == "--cacert" else []) + [url]
        r = subprocess.run(args, capture_output=True, text=True)
        return ("loaded", "served over TLS" in r.stdout) if r.returncode == 0 else \
            ("refused", f"exit {r.returncode}: {r.stderr.strip().splitlines()[0]}")
    return load


def python_urllib(demo, way):
    ctx = ssl.create_default_context(cafile=demo.ca) if way == "cafile" else ssl.create_default_context()

    def load(url):
        try:
            with urllib.request.urlopen(url, context=ctx, timeout=10) as r:
                return "loaded", b"served over TLS" in r.read()
        except (urllib.error.URLError, ssl.SSLError, OSError) as exc:
            return "refused", str(getattr(exc, "reason", exc))
    return load


def python_requests(demo, way):
    import requests

    def load(url):
        try:
            r = requests.get(url, verify=demo.ca if way == "verify=ca" else True, timeout=10)
            return "loaded", "served over TLS" in r.text
        except requests.exceptions.RequestException as exc:
            return "refused", type(exc).__name__ + ": " + str(exc).split("(Caused by ")[-1][:120]
    return load


NODE_SCRIPT = r"""
fetch(process.argv[1]).then(r => r.text()).then(
  t => console.log(JSON.stringify(['loaded', t.includes('served over TLS')])),
  e => console.log(JSON.stringify(['refused', (e.cause && (e.cause.code || e.cause.message)) || e.message])));
"""


def node(demo, way):
    """Node's fetch (undici) in a process of its own per URL: NODE_EXTRA_CA_CERTS is read at start."""
    env = dict(os.environ)
    env.pop("NODE_EXTRA_CA_CERTS", None)
    if way == "NODE_EXTRA_CA_CERTS":
        env["NODE_EXTRA_CA_CERTS"] = demo.ca

    def load(url):
        r = subprocess.run(["node", "-e", NODE_SCRIPT, url], capture_output=True, text=True, env=env, timeout=60)
        return tuple(json.loads(r.stdout)) if r.stdout.strip() else ("refused", r.stderr.strip()[:200])
    return load


# ---- browsers ---------------------------------------------------------------------------------------------------

def browser_loader(b):
    from tests.harness.browsers import base

    def load(url):
        try:
            b.navigate(url, timeout=10)
            mark = b.evaluate(PAGE_MARK, timeout=15)
        except base.BrowserError as exc:
            return "refused", str(exc).split(": ", 2)[-1][:160]
        if mark and mark.get("text"):
            return "loaded", mark["text"] == "served over TLS"
        return "refused", (mark or {}).get("error") or (mark or {}).get("uri", "no document")[:100]
    return load


INSECURE_HOST = "insecure.test"   # an http origin that is not potentially trustworthy (mixed_probe.py)


def chromium(demo, way, map_insecure=False):
    from tests.harness.browsers import chromium as chr
    profile = tempfile.mkdtemp(prefix="harness-chromium-")
    env_extra, flags = {}, []
    if way == "nssdb":
        # Chromium on Linux reads user trust from the NSS database $HOME/.pki/nssdb: a HOME of its own.
        home = os.path.join(profile, "home")
        db = os.path.join(home, ".pki", "nssdb")
        os.makedirs(db)
        subprocess.run(["certutil", "-N", "-d", "sql:" + db, "--empty-password"], check=True)
        subprocess.run(["certutil", "-A", "-d", "sql:" + db, "-n", "harness run CA", "-t", "C,,", "-i", demo.ca],
                       check=True)
        env_extra["HOME"] = home
    elif way == "spki-list":
        flags = ["--ignore-certificate-errors-spki-list=" + demo.ready["spki_sha256"]["good"]]

    class Probe(chr.Chromium):
        def _private_env(self, **kw):
            return super()._private_env(**kw, **env_extra)

        def _start(self, argv, **kw):
            if map_insecure:   # the first matching rule wins: map our name before "MAP * ~NOTFOUND"
                argv = [a.replace("--host-resolver-rules=", f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1 , ")
                        for a in argv]
            return super()._start(argv[:-1] + flags + argv[-1:], **kw)
    return Probe(profile_dir=profile)


def firefox(demo, way, map_insecure=False):
    from tests.harness.browsers import firefox as ff
    profile = tempfile.mkdtemp(prefix="harness-firefox-")
    if way == "cert9.db":
        # The profile's own certificate database (cert9.db, key4.db, pkcs11.txt), made before the first start.
        subprocess.run(["certutil", "-N", "-d", "sql:" + profile, "--empty-password"], check=True)
        subprocess.run(["certutil", "-A", "-d", "sql:" + profile, "-n", "harness run CA", "-t", "C,,", "-i",
                        demo.ca], check=True)

    class Probe(ff.Firefox):
        def _start(self, argv, **kw):
            if map_insecure:   # user.js is written by now: resolve our name to loopback, no proxy for it
                with open(os.path.join(self.profile_dir, "user.js"), "a") as f:
                    f.write(f'user_pref("network.dns.localDomains", "{INSECURE_HOST}");\n'
                            f'user_pref("network.proxy.no_proxies_on", "{INSECURE_HOST}");\n')
            return super()._start(argv, **kw)
    return Probe(profile_dir=profile)


def webkit(demo, way, map_insecure=False):
    from tests.harness.browsers import webkit as wk
    caps = wk.default_capabilities()
    wrap = None
    if way == "certificates":
        # WebKitWebDriver: per-host allowances for one certificate (the leaf the server presents).
        leaf = demo.leaf_pem("good")
        caps["webkitgtk:browserOptions"]["certificates"] = [
            {"host": "localhost", "certificateFile": leaf}, {"host": "127.0.0.1", "certificateFile": leaf}]
    elif way == "mount-namespace":
        # GnuTLS (glib-networking) reads /etc/ssl/certs/ca-certificates.crt: in a private mount namespace of
        # the driver and its browser, a bundle of the system's CAs plus ours is bind-mounted over it.
        bundle = os.path.join(demo.dir, "bundle.pem")
        with open(bundle, "w") as out:
            out.write(open("/etc/ssl/certs/ca-certificates.crt").read() + open(demo.ca).read())
        mounts = f'mount --bind "{bundle}" /etc/ssl/certs/ca-certificates.crt'
        if map_insecure:   # the same namespace gets a hosts file naming our insecure host
            hosts = os.path.join(demo.dir, "hosts")
            with open(hosts, "w") as out:
                out.write(open("/etc/hosts").read() + f"\n127.0.0.1 {INSECURE_HOST}\n")
            mounts += f' && mount --bind "{hosts}" /etc/hosts'
        wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-c", mounts + ' && exec "$0" "$@"']

    class Probe(wk.WebKit):
        def _start(self, argv, **kw):
            if wrap and kw.get("name") == "WebKitWebDriver":
                argv = wrap + argv
            return super()._start(argv, **kw)
    return Probe(capabilities=caps)


CLIENTS = {
    "curl": (curl, ["--cacert", "baseline"]),
    "python-ssl": (python_urllib, ["cafile", "baseline"]),
    "python-requests": (python_requests, ["verify=ca", "baseline"]),
    "node": (node, ["NODE_EXTRA_CA_CERTS", "baseline"]),
    "chromium": (chromium, ["nssdb", "spki-list", "baseline"]),
    "firefox": (firefox, ["cert9.db", "baseline"]),
    "webkit": (webkit, ["certificates", "mount-namespace", "baseline"]),
}
BROWSERS = {"chromium", "firefox", "webkit"}


def run_way(demo, client, way):
    make, _ = CLIENTS[client]
    made = make(demo, way)
    browser = made if client in BROWSERS else None
    load = browser_loader(browser) if browser else made
    try:
        version = browser.version if browser else ""
        cells = []
        for name, listener, host, must_load in TARGETS:
            since = len(demo.events)
            outcome, detail = load(demo.url(listener, host))
            required = "loaded" if must_load and way != "baseline" else "refused"
            ok = outcome == required and (outcome != "loaded" or detail is True)
            cells.append({"target": name, "outcome": outcome, "detail": detail, "ok": ok,
                          "server_saw": demo.seen(since, listener)})
        return version, cells
    finally:
        if browser:
            browser.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--demo", default=os.path.join(ROOT, "build", "tls-demo"))
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    before = fingerprint(SYSTEM_TRUST)
    demo = Demo(args.demo)
    results, all_ok = [], True
    try:
        for client in args.clients.split(","):
            for way in CLIENTS[client][1]:
                t0 = time.monotonic()
                try:
                    version, cells = run_way(demo, client, way)
                except Exception as exc:  # a client that cannot start is a failed row, not a crash
                    version, cells = "", [{"target": "*", "outcome": "error", "detail": repr(exc)[:300], "ok": False}]
                row_ok = all(c["ok"] for c in cells)
                all_ok &= row_ok
                results.append({"client": client, "way": way, "version": version, "ok": row_ok, "cells": cells,
                                "seconds": round(time.monotonic() - t0, 1)})
                print(f"{'OK  ' if row_ok else 'FAIL'} {client:16} {way:20} {version}", flush=True)
                for c in cells:
                    saw = c.get("server_saw", {})
                    print(f"       {'ok ' if c['ok'] else 'BAD'} {c['target']:15} {c['outcome']:8} {c['detail']}"
                          f"  [server: handshakes {saw.get('handshakes')}, client alerts "
                          f"{','.join(saw.get('client_alerts', [])) or '-'}]", flush=True)
    finally:
        events = demo.stop()
    after = fingerprint(SYSTEM_TRUST)
    unchanged = before == after
    all_ok &= unchanged
    alerts = {}
    for ev in events:
        if ev["type"] == "tls-alert" and ev["by"] == "client" and ev["alert"] != "close_notify":
            key = f"{ev['listener']}: {ev['alert']}"
            alerts[key] = alerts.get(key, 0) + 1
    print(f"{'OK  ' if unchanged else 'FAIL'} system trust stores unchanged ({before[:16]} -> {after[:16]})")
    print("alerts the clients sent:", json.dumps(alerts, sort_keys=True))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "system_unchanged": unchanged, "client_alerts": alerts}, f, indent=1)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
