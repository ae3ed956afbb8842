"""The trust set-up of every client, proven able to fail (harness/tls/README.md §3; tests/harness/browsers/tls.py,
tests/harness/adapters).

A real `runner serve` with its run's CA serves origin SA (https://localhost). Each client is set up to trust a
CA exactly as a conformance run sets it up — the browsers by `browsers.launch(name, tls=TlsSetup)`, Node by the
environment `adapters.node_tls` gives the adapter process, the Python adapters by the `--ca` of
`adapters.python_tls` (chclient's `ssl_context()`, and `verify=` as requests takes it), curl by `--cacert` from
`adapters.curl_tls` — and then asked for https://localhost:SA/_h/health:

    the run's CA         must load: the set-up gives real trust, the name checked as usual
    another CA           must be refused: a set-up that trusts the wrong file (or nothing) fails the handshake
    nothing (libraries)  must be refused: the run's CA is trusted nowhere system-wide

So a trust set-up that silently stops working (a profile the CA never reaches, an environment variable not
passed) makes the first row fail here, and one that accepts everything (errors ignored) makes the second fail.
Heavy (browsers): run it alone, not beside another browser run: `/usr/bin/python3 -m pytest tests/self/test_tls_trust.py`.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.harness import adapters, browsers
from tests.harness.browsers.tls import TlsSetup
from tests.harness.server import Runner

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "fixtures" / "python"))
from chclient import Adapter  # noqa: E402  (the Python adapters' base: its ssl_context() is their trust)


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    r = Runner(cases=["cases/tls/xhr/basic.case"], run_dir=tmp_path_factory.mktemp("run")).start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory) -> str:
    """A CA of the same kind (ECDSA P-256) that signed nothing the runner presents."""
    d = tmp_path_factory.mktemp("other")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "1", "-subj", "/CN=another CA", "-keyout", str(d / "key.pem"), "-out", str(d / "ca.pem")],
                   check=True, capture_output=True)
    return str(d / "ca.pem")


def health_url(runner) -> str:
    return runner.origins["SA"] + "/_h/health"


def cas(runner, other_ca) -> dict:
    return {"run": runner.ready["ca"], "other": other_ca}


# -- browsers -------------------------------------------------------------------------------------------------------

# From a page of origin A (an HTML page: Firefox shows JSON in a viewer of its own, whose fetches fail), a no-cors
# fetch of SA's health: an opaque response when the handshake succeeded, a TypeError when the engine refused the
# certificate.
FETCH = ("fetch(%s, {mode: 'no-cors'}).then(() => 'loaded', e => 'refused: ' + e)")


@pytest.mark.parametrize("engine", ["chromium", "firefox", "webkit"])
@pytest.mark.parametrize("which", ["run", "other"])
def test_browser_trust(engine, which, runner, other_ca):
    reason = browsers.available(engine)
    if reason:
        pytest.skip(reason)
    setup = TlsSetup.from_ready(runner.ready)
    setup = TlsSetup(ca=cas(runner, other_ca)[which], insecure_host=setup.insecure_host, good_port=setup.good_port)
    b = browsers.launch(engine, tls=setup)
    try:
        b.warm_up(runner.base + "/_h/static/case.html")
        got = b.evaluate(FETCH % json.dumps(health_url(runner)))
        info = b.tls_info
    finally:
        b.close()
    if which == "run":
        assert got == "loaded", f"{engine} with the run's CA ({info}): {got}"
    elif "errors ignored" in (info or {}).get("trust", ""):
        # WebKit's fallback pins the good leaf itself, whatever CA it is given: it proves nothing about a CA.
        assert got == "loaded", f"{engine} pinning the good leaf: {got}"
    else:
        assert got.startswith("refused"), f"{engine} trusting another CA loaded SA: {got} ({info})"


# -- libraries ------------------------------------------------------------------------------------------------------

def node_fetch(url: str, env: dict) -> str:
    if not shutil.which("node"):
        pytest.skip("node is not installed")
    js = ("fetch(process.argv[1]).then(r => console.log('loaded', r.status), "
          "e => console.log('refused', (e.cause && e.cause.code) || e))")
    base = {k: v for k, v in os.environ.items() if k != "NODE_EXTRA_CA_CERTS"}
    out = subprocess.run(["node", "-e", js, url], env={**base, **env}, capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


@pytest.mark.parametrize("which", ["run", "other", "none"])
def test_node_trust(which, runner, other_ca):
    env = {} if which == "none" else adapters.node_tls(cas(runner, other_ca)[which])[1]
    got = node_fetch(health_url(runner), env)
    if which == "run":
        assert got.startswith("loaded 200"), got
    else:
        assert got.startswith("refused"), f"node without the run's CA loaded SA: {got}"


def python_ca(runner, other_ca, which) -> str | None:
    if which == "none":
        return None
    argv = adapters.python_tls(cas(runner, other_ca)[which])[0]
    return argv[argv.index("--ca") + 1]


@pytest.mark.parametrize("which", ["run", "other", "none"])
def test_python_trust(which, runner, other_ca):
    a = Adapter()
    a.ca = python_ca(runner, other_ca, which)
    ctx = a.ssl_context() if a.ca else ssl.create_default_context()
    try:
        with urllib.request.urlopen(health_url(runner), context=ctx, timeout=10) as r:
            got = f"loaded {r.status}"
    except urllib.error.URLError as e:
        got = f"refused: {e.reason}"
    if which == "run":
        assert got == "loaded 200", got
    else:
        assert got.startswith("refused") and "CERTIFICATE_VERIFY_FAILED" in got, got


@pytest.mark.parametrize("which", ["run", "other", "none"])
def test_requests_trust(which, runner, other_ca):
    requests = pytest.importorskip("requests")
    ca = python_ca(runner, other_ca, which)
    try:
        got = f"loaded {requests.get(health_url(runner), verify=ca or True, timeout=10).status_code}"
    except requests.exceptions.SSLError as e:
        got = f"refused: {e}"
    if which == "run":
        assert got == "loaded 200", got
    else:
        assert got.startswith("refused"), got


@pytest.mark.parametrize("which", ["run", "other", "none"])
def test_curl_trust(which, runner, other_ca):
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    argv = [] if which == "none" else adapters.curl_tls(cas(runner, other_ca)[which])[0]
    extra = ["--cacert", argv[argv.index("--ca") + 1]] if argv else []  # as fixtures/python/chclient/libs/curl.py
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", *extra, health_url(runner)],
                         capture_output=True, text=True, timeout=30)
    if which == "run":
        assert (out.returncode, out.stdout) == (0, "200"), out
    else:
        assert out.returncode == 60, f"curl without the run's CA: exit {out.returncode} (60: peer certificate)"
