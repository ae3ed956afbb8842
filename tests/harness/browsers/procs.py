"""Process groups: start a program in its own session, watch it, end it by PGID.

Every browser, driver and X server runs in a process group of its own
(``start_new_session=True``), recorded here until it is gone. Groups are ended by
PGID, never by name (a name also matches other runs' browsers). A process in state Z (zombie) counts as gone:
on this machine PID 1 does not reap orphans, so dead helpers stay in /proc as
zombies indefinitely.

The registry of live groups and temporary directories is a safety net: an atexit
handler kills whatever is still recorded when the interpreter exits, so a test
run that forgets ``close()`` or dies on an exception leaves nothing running.
It cannot help if the Python process itself is SIGKILLed.

Some helpers leave the group on purpose: Chromium's chrome_crashpad_handler and
Firefox's crashhelper double-fork and call setsid(), so they sit in groups of
their own under PID 1. Each ProcGroup therefore puts a unique token in its
leader's environment (``HARNESS_PROC_TOKEN``); every descendant inherits it, and
a process that carries the token outside the group is a *satellite* of the
group: waited for (they exit a second or two after their browser) and then
SIGKILLed by PID after re-checking the token.
"""

import atexit
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid

from ..group import members, proc_state, wait_until

log = logging.getLogger("harness.browsers")

_lock = threading.RLock()   # re-entered by the signal handler if it interrupts a holder
_live_groups = {}   # pgid -> ProcGroup
_live_dirs = set()  # paths removed at exit


TOKEN_VAR = "HARNESS_PROC_TOKEN"


def has_token(pid, token):
    """True if ``pid``'s environment carries ``HARNESS_PROC_TOKEN=token``."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f"{TOKEN_VAR}={token}".encode() in f.read().split(b"\0")
    except OSError:
        return False


def group_members(pgid, token=None):
    """PIDs of the live (non-zombie) processes in group ``pgid``, plus, if ``token``
    is given, those elsewhere whose environment carries it."""
    return members(pgid, None if token is None else (lambda pid: has_token(pid, token)))


def free_port(host="127.0.0.1"):
    """A TCP port that was free a moment ago (the caller must cope with losing a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ProcGroup:
    """One program started as the leader of a new process group.

    stdout and stderr go to ``log_path`` (appended) or are discarded; never to a
    pipe, so a chatty browser cannot block on a full pipe, and never inherited,
    so a caller's pipe is not held open by a grandchild.
    """

    def __init__(self, argv, *, name, env=None, log_path=None, pass_fds=(), cwd=None):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.token = uuid.uuid4().hex
        env = dict(os.environ if env is None else env, **{TOKEN_VAR: self.token})
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL
        try:
            self.popen = subprocess.Popen(
                self.argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, pass_fds=pass_fds, start_new_session=True,
                close_fds=True)
        finally:
            if log_path:
                out.close()
        self.pid = self.popen.pid
        self.pgid = self.pid          # setsid(): the leader's PID is the PGID
        self.started = time.monotonic()
        self._group_done = False
        with _lock:
            _live_groups[self.pgid] = self
        log.debug("started %s pid=%d pgid=%d: %s", name, self.pid, self.pgid, " ".join(self.argv))

    def __repr__(self):
        return f"<ProcGroup {self.name} pgid={self.pgid}>"

    def leader_running(self):
        """True while the leader has neither exited nor turned into a zombie."""
        if self.popen.poll() is not None:
            return False
        st = proc_state(self.pid)
        return st is not None and st[0] not in ("Z", "X")

    # PGID reuse: while any process of the group exists, or the leader is not
    # yet reaped (even as a zombie), the kernel cannot hand the PGID to anyone
    # else. Once the leader is reaped and the group is seen empty, the number
    # may be reused: from then on the group is done and never signalled again.
    # Satellites are recognised by their token, which no stranger carries.

    def members(self):
        """Live PIDs of the group and of its satellites (see the module docstring)."""
        if self._group_done:
            return group_members(-1, self.token)
        pids = group_members(self.pgid, self.token)
        self._note_group_empty(pids)
        return pids

    def group_pids(self):
        """Live PIDs of the process group proper."""
        if self._group_done:
            return []
        pids = group_members(self.pgid)
        self._note_group_empty(pids)
        return pids

    def _note_group_empty(self, pids):
        if self.popen.poll() is not None and not any(
                (proc_state(p) or ("", -1))[1] == self.pgid for p in pids):
            self._group_done = True

    def signal(self, sig):
        """Send ``sig`` to the process group (not to satellites), unless it is done."""
        if not self.group_pids():
            return
        try:
            os.killpg(self.pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _kill_satellites(self):
        for pid in self.members():
            if proc_state(pid) and proc_state(pid)[1] != self.pgid and has_token(pid, self.token):
                log.debug("%s: SIGKILL to satellite pid %d", self.name, pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def stop(self, grace=3.0, kill_wait=5.0):
        """SIGTERM the group, SIGKILL whatever is left after ``grace`` s, reap the leader.

        Satellites get the same grace after the group is gone, then SIGKILL by
        PID. Returns the PIDs still alive afterwards (normally an empty list).
        Safe to call more than once.
        """
        if self.group_pids():
            self.signal(signal.SIGTERM)
            if not wait_until(lambda: not self.group_pids(), grace):
                log.debug("%s: SIGKILL to group %d after %.1f s", self.name, self.pgid, grace)
                self.signal(signal.SIGKILL)
                wait_until(lambda: not self.group_pids(), kill_wait)
        if not wait_until(lambda: not self.members(), grace):
            self._kill_satellites()
            wait_until(lambda: not self.members(), kill_wait)
        return self.reap()

    def kill(self):
        """SIGKILL the group and its satellites at once (exit handler, crash tests)."""
        self.signal(signal.SIGKILL)
        self._kill_satellites()
        wait_until(lambda: not self.members(), 5.0)
        return self.reap()

    def reap(self):
        try:
            self.popen.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        left = self.members()
        if not left:
            with _lock:
                _live_groups.pop(self.pgid, None)
        return left


def register_dir(path):
    """Record a directory (or file) to remove at exit unless remove_dir() comes first."""
    with _lock:
        _live_dirs.add(str(path))


def remove_dir(path):
    """Remove a directory tree (a browser profile) or a file, ignoring errors; forget it."""
    if path is None:
        return
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except OSError:
            pass
    with _lock:
        _live_dirs.discard(str(path))


def live_groups():
    """The process groups started here and not yet seen gone (for diagnostics and tests)."""
    with _lock:
        return list(_live_groups.values())


def kill_all():
    """Kill every recorded group and satellite, remove every recorded directory."""
    for group in live_groups():
        if group.members():
            log.warning("exit: killing leftover %s (pgid %d)", group.name, group.pgid)
        group.kill()
    with _lock:
        dirs = list(_live_dirs)
    for d in dirs:
        remove_dir(d)


atexit.register(kill_all)


def _on_fatal_signal(signum, frame):
    kill_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)        # die of the same signal, as if never caught


def install_signal_cleanup():
    """On SIGTERM / SIGHUP, kill what is recorded, then die of the signal as before.

    atexit does not run when a signal kills the interpreter (``timeout 300
    pytest ...`` sends SIGTERM), which would leave browsers running. Only
    signals still at their default disposition are taken over, and only from
    the main thread; anything else (a handler the caller installed) is left
    alone. Called by ``launch()``; idempotent.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            signal.signal(sig, _on_fatal_signal)
