"""One case run as a timeline: the client's steps and events beside what the server saw and sent.

Two clocks meet here. The client stamps its events in milliseconds of its own monotonic clock since its
program started (fixtures/PROTOCOL.md §3, `t`); the server stamps its transcript in microseconds since it
issued the case's token (harness/MODEL.md §2, `t_us`). Nothing relates the two exactly, so `align` states
what it assumes: the first request the server received was sent by the first client step that goes to the
network (send, fetch, request, load, or constructing an EventSource/WebSocket), at the moment that step
started. The client's events are shifted onto the server's clock by that offset; they may appear later than
they really happened by the request's travel time (loopback: typically well under a few ms). With no
request, or an anchor that would put the client before the token existed, nothing is shifted and the two
lanes keep their own clocks (`aligned` false).

`first_difference` reads the judge's check `detail` ("at event 4 (t=2.8 ms): expected ...", "request 2: ...",
"connection 3 closed at ...") to point at the row where the failure shows.
"""
from __future__ import annotations

import json
import re

NETWORK_OPS = ("send", "fetch", "request", "load")
CONSTRUCTED_NETWORK = ("eventsource", "websocket")
GAP_MS = 50.0            # a pause longer than this between two rows gets a row of its own
PREVIEW = 160            # characters of a byte run shown inline (all of it is in the row's tooltip)

# State keys worth showing inline, in this order; the rest is in the tooltip.
STATE_KEYS = ("name", "readyState", "status", "statusText", "loaded", "total", "lengthComputable", "code",
              "reason", "wasClean", "data", "lastEventId", "protocol", "bufferedAmount", "naturalWidth",
              "header:", "allResponseHeaders", "text", "size", "kind", "message")

_EVENT_RE = re.compile(r"event (\d+) \(t=(-?[0-9.]+) ms\)")
_REQUEST_RE = re.compile(r"\brequest (\d+)\b")
_CONN_RE = re.compile(r"\bconnection (\d+)\b")
_EXPECTED_RE = re.compile(r"\bexpected (.*?), observed ")


def build(verdict: dict, objects: list | None = None) -> dict:
    """{"aligned", "offset_ms", "note", "rows": [...], "diff": {...} | None} for one verdict event."""
    obs = verdict.get("observations") or {}
    tr = verdict.get("transcript") or {}
    steps = obs.get("steps") or []
    cev = obs.get("events") or []
    sev = tr.get("events") or []
    objects = objects or _objects_from(cev)
    align = align_clocks(steps, sev, objects)
    off = align["offset_ms"] if align["aligned"] else None
    diff = first_difference(verdict, cev, sev, objects)

    rows = []
    seq = 0

    def add(row):
        nonlocal seq
        row["seq"] = seq
        seq += 1
        rows.append(row)

    for s in steps:
        t = float(s.get("t") or 0)
        label = f"step {s.get('step')}: {s.get('op')}" + (f" {s['obj']}" if s.get("obj") else "")
        extra = f"{float(s.get('dt') or 0):.1f} ms" if s.get("dt") else ""
        if s.get("abandoned"):
            extra += f" — abandoned ({s['abandoned']})"
        add({"side": "client", "kind": "step", "own": t, "t": t + off if off is not None else t,
             "label": label, "extra": extra.strip(" —"), "title": "", "hl": False})
    for i, e in enumerate(cev):
        t = float(e.get("t") or 0)
        add({"side": "client", "kind": "event", "own": t, "t": t + off if off is not None else t,
             "label": _event_label(e), "extra": _state_summary(e.get("state")),
             "title": "",
             "obj": e.get("obj"), "hl": bool(diff and diff.get("client_event") == i), "index": i})
    for i, e in enumerate(sev):
        t = float(e.get("t_us") or 0) / 1000.0
        label, extra, title = _server_label(e)
        add({"side": "server", "kind": e.get("type", "?"), "own": t, "t": t, "label": label, "extra": extra,
             "title": title, "hl": bool(diff and diff.get("server_event") == i), "index": i})

    if off is not None:
        rows.sort(key=lambda r: (r["t"], r["seq"]))
        rows = _with_gaps(rows)
        lanes = None
    else:
        lanes = {"client": [r for r in rows if r["side"] == "client"],
                 "server": [r for r in rows if r["side"] == "server"]}
        for lane in lanes.values():
            lane.sort(key=lambda r: (r["own"], r["seq"]))
    return {"aligned": off is not None, "offset_ms": off, "note": align["note"], "rows": rows if off is not None
            else [], "lanes": lanes, "diff": diff, "empty": not rows}


def align_clocks(steps: list, sev: list, objects: list) -> dict:
    kinds = {o.get("name"): o.get("kind") for o in objects or []}
    req = next((e for e in sev if e.get("type") == "request"), None)
    if req is None:
        return {"aligned": False, "offset_ms": None,
                "note": "The server received no request to align on: each lane shows its own clock."}
    anchor = None
    for s in steps:
        op = s.get("op")
        if op in NETWORK_OPS or (op == "new" and kinds.get(s.get("obj")) in CONSTRUCTED_NETWORK):
            anchor = s
            break
    if anchor is None:
        return {"aligned": False, "offset_ms": None,
                "note": "No client step that sends a request was recorded to align on: each lane shows its own "
                        "clock."}
    server_ms = float(req["t_us"]) / 1000.0
    client_ms = float(anchor.get("t") or 0)
    off = server_ms - client_ms
    what = f"step {anchor.get('step')} ({anchor.get('op')} {anchor.get('obj', '')})".replace(" )", ")")
    if off < 0:
        return {"aligned": False, "offset_ms": None,
                "note": f"Aligning {what} with the first request would put the client before its token was "
                        "issued: each lane shows its own clock."}
    return {"aligned": True, "offset_ms": off,
            "note": f"Server time; client times (grey, c …) shifted by +{off:.1f} ms so that {what} at "
                    f"c {client_ms:.1f} meets the first request the server received ({req.get('method')} "
                    f"{req.get('path')} at {server_ms:.1f})."}


def first_difference(verdict: dict, cev: list, sev: list, objects: list) -> dict | None:
    """Where the first failing check's detail points: a client event index, a server event index, or
    neither (the check row alone is highlighted then)."""
    checks = verdict.get("checks") or []
    i, chk = next(((i, c) for i, c in enumerate(checks) if c.get("status") in ("FAIL", "ERROR")), (None, None))
    if chk is None:
        return None
    detail = chk.get("detail") or ""
    m = _EXPECTED_RE.search(detail)
    out = {"check": i, "detail": detail, "kind": chk.get("kind"), "client_event": None, "server_event": None,
           "expected": m.group(1) if m else ""}
    m = _EVENT_RE.search(detail)
    if m and chk.get("kind") not in ("requests", "request-count", "request-header", "request-body", "closed",
                                     "interval"):
        out["client_event"] = _client_event_index(int(m.group(1)), float(m.group(2)), chk.get("kind"), cev,
                                                  objects)
        return out
    m = _REQUEST_RE.search(detail)
    if m:
        reqs = [j for j, e in enumerate(sev) if e.get("type") == "request"]
        n = int(m.group(1))
        if 1 <= n <= len(reqs):
            out["server_event"] = reqs[n - 1]
        return out
    m = _CONN_RE.search(detail)
    if m:
        conn = int(m.group(1))
        out["server_event"] = next((j for j, e in enumerate(sev) if e.get("type") == "conn-close"
                                    and e.get("conn") == conn), None)
    return out


def _client_event_index(n: int, t: float, kind: str, cev: list, objects: list):
    """The judge numbers an object's events from 1 (`events` checks skip `read` pseudo-events); the check
    does not say which object, so take the first object whose n-th event has the stated time."""
    names = [o.get("name") for o in objects] or sorted({e.get("obj") for e in cev})
    best = None
    for name in names:
        idx = [j for j, e in enumerate(cev) if e.get("obj") == name and (kind != "events" or e.get("type") != "read")]
        if 1 <= n <= len(idx):
            j = idx[n - 1]
            if abs(float(cev[j].get("t") or 0) - t) < 0.051:
                return j
            if best is None:
                best = j
    return best


# ---- labels ----------------------------------------------------------------------------------------------

def _objects_from(cev: list) -> list:
    seen = []
    for e in cev:
        if e.get("obj") not in seen:
            seen.append(e.get("obj"))
    return [{"name": n, "kind": ""} for n in seen]


def _event_label(e: dict) -> str:
    obj = e.get("obj", "")
    t = e.get("type", "?")
    arg = e.get("arg")
    s = f"{obj}.{t}"
    if arg is not None:
        a = json.dumps(arg, ensure_ascii=False) if not isinstance(arg, (int, float)) else str(arg)
        s += f"({_clip(a, 60)})"
    if "handler" in e:
        s += f" [in handler {e['handler']}]"
    return s


def _state_summary(state) -> str:
    if not isinstance(state, dict):
        return ""
    parts = []
    for key in STATE_KEYS:
        for k in state:
            if k == key or (key.endswith(":") and k.startswith(key)):
                v = state[k]
                if isinstance(v, str):
                    v = json.dumps(_clip(v, 40), ensure_ascii=False)
                elif isinstance(v, dict):
                    v = f"{v.get('bytes', '?')} bytes" if "bytes" in v else "{…}"
                else:
                    v = json.dumps(v)
                parts.append(f"{k}={v}")
    return " ".join(parts)


def _server_label(e: dict):
    t = e.get("type", "?")
    conn = e.get("conn")
    title = ""
    if t == "conn-open":
        before = " — before this case's token: a kept-alive connection reused" if e.get("t_us", 0) < 0 else ""
        return f"conn {conn} opened", f"origin {e.get('origin', '?')}, from {e.get('peer', '?')}{before}", ""
    if t == "request":
        head = f"→ {e.get('method')} {e.get('target') or e.get('path')} HTTP/{e.get('version', '1.1')}"
        hdrs = e.get("headers") or []
        title = "\n".join(f"{n}: {v}" for n, v in hdrs)
        extra = f"conn {conn}, #{e.get('n')}, {len(hdrs)} headers, body {e.get('body_size', 0)} B"
        if e.get("unmatched"):
            extra += ", no route matched (404)"
        return head, extra, title
    if t == "sent":
        body = e.get("text")
        shown = _visible(body) if body is not None else "hex " + (e.get("hex") or "")
        title = (body if body is not None else e.get("hex", "")) if len(shown) > PREVIEW else ""
        return f"← {e.get('bytes')} B", _clip(shown, PREVIEW), title
    if t == "end":
        return f"response {e.get('req')} complete", f"conn {conn}", ""
    if t == "conn-close":
        return f"conn {conn} closed by {e.get('by', '?')}", e.get("how", ""), ""
    if t == "sse-event":
        fields = [f"{k}={json.dumps(e[k], ensure_ascii=False)}" for k in ("id", "event", "retry", "data") if k in e]
        return "← sse event", _clip(" ".join(fields), PREVIEW), json.dumps(e, ensure_ascii=False)
    if t.startswith("ws-"):
        keys = [k for k in e if k not in ("t_us", "type", "conn")]
        desc = " ".join(f"{k}={_clip(json.dumps(e[k], ensure_ascii=False), 60)}" for k in keys)
        arrow = {"ws-frame-in": "→ ", "ws-frame-out": "← "}.get(t, "")
        return f"{arrow}{t}", _clip(desc, PREVIEW), json.dumps(e, ensure_ascii=False)
    keys = [k for k in e if k not in ("t_us", "type")]
    return t, _clip(" ".join(f"{k}={json.dumps(e[k], ensure_ascii=False)}" for k in keys), PREVIEW), ""


def _visible(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _with_gaps(rows: list) -> list:
    out = []
    prev = None
    for r in rows:
        if prev is not None and r["t"] - prev > GAP_MS:
            out.append({"side": "gap", "kind": "gap", "t": prev, "own": None, "label": f"{r['t'] - prev:.1f} ms",
                        "extra": "", "title": "", "hl": False})
        out.append(r)
        prev = r["t"]
    return out
