"""The shared vectors (tests/vectors/), as the Python interpreter (fixtures/python/chclient) sees them: event atoms
match as the judge matches them (harness/judge/tests/check_vectors.c, fixtures/node/test/vectors.test.js run the same
file), and a program the parser emits (harness/case/tests/check_vocab.c checks the vectors against the parser) is
accepted and requires exactly its `needs`: chclient derives no capability itself."""
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess

import pytest

from chclient import Adapter  # fixtures/python is on pytest.ini's pythonpath
from chclient.interp import match_atom, needed_caps, run_program, set_vocabulary
from tests.harness.server import ROOT

VECTORS = ROOT / "tests" / "vectors"


def load(name: str) -> list[dict]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))["vectors"]


@pytest.fixture(scope="module", autouse=True)
def vocabulary():
    runner = os.environ.get("RUNNER") or str(ROOT / "build" / "runner")
    v = json.loads(subprocess.run([runner, "vocab", "--json"], check=True, capture_output=True, text=True).stdout)
    set_vocabulary(v)
    return v


@pytest.mark.parametrize("v", load("atoms.json"), ids=lambda v: v["why"][:60])
def test_atom_vectors(v):
    assert match_atom(v["atom"], v["event"]) is v["match"]


class Nothing(Adapter):
    """A library that runs no kind and lacks every capability it could name."""
    name, version, kinds = "nothing", "0", ()
    lacks = {c: "declared missing" for c in ("xhr-sync", "xhr-upload", "formdata", "blob", "page-b", "page-c",
                                             "cookies", "cors")}


@pytest.mark.parametrize("v", load("capabilities.json"), ids=lambda v: v["why"][:60])
def test_capability_vectors(v):
    p = {"token": "t", "case": "v", "deadline_ms": 1000, "settle_ms": 0, **v["program"], "needs": v["needs"]}
    assert needed_caps(p) == v["needs"]
    obs = asyncio.run(run_program(p, Nothing()))
    assert obs["error"] is None, obs["error"]
    named = re.findall(r"(?:: |, )([a-z][a-z-]*) \(", obs["unsupported"])
    assert sorted(set(named)) == v["needs"], obs["unsupported"]
