"""SSE benchmark: N concurrent event streams held open, server RSS per stream, beside aiohttp.

    /usr/bin/python3 bench/sse_streams.py [-n 10000] [--rounds 1] [--modes mid,hold,tokens,aiohttp]

Modes (each a fresh server process; RSS from /proc/PID/status before the streams and once every stream has
its three events, after a settle time):
  mid      runner serve, all streams on one token, the scripted reply still running (a `wait 600s` is pending
           after the third event): the executor of each reply is alive
  hold     the same, the reply over (`hold`): only the connection remains
  tokens   as `mid`, but one token per stream (/_h/program called N times first): the cost of N concurrent
           cases, transcripts included; reported with and without the tokens' own cost
  aiohttp  the reference: bench/sse_aiohttp.py streaming the same events (about 12 KiB of RSS per stream when measured)

Target (issue 3): at most 4 KiB of server RSS per stream. Nothing here asserts: it prints figures. The file
descriptor limit is raised to the hard limit (N streams need N descriptors in the server and in the client).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.harness import group  # noqa: E402

CLIENT = ROOT / "build" / "bench" / "sse_streams"
RUNNER = Path(os.environ.get("RUNNER", ROOT / "build" / "runner"))
CASE = ROOT / "bench" / "sse_streams.case"


def build_client():
    """The load client, built by the Makefile's one rule for bench/*.c (build/bench/<name>, when older)."""
    subprocess.run(["make", "-s", "--no-print-directory", "build/bench/sse_streams"], cwd=ROOT, check=True)


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 2 * n + 1000)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < n + 200:
        sys.exit(f"RLIMIT_NOFILE hard limit {hard} is too low for {n} streams (raise it: ulimit -Hn)")
    return want


def rss_kib(pid):
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "RssAnon"):
            out[k] = int(v.split()[0])
    return out


def get_json(url, secret=""):
    """GET url as JSON; with the run's secret, which /_h/program needs (README, "Security")."""
    req = urllib.request.Request(url, headers={"X-Harness-Secret": secret})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


class Server:
    """A server process in a process group of its own (tests/harness/group.py), ended whole."""

    def __init__(self, args, ready):
        self.proc = group.spawn(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{args[0]} did not start")
        self.base, self.pid, self.secret = ready(line, self.proc.pid)

    def stop(self):
        group.end(self.proc, grace=20)  # 10,000 streams take a while to close


def start_runner():
    def ready(line, pid):
        j = json.loads(line)
        return "http://localhost:%d" % j["ports"]["A"], j["pid"], j["secret"]
    return Server([str(RUNNER), "serve", "--cases", str(CASE), "--fixtures", "fixtures"], ready)


def start_aiohttp():
    def ready(line, pid):
        return "http://127.0.0.1:%d" % int(line), pid, ""
    return Server([sys.executable, str(ROOT / "bench" / "sse_aiohttp.py")], ready)


def run_client(urls, n, pid, settle_ms):
    listing = CLIENT.parent / f"sse_urls.{os.getpid()}"
    listing.write_text("\n".join(urls) + "\n")
    args = [str(CLIENT), "-n", str(n), "--events", "3", "--pid", str(pid), "--settle", str(settle_ms),
            "--timeout", "300", "--urls-file", str(listing)]
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=600)
    finally:
        listing.unlink()
    if not out.stdout.strip():
        raise RuntimeError(f"client failed: {out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def one(mode, n, settle_ms):
    srv = start_aiohttp() if mode == "aiohttp" else start_runner()
    try:
        time.sleep(0.3)
        before = rss_kib(srv.pid)
        tokens_kib = 0
        if mode == "aiohttp":
            urls = [srv.base + "/stream"]
        elif mode == "tokens":
            toks = [get_json(srv.base + "/_h/program?case=sse/bench/streams", srv.secret)["token"] for _ in range(n)]
            tokens_kib = rss_kib(srv.pid)["VmRSS"] - before["VmRSS"]
            urls = [f"{srv.base}/c/{t}/mid" for t in toks]
        else:
            tok = get_json(srv.base + "/_h/program?case=sse/bench/streams", srv.secret)["token"]
            urls = [f"{srv.base}/c/{tok}/{mode}"]
        res = run_client(urls, n, srv.pid, settle_ms)
        grow = res["rss_kib"] - before["VmRSS"]
        return {"mode": mode, "n": n, "complete": res["complete"], "failed": res["failed"], "events": res["events"],
                "rss_before_kib": before["VmRSS"], "rss_after_kib": res["rss_kib"],
                "per_stream_kib": grow / n, "tokens_kib": tokens_kib,
                "per_stream_without_tokens_kib": (grow - tokens_kib) / n,
                "connect_ms": res["connect_ms"], "all_events_ms": res["all_events_ms"]}
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--modes", default="mid,hold,aiohttp")
    ap.add_argument("--settle-ms", type=int, default=1000)
    ap.add_argument("--json", action="store_true", help="one JSON line per measurement")
    a = ap.parse_args()
    build_client()
    raise_nofile(a.n)
    results = {}
    for r in range(a.rounds):
        for mode in a.modes.split(","):
            res = one(mode, a.n, a.settle_ms)
            results.setdefault(mode, []).append(res)
            if a.json:
                print(json.dumps(res), flush=True)
    print(f"\nSSE streams held: {a.n} per server, {a.rounds} round(s), medians; target <= 4 KiB per stream")
    print(f"{'mode':<9} {'complete':>9} {'RSS before':>11} {'RSS after':>11} {'KiB/stream':>11} {'w/o tokens':>11} "
          f"{'connect ms':>11} {'events ms':>10}")
    for mode, rs in results.items():
        med = lambda k: statistics.median(x[k] for x in rs)
        print(f"{mode:<9} {int(med('complete')):>9} {int(med('rss_before_kib')):>11} {int(med('rss_after_kib')):>11} "
              f"{med('per_stream_kib'):>11.2f} {med('per_stream_without_tokens_kib'):>11.2f} "
              f"{med('connect_ms'):>11.0f} {med('all_events_ms'):>10.0f}")


if __name__ == "__main__":
    main()
