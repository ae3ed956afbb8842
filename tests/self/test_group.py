"""tests/harness/group.py: a child's whole process group is ended, on a timeout and after its leader exits."""
from __future__ import annotations

import subprocess
import time

import pytest

from tests.harness import group
from tests.harness.group import proc_state, wait_until


def gone(pid: int) -> bool:
    """Not running: absent, or a zombie (PID 1 here does not reap orphans)."""
    state = proc_state(pid)
    return state is None or state[0] == "Z"


def pid_from(path) -> int:
    assert wait_until(lambda: path.exists() and path.read_text().strip(), 10), f"{path} was never written"
    return int(path.read_text())


def test_run_returns_what_subprocess_run_returns():
    p = group.run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10)
    assert (p.returncode, p.stdout, p.stderr) == (3, "out\n", "err\n")


def test_run_on_timeout_raises_and_ends_the_grandchild(tmp_path):
    child = tmp_path / "child.pid"
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        group.run(["sh", "-c", f"sleep 300 & echo $! > {child}; wait"], timeout=1)
    assert time.monotonic() - start < 10
    assert wait_until(lambda: gone(pid_from(child)), 5), "the grandchild outlived run()'s timeout"


def test_end_reaches_a_child_the_leader_left_behind(tmp_path):
    child = tmp_path / "child.pid"
    proc = group.spawn(["sh", "-c", f"sleep 300 & echo $! > {child}"])
    pid = pid_from(child)
    assert proc.wait(10) == 0 and not gone(pid)   # the leader is gone, its child is not
    assert group.end(proc, grace=1) == 0
    assert wait_until(lambda: gone(pid), 5), "end() left the leader's child running"


def test_run_on_timeout_ends_a_child_holding_the_pipes_after_its_leader_exited(tmp_path):
    child = tmp_path / "child.pid"
    with pytest.raises(subprocess.TimeoutExpired):
        group.run(["sh", "-c", f"sleep 300 & echo $! > {child}; exit 0"], timeout=1)
    assert wait_until(lambda: gone(pid_from(child)), 5), "the child holding run()'s pipes outlived its timeout"


def test_end_gives_a_leader_that_ignores_sigterm_its_grace_then_kills_it(tmp_path):
    ready = tmp_path / "ready"
    proc = group.spawn(["sh", "-c", f"trap '' TERM; echo 1 > {ready}; sleep 300 & wait"])
    assert wait_until(ready.exists, 10)   # the trap is set
    start = time.monotonic()
    assert group.end(proc, grace=1) == -9
    assert 1 <= time.monotonic() - start < 8


def test_end_of_a_leader_that_exits_on_sigterm_returns_at_once():
    proc = group.spawn(["sleep", "300"])
    start = time.monotonic()
    assert group.end(proc, grace=5) == -15
    assert time.monotonic() - start < 2   # not the whole grace


def test_end_of_a_leader_already_exited_returns_its_status_reaped_or_not():
    unreaped = group.spawn(["sh", "-c", "exit 7"])
    assert wait_until(lambda: gone(unreaped.pid), 10) and unreaped.returncode is None   # a zombie, ours to reap
    start = time.monotonic()
    assert group.end(unreaped, grace=5) == 7
    assert time.monotonic() - start < 2
    reaped = group.spawn(["sh", "-c", "exit 5"])
    assert reaped.wait(10) == 5   # reaped by the caller: the group is empty, nothing is signalled
    assert group.end(reaped, grace=5) == 5
