"""A child program in a process group of its own, ended whole.

Contract: `spawn` starts argv as the leader of a new session (``start_new_session=True``), so the group id is
the child's PID; `end` asks the whole group to stop (SIGTERM), waits `grace` seconds, then kills the group
(SIGKILL), so nothing the child started outlives it; `run` is ``subprocess.run`` with captured text output and
a bound, ended with `end` when the bound passes or the caller is interrupted (pytest-timeout, ^C).

Browsers need more than this (satellites that leave the group, an atexit registry): browsers/procs.py, which
builds on `proc_state`, `members` and `wait_until` here.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time


def proc_state(pid):
    """(state, pgid) of ``pid`` from /proc, or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # the command name is in parentheses and may hold ')'
    return fields[0], int(fields[2])


def members(pgid, also=None):
    """PIDs of the live (not zombie) processes in group ``pgid``, and of those elsewhere for which ``also(pid)``
    is true."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        st = proc_state(pid)
        if st is not None and st[0] not in ("Z", "X") and (st[1] == pgid or (also is not None and also(pid))):
            found.append(pid)
    return found


def wait_until(predicate, timeout, interval=0.02):
    """Poll ``predicate`` until it returns a true value or ``timeout`` s pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def spawn(argv, **kw) -> subprocess.Popen:
    """Popen(argv, **kw) as the leader of a process group of its own."""
    return subprocess.Popen(argv, start_new_session=True, **kw)


def _signal_group(proc: subprocess.Popen, sig) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _group_exists(pgid) -> bool:
    """kill(-pgid, 0): "no signal is sent, but error checking is still performed" (POSIX)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, but nothing in it is ours to signal
        return False
    return True


def _exited(pid) -> bool:
    """Whether our child `pid` has exited, without reaping it (waitid with WNOWAIT)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped behind Popen's back
        return True


def end(proc: subprocess.Popen, grace: float = 5.0) -> int | None:
    """SIGTERM to the group, SIGKILL to it after `grace` seconds (or once the leader has exited, for a child it
    left behind); the leader's exit status (None if it never exits, which a SIGKILLed process always does).

    The leader is reaped only after the SIGKILL: until then its PID, the group's number, cannot be given to
    another process, so the signals reach this group and no other. If the caller reaped the leader before (a
    `poll()` that saw it exit), the group is signalled only if it still exists; a child the leader left keeps
    the number from being reused, while an empty group's number could in principle have been reused since."""
    if proc.returncode is None:
        if not _exited(proc.pid):
            _signal_group(proc, signal.SIGTERM)
            wait_until(lambda: _exited(proc.pid), grace, interval=0.005)
        _signal_group(proc, signal.SIGKILL)
    elif _group_exists(proc.pid):
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
    done = False
    try:
        out, err = proc.communicate(timeout=timeout)
        done = True
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)
    finally:
        if not done:  # a timeout or an interruption: the leader, or a child holding its pipes, still runs
            end(proc, grace=0)
            proc.communicate()
