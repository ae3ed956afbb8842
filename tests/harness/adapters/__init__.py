"""Library clients for the pytest plugin: `harness.adapters.factory(name)` for every non-browser client name.

    node:NAME      NAME a ready-made library (builtin, xhr2, xmlhttprequest-ssl, eventsource, ws) or any
                   module: a file path (CommonJS or ESM) or an installed package name (fixtures/node/adapter.js)
    python:NAME    NAME a ready-made adapter (requests, httpx, aiohttp, websockets), any importable module or a
                   .py file that defines `Adapter` (fixtures/python/chclient, fixtures/ADAPTERS.md)
    curl           the curl command line (fixtures/python/chclient/libs/curl.py)

Each factory makes a ProcessClient: an adapter process started with `--server URL --run R --concurrency N`
that runs the run's cases until `done`. Adapters record what happened; verdicts come from the C judge.

The run's CA (the ready line's `ca`; harness/tls/README.md §3) reaches each the way its TLS stack takes it,
nothing system-wide: Node `NODE_EXTRA_CA_CERTS` in the adapter's environment (read once at start, used by every
TLS client of the process: fetch, https, ws); the Python adapters `--ca FILE`, from which each library gets an
`ssl` context or `verify=` (fixtures/python/chclient); curl `--cacert FILE` per request (through the same
`--ca`). Each is real trust: the CA verifies the chain, the name is checked as usual.

Before the run each library is loaded once (`--check`), which says which library it is: the factory's
`stable_name` is the ready-made name as given, or for a module or file `node:LIBRARY` / `python:LIBRARY`
after the library the adapter found (its package.json or distribution, fixtures/node/adapter.js and
fixtures/python/chclient/library.py), never its path; `version` is that library's.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from ..clients import ProcessClient
from ..server import ROOT

NODE_DIR = ROOT / "fixtures" / "node"
PY_DIR = ROOT / "fixtures" / "python"
PYTHON = "/usr/bin/python3"
NODE_LIBS = {  # ready-made name -> npm package whose version is reported (None: Node itself)
    "builtin": None, "xhr2": "xhr2", "xmlhttprequest-ssl": "xmlhttprequest-ssl", "eventsource": "eventsource",
    "ws": "ws",
}
PY_LIBS = ("requests", "httpx", "aiohttp", "websockets", "curl")  # chclient/libs/


class AdapterError(ValueError):
    """A client name no adapter answers to (pytest shows it as a usage error)."""


class AdapterClient(ProcessClient):
    """A ProcessClient that also passes the session's concurrency to the adapter."""

    concurrency = 1

    def start(self, runner, run):
        base = self.argv
        self.argv = base + ["--concurrency", str(self.concurrency)]
        try:
            super().start(runner, run)
        finally:
            self.argv = base


def _node_version() -> str:
    node = shutil.which("node")
    if not node:
        raise AdapterError("node is not on PATH")
    return subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip().lstrip("v")


def _npm_version(pkg: str) -> str:
    pj = NODE_DIR / "node_modules" / pkg / "package.json"
    try:
        return json.loads(pj.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return ""


def _check(argv: list[str], name: str, env: dict | None = None) -> dict:
    """Loads the library once (`--check`) before the run: a module that does not load is a usage error with its
    message, not a CRASH per case; the answer gives the name and version for the reports."""
    p = subprocess.run(argv + ["--check"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, **(env or {})})
    if p.returncode != 0:
        raise AdapterError(f"{name}: the adapter cannot load it: {(p.stderr or p.stdout).strip()[-1500:]}")
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}


def node_factory(name: str, spec: str):
    node = shutil.which("node") or "node"
    adapter = str(NODE_DIR / "adapter.js")
    if spec in NODE_LIBS:
        pkg = NODE_LIBS[spec]
        if pkg and not (NODE_DIR / "node_modules" / pkg).is_dir():
            raise AdapterError(f"{name}: fixtures/node/node_modules/{pkg} is missing: run scripts/install-deps.sh "
                               "(npm ci in fixtures/node)")
        argv = [node, adapter, "--lib", spec]
    else:
        path = Path(spec)
        # A relative file path is taken from where pytest was started, not from the adapter's directory.
        mod = str(path.resolve()) if (path.exists() or spec.startswith(".")) else spec
        argv = [node, adapter, "--module", mod]
    info = _check(argv, name)
    version = info.get("version") or (_node_version() if spec == "builtin" else "")

    def factory():
        return AdapterClient(factory.name, argv, version=version, tls=node_tls)
    factory.stable_name = name if spec in NODE_LIBS else f"node:{info.get('name') or Path(spec).stem}"
    factory.library = info
    return factory


def node_tls(ca: str):
    return [], {"NODE_EXTRA_CA_CERTS": ca}, {"trust": "real trust: NODE_EXTRA_CA_CERTS (system CAs plus the run's CA)"}


def python_tls(ca: str):
    return ["--ca", ca], {}, {"trust": "real trust: --ca, an ssl context / verify= with the run's CA"}


def curl_tls(ca: str):
    return ["--ca", ca], {}, {"trust": "real trust: curl --cacert with the run's CA"}


def python_factory(name: str, spec: str):
    if spec.endswith(".py") or os.sep in spec:
        spec = str(Path(spec).resolve())  # a file, taken from where pytest was started
        if not Path(spec).is_file():
            raise AdapterError(f"{name}: no such file {spec}")
    argv = [PYTHON, "-m", "chclient", "--lib", spec]
    env = {"PYTHONPATH": os.pathsep.join(p for p in (str(PY_DIR), os.getcwd(), os.environ.get("PYTHONPATH", "")) if p)}
    info = _check(argv, name, env)
    version = info.get("version", "")

    def factory():
        return AdapterClient(factory.name, argv, version=version, env=env, tls=python_tls)
    factory.stable_name = name if spec in PY_LIBS else f"python:{info.get('name') or Path(spec).stem}"
    factory.library = info
    return factory


def curl_factory(name: str):
    if not shutil.which("curl"):
        raise AdapterError("curl is not on PATH")
    argv = [PYTHON, "-m", "chclient", "--lib", "curl"]
    env = {"PYTHONPATH": str(PY_DIR)}
    version = _check(argv, name, env).get("version", "")

    def factory():
        return AdapterClient(factory.name, argv, version=version, env=env, tls=curl_tls)
    factory.stable_name = name
    return factory


def factory(name: str):
    """A zero-argument callable that makes a fresh client for `name` (the plugin sets `.name` on it)."""
    kind, _, spec = name.partition(":")
    if kind == "node" and spec:
        return node_factory(name, spec)
    if kind == "python" and spec:
        return python_factory(name, spec)
    if name == "curl":
        return curl_factory(name)
    raise AdapterError(f"no adapter for client {name!r}: use chromium, firefox, webkit, webdriver, node:MODULE, "
                       "python:MODULE or curl")
