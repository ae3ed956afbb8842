"""A child program in a process group of its own, ended whole.

Contract: `spawn` starts argv as the leader of a new session (``start_new_session=True``), so the group id is
the child's PID; `end` asks the whole group to stop (SIGTERM), waits `grace` seconds, then kills the group
(SIGKILL), so nothing the child started outlives it; `run` is ``subprocess.run`` with captured text output and
a bound, ended with `end` when the bound passes or the caller is interrupted (pytest-timeout, ^C).

Browsers need more than this (satellites that leave the group, an atexit registry): browsers/procs.py.
"""
from __future__ import annotations

import os
import signal
import subprocess


def spawn(argv, **kw) -> subprocess.Popen:
    """Popen(argv, **kw) as the leader of a process group of its own."""
    return subprocess.Popen(argv, start_new_session=True, **kw)


def _signal_group(proc: subprocess.Popen, sig) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def end(proc: subprocess.Popen, grace: float = 5.0) -> int | None:
    """SIGTERM to the group, SIGKILL to it after `grace` seconds; the leader's exit status (None if it never
    exits, which a SIGKILLed process always does)."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    # The leader may be gone while a child it started still runs in the group.
    _signal_group(proc, signal.SIGKILL)
    try:
        return proc.wait(5)
    except subprocess.TimeoutExpired:
        return None


def run(argv, timeout: float, **kw) -> subprocess.CompletedProcess:
    """subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw), in a group of its own that
    is ended whole on the timeout (which then raises subprocess.TimeoutExpired, as subprocess.run does) or on
    any interruption."""
    proc = spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    try:
        out, err = proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)
    finally:
        if proc.poll() is None:
            end(proc, grace=0)
            proc.communicate()
