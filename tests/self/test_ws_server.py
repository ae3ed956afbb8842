"""Self-tests of the WebSocket engine (cases/FORMAT.md §4.4) against a real `runner serve`, with real clients.

What is checked, from outside the process:
- python3-websockets 10.4: the handshake (the accept value it verifies, the subprotocol), echo of text and
  binary, server-initiated closes with valid codes (code and reason reach the client), the client's own close
  codes (echoed back, recorded), a server Close with a code invalid on the wire (the client answers 1002);
- a raw socket: an unmasked client frame fails the connection with Close 1002 and FIN, an invalid handshake
  gets 426/400, and the transcript records why;
- the transcript of each run: ws-handshake, ws-frame-in / ws-frame-out, the ws-close summary;
- Node's `ws` package running a case through fixtures/node/run-program.js, judged PASS (the ws-close server
  expectation included).

    /usr/bin/python3 -m pytest -p no:cacheprovider tests/self/test_ws_server.py
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from tests.harness import rawhttp
from tests.harness.server import ROOT, Runner

websockets = pytest.importorskip("websockets")

SPEC = "https://www.rfc-editor.org/rfc/rfc6455"
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CASES = {
    "echo": r'''
case    ws/self/echo
title   Echo
spec    {spec}
server GET /echo
  ws-accept
  ws-echo
server GET /chat
  ws-accept protocol chat
  ws-echo
client websocket
  new ws://{{host-A}}/c/{{token}}/echo
expect server
  requests GET /echo
''',
    "server-close": r'''
case    ws/self/server-close
title   The server closes with a code
spec    {spec}
matrix
  axis code 1000 1001 1011 3000 4001 4999
server GET /bye
  ws-accept
  ws-send text "hello {{token}}"
  ws-close $code "bye $code"
client websocket
  new ws://{{host-A}}/c/{{token}}/bye
expect server
  requests GET /bye
''',
    "invalid-code": r'''
case    ws/self/invalid-code
title   The server closes with a code invalid on the wire
spec    {spec}
server GET /bad
  ws-accept
  ws-close 1005 ""
client websocket
  new ws://{{host-A}}/c/{{token}}/bad
expect server
  requests GET /bad
''',
    "await": r'''
case    ws/self/await
title   The steps wait for the client's messages
spec    {spec}
server GET /await
  ws-accept
  ws-await message count 2
  ws-send text "got two"
  ws-send text "frag" fin false
  ws-send ping "p"
  ws-send continuation "mented"
  ws-close 4000 "done"
client websocket
  new ws://{{host-A}}/c/{{token}}/await
expect server
  requests GET /await
''',
    "node": r'''
case    ws/self/node
title   Node's ws through the client interpreter: echo, then close(4000, "r") judged on both sides
spec    {spec}
server GET /echo
  ws-accept
  ws-echo
client websocket
  new ws://{{host-A}}/c/{{token}}/echo
  await open
  send text "hi"
  await message
  close 4000 "r"
  await close
expect client
  events open message("hi") close(4000)
  at close code=4000 reason="r" wasClean=true
expect server
  ws-close GET /echo first=client client.code=4000 client.reason="r" clean=true messages_in=1
''',
}


def _write_cases(d: Path) -> Path:
    for name, text in CASES.items():
        (d / f"{name}.case").write_text(text.format(spec=SPEC))
    return d


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    with Runner(cases=[_write_cases(tmp_path_factory.mktemp("ws-cases"))]) as r:
        yield r


def _url(r: Runner, case: str, path: str) -> tuple[str, str]:
    prog = r.program(case)
    host = r.origins["A"].split("//", 1)[1]  # the origin's Host: any other is refused (README, Security)
    return prog["token"], f"ws://{host}/c/{prog['token']}{path}"


def _events(r: Runner, token: str, type_: str, settle: float = 0.0) -> list[dict]:
    deadline = time.monotonic() + settle
    while True:
        evs = [e for e in r.transcript(token)["events"] if e["type"] == type_]
        if evs or time.monotonic() >= deadline:
            return evs
        time.sleep(0.02)


def _summary(r: Runner, token: str) -> dict:
    evs = _events(r, token, "ws-close", settle=3.0)
    assert len(evs) == 1, evs
    return evs[0]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


# -- python3-websockets ----------------------------------------------------------------------------------------

def test_handshake_and_echo(runner):
    token, url = _url(runner, "ws/self/echo", "/chat")

    async def go():
        async with websockets.connect(url, subprotocols=["chat", "x"], origin="http://example.test") as ws:
            assert ws.subprotocol == "chat"
            await ws.send("hello")
            text = await ws.recv()
            await ws.send(b"\x00\x01\xfe\xff")
            data = await ws.recv()
            await ws.send("é" * 40000)  # 80000 bytes: a 64-bit length each way
            big = await ws.recv()
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, 2)
            return text, data, big
    text, data, big = run(go())
    assert (text, data, len(big)) == ("hello", b"\x00\x01\xfe\xff", 40000)
    hs = _events(runner, token, "ws-handshake")[0]
    assert hs["valid"] and hs["completed"]
    assert hs["protocols"] == ["chat", "x"] and hs["protocol"] == "chat" and hs["origin"] == "http://example.test"
    assert hs["accept"] == base64.b64encode(hashlib.sha1((hs["key"] + GUID).encode()).digest()).decode()
    ins = _events(runner, token, "ws-frame-in")
    outs = _events(runner, token, "ws-frame-out")
    assert [(e["kind"], e.get("text", e.get("hex"))) for e in ins[:2]] == [("text", "hello"), ("binary", "0001feff")]
    assert all(e["masked"] for e in ins) and not any(e["masked"] for e in outs)
    assert ins[2]["len"] == 80000 and ins[2]["truncated"]
    assert [e.get("auto") for e in outs] == ["echo", "echo", "echo", "pong", "close-reply"]
    s = _summary(runner, token)
    assert (s["first"], s["code"], s["clean"], s["tcp"], s["messages_in"]) == ("client", 1000, True, "server-fin", 3)


@pytest.mark.parametrize("code", [1000, 1001, 1011, 3000, 4001, 4999])
def test_server_close_codes(runner, code):
    token, url = _url(runner, f"ws/self/server-close/{code}", "/bye")

    async def go():
        ws = await websockets.connect(url)
        msg = await ws.recv()
        await ws.wait_closed()
        return msg, ws.close_code, ws.close_reason
    assert run(go()) == (f"hello {token}", code, f"bye {code}")
    s = _summary(runner, token)
    assert (s["first"], s["code"], s["reason"], s["clean"]) == ("server", code, f"bye {code}", True)
    assert s["client"]["code"] == code  # websockets echoes the code


@pytest.mark.parametrize("code,reason", [(1000, "done"), (1001, ""), (3000, "é" * 61 + "a"), (4999, "x")])
def test_client_close_codes_echoed(runner, code, reason):
    token, url = _url(runner, "ws/self/echo", "/echo")

    async def go():
        ws = await websockets.connect(url)
        await ws.close(code, reason)
        return ws.close_code, ws.close_reason
    assert run(go()) == (code, reason)  # the server's Close echoes code and reason
    s = _summary(runner, token)
    assert s["client"] == {"code": code, "reason": reason} and s["server"] == s["client"] and s["clean"]


def test_client_close_without_code(runner):
    token, url = _url(runner, "ws/self/echo", "/echo")
    s = _raw_session(url, [_frame(8, b"")])
    assert s["frames"] == [(8, b"")] and s["end"] == "fin"  # an empty Close answers an empty Close
    summary = _summary(runner, token)
    assert summary["client"]["code"] is None and summary["clean"]


def test_invalid_code_from_server(runner):
    token, url = _url(runner, "ws/self/invalid-code", "/bad")

    async def go():
        ws = await websockets.connect(url)
        with pytest.raises(websockets.ConnectionClosedError) as e:
            await ws.recv()
        return e.value
    err = run(go())
    assert err.sent.code == 1002  # websockets fails the connection with a protocol error
    s = _summary(runner, token)
    assert s["first"] == "server" and s["server"]["code"] == 1005 and s["client"]["code"] == 1002


def test_await_and_fragments(runner):
    token, url = _url(runner, "ws/self/await", "/await")

    async def go():
        ws = await websockets.connect(url)
        await ws.send("one")
        await asyncio.sleep(0.1)
        await ws.send(b"two")
        first = await ws.recv()
        second = await ws.recv()  # the fragments around a ping, assembled
        await ws.wait_closed()
        return first, second, ws.close_code, ws.close_reason
    assert run(go()) == ("got two", "fragmented", 4000, "done")
    outs = _events(runner, token, "ws-frame-out")
    assert [(e["kind"], e["fin"]) for e in outs[:4]] == [("text", True), ("text", False), ("ping", True),
                                                         ("continuation", True)]
    ins = _events(runner, token, "ws-frame-in")
    assert outs[0]["t_us"] >= ins[1]["t_us"]  # "got two" only after the second message


# -- a raw client: what no library will send ------------------------------------------------------------------

def _frame(opcode: int, payload: bytes, masked: bool = True, fin: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    m = 0x80 if masked else 0
    head += bytes([m | n]) if n < 126 else bytes([m | 126]) + struct.pack(">H", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def _parse_frames(data: bytes) -> list[tuple[int, bytes]]:
    out, i = [], 0
    while i + 2 <= len(data):
        op, n = data[i] & 15, data[i + 1] & 127
        i += 2
        if n == 126:
            n, i = struct.unpack(">H", data[i:i + 2])[0], i + 2
        out.append((op, data[i:i + n]))
        i += n
    return out


def _raw_session(url: str, frames: list[bytes], version: str = "13") -> dict:
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    key = base64.b64encode(os.urandom(16)).decode()
    req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n\r\n").encode()
    s = socket.create_connection(("127.0.0.1" if host == "localhost" else host, int(port)), timeout=5)
    try:
        s.sendall(req)
        head = rawhttp.read_all(s, time.monotonic(), timeout=2, until=b"\r\n\r\n")
        status = head.data.split(b"\r\n", 1)[0].decode()
        if not status.startswith("HTTP/1.1 101"):
            rest = rawhttp.read_all(s, time.monotonic(), timeout=2)
            return {"status": status, "head": head.data + rest.data, "end": rest.end}
        for f in frames:
            s.sendall(f)
        ex = rawhttp.read_all(s, time.monotonic(), timeout=3)
        body = (head.data + ex.data).split(b"\r\n\r\n", 1)[1]
        return {"status": status, "frames": _parse_frames(body), "end": ex.end}
    finally:
        s.close()


@pytest.mark.parametrize("name,frame,code", [
    ("unmasked", _frame(1, b"hi", masked=False), 1002),
    ("reserved opcode", _frame(3, b"x"), 1002),
    ("fragmented ping", _frame(9, b"x", fin=False), 1002),
    ("bad utf-8", _frame(1, b"\xce\xff"), 1007),
    ("close 1005", _frame(8, struct.pack(">H", 1005)), 1002),
    ("one-byte close", _frame(8, b"\x03"), 1002),
])
def test_client_protocol_errors_fail_the_connection(runner, name, frame, code):
    token, url = _url(runner, "ws/self/echo", "/echo")
    s = _raw_session(url, [_frame(1, b"ok"), frame])
    assert s["frames"] == [(1, b"ok"), (8, struct.pack(">H", code))], name
    assert s["end"] == "fin"  # the server closed TCP after its Close
    summary = _summary(runner, token)
    assert summary["failed"]["code"] == code and summary["first"] == "server" and not summary["clean"]
    bad = _events(runner, token, "ws-frame-in")[-1]
    assert bad["error"]["fail_code"] == code


def test_invalid_handshake_refused(runner):
    token, url = _url(runner, "ws/self/echo", "/echo")
    s = _raw_session(url, [], version="8")
    assert s["status"] == "HTTP/1.1 426 Upgrade Required"
    assert b"Sec-WebSocket-Version: 13\r\n" in s["head"] and s["end"] == "fin"
    hs = _events(runner, token, "ws-handshake")[0]
    assert not hs["valid"] and "Sec-WebSocket-Version" in hs["error"]
    assert not _events(runner, token, "ws-close")


# -- Node's ws through the client interpreter, judged ---------------------------------------------------------

NODE_DIR = ROOT / "fixtures" / "node"


@pytest.mark.skipif(not shutil.which("node") or not (NODE_DIR / "node_modules" / "ws").is_dir(),
                    reason="node or the ws package is not installed (fixtures/node: npm ci)")
def test_node_ws_judged(runner, tmp_path):
    prog = runner.program("ws/self/node")
    (tmp_path / "p.json").write_text(json.dumps(prog))
    out = subprocess.run(["node", str(NODE_DIR / "run-program.js"), "--module", str(NODE_DIR / "libs" / "ws.js"),
                          "--post", str(tmp_path / "p.json")], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "CH_SECRET": runner.secret})
    assert out.returncode == 0, out.stderr
    v = runner.verdict(token=prog["token"], wait_ms=5000)
    assert v["status"] == "PASS", json.dumps([c for c in v["checks"] if c["status"] != "PASS"], indent=1)
