"""The runner under test: start `runner serve`, read its ready line, speak the control protocol.

One class, `Runner`, used by the pytest plugin and the self-tests. Every HTTP call has a timeout; nothing
here decides a verdict (the C judge does).
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from . import group

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUNNER = ROOT / "build" / "runner"


class RunnerError(RuntimeError):
    """The runner could not start, or answered a control request with an error."""


def runner_path() -> Path:
    return Path(os.environ.get("RUNNER", DEFAULT_RUNNER))


class Runner:
    """A `runner serve` process on its origins (A, B, C; SA, SB, SC over TLS; D), its run's CA in `ready["ca"]`;
    on loopback, or on the address of `--listen` in extra_args (README, "Remote browsers").

    >>> r = Runner(cases=["cases"]).start()
    >>> r.origins["A"]            # 'http://localhost:41001'
    >>> r.stop()
    """

    def __init__(self, cases=("cases",), fixtures="fixtures", time_scale=1.0, ports=(0, 0, 0),
                 extra_args=(), env=None, exe=None, run_dir=None):
        self.exe = Path(exe) if exe else runner_path()
        self.args = [str(self.exe), "serve"]
        for c in cases:
            self.args += ["--cases", str(c)]
        self.args += ["--fixtures", str(fixtures), "--time-scale", str(time_scale),
                      "--port-a", str(ports[0]), "--port-b", str(ports[1]), "--port-c", str(ports[2])]
        if run_dir is not None:   # where the runner writes the run's CA (ca.pem); default: a folder of its own
            self.args += ["--run-dir", str(run_dir)]
        self.args += list(extra_args)
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.ready: dict = {}
        self.stderr_lines: list[str] = []

    @classmethod
    def attach(cls, ready: dict) -> "Runner":
        """A Runner for a `runner serve` another process started, from its ready line (`stop` leaves it be)."""
        r = cls()
        r.ready = dict(ready)
        return r

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self, timeout=15.0) -> "Runner":
        if not self.exe.exists():
            raise RunnerError(f"{self.exe} does not exist: run `make` first")
        self.proc = group.spawn(self.args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        line = _readline_with_timeout(self.proc.stdout, timeout)
        if not line:
            rc = self.proc.poll()
            self.stop()
            raise RunnerError(f"runner serve printed no ready line (exit {rc}):\n" + "".join(self.stderr_lines[-40:]))
        self.ready = json.loads(line)
        return self

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    @property
    def origins(self) -> dict:
        return self.ready["origins"]

    @property
    def base(self) -> str:
        return self.origins["A"]

    @property
    def secret(self) -> str:
        """The run's secret (README, "Security"): what a request that changes the run's state must carry in
        X-Harness-Secret, unless a page of one of the run's origins sends it. pytest hands it to the clients it
        starts: adapters get it in CH_SECRET, the browser page in its URL."""
        return self.ready.get("secret", "")

    def stop(self, timeout=10.0) -> int | None:
        """Asks for a clean shutdown (SIGTERM); kills the process group if it does not exit in time."""
        if not self.proc:
            return None
        rc = group.end(self.proc, grace=timeout)
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except Exception:
                pass
        self.proc = None
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- the control protocol (fixtures/PROTOCOL.md) -------------------------------------------------------
    def call(self, method: str, path: str, body=None, timeout=30.0, origin="A"):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        url, host = self.origins[origin], None
        if self.ready.get("listen"):   # remote origins: names this host need not resolve; connect to the address
            parts = urllib.parse.urlsplit(url)
            addr = self.ready["listen"]
            host = parts.netloc
            url = f"{parts.scheme}://{'[' + addr + ']' if ':' in addr else addr}:{parts.port}"
        req = urllib.request.Request(url + path, data=data, method=method)
        if host:
            req.add_header("Host", host)   # the run's origin by name: the Host check (README, "Security")
        req.add_header("X-Harness-Secret", self.secret)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                payload = resp.read()
                ctype = resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            raise RunnerError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}") from None
        return json.loads(payload) if ctype.startswith("application/json") else payload

    def health(self):
        return self.call("GET", "/_h/health")

    def cases(self):
        return self.call("GET", "/_h/cases")

    def program(self, case_id: str) -> dict:
        return self.call("GET", "/_h/program?case=" + urllib.parse.quote(case_id, safe=""))

    def new_run(self, client: str, cases=None, concurrency=1, polyfill: str | None = None) -> str:
        body = {"client": client, "concurrency": concurrency}
        if cases is not None:
            body["cases"] = list(cases)
        if polyfill is not None:
            body["polyfill"] = polyfill
        return self.call("POST", "/_h/runs", body)["run"]

    def close_run(self, run: str):
        return self.call("POST", f"/_h/runs/{run}/close", {})

    def next(self, run: str):
        return self.call("GET", f"/_h/next?run={run}", timeout=15)

    def post_result(self, token: str, observations: dict):
        return self.call("POST", f"/_h/result?token={token}", observations)

    def verdict(self, token: str | None = None, run: str | None = None, case: str | None = None,
                wait_ms: int = 0, full: bool = False) -> dict:
        q = {"token": token} if token else {"run": run, "case": case}
        if wait_ms:
            q["wait"] = str(wait_ms)
        if full:
            q["full"] = "1"
        return self.call("GET", "/_h/verdict?" + urllib.parse.urlencode(q), timeout=wait_ms / 1000 + 30)

    def inflight(self, run: str) -> list[dict]:
        """The run's cases handed out and not yet judged: [{"case", "token", "age_ms", ...}] (PROTOCOL.md)."""
        return self.call("GET", "/_h/inflight?" + urllib.parse.urlencode({"run": run}))["inflight"]

    def cancel(self, token: str, status: str, message: str):
        return self.call("POST", f"/_h/cancel?token={token}", {"status": status, "message": message})

    def transcript(self, token: str) -> dict:
        return self.call("GET", f"/_h/transcript?token={token}")


def _readline_with_timeout(stream, timeout: float) -> str:
    box: list[str] = []
    t = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return box[0] if box else ""

