"""A fresh machine's first command: `make run` must install, then build, then run (issue: the Makefile ran
pkg-config while it was parsed, before `deps` had installed anything, so the first link had no libraries).

The fresh machine is simulated: a copy of the tracked tree (no build/, no node_modules/), and first on PATH a
`pkg-config` that answers "not found" until the installer has asked `dpkg-query` once — which is what a machine
without the -dev packages answers until scripts/install-deps.sh has run. The real packages are installed here,
so the installer itself finds nothing to do; what is proven is the order: install first, then evaluate
pkg-config, then build.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE_PKG_CONFIG = """#!/bin/sh
[ -e "$FRESH_MARK" ] || { echo "Package $* was not found in the pkg-config search path." >&2; exit 1; }
exec /usr/bin/pkg-config "$@"
"""
FAKE_DPKG_QUERY = """#!/bin/sh
touch "$FRESH_MARK"
exec /usr/bin/dpkg-query "$@"
"""


def _copy_tracked_tree(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout.split(b"\0")
    for f in filter(None, files):
        src = ROOT / os.fsdecode(f)
        if not src.is_file():
            continue  # a file deleted in the working tree but still in the index
        out = dest / os.fsdecode(f)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, out)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to know the tracked files")
    base = tmp_path_factory.mktemp("fresh")
    repo, fake = base / "repo", base / "bin"
    fake.mkdir()
    for name, text in (("pkg-config", FAKE_PKG_CONFIG), ("dpkg-query", FAKE_DPKG_QUERY)):
        (fake / name).write_text(text)
        (fake / name).chmod(0o755)
    _copy_tracked_tree(repo)
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}", FRESH_MARK=str(base / "installer-ran"))
    env.pop("MAKEFLAGS", None)  # this test's own make (make test) must not leak its flags into the copy's
    env.pop("MAKELEVEL", None)
    env.pop("CH_DEPS_DONE", None)
    return repo, env, base


def _make(repo, env, *args, timeout=600):
    return subprocess.run(["make", "-j2", *args], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_plain_make_on_a_fresh_machine_says_what_to_run(fresh):
    repo, env, base = fresh
    (base / "installer-ran").unlink(missing_ok=True)
    p = _make(repo, env, "all")
    assert p.returncode != 0
    assert "make deps" in p.stderr and "undefined reference" not in p.stderr, p.stderr[-2000:]


def test_make_run_is_a_fresh_machines_first_command(fresh):
    repo, env, base = fresh
    (base / "installer-ran").unlink(missing_ok=True)
    p = _make(repo, env, "run", "CLIENTS=curl", "EXPECTATIONS=", f"REPORT={base / 'report'}",
              "RUN_ARGS=--cases cases/http/head-content-length.case")
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-4000:]
    assert (base / "installer-ran").exists(), "the installer never ran"
    assert "dependencies ok" in out
    assert (base / "report" / "report.json").is_file()
