"""Remote browsers (README, "Remote browsers"): the suite through a WebDriver endpoint on another host.

The other host is a network namespace of our own: chromedriver and the Chromium it starts run inside it, and
reach the runner only over a veth pair whose two ends are the only addresses used (10.200.N.1 on our side,
10.200.N.2 in the namespace). The runner listens on 10.200.N.1 (`--listen`) under the names a.test (A, B) and
c.test (C), which the browser maps to 10.200.N.1 by --host-resolver-rules. Real cases then run through
`--client webdriver --webdriver-url http://10.200.N.2:PORT`: the headline cases, and the cookie cases that
tell same-site B from cross-site C. Root and `ip netns` are needed; without them the test is skipped.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from reports.events import read_events
from tests.harness import group
from tests.harness.browsers.webdriver import chromium_capabilities

ROOT = Path(__file__).resolve().parents[2]
HOST_A, HOST_C = "a.test", "c.test"   # .test is reserved (RFC 6761 §6.2); a.test and c.test are two sites
DRIVER_PORT = 9515                     # inside the namespace: nothing else listens there
CASES = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "cases").rglob("*.case"))
         if re.search(r"(?m)^tags\b.*\bheadline\b", p.read_text())]
CASES += ["cases/cors/credentials/cookie-b.case", "cases/cors/credentials/cookie-c.case"]


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root to make a network namespace (ip netns add)"
    for tool in ("ip", "ss", "chromedriver", "chromium"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    if not (ROOT / "build" / "runner").exists():
        return "build/runner missing: run make first"
    return None


def ip(*args, ns=None):
    argv = ["ip", "netns", "exec", ns, "ip", *args] if ns else ["ip", *args]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def _free_subnet() -> int:
    """N such that 10.200.N.0/30 is on no interface or route of this host."""
    used = ip("-4", "-o", "addr") + ip("-4", "route")
    for k in range(100):
        n = 100 + (os.getpid() + k) % 100
        if f"10.200.{n}." not in used:
            return n
    pytest.skip("no free 10.200.N.0/30 for the veth pair")


@pytest.fixture
def netns():
    """(namespace, our address, its address): a namespace joined to us by one veth pair; always removed."""
    why = _missing()
    if why:
        pytest.skip(why)
    ns, pid = f"chremote{os.getpid()}", os.getpid()
    here, there = f"chr{pid}h"[:15], f"chr{pid}n"[:15]
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
        pytest.skip("ip netns add failed (no CAP_SYS_ADMIN, or no network namespaces here)")
    try:
        n = _free_subnet()
        ours, theirs = f"10.200.{n}.1", f"10.200.{n}.2"
        ip("link", "add", here, "type", "veth", "peer", "name", there)
        ip("link", "set", there, "netns", ns)
        ip("addr", "add", f"{ours}/30", "dev", here)
        ip("link", "set", here, "up")
        ip("addr", "add", f"{theirs}/30", "dev", there, ns=ns)
        ip("link", "set", there, "up", ns=ns)
        ip("link", "set", "lo", "up", ns=ns)
        yield ns, ours, theirs
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)     # takes its end of the veth, and ours
        subprocess.run(["ip", "link", "del", here], capture_output=True)    # in case it was never moved


@pytest.fixture
def driver(netns, tmp_path):
    """chromedriver in the namespace, accepting only our address; its URL."""
    ns, ours, theirs = netns
    log = open(tmp_path / "chromedriver.log", "w")
    proc = group.spawn(["ip", "netns", "exec", ns, "chromedriver", f"--port={DRIVER_PORT}", f"--allowed-ips={ours}"],
                       stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{theirs}:{DRIVER_PORT}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url + "/status", timeout=2).read()
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline or proc.poll() is not None:
                    log_text = (tmp_path / "chromedriver.log").read_text()
                    pytest.fail(f"chromedriver in {ns} did not come up:\n{log_text}")
                time.sleep(0.2)
        yield url
    finally:
        group.end(proc, grace=10)
        log.close()


def capabilities(ours: str) -> dict:
    """Debian's Chromium with the harness's flags, but the run's names mapped to our end of the veth (and every
    other name to NOTFOUND, as in a local run)."""
    caps = chromium_capabilities()
    rules = f"--host-resolver-rules=MAP {HOST_A} {ours} , MAP {HOST_C} {ours} , MAP * ~NOTFOUND"
    args = [a for a in caps["goog:chromeOptions"]["args"] if not a.startswith("--host-resolver-rules=")]
    caps["goog:chromeOptions"]["args"] = args + [rules]
    return caps


class Sockets(threading.Thread):
    """Watches for the runner that `parent` starts; records its listening sockets (ss) and what a request over
    the veth under a foreign Host gets."""

    def __init__(self, parent: subprocess.Popen, ours: str):
        super().__init__(daemon=True)
        self.parent, self.ours = parent, ours
        self.local: list[str] = []
        self.foreign_host_status = None

    def runner_pid(self):
        for p in Path("/proc").iterdir():
            try:
                argv = (p / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"runner") and b"--listen" in argv and self.ours.encode() in argv:
                return p.name
        return None

    def probe(self):
        """The status a plain-http origin answers over the veth when Host names the address, not an origin."""
        for local in self.local:
            port = local.rsplit(":", 1)[1]
            req = urllib.request.Request(f"http://{self.ours}:{port}/_h/health", headers={"Host": local})
            try:
                urllib.request.urlopen(req, timeout=5)
                return 200
            except urllib.error.HTTPError as e:
                return e.code
            except (urllib.error.URLError, OSError):
                continue   # a TLS origin: it does not speak plain http
        return None

    def listening(self, pid: str) -> list[str]:
        out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
        return sorted(line.split()[3] for line in out.splitlines() if f"pid={pid}," in line)

    def run(self):
        # The runner binds its origins one after the other: the list is read once it has stayed the same for a
        # second (on a loaded machine the first sockets show well before the last).
        deadline = time.monotonic() + 120
        while self.parent.poll() is None and time.monotonic() < deadline:
            pid = self.runner_pid()
            if pid:
                before = self.listening(pid)
                time.sleep(1.0)
                now = self.listening(pid)
                if now and now == before:
                    self.local = now
                    self.foreign_host_status = self.probe()
                    return
            time.sleep(0.2)


def test_the_suite_runs_through_chromedriver_in_another_network_namespace(netns, driver, tmp_path):
    ns, ours, theirs = netns
    # Judged against the committed baseline of local Chromium (expectations/browsers.json): the same verdicts.
    args = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/conformance",
            "--client", "webdriver", "--client-name", "chromium", "--webdriver-url", driver,
            "--webdriver-capabilities", json.dumps(capabilities(ours)), "--expectations", "expectations/browsers.json",
            "--listen", ours, "--host-a", HOST_A, "--host-c", HOST_C, "--report", str(tmp_path / "r")]
    for c in CASES:
        args += ["--cases", c]
    t0 = time.monotonic()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watch = Sockets(proc, ours)
    watch.start()
    out, _ = proc.communicate(timeout=600)
    watch.join(5)
    events = read_events(tmp_path / "r" / "events.jsonl")
    verdicts = {e["case"]: e for e in events if e["event"] == "verdict"}
    print(f"remote run: {len(CASES)} case files, {len(verdicts)} verdicts in {time.monotonic() - t0:.1f} s")
    assert len(verdicts) >= 40, out[-3000:]

    # The runner listened on our end of the veth only, every origin (A, B, C, SA, SB, SC, D) there, and refused a
    # request over it whose Host is not one of the run's origins (README, "Security").
    assert len(watch.local) == 7 and all(a.rsplit(":", 1)[0] == ours for a in watch.local), watch.local
    assert watch.foreign_host_status == 421

    # Every connection came from the namespace, to the pages' names.
    stream = (tmp_path / "r" / "events.jsonl").read_text()
    peers = {p.rsplit(":", 1)[0] for p in re.findall(r'"peer": ?"([^"]+)"', stream)}
    assert peers == {theirs}, peers
    assert all(v["vars"]["origin-A"].startswith(f"http://{HOST_A}:") and v["vars"]["origin-B"].startswith(
        f"http://{HOST_A}:") and v["vars"]["origin-C"].startswith(f"http://{HOST_C}:") for v in verdicts.values())

    # Every verdict as local Chromium's: cookie-b (B: same site) PASS, the known FAILs as expected.
    assert proc.returncode == 0, out[-3000:]
    assert all(v["status"] == "PASS" for cid, v in verdicts.items() if cid.startswith("cors/credentials/cookie-b/"))


def test_remote_pages_are_secure_contexts_and_the_control_api_is_reached_by_name(netns, driver):
    """The pages on a.test and c.test are secure contexts as localhost and 127.0.0.1 are locally (the capability
    pytest adds: clients.remote_capabilities), and the harness reaches the control API by address with the
    origin's name in Host."""
    from tests.harness.browsers import WebDriverBrowser
    from tests.harness.clients import remote_capabilities
    from tests.harness.server import Runner
    ns, ours, theirs = netns
    with Runner(cases=["cases/xhr/empty-body.case"],
                extra_args=["--listen", ours, "--host-a", HOST_A, "--host-c", HOST_C]) as runner:
        assert runner.origins["B"].startswith(f"http://{HOST_A}:")
        assert runner.origins["C"].startswith(f"http://{HOST_C}:")
        assert runner.health()["ok"] is True        # over the veth, by address, Host naming A
        plain, secure = capabilities(ours), remote_capabilities(capabilities(ours), runner.ready)
        seen = {}
        for label, caps in (("plain", plain), ("secure", secure)):
            b = WebDriverBrowser(driver, caps)
            try:
                for o in ("A", "B", "C"):
                    b.navigate(runner.origins[o] + "/_h/health")
                    seen[label, o] = b.evaluate("window.isSecureContext")
            finally:
                b.close()
    assert seen == {("plain", "A"): False, ("plain", "B"): False, ("plain", "C"): False,
                    ("secure", "A"): True, ("secure", "B"): True, ("secure", "C"): True}, seen
