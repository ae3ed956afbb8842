"""A raw-socket HTTP client for self-tests: send exact bytes, record exactly what comes back and when.

The harness promises byte-exact replies and scripted timings; only a client that adds nothing and hides
nothing can check that promise.
"""
from __future__ import annotations

import socket
import time
import urllib.parse
from dataclasses import dataclass, field


@dataclass
class Exchange:
    data: bytes = b""
    chunks: list = field(default_factory=list)   # [(seconds since send, bytes)]
    end: str | None = None                        # "fin", "rst" or None (still open at the read timeout)
    t_end: float | None = None


def host_port(url: str) -> tuple[str, int]:
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def connect(url: str, timeout: float = 5.0) -> socket.socket:
    host, port = host_port(url)
    s = socket.create_connection(("127.0.0.1" if host == "localhost" else host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_all(s: socket.socket, t0: float, timeout: float = 5.0, until: bytes | None = None) -> Exchange:
    """Reads until FIN, RST, `timeout` seconds of silence, or (when given) `until` appears in the data."""
    ex = Exchange()
    s.settimeout(timeout)
    while True:
        try:
            b = s.recv(65536)
        except socket.timeout:
            return ex
        except ConnectionResetError:
            ex.end, ex.t_end = "rst", time.monotonic() - t0
            return ex
        now = time.monotonic() - t0
        if not b:
            ex.end, ex.t_end = "fin", now
            return ex
        ex.chunks.append((now, b))
        ex.data += b
        if until is not None and until in ex.data:
            return ex


def request(url: str, raw: bytes, timeout: float = 5.0, until: bytes | None = None) -> Exchange:
    """Opens a connection to url's origin, sends raw bytes, reads the answer (see read_all)."""
    s = connect(url, timeout)
    try:
        t0 = time.monotonic()
        s.sendall(raw)
        return read_all(s, t0, timeout, until)
    finally:
        s.close()


def get(url: str, headers: dict | None = None, method: str = "GET", body: bytes = b"", timeout: float = 5.0,
        until: bytes | None = None) -> Exchange:
    u = urllib.parse.urlsplit(url)
    target = u.path + ("?" + u.query if u.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {u.netloc}"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    return request(url, raw, timeout, until)
